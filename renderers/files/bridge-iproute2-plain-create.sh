#!/bin/sh
# shellcheck shell=sh
# br enslaves nic and carries no address (a provisioning network the host only switches), with iproute2.
# Inputs (set before this part by renderers/shell.py): nic, br, state_dir; bridge-common.sh before it
# shellcheck disable=SC2154
if [ "$(sed -n 's/^INTERFACE=//p' "/sys/class/net/$nic/master/uevent" 2>/dev/null)" = "$br" ]; then
  bridge_nf_off; echo "ocplab bridge: $br already switches $nic"; exit 0
fi
if [ -n "$(ip -4 -o addr show dev "$nic")" ]; then
  fail "$nic carries an IPv4 address; a provisioning bridge takes a NIC the host does not use (set provisioning_nic)"
fi
ip link show "$br" >/dev/null 2>&1 || ip link add "$br" type bridge stp_state 0 forward_delay 0
ip link set "$br" up
ip link set "$nic" master "$br"
ip link set "$nic" up
bridge_nf_off
echo "ocplab bridge: $br now switches $nic (no address)"
