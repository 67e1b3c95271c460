#!/bin/sh
# shellcheck shell=sh
# The lab's mirror registry on the jumphost: the CNCF distribution registry (Debian's docker-registry package),
# as a system user of its own with no privilege, TLS with the lab CA's certificate, htpasswd (bcrypt) logins.
# The TLS key and the htpasswd line come on stdin (never in this script, argv or a log); the storage directory
# is never emptied here. A no-op when nothing changed and it runs.
# Inputs (set before this part by renderers/shell.py): conf_dir, conf_b64, cert_b64, ca_b64, storage, user,
# unit, pidfile, log, host, address, port, package
# shellcheck disable=SC2154,SC2034 # SC2034: changed, description, exec_start, read_write are the next part's
IFS= read -r key_b64 || fail "ocplab mirror: the TLS key did not arrive on stdin"
IFS= read -r htpasswd_line || fail "ocplab mirror: the htpasswd line did not arrive on stdin"
drain_stdin
registry=$(command -v docker-registry || command -v registry || true)
if [ -z "$registry" ] && command -v apt-get >/dev/null; then
  echo "ocplab mirror: installing $package" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$package" >&2 \
    || fail "ocplab mirror: apt-get could not install $package"
  # The package's own registry (port 5000, its own config) is not the lab's: only ours runs.
  if has_systemd; then systemctl disable --now docker-registry.service >/dev/null 2>&1 || true; fi
  registry=$(command -v docker-registry)
fi
[ -n "$registry" ] || fail "ocplab mirror: no registry binary (docker-registry or registry) on the jumphost:" \
  "install Debian's $package, or put a pinned build of github.com/distribution/distribution on PATH as registry"
command -v curl >/dev/null || fail "ocplab mirror: curl is not installed on the jumphost (its health check): dnf/apt install curl"
id -u "$user" >/dev/null 2>&1 || useradd --system --user-group --no-create-home --home-dir /nonexistent \
  --shell /usr/sbin/nologin --comment "ocplab mirror registry" "$user" || fail "useradd could not make the user $user"
# Its files: root's, readable by its group only; it can change none of them.
mkdir -p "$conf_dir" && chown "root:$user" "$conf_dir" && chmod 0750 "$conf_dir"
changed=no
place() {  # place NAME MODE: the staged file of $conf_dir/NAME into place, root:$user; changed=yes if it differs
  chgrp "$user" "$(staged_path "$conf_dir/$1")" && chmod "$2" "$(staged_path "$conf_dir/$1")"
  if cmp -s "$(staged_path "$conf_dir/$1")" "$conf_dir/$1"; then rm -f "$(staged_path "$conf_dir/$1")"
  else commit "$conf_dir/$1"; changed=yes; fi
}
stage "$conf_dir/config.yml" "$conf_b64" 0640 && place config.yml 0640
stage "$conf_dir/tls.crt" "$cert_b64" 0644 && place tls.crt 0644
stage "$conf_dir/ca.crt" "$ca_b64" 0644 && place ca.crt 0644
(umask 077 && printf '%s' "$key_b64" | base64 -d > "$(staged_path "$conf_dir/tls.key")") && place tls.key 0640
(umask 077 && printf '%s\n' "$htpasswd_line" > "$(staged_path "$conf_dir/htpasswd")") && place htpasswd 0640
# Its images: kept across lab destroy and up (a new user id after a userdel takes them over).
mkdir -p "$storage"
[ "$(stat -c %U "$storage")" = "$user" ] || chown -R "$user:$user" "$storage"
chmod 0700 "$storage"
# For service-run.sh, the part after this one.
description="ocplab: the lab's mirror registry (TLS, htpasswd)"
exec_start="$registry serve $conf_dir/config.yml"
read_write=$storage
