#!/bin/sh
# shellcheck shell=sh
# Write one node's NoCloud seed ISO (volume label cidata) into the hypervisor's storage pool
# directory, as terraform-provider-libvirt's CloudInitDisk would, but made here, so no libvirt
# stream carries it (the upload and refresh's download can hang: docs/engine-findings.md).
# user-data comes on stdin; meta-data (instance-id, hostname) is an input.
# The new ISO replaces the old in one rename; the pool is refreshed so libvirt lists it.
# Inputs (set before this part by renderers/shell.py): seed-iso-common.sh's, iso, meta_b64
# shellcheck disable=SC2154
dir=$(dirname "$iso")
[ -d "$dir" ] || fail "$dir does not exist on $(hostname): it is the directory of storage pool $pool, which the lab stack makes; run pulumi up on the lab stack"
maker=
for candidate in genisoimage mkisofs xorrisofs; do
  if command -v "$candidate" >/dev/null 2>&1; then maker=$candidate; break; fi
done
[ -n "$maker" ] || fail "no ISO maker on $(hostname) for the cloud-init seed: install genisoimage (Debian, RHEL 8) or xorriso (RHEL 9: dnf install xorriso)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/user-data"
printf '%s' "$meta_b64" | base64 -d > "$work/meta-data"
(cd "$work" && "$maker" -quiet -output seed.iso -V cidata -J -r user-data meta-data) ||
  fail "$maker could not make the seed ISO for $iso"
chmod 644 "$work/seed.iso"
cp "$work/seed.iso" "$(staged_path "$iso")"
commit "$iso"
refresh_pool || echo "ocplab seed: $iso written; libvirt does not list it until pool $pool is refreshed (virsh pool-refresh $pool)" >&2
