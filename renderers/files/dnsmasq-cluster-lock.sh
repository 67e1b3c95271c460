#!/bin/sh
# shellcheck shell=sh
# Serialize every cluster stack's change to one jumphost behind one lock (first part of the cluster scripts).
# Inputs (set before this part by renderers/shell.py): control, lock_file
# shellcheck disable=SC2154
[ -x "$control" ] || { echo 'ocplab: the lab stack has not set up dnsmasq on this jumphost; run pulumi up on the lab stack first' >&2; exit 1; }
mkdir -p "$(dirname "$lock_file")"
exec 9>"$lock_file"
flock -w 300 9 || { echo 'ocplab: timed out waiting for the jumphost dnsmasq lock' >&2; exit 1; }
