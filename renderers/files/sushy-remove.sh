#!/bin/sh
# shellcheck shell=sh
# Stop and delete one cluster's Redfish emulator; nothing to do where sushy-tools was never set up.
# Inputs (set before this part by renderers/shell.py): sushy-common.sh's, cluster
# shellcheck disable=SC2154
drain_stdin
[ -f "$helper" ] || { echo "ocplab sushy: cluster $cluster: no sushy-tools here, no Redfish emulator to remove"; exit 0; }
helper remove "$cluster"
