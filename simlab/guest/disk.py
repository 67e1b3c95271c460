"""Makes the bootable disk: MBR + one FAT16 partition with SYSLINUX, GRUB EFI, kernel and initramfs.

Built without loop devices or mounts (mtools and `syslinux --offset` write into the image
file), so it works in a container; BIOS-booting it from disk is what a cloud image does, and
a larger qcow2 overlay on top of it boots the same (the partition table just ends early). OVMF boots
the same partition through \\EFI\\BOOT\\BOOTX64.EFI (simlab.guest.efi).
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path

from simlab.guest import efi
from simlab.guest.tools import require_file, require_tool, run

SECTOR = 512
MIB = 1 << 20
PART_START = 2048  # sectors: 1 MiB, the usual alignment
PART_OFFSET = PART_START * SECTOR
FAT_SLACK = 2 * MIB  # FAT tables, directories, ldlinux.sys/.c32, the GRUB EFI image (about 0.6 MiB)
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
        f"  APPEND {cmdline} ocplab.via=bios-disk\n"
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
    grub = workdir / "BOOTX64.EFI"
    efi.grub_image(grub, efi.DISK_PREFIX, efi.DISK_MODULES)
    grub_cfg = workdir / "grub.cfg"
    grub_cfg.write_text(efi.disk_grub_cfg(files.cmdline))
    run([require_tool("mmd", "mtools"), "-i", image, "::/EFI", "::/EFI/BOOT"], env=env)
    for source, name in ((files.kernel, efi.KERNEL), (files.initrd, efi.INITRD), (cfg, "syslinux.cfg"),
                         (grub, "EFI/BOOT/BOOTX64.EFI"), (grub_cfg, "EFI/BOOT/grub.cfg")):
        run([mcopy, "-o", "-i", image, str(source), f"::{name}"], env=env)
    run([syslinux, "--install", "--offset", str(PART_OFFSET), str(raw)], env=env)

    with raw.open("r+b") as disk:
        disk.write(mbr(boot_code, PART_START, part_size // SECTOR, PART_TYPE_FAT16_LBA))


def to_qcow2(raw: Path, out: Path) -> None:
    """Converts to qcow2 (unwritten clusters stay unallocated, so the file stays small)."""
    qemu_img = require_tool("qemu-img", "qemu-utils")
    run([qemu_img, "convert", "-f", "raw", "-O", "qcow2", str(raw), str(out)])


def boot_files_of(image: Path, out_dir: Path) -> tuple[Path, Path]:
    """The kernel and initramfs the guest image `image` (qcow2) boots, copied out of its partition into
    `out_dir`: what a TFTP boot serves (simlab.guest.efi.netboot_files), so it runs the guest the disk holds."""
    raw = out_dir / "guest.raw"
    run([require_tool("qemu-img", "qemu-utils"), "convert", "-f", "qcow2", "-O", "raw", str(image), str(raw)])
    mcopy = require_tool("mcopy", "mtools")
    env = dict(os.environ, MTOOLS_SKIP_CHECK="1")
    kernel, initrd = out_dir / efi.KERNEL, out_dir / efi.INITRD
    for path in (kernel, initrd):
        run([mcopy, "-o", "-i", f"{raw}@@{PART_OFFSET}", f"::{path.name}", str(path)], env=env)
    raw.unlink()
    return kernel, initrd
