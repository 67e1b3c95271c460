#!/bin/sh
# shellcheck shell=sh
# ocplab's pinned registry build onto the jumphost, from the copy the lab stack uploaded beside it (pulumi-command's
# CopyToRemote): copied, the copy's sha256 checked against the pin, made root's 0755 and renamed into place in one
# step, the upload removed. A copy with another hash is refused and nothing is replaced. A no-op when the binary in
# place is the pinned one, root's, 0755.
# Inputs (set before this part by renderers/shell.py): upload, binary, binary_sha256, version, upload_urn
# shellcheck disable=SC2154
command -v sha256sum >/dev/null || fail "ocplab mirror: sha256sum is missing on the jumphost: install coreutils"
sha() { sha256sum < "$1" | cut -d' ' -f1; }
if [ -f "$binary" ] && [ "$(stat -c '%u:%g %a' "$binary")" = "0:0 755" ] && [ "$(sha "$binary")" = "$binary_sha256" ]; then
  rm -f "$upload"
  echo "ocplab mirror: the registry $version is in place at $binary"
  exit 0
fi
[ -f "$upload" ] || fail "ocplab mirror: $upload (the registry $version the lab stack copies) is missing and" \
  "$binary is not that build: pulumi up --replace '$upload_urn' copies it again"
new="$(dirname "$binary")/.registry.ocplab-new"
rm -f "$new"
# What is hashed is what is installed: the private copy, not the upload.
(umask 077 && cp "$upload" "$new")
got=$(sha "$new")
if [ "$got" != "$binary_sha256" ]; then
  rm -f "$new"
  fail "ocplab mirror: $upload has sha256 $got, not $binary_sha256 (the registry $version, as make engine built" \
    "it): refused, nothing was replaced; run make engine, then pulumi up --replace '$upload_urn'"
fi
chown 0:0 "$new" && chmod 0755 "$new"
# SELinux (RHEL): the label of what the directory holds.
if command -v restorecon >/dev/null; then restorecon "$new" 2>/dev/null || true; fi
mv -f "$new" "$binary"
rm -f "$upload"
echo "ocplab mirror: the registry $version installed at $binary"
