#!/bin/sh
# shellcheck shell=sh
# An IPv6-only lab: br carries nic's IPv6 addresses, gateway and DNS and the hypervisor's (addr6, with its prefix)
# from the start, IPv4 off, with NetworkManager; idempotent, keeps the SSH session (the address is on br before nic
# is enslaved, as the IPv4 create does with its address).
# Inputs (set before this part by renderers/shell.py): nic, br, state_dir, addr6; bridge-common.sh and
# bridge-nmcli-orig.sh before it, bridge-nmcli-enslave.sh after it
# shellcheck disable=SC2154
# nmcli -g writes ':' as '\:'
unescaped() { sed 's/\\:/:/g' | tr -d ' '; }
addrs6=$addr6
for a in $(nmcli -g ipv6.addresses con show "$orig" | unescaped | tr ',' ' '); do
  [ "$a" = "$addr6" ] || addrs6="$addrs6,$a"
done
gw6=$(nmcli -g ipv6.gateway con show "$orig" | unescaped)
dns6=$(nmcli -g ipv6.dns con show "$orig" | unescaped)
nmcli con delete "ocplab-$br" "ocplab-$br-port" >/dev/null 2>&1 || true
nmcli con add type bridge ifname "$br" con-name "ocplab-$br" autoconnect yes \
  bridge.stp no bridge.forward-delay 0 ipv4.method disabled ipv6.method manual ipv6.addresses "$addrs6" \
  ${gw6:+ipv6.gateway "$gw6"} ${dns6:+ipv6.dns "$dns6"} >/dev/null
# shellcheck disable=SC2034 # addrs: read by bridge-nmcli-enslave.sh, for its message
addrs=$addrs6
