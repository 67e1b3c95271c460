"""Picks the host's Debian kernel and the modules the guest must load, in dependency order.

The guest has no modprobe database: the build resolves modules.dep once, so /init only insmods
a fixed list (dependencies first, as the virtio stack requires).
"""

from __future__ import annotations

import gzip
import lzma
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from simlab.guest.tools import MissingToolError, require_file, require_tool

KERNEL_PACKAGE = "linux-image-amd64"

# Drivers for the NICs, disk buses and the cloud-init CD-ROM a libvirt guest may be given.
WANTED_MODULES: tuple[str, ...] = (
    # virtio (PCI transport, net, block, SCSI)
    "virtio_pci",
    "virtio_net",
    "virtio_blk",
    "virtio_scsi",
    # other emulated NICs libvirt may pick
    "e1000",
    "e1000e",
    "8139cp",
    "8139too",
    # IDE (i440fx), SATA (q35) and SCSI disks and CD-ROMs
    "ata_piix",
    "ata_generic",
    "ahci",
    "sd_mod",
    "sr_mod",
    # seed filesystems: ISO 9660 (cidata CD) and FAT (cidata on a vfat disk)
    "isofs",
    "vfat",
    "nls_utf8",
    "nls_cp437",
    "nls_iso8859_1",
)

# insmod takes no config files: parameters travel with the load list.
MODULE_PARAMS: dict[str, str] = {
    # Scan SCSI hosts before insmod returns, so disks exist when /init lists them.
    "scsi_mod": "scan=sync",
}


@dataclass(frozen=True)
class Kernel:
    """One installed kernel: its image and its module tree."""

    version: str
    image: Path
    modules_dir: Path


@dataclass(frozen=True)
class Module:
    """A loadable module file and the parameters /init passes to insmod."""

    name: str
    path: Path
    params: str


def _version_key(version: str) -> list[tuple[int, str]]:
    return [(int(part), "") if part.isdigit() else (-1, part) for part in re.split(r"(\d+)", version) if part]


def find_kernel(version: str | None = None, *, boot: Path = Path("/boot"), lib: Path = Path("/lib/modules")) -> Kernel:
    """The requested kernel, or the newest one that has both an image and a module tree."""
    candidates = []
    for image in boot.glob("vmlinuz-*"):
        ver = image.name.removeprefix("vmlinuz-")
        if (lib / ver / "modules.dep").is_file() and (version is None or ver == version):
            candidates.append(Kernel(ver, image, lib / ver))
    if not candidates:
        wanted = f"kernel {version}" if version else "a kernel"
        raise MissingToolError(f"{wanted} with modules not found under {boot}: apt-get install {KERNEL_PACKAGE}")
    return max(candidates, key=lambda k: _version_key(k.version))


def module_name(path: str) -> str:
    """The kernel's name for a module file: basename without .ko*, with '-' as '_'."""
    base = path.rsplit("/", 1)[-1]
    base = re.sub(r"\.ko(\.(xz|gz|zst))?$", "", base)
    return base.replace("-", "_")


def _read_deps(modules_dir: Path) -> dict[str, tuple[str, list[str]]]:
    deps: dict[str, tuple[str, list[str]]] = {}
    for line in require_file(modules_dir / "modules.dep", KERNEL_PACKAGE).read_text().splitlines():
        if ":" not in line:
            continue
        target, rest = line.split(":", 1)
        deps[module_name(target)] = (target, [module_name(dep) for dep in rest.split()])
    return deps


def _read_builtin(modules_dir: Path) -> set[str]:
    builtin = modules_dir / "modules.builtin"
    if not builtin.is_file():
        return set()
    return {module_name(line) for line in builtin.read_text().splitlines() if line.strip()}


def resolve_modules(kernel: Kernel, wanted: tuple[str, ...] = WANTED_MODULES) -> list[Module]:
    """`wanted` and their dependencies, each before its users; built-in ones are left out."""
    deps = _read_deps(kernel.modules_dir)
    builtin = _read_builtin(kernel.modules_dir)
    order: list[Module] = []
    seen: set[str] = set()

    def visit(name: str) -> None:
        if name in seen or name in builtin:
            return
        seen.add(name)
        if name not in deps:
            raise MissingToolError(f"module {name} is in neither modules.dep nor modules.builtin of {kernel.version}")
        target, needs = deps[name]
        # modules.dep lists the deepest dependencies last: visit them first.
        for dep in reversed(needs):
            visit(dep)
        order.append(Module(name, kernel.modules_dir / target, MODULE_PARAMS.get(name, "")))

    for name in wanted:
        visit(name.replace("-", "_"))
    return order


def module_bytes(module: Module) -> bytes:
    """The module's ELF object, uncompressed (busybox insmod may lack xz/zstd support)."""
    data = module.path.read_bytes()
    suffix = module.path.suffix
    if suffix == ".xz":
        return lzma.decompress(data)
    if suffix == ".gz":
        return gzip.decompress(data)
    if suffix == ".zst":
        zstd = require_tool("zstd", "zstd")
        return subprocess.run([zstd, "-dc", str(module.path)], capture_output=True, check=True).stdout
    return data
