"""The guest's UEFI boot: GRUB EFI images made with grub-mkimage, for the disk and for TFTP.

OVMF boots the disk through the removable-media path \\EFI\\BOOT\\BOOTX64.EFI on the FAT partition
(MBR partitions are read the same), so one image boots both ways: SYSLINUX under SeaBIOS, GRUB under OVMF.
Over the network, `netboot_files` lays out a TFTP directory the way redhatci.ocp lays out an SNO node's
(docs/redhatci-ocp-gaps.md, D): the boot file `shimx64.efi`, `grub.cfg-01-<mac>` and the kernel and initramfs
under /images. RHEL's GRUB looks for `grub.cfg-01-<mac>` by itself; Debian's 2.06 does not, so our stand-in
reads a `grub.cfg` that loads it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from simlab.guest.tools import require_file, require_tool, run

GRUB_EFI_MODULES = Path("/usr/lib/grub/x86_64-efi")
# linuxefi: Debian's `linux` runs out of memory under OVMF with a few hundred MiB; linuxefi hands over to the
# kernel's EFI stub, which still needs about 320 MiB of guest RAM (docs/architecture.md, "UEFI").
DISK_MODULES = ("part_msdos", "fat", "normal", "linuxefi", "configfile", "echo")
NET_MODULES = ("efinet", "tftp", "net", "normal", "linuxefi", "configfile", "regexp", "echo")
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


# Debian's GRUB does not search grub.cfg-01-<mac> itself (RHEL's does): this finds it from the NIC's MAC.
_NET_GRUB_CFG = (
    "regexp --set=1:m1 --set=2:m2 --set=3:m3 --set=4:m4 --set=5:m5 --set=6:m6 "
    "'^([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2})$' \"$net_default_mac\"\n"
    "configfile $prefix/grub.cfg-01-$m1-$m2-$m3-$m4-$m5-$m6\n"
)


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
    files = {tftp_dir / "grub.cfg": _NET_GRUB_CFG,
             tftp_dir / f"grub.cfg-01-{mac.lower().replace(':', '-')}": node_grub_cfg(cmdline)}
    for path, text in files.items():
        path.write_text(text)
    (images / KERNEL).write_bytes(kernel.read_bytes())
    (images / INITRD).write_bytes(initrd.read_bytes())
    written = [tftp_dir / BOOT_FILE, *files, images / KERNEL, images / INITRD]
    for path in written:
        path.chmod(0o644)  # dnsmasq serves as nobody
    return written


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()

