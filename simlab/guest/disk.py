"""Makes the bootable disk: MBR + one FAT16 partition with SYSLINUX, kernel and initramfs.

Built without loop devices or mounts (mtools and `syslinux --offset` write into the image
file), so it works in a container; BIOS-booting it from disk is what a cloud image does, and
a larger qcow2 overlay on top of it boots the same (the partition table just ends early).
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path

from simlab.guest.tools import require_file, require_tool, run

SECTOR = 512
MIB = 1 << 20
PART_START = 2048  # sectors: 1 MiB, the usual alignment
PART_OFFSET = PART_START * SECTOR
FAT_SLACK = 2 * MIB  # FAT tables, directories, ldlinux.sys/.c32
PART_TYPE_FAT16_LBA = 0x0E
DISK_SIGNATURE = 0x4C50434F  # "OCPL"
SYSLINUX_MBR = Path("/usr/lib/syslinux/mbr/mbr.bin")
SYSLINUX_LDLINUX_C32 = Path("/usr/lib/syslinux/modules/bios/ldlinux.c32")


@dataclass(frozen=True)
class BootFiles:
    """What the boot partition holds."""

    kernel: Path
    initrd: Path
    cmdline: str


def syslinux_cfg(cmdline: str) -> str:
    """Boots straight into the one entry; SERIAL makes boot-loader errors show in the serial log."""
    return (
        "SERIAL 0 115200\n"
        "PROMPT 0\n"
        "TIMEOUT 0\n"
        "DEFAULT ocplab\n"
        "LABEL ocplab\n"
        "  LINUX /vmlinuz\n"
        "  INITRD /initrd.img\n"
        f"  APPEND {cmdline}\n"
    )


def _chs(lba: int) -> bytes:
    """CHS bytes of an LBA in the usual 255-head, 63-sector geometry (capped at 1023 cylinders)."""
    heads, sectors = 255, 63
    cyl, rem = divmod(lba, heads * sectors)
    if cyl > 1023:
        return b"\xfe\xff\xff"
    head, sector = divmod(rem, sectors)
    return bytes((head, ((sector + 1) & 0x3F) | ((cyl >> 2) & 0xC0), cyl & 0xFF))


def mbr(boot_code: bytes, start: int, count: int, part_type: int) -> bytes:
    """A 512-byte MBR with `boot_code` and one active partition."""
    entry = b"\x80" + _chs(start) + bytes((part_type,)) + _chs(start + count - 1) + struct.pack("<II", start, count)
    table = entry + b"\0" * 48
    return boot_code[:440].ljust(440, b"\0") + struct.pack("<IH", DISK_SIGNATURE, 0) + table + b"\x55\xaa"


def partition_bytes(files: BootFiles) -> int:
    """Partition size: the payload plus slack, rounded up to whole MiB."""
    payload = files.kernel.stat().st_size + files.initrd.stat().st_size
    return -(-(payload + FAT_SLACK) // MIB) * MIB


def make_raw_disk(raw: Path, files: BootFiles, workdir: Path) -> None:
    """Writes the whole raw disk image to `raw`."""
    mkfs = require_tool("mkfs.fat", "dosfstools")
    mcopy = require_tool("mcopy", "mtools")
    syslinux = require_tool("syslinux", "syslinux")
    boot_code = require_file(SYSLINUX_MBR, "syslinux-common").read_bytes()
    require_file(SYSLINUX_LDLINUX_C32, "syslinux-common")

    part_size = partition_bytes(files)
    with raw.open("wb") as disk:
        disk.truncate(PART_OFFSET + part_size)
    run([mkfs, "-F", "16", "-n", "OCPLAB", "-i", "4f43504c", "-h", str(PART_START),
         f"--offset={PART_START}", str(raw), str(part_size // 1024)])

    cfg = workdir / "syslinux.cfg"
    cfg.write_text(syslinux_cfg(files.cmdline))
    env = dict(os.environ, MTOOLS_SKIP_CHECK="1")
    image = f"{raw}@@{PART_OFFSET}"
    for source, name in ((files.kernel, "vmlinuz"), (files.initrd, "initrd.img"), (cfg, "syslinux.cfg")):
        run([mcopy, "-o", "-i", image, str(source), f"::{name}"], env=env)
    run([syslinux, "--install", "--offset", str(PART_OFFSET), str(raw)], env=env)

    with raw.open("r+b") as disk:
        disk.write(mbr(boot_code, PART_START, part_size // SECTOR, PART_TYPE_FAT16_LBA))


def to_qcow2(raw: Path, out: Path) -> None:
    """Converts to qcow2 (unwritten clusters stay unallocated, so the file stays small)."""
    qemu_img = require_tool("qemu-img", "qemu-utils")
    run([qemu_img, "convert", "-f", "raw", "-O", "qcow2", str(raw), str(out)])
