"""Keeps libvirt's QEMU capability probe across labs (it costs ~4 s of CPU per hypervisor).

libvirtd probes the QEMU binary on first use and caches the result under
/var/cache/libvirt/qemu/capabilities; it re-validates the file against the binaries' ctimes
and the kernel, so a stale copy is simply re-probed. The copy lives in .simlab/cache/.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from simlab.paths import StatePaths

INSIDE = Path("cache/libvirt/qemu/capabilities")  # under a host's /var


def _saved(paths: StatePaths) -> Path:
    return paths.cache / "libvirt-qemu-capabilities"


def seed(paths: StatePaths, host: str) -> None:
    """Give a new hypervisor the capabilities probed by an earlier lab, if any."""
    saved = _saved(paths)
    if not saved.is_dir():
        return
    target = paths.host_dir(host) / "var" / "upper" / INSIDE
    target.mkdir(parents=True, exist_ok=True)
    for xml in saved.glob("*.xml"):
        shutil.copyfile(xml, target / xml.name)


def save(paths: StatePaths) -> None:
    """Keep the newest probe result of any hypervisor of the lab being torn down."""
    found = sorted(paths.hosts_dir.glob(f"*/var/upper/{INSIDE}/*.xml"),
                   key=lambda p: p.stat().st_mtime)
    if not found:
        return
    saved = _saved(paths)
    saved.mkdir(parents=True, exist_ok=True)
    newest: dict[str, Path] = {xml.name: xml for xml in found}
    for name, xml in newest.items():
        shutil.copyfile(xml, saved / name)
