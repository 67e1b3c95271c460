#!/bin/sh
# shellcheck shell=sh
# Helpers of the jumphost's way out (route-*.sh, time-*.sh): the host's service manager and firewall.
has_systemd() { [ -d /run/systemd/system ] && command -v systemctl >/dev/null; }
firewalld_runs() { command -v firewall-cmd >/dev/null && [ "$(firewall-cmd --state 2>/dev/null)" = running ]; }
fail() { echo "$*" >&2; exit 1; }
