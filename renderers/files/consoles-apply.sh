#!/bin/sh
# shellcheck shell=sh
# Install ocplab-consoles on the jumphost, write the cluster's collector config, (re)start its collector.
# Inputs (set before this part by renderers/shell.py): cluster, control, control_b64, conf, conf_b64
# shellcheck disable=SC2154
command -v ssh >/dev/null || { echo 'ocplab: ssh is not installed on the jumphost: dnf/apt install openssh-clients' >&2; exit 1; }
put "$control" "$control_b64" 0755
put "$conf" "$conf_b64" 0600
"$control" start "$cluster"
echo "ocplab: console logs of $cluster gathered under /var/log/ocplab/consoles/$cluster"
