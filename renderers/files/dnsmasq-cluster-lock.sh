#!/bin/sh
# shellcheck shell=sh
# Serialize every cluster stack's change to one jumphost behind one lock (first part of the cluster scripts).
# Inputs (set before this part by renderers/shell.py): control, lock_file
# shellcheck disable=SC2154
[ -x "$control" ] || { echo 'ocplab: the lab stack has not set up dnsmasq on this jumphost; run pulumi up on the lab stack first' >&2; exit 1; }
mkdir -p "$(dirname "$lock_file")" && chmod 0700 "$(dirname "$lock_file")"
exec 9>"$lock_file"
flock -w 300 9 || { echo 'ocplab: timed out waiting for the jumphost dnsmasq lock' >&2; exit 1; }
# dnsmasq is never left stopped by a cluster's change, whatever step failed, and even when the SSH
# session drops in the middle (SIGHUP): on the way out it is started again if it does not run, and a
# start that fails fails the script.
trap 'exit 129' HUP INT TERM
trap 'rc=$?; "$control" status || "$control" start || { echo "ocplab: the jumphost dnsmasq is not running and did not start" >&2; rc=1; }; exit $rc' EXIT
