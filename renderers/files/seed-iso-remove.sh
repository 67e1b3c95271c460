#!/bin/sh
# shellcheck shell=sh
# Remove one node's seed ISO (seed-iso-write.sh's) and let libvirt forget it; nothing to do if it is gone.
# Inputs (set before this part by renderers/shell.py): seed-iso-common.sh's, iso
# shellcheck disable=SC2154
drain_stdin
rm -f "$iso" "$(staged_path "$iso")"
refresh_pool || echo "ocplab seed: $iso removed; libvirt lists it until pool $pool is refreshed (virsh pool-refresh $pool)" >&2
