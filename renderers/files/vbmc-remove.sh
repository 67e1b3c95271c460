#!/bin/sh
# shellcheck shell=sh
# Delete one cluster's BMCs; nothing to do where vbmcd was never set up.
# Inputs (set before this part by renderers/shell.py): vbmc-common.sh's, cluster
# shellcheck disable=SC2154
drain_stdin
[ -f "$helper" ] || { echo "ocplab vbmc: cluster $cluster: no vbmcd here, no BMCs to remove"; exit 0; }
VIRTUALBMC_CONFIG="$conf" exec "$venv/bin/python" "$helper" remove "$cluster"
