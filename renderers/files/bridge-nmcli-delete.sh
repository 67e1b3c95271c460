#!/bin/sh
# shellcheck shell=sh
# nic gets its original NetworkManager connection back; br goes.
# Inputs (set before this part by renderers/shell.py): nic, br, state_dir; bridge-common.sh before it
# shellcheck disable=SC2154
command -v nmcli >/dev/null || fail "nmcli not found"
if [ -f "$state.orig" ]; then
  orig=$(cat "$state.orig")
  nmcli con modify "$orig" connection.autoconnect yes
  nmcli con up "$orig" >/dev/null
fi
nmcli con delete "ocplab-$br-port" >/dev/null 2>&1 || true
nmcli con delete "ocplab-$br" >/dev/null 2>&1 || true
rm -f "$state.orig" /etc/sysctl.d/99-ocplab-bridge.conf "/etc/NetworkManager/dispatcher.d/50-ocplab-$br"
echo "ocplab bridge: $nic carries its own address again"
