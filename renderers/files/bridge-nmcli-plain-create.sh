#!/bin/sh
# shellcheck shell=sh
# br enslaves nic and carries no address (a provisioning network the host only switches), with
# NetworkManager; idempotent. nic must carry nothing the host needs: its connections are replaced.
# Inputs (set before this part by renderers/shell.py): nic, br, state_dir; bridge-common.sh before it
# shellcheck disable=SC2154
command -v nmcli >/dev/null || fail "nmcli not found: install NetworkManager or use bridge_backend: iproute2"
if [ "$(nmcli -g GENERAL.CONNECTION dev show "$nic" 2>/dev/null)" = "ocplab-$br-port" ] \
   && nmcli -g GENERAL.STATE dev show "$br" 2>/dev/null | grep -q '^100'; then
  zero_forward_delay; bridge_nf_off; echo "ocplab bridge: $br already switches $nic"; exit 0
fi
if [ -n "$(ip -4 -o addr show dev "$nic")" ]; then
  fail "$nic carries an IPv4 address; a provisioning bridge takes a NIC the host does not use (set provisioning_nic)"
fi
nmcli con delete "ocplab-$br" "ocplab-$br-port" >/dev/null 2>&1 || true
nmcli con add type bridge ifname "$br" con-name "ocplab-$br" autoconnect yes \
  bridge.stp no bridge.forward-delay 0 ipv4.method disabled ipv6.method disabled >/dev/null
nmcli con add type ethernet ifname "$nic" con-name "ocplab-$br-port" master "$br" \
  slave-type bridge autoconnect yes >/dev/null
nmcli con up "ocplab-$br" >/dev/null
nmcli con up "ocplab-$br-port" >/dev/null
zero_forward_delay
bridge_nf_off
echo "ocplab bridge: $br now switches $nic (no address)"
