"""The builder's parts on the real host files: module order, initramfs contents, disk layout, cache."""

from __future__ import annotations

import gzip
import struct
import subprocess
import sys
from pathlib import Path

from simlab.guest import disk
from simlab.guest.build import build, stamp_path
from simlab.guest.initramfs import BUSYBOX, build_initramfs, is_static_elf
from simlab.guest.kernel import find_kernel, resolve_modules
from simlab.guest.tools import require_tool

# The chain checked by hand on this kernel (FACTS.md).
VIRTIO_NET_CHAIN = {"virtio_ring", "virtio", "virtio_pci_legacy_dev", "virtio_pci_modern_dev", "virtio_pci",
                    "failover", "net_failover", "virtio_net"}


def modules_dep(modules_dir: Path) -> dict[str, set[str]]:
    """modules.dep read independently of the builder: module -> every module it needs."""
    def name(path: str) -> str:
        return path.rsplit("/", 1)[-1].split(".ko")[0].replace("-", "_")

    deps = {}
    for line in (modules_dir / "modules.dep").read_text().splitlines():
        target, _, needs = line.partition(":")
        deps[name(target)] = {name(n) for n in needs.split()}
    return deps


def test_module_order_puts_dependencies_first() -> None:
    kernel = find_kernel()
    modules = resolve_modules(kernel)
    names = [m.name for m in modules]
    assert len(names) == len(set(names))
    assert set(names) >= VIRTIO_NET_CHAIN | {"virtio_blk", "virtio_scsi", "e1000", "ahci", "ata_piix", "sr_mod"}
    deps = modules_dep(kernel.modules_dir)
    for index, module in enumerate(names):
        assert deps[module] <= set(names[:index]), f"{module} loaded before {deps[module] - set(names[:index])}"
    assert next(m.params for m in modules if m.name == "scsi_mod") == "scan=sync"
    assert "af_packet" not in names  # built in


def test_busybox_is_static() -> None:
    assert is_static_elf(BUSYBOX.read_bytes())
    assert not is_static_elf(Path(sys.executable).resolve().read_bytes())


def test_initramfs_contents(tmp_path: Path) -> None:
    out = tmp_path / "initrd.img"
    build_initramfs(out, resolve_modules(find_kernel()))
    cpio = require_tool("cpio", "cpio")
    listing = subprocess.run([cpio, "-itv", "--quiet"], input=gzip.decompress(out.read_bytes()),
                             capture_output=True, check=True).stdout.decode()
    entries = {line.split()[-1] if " -> " not in line else line.split()[-3]: line for line in listing.splitlines()}
    assert entries["init"].startswith("-rwxr-xr-x")
    assert entries["dev/console"].startswith("crw-------")
    assert entries["sbin/udhcpc"].startswith("lrwxrwxrwx") and entries["sbin/udhcpc"].endswith("-> /bin/busybox")
    for name in ("bin/busybox", "etc/ocplab/udhcpc.sh", "etc/ocplab/cloudinit.awk", "lib/modules/ocplab/load.list",
                 "lib/modules/ocplab/virtio_net.ko", "etc/inittab", "etc/passwd"):
        assert name in entries, name


def test_mbr_layout() -> None:
    sector = disk.mbr(b"\xeb" * 500, 2048, 30720, disk.PART_TYPE_FAT16_LBA)
    assert len(sector) == 512 and sector[510:] == b"\x55\xaa" and sector[:440] == b"\xeb" * 440
    status, ptype, start, count = sector[446], sector[450], *struct.unpack_from("<II", sector, 454)
    assert (status, ptype, start, count) == (0x80, 0x0E, 2048, 30720)
    assert sector[462:510] == b"\0" * 48


def test_build_is_cached_and_rebuilt_when_damaged(tmp_path: Path) -> None:
    image = tmp_path / "guest.qcow2"
    first = build(image)
    assert not first.cached and first.size == image.stat().st_size
    again = build(image)
    assert again.cached and again.inputs_hash == first.inputs_hash
    with image.open("ab") as f:
        f.write(b"\0")
    assert not build(image).cached
    assert build(image, force=True).cached is False
    assert stamp_path(image).is_file()

    raw = tmp_path / "disk.raw"
    subprocess.run([require_tool("qemu-img", "qemu-utils"), "convert", "-O", "raw", str(image), str(raw)], check=True)
    data = raw.read_bytes()
    assert data[510:512] == b"\x55\xaa" and data[450] == disk.PART_TYPE_FAT16_LBA
    boot_sector = data[disk.PART_OFFSET : disk.PART_OFFSET + 512]
    assert boot_sector[3:11] == b"SYSLINUX" and boot_sector[510:] == b"\x55\xaa"
    mdir = subprocess.run([require_tool("mdir", "mtools"), "-a", "-b", "-i", f"{raw}@@{disk.PART_OFFSET}", "::"],
                          capture_output=True, text=True, check=True, env={"MTOOLS_SKIP_CHECK": "1"}).stdout
    assert set(mdir.lower().split()) >= {"::/vmlinuz", "::/initrd.img", "::/syslinux.cfg", "::/ldlinux.sys",
                                        "::/ldlinux.c32"}
