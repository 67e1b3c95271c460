#!/bin/sh
# A small NoCloud cloud-init: finds the seed (a filesystem labelled cidata, as
# terraform-provider-libvirt's libvirt_cloudinit_disk makes), applies the hostname and users
# ("local" stage, before the network) and runs runcmd or a user-data script ("final" stage).
# The YAML subset understood is described in cloudinit.awk.
. /etc/ocplab/lib.sh
R=/run/ocplab
SEED=$R/seed
CI=$R/cloud-init
TAB=$(printf '\t')

find_seed() {
    for label in cidata CIDATA; do
        dev=$(findfs "LABEL=$label" 2>/dev/null) && [ -n "$dev" ] && { echo "$dev"; return 0; }
    done
    return 1
}

# Value of a "top" record from a parsed file.
top_value() { awk -F "$TAB" -v k="$2" '$1 == "top" && $2 == k { v = $3 } END { print v }' "$1"; }

valid_name() { echo "$1" | grep -Eq '^[a-z_][a-z0-9_.-]{0,31}$'; }

# Creates user $1 (if new) with shell $2 and home $3, and an empty ~/.ssh/authorized_keys.
add_user() {
    name=$1 shell=${2:-/bin/sh} home=${3:-/home/$1}
    if grep -q "^$name:" /etc/passwd; then
        home=$(awk -F: -v n="$name" '$1 == n { print $6 }' /etc/passwd)
    else
        uid=1000
        while awk -F: -v u="$uid" '$3 == u { f = 1 } END { exit !f }' /etc/passwd; do uid=$((uid + 1)); done
        echo "$name:x:$uid:$uid:$name:$home:$shell" >>/etc/passwd
        echo "$name:x:$uid:" >>/etc/group
        echo "$name:*:0:0:99999:7:::" >>/etc/shadow
    fi
    mkdir -p "$home/.ssh"
    : >>"$home/.ssh/authorized_keys"
    chmod 700 "$home/.ssh"
    chmod 600 "$home/.ssh/authorized_keys"
    uidgid=$(awk -F: -v n="$name" '$1 == n { print $3 ":" $4 }' /etc/passwd)
    chown -R "$uidgid" "$home"
    echo "$home"
}

apply_users() {
    while IFS="$TAB" read -r kind name value; do
        case $kind in
            user)
                if valid_name "$name"; then
                    ushell="" uhome="" nkeys=0 hashes=""
                else
                    say "cloud-init error=bad-user-name"
                    name=""
                fi
                cur=$name
                ;;
            user-shell) ushell=$value ;;
            user-home) uhome=$value ;;
            key)
                [ -n "$cur" ] || continue
                [ "$nkeys" = 0 ] && home=$(add_user "$cur" "$ushell" "$uhome")
                printf '%s\n' "$value" >>"$home/.ssh/authorized_keys"
                hashes="$hashes $(printf '%s' "$value" | sha256sum | cut -d' ' -f1)"
                nkeys=$((nkeys + 1))
                ;;
            user-end)
                [ -n "$cur" ] || continue
                [ "$nkeys" = 0 ] && add_user "$cur" "$ushell" "$uhome" >/dev/null
                say "cloud-init user=$cur keys=$nkeys"
                for h in $hashes; do say "cloud-init key user=$cur sha256=$h"; done
                cur=""
                ;;
        esac
    done <"$1"
}

local_stage() {
    if ! dev=$(find_seed); then
        say "cloud-init none"
        return
    fi
    mkdir -p "$SEED" "$CI"
    if ! mount -o ro "$dev" "$SEED" 2>/dev/null; then
        say "cloud-init error=mount-failed seed=$dev"
        return
    fi
    touch "$R/cloud-init.seed"
    say "cloud-init seed=$dev files=$(ls "$SEED" | tr '\n' ',' | sed 's/,$//')"

    : >"$CI/meta.tsv"
    : >"$CI/user.tsv"
    if [ -f "$SEED/meta-data" ]; then
        if grep -q '^[[:space:]]*{' "$SEED/meta-data"; then
            # JSON meta-data: only the one key we use.
            sed -n "s/.*\"local-hostname\"[[:space:]]*:[[:space:]]*\"\([^\"]*\)\".*/top${TAB}local-hostname${TAB}\1/p" \
                "$SEED/meta-data" >"$CI/meta.tsv"
        else
            awk -f /etc/ocplab/cloudinit.awk "$SEED/meta-data" >"$CI/meta.tsv"
        fi
    fi
    if [ -f "$SEED/user-data" ]; then
        first=$(head -n 1 "$SEED/user-data" | tr -d '\r')
        case $first in
            "#cloud-config"*)
                awk -v runcmd="$CI/runcmd.sh" -f /etc/ocplab/cloudinit.awk "$SEED/user-data" >"$CI/user.tsv"
                ;;
            "#!"*)
                cp "$SEED/user-data" "$CI/user-script"
                chmod 755 "$CI/user-script"
                ;;
            "") ;;
            *) say "cloud-init error=unsupported-user-data" ;;
        esac
    fi

    # cloud-init's order: user-data hostname, else the first label of user-data fqdn,
    # else meta-data local-hostname.
    h=$(top_value "$CI/user.tsv" hostname)
    [ -n "$h" ] || h=$(top_value "$CI/user.tsv" fqdn | cut -d. -f1)
    [ -n "$h" ] || h=$(top_value "$CI/meta.tsv" local-hostname)
    if [ -n "$h" ]; then
        hostname "$h"
        echo "$h" >"$R/hostname.static"
        say "cloud-init hostname=$h"
    fi
    apply_users "$CI/user.tsv"
}

final_stage() {
    [ -e "$R/cloud-init.seed" ] || return 0
    if [ -f "$CI/runcmd.sh" ]; then
        (cd / && HOME=/root sh "$CI/runcmd.sh")
    fi
    if [ -x "$CI/user-script" ]; then
        (cd / && HOME=/root "$CI/user-script")
        say "cloud-init user-script rc=$?"
    fi
}

case "$1" in
    local) local_stage ;;
    final) final_stage ;;
    *) echo "usage: $0 local|final" >&2; exit 2 ;;
esac
