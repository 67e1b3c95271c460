#!/bin/sh
# shellcheck shell=sh
# Undo service-run.sh and what its service keeps: stopped, its unit, config, runtime directory and log gone; its
# data (and its user, who owns it) kept unless keep_data is no.
# Inputs (set before this part by renderers/shell.py): what, conf_dir, storage, user, unit, pidfile, log, keep_data
# shellcheck disable=SC2154
if has_systemd && [ -f "/etc/systemd/system/$unit" ]; then
  systemctl disable --now "$unit" >/dev/null 2>&1 || true
  rm -f "/etc/systemd/system/$unit" && systemctl daemon-reload
elif [ -f "$pidfile" ] && p=$(cat "$pidfile") && kill "$p" 2>/dev/null; then
  i=0; while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
fi
rm -rf "$conf_dir" "$(dirname "$pidfile")"
rm -f "$log"
if [ "$keep_data" = yes ]; then
  echo "ocplab: $what is gone from the jumphost; its data stays in $storage (keep_data)"
else
  rm -rf "$storage"
  if id -u "$user" >/dev/null 2>&1; then userdel "$user" 2>/dev/null || true; fi
  echo "ocplab: $what and its data ($storage) are gone from the jumphost"
fi
