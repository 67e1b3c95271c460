#!/bin/sh
# shellcheck shell=sh
# Install ocplab-consoles on the jumphost, write the cluster's collector config, (re)start its collector.
# Inputs (set before this part by renderers/shell.py): cluster, control, control_b64, conf, conf_b64
# shellcheck disable=SC2154
command -v ssh >/dev/null || { echo 'ocplab: ssh is not installed on the jumphost: dnf/apt install openssh-clients' >&2; exit 1; }
# Clusters run this at the same time: each stages the (same) control script under a name of its own, so
# one's rename never takes another's half-written file.
mkdir -p "$(dirname "$control")"
printf '%s' "$control_b64" | base64 -d > "$control.$cluster.new"
chmod 0755 "$control.$cluster.new"
mv -f "$control.$cluster.new" "$control"
put "$conf" "$conf_b64" 0600
"$control" start "$cluster"
echo "ocplab: console logs of $cluster gathered under /var/log/ocplab/consoles/$cluster"
