#!/bin/sh
# shellcheck shell=sh
# Make one cluster's Redfish emulator serve exactly its domains; the password comes on stdin, never in this script.
# Inputs (set before this part by renderers/shell.py): sushy-common.sh's, cluster, address, port, bmc_user, uuids
# shellcheck disable=SC2154
[ -f "$helper" ] || fail "the lab stack has not set up sushy-tools on $(hostname): give slice $cluster bmc: redfish and bmc_ports, and run pulumi up on the lab stack"
# shellcheck disable=SC2086 # uuids: words checked by renderers/shell.py
OCPLAB_SUSHY_ROOT="$root" exec "$venv/bin/python" "$helper" sync "$cluster" "$address" "$port" "$bmc_user" $uuids
