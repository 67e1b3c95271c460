#!/bin/sh
# shellcheck shell=sh
# br and its port profile go; nic is left unconfigured, as it was.
# Inputs (set before this part by renderers/shell.py): nic, br, state_dir; bridge-common.sh before it
# shellcheck disable=SC2154
command -v nmcli >/dev/null || fail "nmcli not found"
nmcli con delete "ocplab-$br-port" >/dev/null 2>&1 || true
nmcli con delete "ocplab-$br" >/dev/null 2>&1 || true
rm -f "/etc/NetworkManager/dispatcher.d/50-ocplab-$br"
echo "ocplab bridge: $br removed, $nic unconfigured"
