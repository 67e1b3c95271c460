#!/bin/sh
# shellcheck shell=sh
# Undo registry-install.sh (a lab destroy, or ocplab:mirror.registry back to system): ocplab's registry build gone
# from the jumphost, and its directory when nothing else is in it.
# Inputs (set before this part by renderers/shell.py): upload, binary
# shellcheck disable=SC2154
rm -f "$binary" "$upload" "$(dirname "$binary")/.registry.ocplab-new"
rmdir "$(dirname "$binary")" 2>/dev/null || true
echo "ocplab mirror: the registry build is gone from $(dirname "$binary")"
