#!/bin/sh
# shellcheck shell=sh
# Remove the helper and the certificate, refusing while any cluster still has a Redfish emulator here.
# Inputs (set before this part by renderers/shell.py): sushy-common.sh's, port_ranges
# shellcheck disable=SC2154
left=$(find "$root/clusters" -mindepth 1 -maxdepth 1 ! -name '.*' -exec basename {} \; 2>/dev/null | sort | tr '\n' ' ' || true)
[ -z "$left" ] || fail "clusters still have Redfish emulators on $(hostname): $left- destroy those cluster stacks first"
if command -v firewall-cmd >/dev/null && firewall-cmd --state >/dev/null 2>&1; then
  # shellcheck disable=SC2086 # a list of port ranges, one word each
  for range in $port_ranges; do
    firewall-cmd -q --remove-port="$range/tcp" || true; firewall-cmd -q --permanent --remove-port="$range/tcp" || true
  done
fi
if virsh -q pool-info "$media_pool" >/dev/null 2>&1; then
  for volume in $(virsh -q vol-list --pool "$media_pool" | awk '{print $1}'); do virsh -q vol-delete --pool "$media_pool" "$volume" >/dev/null; done
  virsh -q pool-destroy "$media_pool" >/dev/null 2>&1 || true
  virsh -q pool-undefine "$media_pool" >/dev/null
fi
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
  rm -f /etc/systemd/system/ocplab-sushy@.service; systemctl daemon-reload
fi
rm -rf "${root:?}" "${media_dir:?}"
if getent group "$group" >/dev/null; then groupdel "$group" || fail "groupdel could not remove the group $group"; fi
echo "ocplab sushy: files removed (sushy-tools stays installed in $venv)"
