"""The guest's UEFI boot: GRUB EFI images made with grub-mkimage, for the disk and for TFTP.

OVMF boots the disk through the removable-media path \\EFI\\BOOT\\BOOTX64.EFI on the FAT partition
(MBR partitions are read the same), so one image boots both ways: SYSLINUX under SeaBIOS, GRUB under OVMF.
Over the network, `netboot_files` lays out a TFTP directory the way redhatci.ocp lays out an SNO node's
(docs/redhatci-ocp-gaps.md, D): the boot file `shimx64.efi`, `grub.cfg-01-<mac>` and the kernel and initramfs
under /images. GRUB booted over TFTP looks for `grub.cfg-01-<mac>` in its prefix by itself (Debian's 2.06 as
RHEL's), so one GRUB image stands in for RHEL's shim and grub.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from simlab.guest.tools import require_file, require_tool, run

GRUB_EFI_MODULES = Path("/usr/lib/grub/x86_64-efi")
# linuxefi: Debian's `linux` runs out of memory under OVMF with a few hundred MiB; linuxefi hands over to the
# kernel's EFI stub, which still needs about 320 MiB of guest RAM (docs/architecture.md, "UEFI").
DISK_MODULES = ("part_msdos", "fat", "normal", "linuxefi", "configfile", "echo")
NET_MODULES = ("efinet", "tftp", "net", "normal", "linuxefi", "configfile", "echo")
DISK_PREFIX = "/EFI/BOOT"
BOOT_FILE = "shimx64.efi"  # what redhatci.ocp's SNO chain boots first, and what the lab's dnsmasq offers
KERNEL = "vmlinuz"
INITRD = "initrd.img"


def grub_image(out: Path, prefix: str, modules: tuple[str, ...]) -> None:
    """A standalone GRUB EFI binary at `out` that reads `<prefix>/grub.cfg` from where it was loaded."""
    mkimage = require_tool("grub-mkimage", "grub-common")
    require_file(GRUB_EFI_MODULES / "linuxefi.mod", "grub-efi-amd64-bin")
    run([mkimage, "-O", "x86_64-efi", "-o", str(out), "-p", prefix, *modules])


def inputs() -> list[tuple[str, str]]:
    """What the EFI boot is made from, for the image's input hash."""
    mkimage = require_tool("grub-mkimage", "grub-common")
    parts = [("grub-mkimage", _sha256(Path(mkimage)))]
    for module in sorted({*DISK_MODULES, *NET_MODULES}):
        parts.append((f"grub:{module}", _sha256(require_file(GRUB_EFI_MODULES / f"{module}.mod",
                                                              "grub-efi-amd64-bin"))))
    return parts


def disk_grub_cfg(cmdline: str) -> str:
    """Boots the partition's kernel at once; `ocplab.via` tells the guest's report how it came up."""
    return (f"set timeout=0\nlinuxefi /{KERNEL} {cmdline} ocplab.via=uefi-disk\n"
            f"initrdefi /{INITRD}\nboot\n")


def node_grub_cfg(cmdline: str) -> str:
    """The shape of redhatci.ocp's sno_installer templates/grub.cfg.j2: one entry, kernel and initramfs
    under /images, the guest's kernel arguments where RHCOS's live ones would be."""
    return (f"set timeout=0\nmenuentry 'ocplab guest (TFTP)' {{\n"
            f"  linuxefi /images/{KERNEL} {cmdline} ocplab.via=uefi-tftp\n"
            f"  initrdefi /images/{INITRD}\n}}\n")


def netboot_files(tftp_dir: Path, kernel: Path, initrd: Path, mac: str, cmdline: str) -> list[Path]:
    """A node's TFTP directory as redhatci.ocp fills it, with the guest's kernel and initramfs standing in for
    RHCOS's; returns the files written."""
    images = tftp_dir / "images"
    images.mkdir(parents=True, exist_ok=True)
    grub_image(tftp_dir / BOOT_FILE, "/", NET_MODULES)
    grub_cfg = tftp_dir / f"grub.cfg-01-{mac.lower().replace(':', '-')}"
    grub_cfg.write_text(node_grub_cfg(cmdline))
    (images / KERNEL).write_bytes(kernel.read_bytes())
    (images / INITRD).write_bytes(initrd.read_bytes())
    written = [tftp_dir / BOOT_FILE, grub_cfg, images / KERNEL, images / INITRD]
    for path in written:
        path.chmod(0o644)  # dnsmasq serves as nobody
    return written


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()

