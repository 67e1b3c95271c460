#!/bin/sh
# shellcheck shell=sh
# Undo time-apply.sh: the lab's chronyd stopped, its unit, config and pid file gone.
# Inputs (set before this part by renderers/shell.py): conf, unit, pidfile
# shellcheck disable=SC2154
if has_systemd && [ -f "/etc/systemd/system/$unit" ]; then
  systemctl disable --now "$unit" >/dev/null 2>&1 || true
  rm -f "/etc/systemd/system/$unit" && systemctl daemon-reload
elif [ -f "$pidfile" ] && p=$(cat "$pidfile") && kill "$p" 2>/dev/null; then
  i=0; while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
fi
rm -f "$conf" "$pidfile"
rmdir "$(dirname "$pidfile")" "$(dirname "$conf")" 2>/dev/null || true
echo 'ocplab: the lab NTP server is gone from the jumphost'
