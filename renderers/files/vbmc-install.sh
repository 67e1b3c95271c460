#!/bin/sh
# shellcheck shell=sh
# Install virtualbmc if missing, then run vbmcd with the lab's config; firewalld (if it runs)
# opens the slices' BMC ports. A no-op when nothing changed.
# Inputs (set before this part by renderers/shell.py): vbmc-common.sh's, requirement, helper_b64, conf_b64, port_ranges, server_port
# shellcheck disable=SC2154
ready() { "$venv/bin/python" -c 'import libvirt, virtualbmc.cmd.vbmc' >/dev/null 2>&1; }
if ! ready; then
  echo "ocplab vbmc: installing virtualbmc into $venv" >&2
  libvirt_venv "$venv" "$requirement"
  ready || fail "$venv has no working virtualbmc with the libvirt binding"
fi
# vbmcd's own user, in the libvirt group: libvirt's polkit rule (Debian and RHEL) admits that group to
# qemu:///system read-write. It reads its config and writes its entries (domains/, with their passwords), its
# log and its pid file; the helper's records (clusters/) stay root's.
getent group libvirt >/dev/null || groupadd --system libvirt || fail "groupadd could not make the group libvirt"
id -u "$user" >/dev/null 2>&1 || useradd --system --user-group --no-create-home --home-dir /nonexistent \
  --shell /usr/sbin/nologin --comment "ocplab vbmcd (IPMI BMCs)" --groups libvirt "$user" \
  || fail "useradd could not make the user $user"
mkdir -p "$root/domains" "$root/clusters" "$root/bin" "$(dirname "$log")"
chown "root:$user" "$root" && chmod 0750 "$root"
chmod 0700 "$root/clusters"
chown -R "$user:$user" "$root/domains" && chmod 0700 "$root/domains"
touch "$log" && chown "$user:$user" "$log" && chmod 0640 "$log"
put "$helper" "$helper_b64" 0644
stage "$conf" "$conf_b64" 0640
changed=yes; cmp -s "$(staged_path "$conf")" "$conf" && changed=no
chgrp "$user" "$(staged_path "$conf")" && mv -f "$(staged_path "$conf")" "$conf"
runs_as_user || changed=yes
legacy=/run/ocplab-vbmcd.pid  # an older ocplab's vbmcd: root, its pid file in /run
if [ -f "$legacy" ]; then
  p=$(cat "$legacy") && [ -n "$p" ] && stop_pid "$p"; rm -f "$legacy"; changed=yes
fi
if command -v firewall-cmd >/dev/null && firewall-cmd --state >/dev/null 2>&1; then
  # shellcheck disable=SC2086 # a list of port ranges, one word each
  for range in $port_ranges; do
    firewall-cmd -q --add-port="$range/udp" && firewall-cmd -q --permanent --add-port="$range/udp"
  done
fi
if has_systemd; then
  # Sandboxed: its user, no privilege, read-only system but its entries, log and runtime dir (the pid file).
  cat > "/etc/systemd/system/$unit" <<UNIT
[Unit]
Description=vbmcd of the ocplab lab (IPMI BMCs of cluster VMs)
After=libvirtd.service network-online.target
[Service]
Environment=VIRTUALBMC_CONFIG=$conf HOME=$(dirname "$pidfile")
ExecStart=$venv/bin/vbmcd --foreground
Restart=on-failure
User=$user
Group=$user
SupplementaryGroups=libvirt
RuntimeDirectory=$(basename "$(dirname "$pidfile")")
RuntimeDirectoryMode=0700
ReadWritePaths=$root/domains $log
NoNewPrivileges=yes
CapabilityBoundingSet=
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
PrivateMounts=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
ProtectProc=invisible
ProcSubset=pid
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
RemoveIPC=yes
LockPersonality=yes
SystemCallArchitectures=native
SystemCallFilter=@system-service
SystemCallFilter=~@privileged
SystemCallErrorNumber=EPERM
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6
UMask=0077
[Install]
WantedBy=multi-user.target
UNIT
  systemctl daemon-reload
  systemctl enable "$unit" >/dev/null 2>&1 || true
  if [ $changed = yes ] || ! running; then systemctl restart "$unit"; fi
elif [ $changed = yes ] || ! running; then
  stop_vbmcd
  command -v setpriv >/dev/null || fail "no setpriv here (it runs vbmcd as $user): install util-linux"
  run_dir=$(dirname "$pidfile")
  mkdir -p "$run_dir" && chown "$user:$user" "$run_dir" && chmod 0700 "$run_dir"
  # setsid: vbmcd must outlive the SSH session that starts it; setpriv: as its user, with no way back to root.
  VIRTUALBMC_CONFIG=$conf HOME=$run_dir setsid setpriv --reuid="$user" --regid="$user" --init-groups \
    --no-new-privs --inh-caps=-all --bounding-set=-all -- "$venv/bin/vbmcd" --foreground </dev/null >>"$log" 2>&1 &
fi
VIRTUALBMC_CONFIG=$conf "$venv/bin/python" "$helper" ping --wait 20 >/dev/null 2>&1   || fail "vbmcd does not answer on 127.0.0.1:$server_port; see $log"
if [ $changed = yes ]; then echo "ocplab vbmc: vbmcd (re)started"; else echo "ocplab vbmc: vbmcd already running"; fi
