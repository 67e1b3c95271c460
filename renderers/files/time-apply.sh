#!/bin/sh
# shellcheck shell=sh
# The lab's NTP server: a chronyd of ocplab's own on the jumphost, serving the lab network from its lab
# address. -x: it never sets this host's clock (that stays the host's own chronyd's business). It runs as
# chrony's unprivileged user (service-run.sh, after this part). The config is checked by chronyd before it
# takes effect.
# Inputs (set before this part by renderers/shell.py): conf, conf_b64, unit, pidfile, log
# shellcheck disable=SC2154,SC2034 # cap, exec_start, description: read by service-run.sh
chronyd=$(command -v chronyd) || fail "ocplab: chronyd is not installed on the jumphost: dnf/apt install chrony"
user=
for candidate in chrony _chrony; do id -u "$candidate" >/dev/null 2>&1 && { user=$candidate; break; }; done
[ -n "$user" ] || fail "ocplab: the jumphost has no chrony user (the chrony package makes it): dnf/apt install chrony"
stage "$conf" "$conf_b64" 0644
staged=$(staged_path "$conf")
if ! out=$("$chronyd" -p -f "$staged" 2>&1); then
  rm -f "$staged"; fail "ocplab: chronyd refused the lab's NTP config, the previous one stays: $out"
fi
changed=yes
if cmp -s "$staged" "$conf"; then changed=no; rm -f "$staged"; else commit "$conf"; fi
# service-run.sh starts it (again where the config changed or it does not run) as $user, keeping only the right
# to bind port 123; -U: chronyd starts unprivileged, -n: in the foreground.
cap=net_bind_service
exec_start="$chronyd -n -U -x -f $conf"
description="ocplab: the lab's NTP server (chronyd -x: it never sets this host's clock)"
echo "ocplab: the lab NTP server runs as $user (config changed: $changed)"
