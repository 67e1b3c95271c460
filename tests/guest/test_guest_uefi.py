"""The guest image under OVMF (UEFI), TCG: from its disk, and over the network through the chain redhatci.ocp lays
out for an SNO node (shimx64.efi, grub.cfg-01-<mac>, /images/), served here by qemu's own DHCP and TFTP.

The lab's dnsmasq serving the same chain to a libvirt domain is tests/e2e/test_sno_boot.py's.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest

from simlab.guest.build import KERNEL_CMDLINE
from simlab.guest.console import GuestReport, parse_console
from simlab.guest.disk import boot_files_of
from simlab.guest.efi import BOOT_FILE, netboot_files
from simlab.guest.tools import require_file, require_tool
from tests.guest.lab import die_with_parent, make_overlay, random_mac

OVMF_CODE = Path("/usr/share/OVMF/OVMF_CODE_4M.fd")
OVMF_VARS = Path("/usr/share/OVMF/OVMF_VARS_4M.fd")
MEMORY_MIB = 384  # the kernel's EFI stub fails to unpack it with 256 (simlab/guest/efi.py)
BOOT_TIMEOUT = 240.0

pytestmark = pytest.mark.simlab  # qemu under TCG for minutes: deselect with -m "not simlab"


def boot_uefi(workdir: Path, devices: list[str]) -> GuestReport:
    """Boots OVMF with `devices` until the guest reports ready (or the timeout), then stops it."""
    qemu = require_tool("qemu-system-x86_64", "qemu-system-x86")
    varstore = workdir / "OVMF_VARS.fd"
    shutil.copyfile(require_file(OVMF_VARS, "ovmf"), varstore)
    log = workdir / "serial.log"
    argv = [qemu, "-machine", "pc,accel=tcg", "-m", str(MEMORY_MIB), "-nographic", "-nodefaults",
            "-serial", f"file:{log}",
            "-drive", f"if=pflash,format=raw,readonly=on,file={require_file(OVMF_CODE, 'ovmf')}",
            "-drive", f"if=pflash,format=raw,file={varstore}", *devices]
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=die_with_parent)
    deadline = time.monotonic() + BOOT_TIMEOUT
    try:
        while time.monotonic() < deadline and process.poll() is None:
            if log.exists() and parse_console(log.read_text(errors="replace")).ready:
                break
            time.sleep(1)
    finally:
        process.kill()
        _, stderr = process.communicate(timeout=30)
    report = parse_console(log.read_text(errors="replace") if log.exists() else "")
    assert report.ready, f"no ready report in {BOOT_TIMEOUT:.0f} s; qemu said: {stderr.decode()[-2000:]}"
    return report


def test_the_image_boots_uefi_from_its_disk(guest_image: Path, tmp_path: Path) -> None:
    disk = make_overlay(guest_image, tmp_path / "root.qcow2", "1G")
    report = boot_uefi(tmp_path, ["-drive", f"file={disk},format=qcow2,if=virtio", "-net", "none"])
    assert report.via == "uefi-disk" and report.disk("vda") is not None


def test_the_netboot_chain_boots_the_same_guest_over_tftp(guest_image: Path, tmp_path: Path) -> None:
    mac = random_mac()
    tftp = tmp_path / "tftp"
    kernel, initrd = boot_files_of(guest_image, tmp_path)
    served = netboot_files(tftp, kernel, initrd, mac, KERNEL_CMDLINE)
    assert {str(p.relative_to(tftp)) for p in served} == {
        BOOT_FILE, f"grub.cfg-01-{mac.replace(':', '-')}", "images/vmlinuz", "images/initrd.img"}
    report = boot_uefi(tmp_path, ["-netdev", f"user,id=n0,tftp={tftp},bootfile={BOOT_FILE}",
                                  "-device", f"virtio-net-pci,netdev=n0,mac={mac},bootindex=1"])
    assert report.via == "uefi-tftp", report.lines
    assert report.nics == {"eth0": mac} and "eth0" in report.leases
