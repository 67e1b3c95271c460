#!/bin/sh
# shellcheck shell=sh
# Remove one cluster's files; restart only because its wildcard goes away.
# Inputs (set before this part by renderers/shell.py): cluster, control, dhcp_file, hosts_file, wildcards_file
# shellcheck disable=SC2154
had=no; [ -f "$wildcards_file" ] && had=yes
rm -f "$dhcp_file" "$hosts_file" "$wildcards_file"
if [ $had = yes ]; then "$control" restart; else "$control" reload || true; fi
echo "ocplab: cluster $cluster entries removed from dnsmasq"
