#!/bin/sh
# shellcheck shell=sh
# The jumphost's clock, every file of the three dnsmasq drop-in directories (base64, one section
# each), the lab's lease file and the clusters whose console logs are gathered here.
# Inputs (set before this part by renderers/shell.py): dirs (the directories, one word each), lease_file,
# consoles_conf, consoles_logs
# shellcheck disable=SC2154
listing now date +%s
encoded() { base64 < "$1" | tr -d '\n'; }
leases() { if [ -f "$lease_file" ]; then cat -- "$lease_file"; fi; }
# shellcheck disable=SC2086 # dirs: a list of plain paths, checked by renderers/shell.py
for dir in $dirs; do
  for path in "$dir"/*; do
    if [ -f "$path" ]; then listing "file $path" encoded "$path"; fi
  done
done
listing leases leases
consoles() { { entries "$consoles_conf"; entries "$consoles_logs"; } | sed 's/\.conf$//' | sort -u; }
listing consoles consoles
