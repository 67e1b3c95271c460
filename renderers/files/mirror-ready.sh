#!/bin/sh
# shellcheck shell=sh
# After service-run.sh: the mirror registry is healthy, or the `up` fails saying where to look.
# Inputs (set before this part by renderers/shell.py and mirror-apply.sh): conf_dir, host, address, port, log, unit,
# changed
# shellcheck disable=SC2154
# Healthy: it answers TLS verified with the lab CA for its name and asks for a login (401) on the registry API.
url="https://$host:$port"
i=0; code=000
while [ $i -lt 100 ]; do
  code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$conf_dir/ca.crt" --resolve "$host:$port:$address" \
    "$url/v2/" || true)
  [ "$code" = 401 ] && break
  sleep 0.1; i=$((i+1))
done
[ "$code" = 401 ] || fail "ocplab mirror: the registry does not answer $url/v2/ with 401 (got $code); see $log or" \
  "journalctl -u $unit"
if [ "$changed" = yes ]; then echo "ocplab mirror: the registry (re)started at $url"; else echo "ocplab mirror: unchanged"; fi
