"""Remote-command scripts that make and remove a node's cloud-init seed ISO on its hypervisor.

The ISO is made where it is used (files/seed-iso-write.sh), from user-data sent on the command's
stdin, instead of being uploaded through a libvirt stream, which can hang for good
(docs/engine-findings.md, "Cloud-init ISOs over a libvirt stream can hang for good"). It lands in
the pool's directory under the name the CloudInitDisk volume had, so
`virsh vol-list` and `ocplab doctor` see the same volume either way.
"""

from __future__ import annotations

import posixpath

from renderers.shell import b64, script


def seed_iso_path(pool_dir: str, iso_name: str) -> str:
    """Where the node's seed lives: its pool's directory (the directory of the pool's base volumes)."""
    return posixpath.join(pool_dir, iso_name)


def seed_iso_write_script(iso: str, pool: str, meta_data: str) -> str:
    """Make the ISO from stdin's user-data and this meta-data, replace the old one in one rename."""
    return script("seed-iso-common", "seed-iso-write", iso=iso, pool=pool, meta_b64=b64(meta_data))


def seed_iso_remove_script(iso: str, pool: str) -> str:
    return script("seed-iso-common", "seed-iso-remove", iso=iso, pool=pool)
