#!/bin/sh
# shellcheck shell=sh
# After service-run.sh: the image cache answers, and each image with 200, or the `up` fails saying where to look.
# Inputs (set before this part by renderers/shell.py and cache-serve.sh): address, port, names, log, unit, changed
# shellcheck disable=SC2154
# Healthy: it answers where the lab reads it (no listing of /), and each image with 200.
answers() {  # answers PATH CODE
  i=0; code=000
  while [ $i -lt 100 ]; do
    code=$(curl -s -o /dev/null -I -w '%{http_code}' "http://$address:$port/$1" || true)
    [ "$code" = "$2" ] && return 0
    sleep 0.1; i=$((i+1))
  done
  fail "ocplab cache: http://$address:$port/$1 answers $code, not $2; see $log or journalctl -u $unit"
}
answers '' 403
for name in $names; do answers "$name" 200; done
if [ "$changed" = yes ]; then echo "ocplab cache: nginx (re)started on $address:$port"; else echo "ocplab cache: unchanged"; fi
