#!/bin/sh
# shellcheck shell=sh
# Undo cache-serve.sh and cache-fetch.sh: nginx stopped, its unit and config gone. The cached images stay
# unless the lab config said keep_data: false.
# Inputs (set before this part by renderers/shell.py): storage, conf_dir, user, unit, pidfile, log, keep_data
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
  echo "ocplab cache: the server is gone from the jumphost; the images stay in $storage (keep_data)"
else
  rm -rf "$storage"
  if id -u "$user" >/dev/null 2>&1; then userdel "$user" 2>/dev/null || true; fi
  echo "ocplab cache: the server and its images ($storage) are gone from the jumphost"
fi
