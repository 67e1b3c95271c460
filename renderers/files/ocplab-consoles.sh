#!/bin/sh
# shellcheck shell=sh
# ocplab-consoles: each cluster's serial console logs gathered on the jumphost, one folder per
# cluster (what the seed's conserver gave DCI labs). Installed by every cluster stack as
# /etc/ocplab/bin/ocplab-consoles; `start CLUSTER` (re)starts its collector, `remove CLUSTER`
# stops it and deletes its logs. The collector follows each node's log on its hypervisor (libvirt
# appends to it across guest reboots and domain restarts) over the lab's SSH access, host keys
# checked, and appends what is new to $logs/CLUSTER/NODE.log: after a dropped connection or a
# collector restart it resumes at the size it already has. Run by systemd where there is one
# (ocplab-consoles@CLUSTER), by setsid otherwise.
set -eu
conf_dir=/etc/ocplab/consoles
logs=/var/log/ocplab/consoles
run=/run/ocplab/consoles
unit=ocplab-consoles@
self=/etc/ocplab/bin/ocplab-consoles
has_systemd() { [ -d /run/systemd/system ]; }
pid() { [ -f "$run/$1.pid" ] && p=$(cat "$run/$1.pid") && [ -n "$p" ] && kill -0 "$p" 2>/dev/null && echo "$p"; }

# follow CLUSTER NODE TARGET PORT REMOTE_LOG: forever, append the remote log's new bytes to ours.
follow() {
  out="$logs/$1/$2.log"
  # The key and known_hosts paths may hold blanks: each stays one argument (ssh splits an -o value on
  # blanks unless it is quoted inside, so the known_hosts path is).
  cluster=$1 target=$3 port=$4 remote_log=$5
  set -- -o "UserKnownHostsFile=\"$known_hosts\""
  [ -z "$key" ] || set -- "$@" -i "$key"
  while :; do
    have=$(stat -c %s "$out" 2>/dev/null || echo 0)
    # On the hypervisor: start at our size, or from 0 when its file is new (shorter than ours).
    # shellcheck disable=SC2016
    remote='f=$1; n=$2; s=$(stat -c %s "$f" 2>/dev/null || echo 0); [ "$s" -ge "$n" ] || n=0; exec tail -c +$((n + 1)) -F "$f" 2>/dev/null'
    ssh -n -o BatchMode=yes -o StrictHostKeyChecking=yes "$@" -o ServerAliveInterval=10 \
      -o ServerAliveCountMax=3 -o ConnectTimeout=10 -p "$port" -- "$target" sh -c "'$remote'" follow "$remote_log" \
      "$have" >> "$out" 2>> "$run/$cluster.err" || true
    sleep 2
  done
}

# collect CLUSTER: one follower per node line ("node NODE TARGET PORT REMOTE_LOG") of the cluster's conf.
collect() {
  conf="$conf_dir/$1.conf"
  key=$(sed -n 's/^key //p' "$conf")
  case $key in \~/*) key="$HOME/${key#??}" ;; esac
  known_hosts=$(sed -n 's/^known_hosts //p' "$conf")
  case $known_hosts in \~/*) known_hosts="$HOME/${known_hosts#??}" ;; esac
  mkdir -p "$logs/$1" "$run"
  while read -r kind node target port log; do
    [ "$kind" = node ] || continue
    follow "$1" "$node" "$target" "$port" "$log" &
  done < "$conf"
  wait
}

write_unit() {
  cat > "/etc/systemd/system/${unit}.service" <<UNIT
[Unit]
Description=ocplab: serial console logs of cluster %i
After=network-online.target

[Service]
ExecStart=$self collect %i
Restart=always
RestartSec=2
KillMode=control-group

[Install]
WantedBy=multi-user.target
UNIT
  systemctl daemon-reload
}

stop() {
  if has_systemd; then systemctl disable --now "${unit}$1.service" >/dev/null 2>&1 || true
  elif p=$(pid "$1"); then
    kill -- "-$p" 2>/dev/null || kill "$p"
    i=0; while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
  fi
  rm -f "$run/$1.pid"
}

case "${1:-}:${2:-}" in
  collect:?*) collect "$2" ;;
  start:?*)
    stop "$2"
    mkdir -p "$logs/$2" "$run"
    : > "$run/$2.err"
    if has_systemd; then write_unit; systemctl enable --now "${unit}$2.service" >/dev/null
    else
      # setsid: the collector outlives the SSH session that starts it, in a process group of its own.
      setsid "$self" collect "$2" </dev/null >/dev/null 2>&1 &
      echo $! > "$run/$2.pid"
    fi ;;
  stop:?*) stop "$2" ;;
  remove:?*)
    stop "$2"; rm -rf "${logs:?}/$2" "$conf_dir/$2.conf" "$run/$2.err"
    rmdir "$conf_dir" "$logs" "$run" 2>/dev/null || true ;;  # the last cluster leaves nothing behind
  status:?*) if has_systemd; then systemctl is-active --quiet "${unit}$2.service"; else pid "$2" >/dev/null; fi ;;
  *) echo "usage: ocplab-consoles start|stop|remove|status CLUSTER" >&2; exit 2 ;;
esac
