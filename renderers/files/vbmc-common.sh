#!/bin/sh
# shellcheck shell=sh
# Shared by the vbmc scripts: where vbmcd lives and how to tell it runs, with systemd or not.
# Inputs (set before this part by renderers/shell.py): venv, root, conf, helper, pidfile, log, unit
# shellcheck disable=SC2154
fail() { echo "ocplab vbmc: $*" >&2; exit 1; }
has_systemd() { [ -d /run/systemd/system ] && command -v systemctl >/dev/null; }
pid() { [ -f "$pidfile" ] && p=$(cat "$pidfile") && [ -n "$p" ] && kill -0 "$p" 2>/dev/null && echo "$p"; }
running() { if has_systemd; then systemctl is-active --quiet "$unit"; else pid >/dev/null; fi; }
stop_vbmcd() {
  if has_systemd; then systemctl disable --now "$unit" >/dev/null 2>&1 || true
  elif p=$(pid); then
    kill "$p"; i=0; while kill -0 "$p" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
  fi
  rm -f "$pidfile"
}
