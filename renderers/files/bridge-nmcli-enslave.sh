#!/bin/sh
# shellcheck shell=sh
# Both nmcli creates end here: nic enslaved to the bridge profile just made, which takes over its addresses (addrs:
# what it carries, for the message).
# Inputs (set before this part by renderers/shell.py): nic, br, state_dir; bridge-common.sh, bridge-nmcli-orig.sh and
# a create part before it
# shellcheck disable=SC2154
nmcli con add type ethernet ifname "$nic" con-name "ocplab-$br-port" master "$br" \
  slave-type bridge autoconnect yes >/dev/null
nmcli con modify "$orig" connection.autoconnect no
nmcli con up "ocplab-$br" >/dev/null
nmcli con up "ocplab-$br-port" >/dev/null
zero_forward_delay
bridge_nf_off
echo "ocplab bridge: $br now carries $nic and ${addrs:-its DHCP address}"
