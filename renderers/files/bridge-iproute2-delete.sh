#!/bin/sh
# shellcheck shell=sh
# nic gets its address (and default route) back; br goes.
# Inputs (set before this part by renderers/shell.py): nic, br, state_dir; bridge-common.sh before it
# shellcheck disable=SC2154
if [ -f "$state.orig" ]; then
  addrs=""; gw=""
  # shellcheck source=/dev/null # written by the create script: addrs= and gw=, quoted
  . "$state.orig"
  for a in $addrs; do
    ip addr add "$a" dev "$nic" 2>/dev/null || true; ip addr del "$a" dev "$br" 2>/dev/null || true
  done
  [ -z "$gw" ] || ip route replace default via "$gw" dev "$nic"
fi
ip link set "$nic" nomaster 2>/dev/null || true
ip link del "$br" 2>/dev/null || true
rm -f "$state.orig" /etc/sysctl.d/99-ocplab-bridge.conf
echo "ocplab bridge: $nic carries its own address again"
