#!/bin/sh
# shellcheck shell=sh
# Create or update one cluster's three files; a failed dnsmasq --test keeps the previous ones and fails. Wildcards need a restart; entries that went away need a SIGHUP; additions arrive by inotify.
# Inputs (set before this part by renderers/shell.py): cluster, root, conf, control, dhcp_file, hosts_file, wildcards_file, dhcp_b64, hosts_b64, wildcards_b64, tftp_root, tftp_dirs
# shellcheck disable=SC2154
stage "$dhcp_file" "$dhcp_b64" 0644
stage "$hosts_file" "$hosts_b64" 0644
stage "$wildcards_file" "$wildcards_b64" 0644
new_dhcp=$(staged_path "$dhcp_file"); new_hosts=$(staged_path "$hosts_file"); new_wildcards=$(staged_path "$wildcards_file")
check_conf="$root/.check-$cluster.conf"
printf 'conf-file=%s\nconf-file=%s\n' "$conf" "$new_wildcards" > "$check_conf"
if ! out=$("$control" test "$check_conf" 2>&1); then
  rm -f "$check_conf" "$new_dhcp" "$new_hosts" "$new_wildcards"
  echo "ocplab: dnsmasq rejected cluster $cluster's entries, the previous ones stay: $out" >&2; exit 1
fi
rm -f "$check_conf"
# Each network-booted node's own TFTP root (renderers/pxe_boot.py), with the images/ the collection downloads into;
# the root of a MAC this cluster had and no longer has goes with it.
for mac in $(grep -v '^#' "$dhcp_file" 2>/dev/null | cut -d, -f1 | tr 'ABCDEF:' 'abcdef-' || true); do
  case $mac in *[!0-9a-f-]*|'') continue ;; esac
  case " $tftp_dirs " in *" $tftp_root/$mac "*) ;; *) rm -rf "${tftp_root:?}/$mac" ;; esac
done
for dir in $tftp_dirs; do mkdir -p "$dir/images"; done
if cmp -s "$new_dhcp" "$dhcp_file" && cmp -s "$new_hosts" "$hosts_file" && cmp -s "$new_wildcards" "$wildcards_file"; then
  rm -f "$new_dhcp" "$new_hosts" "$new_wildcards"; echo "ocplab: cluster $cluster entries unchanged"; exit 0
fi
restart=no; cmp -s "$new_wildcards" "$wildcards_file" || restart=yes
# went_away NEW OLD: OLD has an entry line that NEW no longer has.
went_away() { [ -f "$2" ] && [ -n "$(grep -vxFf "$1" "$2" | grep -v '^#' || true)" ]; }
gone=no
if went_away "$new_dhcp" "$dhcp_file" || went_away "$new_hosts" "$hosts_file"; then gone=yes; fi
commit "$dhcp_file"; commit "$hosts_file"; commit "$wildcards_file"
if [ $restart = yes ]; then "$control" restart; echo 'ocplab: dnsmasq restarted for new wildcards'
elif [ $gone = yes ]; then "$control" reload; echo 'ocplab: dnsmasq reloaded to drop old entries'
else echo 'ocplab: entries picked up by inotify'; fi
