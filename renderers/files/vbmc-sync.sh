#!/bin/sh
# shellcheck shell=sh
# Make one cluster's BMCs exactly the planned ones; the password comes on stdin, never in this script.
# Inputs (set before this part by renderers/shell.py): vbmc-common.sh's, cluster, address, bmc_user, entries (DOMAIN=PORT words)
# shellcheck disable=SC2154
[ -f "$helper" ] || fail "the lab stack has not set up vbmcd on $(hostname): give the slice bmc_ports and run pulumi up on the lab stack"
# shellcheck disable=SC2086 # entries: DOMAIN=PORT words, checked by renderers/shell.py
VIRTUALBMC_CONFIG="$conf" exec "$venv/bin/python" "$helper" sync "$cluster" "$address" "$bmc_user" $entries
