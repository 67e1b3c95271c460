#!/bin/sh
# shellcheck shell=sh
# Undo registry-install.sh (a lab destroy, or ocplab:mirror.registry back to system): ocplab's registry build gone
# from the jumphost, and its directory when nothing else is in it. Kept while the registry's config still names the
# build: then this is the old half of a replacement (`pulumi up --replace`), whose new half installed it again, or
# the registry still runs it.
# Inputs (set before this part by renderers/shell.py): upload, binary, config
# shellcheck disable=SC2154
if grep -q "^# Served by ocplab's build" "$config" 2>/dev/null; then
  echo "ocplab mirror: the registry build stays in $(dirname "$binary"): $config still names it"
  exit 0
fi
rm -f "$binary" "$upload" "$(dirname "$binary")/.registry.ocplab-new"
rmdir "$(dirname "$binary")" 2>/dev/null || true
echo "ocplab mirror: the registry build is gone from $(dirname "$binary")"
