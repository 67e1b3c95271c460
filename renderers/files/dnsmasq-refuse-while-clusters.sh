#!/bin/sh
# shellcheck shell=sh
# Fails, naming the files, while any cluster stack still has entries on the jumphost.
# Inputs (set before this part by renderers/shell.py): conf_dir, dhcp_hosts_dir, hosts_dir
# shellcheck disable=SC2154
left=$(find "$dhcp_hosts_dir" "$hosts_dir" "$conf_dir" -maxdepth 1 -type f ! -name '.*' 2>/dev/null | sort | tr '\n' ' ')
if [ -n "$left" ]; then
  echo "ocplab: cluster stacks still have entries on the jumphost: $left- destroy those cluster stacks first" >&2
  exit 1
fi
