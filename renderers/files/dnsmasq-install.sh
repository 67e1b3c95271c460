#!/bin/sh
# shellcheck shell=sh
# Install or update the lab's dnsmasq base config on the jumphost; dnsmasq --test must pass first.
# Inputs (set before this part by renderers/shell.py): root, conf, conf_dir, dhcp_hosts_dir, hosts_dir, control, control_b64, conf_b64, tftp_root
# shellcheck disable=SC2154
command -v dnsmasq >/dev/null || { echo 'ocplab: dnsmasq is not installed on the jumphost: dnf/apt install dnsmasq' >&2; exit 1; }
# tftp_root: dnsmasq does not start without it (the base config serves TFTP from it).
mkdir -p "$conf_dir" "$dhcp_hosts_dir" "$hosts_dir" /var/lib/ocplab "$tftp_root" /run/lock "$root/bin"
put "$control" "$control_b64" 0755
stage "$conf" "$conf_b64" 0644
staged=$(staged_path "$conf")
if ! out=$("$control" test "$staged" 2>&1); then
  rm -f "$staged"; echo "ocplab: new dnsmasq config rejected, the previous one stays: $out" >&2; exit 1
fi
if cmp -s "$staged" "$conf" && "$control" status; then
  rm -f "$staged"; echo 'ocplab: dnsmasq config unchanged'; exit 0
fi
commit "$conf"
"$control" restart
echo 'ocplab: dnsmasq (re)started with the lab config'
