#!/bin/sh
# shellcheck shell=sh
# Remove one cluster's files; restart only because its wildcard goes away, and while dnsmasq is stopped
# drop the cluster's leases (dnsmasq keeps leases in memory and rewrites the file), so no lease of a
# destroyed node stays bound to its address until it expires.
# Inputs (set before this part by renderers/shell.py): cluster, control, dhcp_file, hosts_file, wildcards_file, lease_file, tftp_root
# shellcheck disable=SC2154
had=no; [ -f "$wildcards_file" ] && had=yes
macs=$(grep -v '^#' "$dhcp_file" 2>/dev/null | cut -d, -f1 | tr 'ABCDEF' 'abcdef' || true)
rm -f "$dhcp_file" "$hosts_file" "$wildcards_file"
for mac in $macs; do  # the nodes' TFTP roots (renderers/pxe_boot.py), with what DCI wrote there
  case $mac in *[!0-9a-f:]*|'') continue ;; esac
  rm -rf "${tftp_root:?}/$(printf '%s' "$mac" | tr : -)"
done
if [ $had = yes ]; then
  "$control" stop
  for mac in $macs; do
    case $mac in *[!0-9a-f:]*|'') continue ;; esac  # a MAC, nothing else, goes into the sed expression
    [ ! -f "$lease_file" ] || sed -i "/^[0-9]* $mac /d" "$lease_file"
  done
  "$control" start
elif "$control" status; then "$control" reload  # a failed reload is a failure
fi  # not running: the lock part's exit trap starts it
echo "ocplab: cluster $cluster entries removed from dnsmasq"
