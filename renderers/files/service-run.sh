#!/bin/sh
# shellcheck shell=sh
# Run one of the jumphost's lab services (the mirror registry, the image cache's nginx) as its own user with no
# privilege: under systemd a sandboxed unit, restarted when $changed is yes or it is not running; without systemd
# (the simulated jumphost) started through setpriv, in the background, as a simple command whose output goes to
# its log: nothing of it holds the SSH session's pipes open (a backgrounded list would, in a subshell that waits).
# Inputs (set by the part before): user, unit, pidfile, log, description, exec_start (words without blanks each),
# changed; the runtime directory (the pid file's) is the service's own.
# shellcheck disable=SC2154
running() {
  if has_systemd; then systemctl is-active --quiet "$unit"
  else [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; fi
}
if has_systemd; then
  cat > "/etc/systemd/system/$unit" <<UNIT
[Unit]
Description=$description
After=network-online.target
Wants=network-online.target
[Service]
ExecStart=$exec_start
Restart=on-failure
User=$user
Group=$user
RuntimeDirectory=$(basename "$(dirname "$pidfile")")
RuntimeDirectoryMode=0700
${read_write:+ReadWritePaths=$read_write}
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
  if [ "$changed" = yes ] || ! running; then systemctl restart "$unit"; fi
elif [ "$changed" = yes ] || ! running; then
  if [ -f "$pidfile" ] && p=$(cat "$pidfile") && kill "$p" 2>/dev/null; then
    i=0; while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
  fi
  command -v setpriv >/dev/null || fail "ocplab: no setpriv here (it runs $unit as $user): install util-linux"
  run_dir=$(dirname "$pidfile")
  mkdir -p "$run_dir" && chown "$user:$user" "$run_dir" && chmod 0700 "$run_dir"
  mkdir -p "$(dirname "$log")" && touch "$log" && chmod 0640 "$log"
  # $!: the service itself (setsid execs, as a background job is no process group leader here).
  # shellcheck disable=SC2086 # exec_start: its words, none with a blank
  (umask 077; exec setsid setpriv --reuid="$user" --regid="$user" --init-groups --no-new-privs --inh-caps=-all \
    --bounding-set=-all -- $exec_start) </dev/null >>"$log" 2>&1 &
  echo $! > "$pidfile"
fi
