"""Builds the cached guest image: kernel + busybox initramfs on a small bootable qcow2.

The image is rebuilt only when an input changes (kernel, modules, busybox, the guest scripts,
the builder's own code, the boot loader): a stamp beside the image keeps the inputs' hash and
the image's hash, so a stale or damaged image is never reused.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from simlab.guest import dhcp6, disk, efi
from simlab.guest.initramfs import ASSETS, BUSYBOX, build_initramfs, check_busybox
from simlab.guest.kernel import Kernel, find_kernel, resolve_modules
from simlab.guest.tools import require_file

BUILDER_VERSION = "2"
REPO = Path(__file__).resolve().parents[2]
DEFAULT_IMAGE = REPO / ".simlab" / "cache" / "guest.qcow2"
# tty0 last would make it /dev/console: ttyS0 must be last so /init prints to the serial port.
KERNEL_CMDLINE = "console=tty0 console=ttyS0,115200n8 panic=10"
_BUILDER_SOURCES = ("build.py", "cpio.py", "dhcp6.py", "disk.py", "efi.py", "initramfs.py", "kernel.py", "tools.py")


@dataclass(frozen=True)
class BuildResult:
    """What `build()` did: where the image is, whether it was reused, and how long it took."""

    path: Path
    cached: bool
    seconds: float
    size: int
    kernel_version: str
    inputs_hash: str


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def inputs_hash(kernel: Kernel, busybox: Path = BUSYBOX) -> str:
    """One hash over everything the image is made from."""
    check_busybox(busybox)
    here = Path(__file__).resolve().parent
    parts: list[tuple[str, str]] = [
        ("builder", BUILDER_VERSION),
        ("cmdline", KERNEL_CMDLINE),
        ("kernel-version", kernel.version),
        ("kernel", _sha256(kernel.image)),
        ("busybox", _sha256(busybox)),
        *((f"dhcp6:{target}", _sha256(source)) for target, source in dhcp6.client_files()),
        ("mbr", _sha256(require_file(disk.SYSLINUX_MBR, "syslinux-common"))),
        ("ldlinux", _sha256(require_file(disk.SYSLINUX_LDLINUX_C32, "syslinux-common"))),
    ]
    parts += efi.inputs()
    parts += [(f"module:{m.name}:{m.params}", _sha256(m.path)) for m in resolve_modules(kernel)]
    parts += [(f"asset:{p.name}", _sha256(p)) for p in sorted(ASSETS.iterdir()) if p.is_file()]
    parts += [(f"source:{name}", _sha256(here / name)) for name in _BUILDER_SOURCES]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def stamp_path(image: Path) -> Path:
    return image.with_name(image.name + ".stamp")


def _is_current(image: Path, wanted: str) -> bool:
    stamp = stamp_path(image)
    if not (image.is_file() and stamp.is_file()):
        return False
    try:
        recorded = json.loads(stamp.read_text())
    except (OSError, ValueError):
        return False
    return bool(recorded.get("inputs") == wanted and recorded.get("image_sha256") == _sha256(image))


def _make(image: Path, kernel: Kernel, workdir: Path) -> None:
    initrd = workdir / "initrd.img"
    version_text = f"builder={BUILDER_VERSION} kernel={kernel.version}\n"
    build_initramfs(initrd, resolve_modules(kernel), version_text=version_text)
    raw = workdir / "disk.raw"
    disk.make_raw_disk(raw, disk.BootFiles(kernel.image, initrd, KERNEL_CMDLINE), workdir)
    disk.to_qcow2(raw, image)


def build(out: Path | None = None, *, kernel_version: str | None = None, force: bool = False) -> BuildResult:
    """Builds (or reuses) the image at `out`; safe to call from several processes at once."""
    image = (out or DEFAULT_IMAGE).resolve()
    image.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    kernel = find_kernel(kernel_version)
    lock_path = image.with_name(image.name + ".lock")
    with lock_path.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        wanted = inputs_hash(kernel)
        cached = not force and _is_current(image, wanted)
        if not cached:
            with tempfile.TemporaryDirectory(prefix=".guest-build-", dir=image.parent) as tmp:
                work = Path(tmp)
                fresh = work / image.name
                _make(fresh, kernel, work)
                os.replace(fresh, image)
            stamp = {
                "inputs": wanted,
                "image_sha256": _sha256(image),
                "kernel": kernel.version,
                "builder": BUILDER_VERSION,
                "built_at": int(time.time()),
            }
            tmp_stamp = image.with_name(image.name + ".stamp.tmp")
            tmp_stamp.write_text(json.dumps(stamp, indent=1) + "\n")
            os.replace(tmp_stamp, stamp_path(image))
    return BuildResult(image, cached, time.monotonic() - started, image.stat().st_size, kernel.version, wanted)


def build_image(out: Path | None = None, *, kernel_version: str | None = None, force: bool = False) -> Path:
    """Path of an up-to-date guest image (default <repo>/.simlab/cache/guest.qcow2)."""
    return build(out, kernel_version=kernel_version, force=force).path
