#!/bin/sh
# shellcheck shell=sh
# br carries nic's address, with NetworkManager; idempotent, keeps the SSH session.
# Inputs (set before this part by renderers/shell.py): nic, br, state_dir; bridge-common.sh and bridge-nmcli-orig.sh
# before it, bridge-nmcli-enslave.sh after it
# shellcheck disable=SC2154
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
