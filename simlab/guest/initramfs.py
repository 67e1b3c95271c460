"""Assembles the guest's whole userland as one gzip'd initramfs: busybox, /init, modules, the DHCPv6 client.

The guest never mounts a root filesystem: everything runs from the initramfs, so the disk only
has to carry the boot loader, the kernel and this file.
"""

from __future__ import annotations

import gzip
import io
import struct
import subprocess
from pathlib import Path

from simlab.guest import dhcp6
from simlab.guest.cpio import CpioWriter
from simlab.guest.kernel import Module, module_bytes
from simlab.guest.tools import MissingToolError, require_file

BUSYBOX = Path("/bin/busybox")
BUSYBOX_PACKAGE = "busybox-static"
ASSETS = Path(__file__).resolve().parent / "assets"

# (path in the guest, asset file, permissions)
ASSET_FILES: tuple[tuple[str, str, int], ...] = (
    ("init", "init.sh", 0o755),
    ("etc/inittab", "inittab", 0o644),
    ("etc/ocplab/lib.sh", "lib.sh", 0o644),
    ("etc/ocplab/udhcpc.sh", "udhcpc.sh", 0o755),
    ("etc/ocplab/dhcpcd6.sh", "dhcpcd6.sh", 0o755),
    ("etc/ocplab/dhcpcd.conf", "dhcpcd.conf", 0o644),
    ("etc/ocplab/cloudinit.sh", "cloudinit.sh", 0o755),
    ("etc/ocplab/cloudinit.awk", "cloudinit.awk", 0o644),
)

DIRECTORIES: tuple[tuple[str, int], ...] = (
    ("bin", 0o755),
    ("sbin", 0o755),
    ("usr", 0o755),
    ("usr/bin", 0o755),
    ("usr/sbin", 0o755),
    ("etc", 0o755),
    ("etc/ocplab", 0o755),
    ("dev", 0o755),
    ("proc", 0o555),
    ("sys", 0o555),
    ("run", 0o755),
    ("tmp", 0o1777),
    ("root", 0o700),
    ("home", 0o755),
    ("mnt", 0o755),
    ("var", 0o755),
    ("var/log", 0o755),
    ("var/lib", 0o755),
    ("var/lib/dhcpcd", 0o755),
    ("usr/lib", 0o755),
    (dhcp6.PRIVSEP_HOME, 0o755),
    ("lib", 0o755),
    ("lib/modules", 0o755),
    ("lib/modules/ocplab", 0o755),
)

STATIC_FILES: tuple[tuple[str, str, int], ...] = (
    ("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n" + dhcp6.PRIVSEP_USER, 0o644),
    ("etc/group", "root:x:0:\n", 0o644),
    ("etc/shadow", "root:*:0:0:99999:7:::\n", 0o600),
    ("etc/hosts", "127.0.0.1 localhost\n::1 localhost\n", 0o644),
    ("etc/profile", "export PS1='\\h:\\w\\$ '\n", 0o644),
)

_PT_INTERP = 3


def is_static_elf(data: bytes) -> bool:
    """True for a 64-bit little-endian ELF without a program interpreter (statically linked)."""
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        return False
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    for index in range(phnum):
        p_type, = struct.unpack_from("<I", data, phoff + index * phentsize)
        if p_type == _PT_INTERP:
            return False
    return True


def busybox_applets(busybox: Path) -> list[str]:
    """Paths (relative to /) of every applet this busybox provides."""
    out = subprocess.run([str(busybox), "--list-full"], capture_output=True, text=True, check=True).stdout
    return [line.strip() for line in out.splitlines() if line.strip()]


def check_busybox(busybox: Path = BUSYBOX) -> bytes:
    """The busybox binary, after checking it is the static one (the guest has no libc)."""
    data = require_file(busybox, BUSYBOX_PACKAGE).read_bytes()
    if not is_static_elf(data):
        raise MissingToolError(f"{busybox} is not statically linked: apt-get install {BUSYBOX_PACKAGE}")
    return data


def load_list(modules: list[Module]) -> str:
    """/lib/modules/ocplab/load.list: one "name params" line per module, in load order."""
    return "".join(f"{m.name} {m.params}".rstrip() + "\n" for m in modules)


def build_initramfs(out: Path, modules: list[Module], *, busybox: Path = BUSYBOX, version_text: str = "") -> None:
    """Writes the gzip'd newc archive to `out`."""
    busybox_data = check_busybox(busybox)
    raw = io.BytesIO()
    cpio = CpioWriter(raw)
    for name, perm in DIRECTORIES:
        cpio.directory(name, perm)
    cpio.char_device("dev/console", 5, 1)
    cpio.file("bin/busybox", busybox_data, 0o755)
    for applet in busybox_applets(busybox):
        if applet != "bin/busybox":
            cpio.symlink(applet, "/bin/busybox")
    made = {name for name, _ in DIRECTORIES}
    for target, source in dhcp6.client_files():
        for parent in reversed(Path(target).parents[:-1]):
            if str(parent) not in made:
                cpio.directory(str(parent), 0o755)
                made.add(str(parent))
        cpio.file(target, source.read_bytes(), 0o755)
    for target, asset, perm in ASSET_FILES:
        cpio.file(target, (ASSETS / asset).read_bytes(), perm)
    for target, text, perm in STATIC_FILES:
        cpio.file(target, text.encode(), perm)
    cpio.file("etc/ocplab/version", version_text.encode())
    for module in modules:
        cpio.file(f"lib/modules/ocplab/{module.name}.ko", module_bytes(module))
    cpio.file("lib/modules/ocplab/load.list", load_list(modules).encode())
    cpio.close()
    out.write_bytes(gzip.compress(raw.getvalue(), compresslevel=9, mtime=0))
