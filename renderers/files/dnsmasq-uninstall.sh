#!/bin/sh
# shellcheck shell=sh
# Remove the lab's dnsmasq files (after dnsmasq-refuse-while-clusters.sh).
# Inputs (set before this part by renderers/shell.py): root, conf, conf_dir, dhcp_hosts_dir, hosts_dir, control, log_file
# shellcheck disable=SC2154
if [ -x "$control" ]; then "$control" stop || true; fi
rm -rf "$conf" "$dhcp_hosts_dir" "$hosts_dir" "$conf_dir" "${root:?}/bin" /var/lib/ocplab "$log_file"
rmdir "$root" 2>/dev/null || true
echo 'ocplab: dnsmasq files removed from the jumphost'
