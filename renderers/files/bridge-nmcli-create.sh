#!/bin/sh
# shellcheck shell=sh
# br carries nic's address, with NetworkManager; idempotent, keeps the SSH session.
# Inputs (set before this part by renderers/shell.py): nic, br, state_dir; bridge-common.sh before it
# shellcheck disable=SC2154
command -v nmcli >/dev/null || fail "nmcli not found: install NetworkManager or use bridge_backend: iproute2"
if [ "$(nmcli -g GENERAL.CONNECTION dev show "$nic" 2>/dev/null)" = "ocplab-$br-port" ] \
   && nmcli -g GENERAL.STATE dev show "$br" 2>/dev/null | grep -q '^100'; then
  zero_forward_delay; bridge_nf_off; echo "ocplab bridge: $br already carries $nic"; exit 0
fi
orig=$(nmcli -g GENERAL.CONNECTION dev show "$nic")
[ -n "$orig" ] || fail "$nic has no active NetworkManager connection to take the address from"
printf '%s\n' "$orig" > "$state.orig"
method=$(nmcli -g ipv4.method con show "$orig")
addrs=$(nmcli -g ipv4.addresses con show "$orig" | tr -d ' ')
gw=$(nmcli -g ipv4.gateway con show "$orig")
dns=$(nmcli -g ipv4.dns con show "$orig" | tr -d ' ')
if [ "$method" = manual ] && [ -z "$addrs" ]; then
  fail "connection $orig of $nic has method manual but no address"
fi
nmcli con delete "ocplab-$br" "ocplab-$br-port" >/dev/null 2>&1 || true
nmcli con add type bridge ifname "$br" con-name "ocplab-$br" autoconnect yes \
  bridge.stp no bridge.forward-delay 0 ipv4.method "$method" \
  ${addrs:+ipv4.addresses "$addrs"} ${gw:+ipv4.gateway "$gw"} ${dns:+ipv4.dns "$dns"} \
  ipv6.method disabled >/dev/null
nmcli con add type ethernet ifname "$nic" con-name "ocplab-$br-port" master "$br" \
  slave-type bridge autoconnect yes >/dev/null
nmcli con modify "$orig" connection.autoconnect no
nmcli con up "ocplab-$br" >/dev/null
nmcli con up "ocplab-$br-port" >/dev/null
zero_forward_delay
bridge_nf_off
echo "ocplab bridge: $br now carries $nic and ${addrs:-its DHCP address}"
