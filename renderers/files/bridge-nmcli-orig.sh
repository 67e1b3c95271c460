#!/bin/sh
# shellcheck shell=sh
# Both nmcli creates (IPv4 or dual-stack, and IPv6-only) start here: done already, or nic's active profile noted,
# which the removal brings back.
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
