#!/bin/sh
# shellcheck shell=sh
# The lab's image cache, its server: nginx as a system user of its own with no privilege, reading the cache's
# files (root's, 0644, in a root:<its group> 0750 directory: it can change none), on the jumphost's lab address.
# Inputs (set before this part by renderers/shell.py): storage, conf_dir, conf_b64, user, unit, pidfile, log,
# address, port, names, package
# shellcheck disable=SC2154
nginx=$(command -v nginx || true)
if [ -z "$nginx" ] && command -v apt-get >/dev/null; then
  echo "ocplab cache: installing $package" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$package" >&2 \
    || fail "ocplab cache: apt-get could not install $package"
  # The package's own nginx (port 80, its own config) is not the lab's: only ours runs.
  if has_systemd; then systemctl disable --now nginx.service >/dev/null 2>&1 || true; fi
  nginx=$(command -v nginx)
fi
[ -n "$nginx" ] || fail "ocplab cache: nginx is not installed on the jumphost: dnf/apt install nginx"
id -u "$user" >/dev/null 2>&1 || useradd --system --user-group --no-create-home --home-dir /nonexistent \
  --shell /usr/sbin/nologin --comment "ocplab image cache" "$user" || fail "useradd could not make the user $user"
chown "root:$user" "$storage" && chmod 0750 "$storage"
mkdir -p "$conf_dir" && chown "root:$user" "$conf_dir" && chmod 0750 "$conf_dir"
stage "$conf_dir/nginx.conf" "$conf_b64" 0640
chgrp "$user" "$(staged_path "$conf_dir/nginx.conf")"
changed=yes
if cmp -s "$(staged_path "$conf_dir/nginx.conf")" "$conf_dir/nginx.conf"; then
  changed=no; rm -f "$(staged_path "$conf_dir/nginx.conf")"
else commit "$conf_dir/nginx.conf"; fi
running() {
  if has_systemd; then systemctl is-active --quiet "$unit"
  else [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; fi
}
if has_systemd; then
  cat > "/etc/systemd/system/$unit" <<UNIT
[Unit]
Description=ocplab: the lab's image cache (nginx, read-only)
After=network-online.target
Wants=network-online.target
[Service]
ExecStart=$nginx -c $conf_dir/nginx.conf -e stderr
Restart=on-failure
User=$user
Group=$user
RuntimeDirectory=$(basename "$(dirname "$pidfile")")
RuntimeDirectoryMode=0700
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
RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX
RemoveIPC=yes
LockPersonality=yes
MemoryDenyWriteExecute=yes
SystemCallArchitectures=native
SystemCallFilter=@system-service
SystemCallFilter=~@privileged @resources
SystemCallErrorNumber=EPERM
UMask=0077
[Install]
WantedBy=multi-user.target
UNIT
  systemctl daemon-reload && systemctl enable "$unit" >/dev/null 2>&1
  if [ $changed = yes ] || ! running; then systemctl restart "$unit"; fi
elif [ $changed = yes ] || ! running; then
  if [ -f "$pidfile" ] && p=$(cat "$pidfile") && kill "$p" 2>/dev/null; then
    i=0; while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
  fi
  command -v setpriv >/dev/null || fail "ocplab cache: no setpriv here (it runs nginx as $user): install util-linux"
  run_dir=$(dirname "$pidfile")
  mkdir -p "$run_dir" && chown "$user:$user" "$run_dir" && chmod 0700 "$run_dir"
  mkdir -p "$(dirname "$log")" && touch "$log" && chmod 0640 "$log"
  # setsid: it must outlive the SSH session; setpriv: as its user, with no way back to root.
  setsid setpriv --reuid="$user" --regid="$user" --init-groups --no-new-privs --inh-caps=-all --bounding-set=-all \
    -- "$nginx" -c "$conf_dir/nginx.conf" -e stderr </dev/null >>"$log" 2>&1 &
fi
# Healthy: it answers where the lab reads it (no listing of /), and each image with 200.
answers() {  # answers PATH CODE
  i=0; code=000
  while [ $i -lt 100 ]; do
    code=$(curl -s -o /dev/null -I -w '%{http_code}' "http://$address:$port/$1" || true)
    [ "$code" = "$2" ] && return 0
    sleep 0.1; i=$((i+1))
  done
  fail "ocplab cache: http://$address:$port/$1 answers $code, not $2; see $log or journalctl -u $unit"
}
answers '' 403
for name in $names; do answers "$name" 200; done
if [ $changed = yes ]; then echo "ocplab cache: nginx (re)started on $address:$port"; else echo "ocplab cache: unchanged"; fi
