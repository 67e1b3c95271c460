#!/bin/sh
# shellcheck shell=sh
# A dual-stack cluster's removal, before dnsmasq-cluster-remove (which deletes the reservations this reads):
# drop the cluster's DHCPv6 leases while dnsmasq is stopped. A DHCPv6 lease line (<expiry> <iaid> <address>
# <name> <duid>) names its address and the client's DUID, not the MAC the IPv4 lines go by; left, it would hold
# the address from the node a destroy + up makes (a new DUID) until it expired. The addresses are the ones the
# cluster's reservations give (`<mac>,<ipv4>,[<ipv6>],<name>`).
# Inputs (set before this part by renderers/shell.py): control, dhcp_file, lease_file
# shellcheck disable=SC2154
ip6s=$(grep -v '^#' "$dhcp_file" 2>/dev/null | sed -n 's/^[^[]*,\[\([0-9a-fA-F:]*\)\],.*/\1/p' | tr 'ABCDEF' 'abcdef' || true)
if [ -n "$ip6s" ] && [ -f "$lease_file" ]; then
  "$control" stop
  for ip6 in $ip6s; do
    case $ip6 in *[!0-9a-f:]*|'') continue ;; esac  # an IPv6 address, nothing else, goes into the sed expression
    sed -i "/^[0-9]* [0-9]* $ip6 /d" "$lease_file"
  done
  "$control" start
fi
