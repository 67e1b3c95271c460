#!/bin/sh
# shellcheck shell=sh
# An IPv6-only lab: br enslaves nic, which has no IPv4 address to move (none is taken or given); the IPv6 part
# (bridge-iproute2-ipv6.sh, next) moves nic's IPv6 addresses and default route to br.
# Inputs (set before this part by renderers/shell.py): nic, br, state_dir; bridge-common.sh before it
# shellcheck disable=SC2154
if [ "$(sed -n 's/^INTERFACE=//p' "/sys/class/net/$nic/master/uevent" 2>/dev/null)" = "$br" ]; then
  zero_forward_delay; bridge_nf_off; echo "ocplab bridge: $br already carries $nic"; exit 0
fi
[ -z "$(ip -4 -o addr show dev "$nic")" ] || fail "$nic has an IPv4 address and the lab is IPv6-only: give" \
  "the lab network.cidr and the hypervisor its address, or take IPv4 off $nic"
ip link show "$br" >/dev/null 2>&1 || ip link add "$br" type bridge stp_state 0 forward_delay 0
ip link set "$br" address "$(cat "/sys/class/net/$nic/address")"
ip link set "$br" up
ip link set "$nic" master "$br"
bridge_nf_off
echo "ocplab bridge: $br now carries $nic (IPv6 only)"
