#!/bin/sh
# shellcheck shell=sh
# br carries the hypervisor's IPv6 address (addr6, with its prefix) as it carries its IPv4 one, with the IPv6
# addresses, gateway and DNS of nic's original profile; applied in place (device reapply keeps the SSH session).
# Inputs (set before this part by renderers/shell.py): nic, br, state_dir, addr6; bridge-common.sh before it
# shellcheck disable=SC2154
command -v nmcli >/dev/null || fail "nmcli not found: install NetworkManager or use bridge_backend: iproute2"
# Just made, br may still be activating: up to 10 s.
tries=0
until nmcli -g GENERAL.STATE dev show "$br" 2>/dev/null | grep -q '^100'; do
  tries=$((tries + 1)); [ "$tries" -le 10 ] || fail "$br is not up to carry $addr6"; sleep 1
done
# nmcli -g writes ':' as '\:'
plain() { sed 's/\\:/:/g' | tr -d ' '; }
addrs6=$addr6; gw6=""; dns6=""
if [ -f "$state.orig" ]; then
  orig=$(cat "$state.orig")
  for a in $(nmcli -g ipv6.addresses con show "$orig" | plain | tr ',' ' '); do
    [ "$a" = "$addr6" ] || addrs6="$addrs6,$a"
  done
  gw6=$(nmcli -g ipv6.gateway con show "$orig" | plain)
  dns6=$(nmcli -g ipv6.dns con show "$orig" | plain)
fi
nmcli con modify "ocplab-$br" ipv6.method manual ipv6.addresses "$addrs6" ipv6.gateway "$gw6" ipv6.dns "$dns6"
nmcli dev reapply "$br" >/dev/null
echo "ocplab bridge: $br carries $addrs6"
