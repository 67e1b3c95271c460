#!/bin/sh
# shellcheck shell=sh
# Stop vbmcd and remove its files, refusing while any cluster still has BMCs here.
# Inputs (set before this part by renderers/shell.py): vbmc-common.sh's, port_ranges
# shellcheck disable=SC2154
left=$(find "$root/clusters" -mindepth 1 -maxdepth 1 ! -name '.*' -exec basename {} \; 2>/dev/null | sort | tr '\n' ' ' || true)
[ -z "$left" ] || fail "clusters still have virtual BMCs on $(hostname): $left- destroy those cluster stacks first"
stop_vbmcd
if has_systemd; then rm -f "/etc/systemd/system/$unit"; systemctl daemon-reload; fi
if command -v firewall-cmd >/dev/null && firewall-cmd --state >/dev/null 2>&1; then
  # shellcheck disable=SC2086 # a list of port ranges, one word each
  for range in $port_ranges; do
    firewall-cmd -q --remove-port="$range/udp" || true; firewall-cmd -q --permanent --remove-port="$range/udp" || true
  done
fi
rm -rf "${root:?}" "$(dirname "$pidfile")"
if id -u "$user" >/dev/null 2>&1; then userdel "$user" || fail "userdel could not remove the user $user"; fi
if getent group "$user" >/dev/null; then groupdel "$user" || true; fi
echo "ocplab vbmc: vbmcd stopped and its files removed (virtualbmc stays installed in $venv)"
