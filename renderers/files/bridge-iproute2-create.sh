#!/bin/sh
# shellcheck shell=sh
# br carries nic's address, with iproute2 (hosts NetworkManager does not manage).
# Inputs (set before this part by renderers/shell.py): nic, br, state_dir; bridge-common.sh before it
# shellcheck disable=SC2154
if [ "$(sed -n 's/^INTERFACE=//p' "/sys/class/net/$nic/master/uevent" 2>/dev/null)" = "$br" ]; then
  zero_forward_delay; bridge_nf_off; echo "ocplab bridge: $br already carries $nic"; exit 0
fi
addrs=$(ip -4 -o addr show dev "$nic" | awk '{print $4}' | paste -sd ' ' -)
gw=$(ip -4 route show default dev "$nic" | awk '{print $3; exit}')
[ -n "$addrs" ] || fail "$nic has no IPv4 address to move to $br"
# Quoted: the delete script sources this file, and a NIC may carry several addresses.
printf "addrs='%s'\ngw='%s'\n" "$addrs" "$gw" > "$state.orig"
ip link show "$br" >/dev/null 2>&1 || ip link add "$br" type bridge stp_state 0 forward_delay 0
ip link set "$br" address "$(cat "/sys/class/net/$nic/address")"
ip link set "$br" up
ip link set "$nic" master "$br"
# shellcheck disable=SC2086 # one word per address
for a in $addrs; do ip addr add "$a" dev "$br"; ip addr del "$a" dev "$nic"; done
[ -z "$gw" ] || ip route replace default via "$gw" dev "$br"
bridge_nf_off
echo "ocplab bridge: $br now carries $nic and $addrs"
