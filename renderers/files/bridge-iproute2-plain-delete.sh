#!/bin/sh
# shellcheck shell=sh
# br goes; nic is left unconfigured, as it was.
# Inputs (set before this part by renderers/shell.py): nic, br, state_dir; bridge-common.sh before it
# shellcheck disable=SC2154
ip link set "$nic" nomaster 2>/dev/null || true
ip link del "$br" 2>/dev/null || true
echo "ocplab bridge: $br removed, $nic unconfigured"
