#!/bin/sh
# shellcheck shell=sh
# ocplab:mirror.registry: bundled: the registry is ocplab's pinned build, which registry-install.sh put in place;
# it runs only if it still hashes to the pin. distribution v3 sends OpenTelemetry traces to localhost:4318 unless
# told otherwise: none leave it.
# Inputs (set before this part by renderers/shell.py): binary, binary_sha256, version, reinstall (what `pulumi up`
# takes to install it again). Sets registry (the command mirror-apply.sh runs).
# shellcheck disable=SC2154,SC2034
[ -f "$binary" ] || fail "ocplab mirror: $binary (the registry $version) is missing on the jumphost: run pulumi up" \
  "again (the lab stack installs it before it starts the registry)"
got=$(sha256sum < "$binary" | cut -d' ' -f1)
[ "$got" = "$binary_sha256" ] || fail "ocplab mirror: $binary has sha256 $got, not $binary_sha256 (the registry" \
  "$version the lab stack installed): not started; pulumi up $reinstall installs it again"
registry="/usr/bin/env OTEL_TRACES_EXPORTER=none $binary"
