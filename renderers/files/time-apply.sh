#!/bin/sh
# shellcheck shell=sh
# The lab's NTP server: a chronyd of ocplab's own on the jumphost, serving the lab network from its lab
# address. -x: it never sets this host's clock (that stays the host's own chronyd's business). It runs as
# chrony's unprivileged user: under systemd started so, with only the right to bind port 123; without
# systemd chronyd drops root itself. The config is checked by chronyd before it takes effect.
# Inputs (set before this part by renderers/shell.py): conf, conf_b64, unit, pidfile
# shellcheck disable=SC2154
chronyd=$(command -v chronyd) || fail "ocplab: chronyd is not installed on the jumphost: dnf/apt install chrony"
user=
for candidate in chrony _chrony; do id -u "$candidate" >/dev/null 2>&1 && { user=$candidate; break; }; done
[ -n "$user" ] || fail "ocplab: the jumphost has no chrony user (the chrony package makes it): dnf/apt install chrony"
running() {
  if has_systemd; then systemctl is-active --quiet "$unit"
  else [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; fi
}
stage "$conf" "$conf_b64" 0644
staged=$(staged_path "$conf")
if ! out=$("$chronyd" -p -f "$staged" 2>&1); then
  rm -f "$staged"; fail "ocplab: chronyd refused the lab's NTP config, the previous one stays: $out"
fi
if cmp -s "$staged" "$conf" && running; then rm -f "$staged"; echo 'ocplab: the lab NTP server is unchanged'; exit 0; fi
commit "$conf"
if has_systemd; then
  cat > "/etc/systemd/system/$unit" <<UNIT
[Unit]
Description=ocplab: the lab's NTP server (chronyd -x: it never sets this host's clock)
After=network-online.target
Wants=network-online.target
[Service]
ExecStart=$chronyd -n -U -x -f $conf
Restart=on-failure
User=$user
Group=$user
RuntimeDirectory=$(basename "$(dirname "$pidfile")")
RuntimeDirectoryMode=0755
AmbientCapabilities=CAP_NET_BIND_SERVICE
CapabilityBoundingSet=CAP_NET_BIND_SERVICE
NoNewPrivileges=yes
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
RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX
RemoveIPC=yes
LockPersonality=yes
MemoryDenyWriteExecute=yes
SystemCallArchitectures=native
SystemCallFilter=@system-service
SystemCallFilter=~@privileged @resources
UMask=0077
[Install]
WantedBy=multi-user.target
UNIT
  systemctl daemon-reload && systemctl enable "$unit" >/dev/null 2>&1 && systemctl restart "$unit"
else
  if [ -f "$pidfile" ] && p=$(cat "$pidfile") && kill "$p" 2>/dev/null; then
    i=0; while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
  fi
  mkdir -p "$(dirname "$pidfile")"
  # chronyd detaches itself and drops root for $user; setsid: it must outlive the SSH session.
  setsid "$chronyd" -x -u "$user" -f "$conf" </dev/null >/dev/null 2>&1
fi
echo "ocplab: the lab NTP server (re)started as $user"
