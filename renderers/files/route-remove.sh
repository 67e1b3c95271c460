#!/bin/sh
# shellcheck shell=sh
# Undo route-apply.sh: ocplab's firewalld policy or nftables table gone, forwarding as it was before.
# Inputs (set before this part by renderers/shell.py): state_dir, nft_file, unit, sysctl_file, policy
# shellcheck disable=SC2154
if firewalld_runs && firewall-cmd --permanent --info-policy="$policy" >/dev/null 2>&1; then
  firewall-cmd --permanent --delete-policy="$policy" >/dev/null && firewall-cmd --reload >/dev/null
fi
if has_systemd && [ -f "/etc/systemd/system/$unit" ]; then
  systemctl disable "$unit" >/dev/null 2>&1 || true
  rm -f "/etc/systemd/system/$unit" && systemctl daemon-reload
fi
if command -v nft >/dev/null && nft list table ip ocplab >/dev/null 2>&1; then nft delete table ip ocplab; fi
rm -f "$nft_file" "$sysctl_file"
if [ -f "$state_dir/ip_forward.before" ]; then cat "$state_dir/ip_forward.before" > /proc/sys/net/ipv4/ip_forward; fi
rm -rf "$state_dir"
rmdir "$(dirname "$nft_file")" 2>/dev/null || true
echo "ocplab: the jumphost no longer routes the lab; forwarding is $(cat /proc/sys/net/ipv4/ip_forward) as before"
