#!/bin/sh
# shellcheck shell=sh
# What the seed scripts share: failing with our message, and making libvirt list the pool's files anew.
# Inputs (set before this part by renderers/shell.py): pool
# shellcheck disable=SC2154
fail() { echo "ocplab seed: $*" >&2; exit 1; }
# libvirt refuses a refresh while the pool has a volume being built (another create): try a few times,
# as long as the pool exists.
refresh_pool() {
  for _ in 1 2 3 4 5; do
    virsh -q pool-refresh "$pool" >/dev/null 2>&1 && return 0
    virsh -q pool-info "$pool" >/dev/null 2>&1 || return 1
    sleep 1
  done
  return 1
}
