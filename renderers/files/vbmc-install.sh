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
mkdir -p "$root/domains" "$root/clusters" "$root/bin" "$(dirname "$log")"
chmod 0700 "$root"
put "$helper" "$helper_b64" 0644
stage "$conf" "$conf_b64" 0600
changed=yes; cmp -s "$(staged_path "$conf")" "$conf" && changed=no
mv -f "$(staged_path "$conf")" "$conf"
if command -v firewall-cmd >/dev/null && firewall-cmd --state >/dev/null 2>&1; then
  # shellcheck disable=SC2086 # a list of port ranges, one word each
  for range in $port_ranges; do
    firewall-cmd -q --add-port="$range/udp" && firewall-cmd -q --permanent --add-port="$range/udp"
  done
fi
if has_systemd; then
  cat > "/etc/systemd/system/$unit" <<UNIT
[Unit]
Description=vbmcd of the ocplab lab (IPMI BMCs of cluster VMs)
After=libvirtd.service network-online.target
[Service]
Environment=VIRTUALBMC_CONFIG=$conf
ExecStart=$venv/bin/vbmcd --foreground
Restart=on-failure
[Install]
WantedBy=multi-user.target
UNIT
  systemctl daemon-reload
  systemctl enable "$unit" >/dev/null 2>&1 || true
  if [ $changed = yes ] || ! running; then systemctl restart "$unit"; fi
elif [ $changed = yes ] || ! running; then
  stop_vbmcd
  # setsid: vbmcd must outlive the SSH session that starts it.
  VIRTUALBMC_CONFIG=$conf setsid "$venv/bin/vbmcd" --foreground </dev/null >>"$log" 2>&1 &
fi
VIRTUALBMC_CONFIG=$conf "$venv/bin/python" "$helper" ping --wait 20 >/dev/null 2>&1   || fail "vbmcd does not answer on 127.0.0.1:$server_port; see $log"
if [ $changed = yes ]; then echo "ocplab vbmc: vbmcd (re)started"; else echo "ocplab vbmc: vbmcd already running"; fi
