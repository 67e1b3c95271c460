#!/bin/sh
# shellcheck shell=sh
# What `ocplab doctor` reads on a lab host, in one SSH session: each listing is a section
# `### NAME STATUS` followed by the command's output (stdout and stderr), parsed by tools/lab_collect.py.
# Nothing here changes anything on the host. A failed listing does not stop the others.
# Inputs (set before this part by renderers/shell.py): none
set +e
# listing NAME COMMAND...: run COMMAND and print its section.
listing() {
  name=$1; shift
  if out=$("$@" 2>&1); then status=0; else status=$?; fi
  printf '### %s %s\n' "$name" "$status"
  [ -z "$out" ] || printf '%s\n' "$out"
}
# entries DIR: the names in DIR (no dotfiles); nothing when DIR does not exist.
entries() {
  [ -d "$1" ] || return 0
  for entry in "$1"/*; do
    if [ -e "$entry" ]; then basename -- "$entry"; fi
  done
}
