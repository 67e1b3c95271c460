#!/bin/sh
# shellcheck shell=sh
# Helpers every ocplab remote script starts with (renderers/shell.py puts this first, after the
# script's quoted inputs). Files travel base64-encoded inside the script, so no quoting of their
# contents can break it, and land as a dotfile first: dnsmasq's inotify ignores dotfiles, so the
# rename is the only change it sees.
set -eu
staged_path() { printf '%s/.%s.ocplab-new' "$(dirname "$1")" "$(basename "$1")"; }
# stage PATH BASE64 MODE: the new content next to PATH, not yet in place (see commit).
stage() {
  mkdir -p "$(dirname "$1")"
  printf '%s' "$2" | base64 -d > "$(staged_path "$1")"
  chmod "$3" "$(staged_path "$1")"
}
# commit PATH: the staged file renamed over PATH in one step.
commit() { mv -f "$(staged_path "$1")" "$1"; }
# put PATH BASE64 MODE: stage and commit, for files nobody watches.
put() { stage "$1" "$2" "$3" && commit "$1"; }
# A script that is given stdin (a BMC secret, user-data) but does not need it reads it to the end
# first: pulumi-command reports EOF, and fails a command that exited 0, when the session closes
# before its stdin was written (pulumi/pulumi-command#553; seen under load at 100 domains).
drain_stdin() { cat > /dev/null; }
