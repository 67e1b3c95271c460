#!/bin/sh
# shellcheck shell=sh
# Shared by the vbmc scripts: where vbmcd lives and how to tell it runs, with systemd or not.
# Inputs (set before this part by renderers/shell.py): venv, root, conf, helper, pidfile, log, unit, user
# shellcheck disable=SC2154
fail() { echo "ocplab vbmc: $*" >&2; exit 1; }
has_systemd() { [ -d /run/systemd/system ] && command -v systemctl >/dev/null; }
pid() { [ -f "$pidfile" ] && p=$(cat "$pidfile") && [ -n "$p" ] && kill -0 "$p" 2>/dev/null && echo "$p"; }
running() { if has_systemd; then systemctl is-active --quiet "$unit"; else pid >/dev/null; fi; }
main_pid() { if has_systemd; then systemctl show --property=MainPID --value "$unit"; else pid; fi; }
# runs_as_user: vbmcd runs, as its own user (an older ocplab ran it as root).
runs_as_user() {
  p=$(main_pid) && [ -n "$p" ] && [ "$p" != 0 ] \
    && [ "$(awk '/^Uid:/ {print $2}' "/proc/$p/status" 2>/dev/null)" = "$(id -u "$user" 2>/dev/null)" ]
}
stop_pid() { kill "$1" 2>/dev/null || true; i=0; while kill -0 "$1" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; }
stop_vbmcd() {
  if has_systemd; then systemctl disable --now "$unit" >/dev/null 2>&1 || true
  elif p=$(pid); then stop_pid "$p"
  fi
  rm -f "$pidfile"
}
