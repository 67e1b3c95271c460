"""On the simulated lab: an SNO node boots UEFI, from its disk and, through its BMC, over the network (issue 24 D).

`pulumi up` of the lab and of sno1: the node's domain boots OVMF (ocplab:uefi) from the guest image's disk
(GRUB at \\EFI\\BOOT\\BOOTX64.EFI) and takes its planned lease. Then the test does what redhatci.ocp's SNO chain
does: it fills the node's TFTP root on the jumphost the way the collection does (`shimx64.efi`, `grub.cfg-01-<mac>`,
`/images/<kernel>` and `<initramfs>`; the guest image's kernel and initramfs stand in for RHCOS's) and sends the
BMC the ipmitool commands of sno_installer 60_deploy_sno_bm.yml. Sent to the running node, they end in a reset
that virtualbmc boots from the disk again; sent to the node powered off, they end in a power-on: OVMF asks the
lab's dnsmasq for a boot file, gets `shimx64.efi` for its MAC, loads the chain over TFTP, and the guest it served
reports `via=uefi-tftp` and its planned lease. Steps build on each other.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from simlab.clients import run_in_jumphost
from simlab.guest.build import DEFAULT_IMAGE, KERNEL_CMDLINE
from simlab.guest.disk import boot_files_of
from simlab.guest.efi import netboot_files
from tests.e2e.lab_helpers import JUMPHOST, PROJECT, LabSession, wait_for
from tests.tools import require_tool

pytestmark = pytest.mark.simlab

HV2 = "192.168.16.12"
DOMAIN = "sno1-sno"
TFTP_ROOT = "/var/lib/ocplab/tftp"
DNSMASQ_LOG = "/var/log/ocplab-dnsmasq.log"
# /tmp is private to each simulated host; the checkout is not: the chain is staged here for the jumphost to copy.
STAGING = PROJECT / ".simlab" / "sno-boot-chain"


def ipmitool(lab: LabSession, bmc: dict[str, Any], *command: str) -> subprocess.CompletedProcess[str]:
    """The sno1 node's BMC from the jumphost, as DCI's provisioner reaches it (password in IPMI_PASSWORD)."""
    argv = [require_tool("ipmitool", "the Debian package ipmitool"), "-I", "lanplus", "-H", bmc["address"],
            "-p", str(bmc["nodes"]["sno"]["port"]), "-U", bmc["user"], "-E", "-L", "ADMINISTRATOR", "-R7", "-N", "5",
            *command]
    return run_in_jumphost(argv, env={**lab.env(), "IPMI_PASSWORD": bmc["password"]}, timeout=120, cwd=str(PROJECT))


def node(lab: LabSession) -> dict[str, Any]:
    found: dict[str, Any] = lab.outputs("sno1")["nodes"][0]
    return found


def booted(lab: LabSession, after: int, via: str, ip: str) -> bool:
    report = lab.console(HV2, DOMAIN)
    lease = report.leases.get("eth0")
    return report.boots > after and report.ready and report.via == via and lease is not None and lease.ip == ip


def test_the_sno_node_boots_ovmf_from_its_disk_and_gets_its_lease(lab: LabSession) -> None:
    lab.up("simlab")
    started = time.monotonic()
    lab.up("sno1")
    planned = node(lab)
    seconds = wait_for("sno1's UEFI disk boot and planned lease",
                       lambda: booted(lab, 0, "uefi-disk", planned["ip"]), timeout=300, every=2)
    lab.note("pulumi up -s sno1 to the UEFI disk boot's lease (s)", time.monotonic() - started)
    lab.note("sno1 domain started to its lease (s)", seconds)
    xml = lab.virsh(HV2, "dumpxml", DOMAIN)
    assert re.search(r"<loader readonly=.yes. [^>]*type=.pflash.>/usr/share/OVMF/OVMF_CODE_4M\.fd</loader>", xml), xml
    assert re.search(r"<nvram template=./usr/share/OVMF/OVMF_VARS_4M\.fd.>", xml), xml
    lab.pulumi.preview("sno1", "--expect-no-changes")  # firmware and NVRAM read back as declared
    mac = planned["macs"]["baremetal"].replace(":", "-")
    assert lab.ssh(JUMPHOST, f"ls -d {TFTP_ROOT}/*/ {TFTP_ROOT}/{mac}/images").split() == [
        f"{TFTP_ROOT}/{mac}/", f"{TFTP_ROOT}/{mac}/images"]


def dci_pxe_boot(lab: LabSession, bmc: dict[str, Any]) -> str:
    """sno_installer 60_deploy_sno_bm.yml as it runs with our inventory (bootmode=uefi): every command must
    pass; power on if the node is off, else reset (its "Recover power status" decides). Returns which."""
    for command in (["raw", "0x00", "0x08", "0x03", "0x08"],  # Disable PXE Timeout
                    ["raw", "0x00", "0x08", "0x05", "0xa0", "0x04", "0x00", "0x00", "0x00"]):  # PXE, UEFI, next boot
        done = ipmitool(lab, bmc, *command)
        assert done.returncode == 0, f"{command}: {done.stdout}{done.stderr}"
    status = ipmitool(lab, bmc, "power", "status")
    assert status.returncode == 0, status.stderr
    action = "on" if "Chassis Power is off" in status.stdout else "reset"
    done = ipmitool(lab, bmc, "power", action)
    assert done.returncode == 0, f"power {action}: {done.stdout}{done.stderr}"
    return action


def power_off(lab: LabSession, bmc: dict[str, Any]) -> None:
    done = ipmitool(lab, bmc, "power", "off")
    assert done.returncode == 0, done.stderr
    wait_for("sno1 to be off", lambda: lab.virsh(HV2, "domstate", DOMAIN).strip() == "shut off", timeout=60, every=1)


def test_dcis_pxe_commands_to_the_bmc_boot_the_chain_served_from_the_nodes_tftp_root(lab: LabSession,
                                                                                     tmp_path: Path) -> None:
    planned = node(lab)
    mac = planned["macs"]["baremetal"]
    root = f"{TFTP_ROOT}/{mac.replace(':', '-')}"
    shutil.rmtree(STAGING, ignore_errors=True)
    STAGING.mkdir(parents=True)
    try:
        kernel, initrd = boot_files_of(DEFAULT_IMAGE, tmp_path)
        served = [path.relative_to(STAGING) for path in netboot_files(STAGING, kernel, initrd, mac, KERNEL_CMDLINE)]
        lab.ssh(JUMPHOST, f"cp -r {STAGING}/. {root}/ && chmod -R a+rX {root}")
    finally:
        shutil.rmtree(STAGING, ignore_errors=True)
    bmc = lab.outputs("sno1", show_secrets=True)["bmc"]
    # A running node is reset: virtualbmc writes the boot device into the domain's definition, which only a cold
    # start reads, so the reset boots the disk again (docs/redhatci-ocp-gaps.md, D).
    boots = lab.console(HV2, DOMAIN).boots
    assert dci_pxe_boot(lab, bmc) == "reset"
    wait_for("the reset to boot sno1's disk again", lambda: booted(lab, boots, "uefi-disk", planned["ip"]),
             timeout=300, every=2)
    # A node that is off, as DCI finds one whose BMC was powered off first, is powered on: the chain boots.
    power_off(lab, bmc)
    log_from = int(lab.ssh(JUMPHOST, f"wc -l < {DNSMASQ_LOG}").strip())
    boots = lab.console(HV2, DOMAIN).boots
    started = time.monotonic()
    assert dci_pxe_boot(lab, bmc) == "on"
    seconds = wait_for("sno1 to boot the TFTP chain and take its planned lease",
                       lambda: booted(lab, boots, "uefi-tftp", planned["ip"]), timeout=420, every=2)
    lab.note("sno1 BMC power on to the TFTP-booted guest's lease (s)", seconds)
    lab.note("sno1 DCI's BMC commands to the TFTP-booted guest's lease (s)", time.monotonic() - started)
    log = lab.ssh(JUMPHOST, f"tail -n +{log_from + 1} {DNSMASQ_LOG}")
    print(f"\ndnsmasq log of the TFTP boot:\n{log}")
    # The offer to the node's MAC names the boot file; then each file of the chain goes out of the node's own root.
    assert re.search(rf"DHCPOFFER\(\S+\) {re.escape(planned['ip'])} {mac}", log), log[-4000:]
    # Per DHCP transaction: the firmware's (PXEClient, UEFI x86-64) gets the boot file, the booted guest's does not.
    transactions: dict[str, str] = {}
    for xid, line in re.findall(r"dnsmasq-dhcp\[\d+\]: (\d+) (.*)", log):
        transactions[xid] = transactions.get(xid, "") + line + "\n"
    firmware = [t for t in transactions.values() if "vendor class: PXEClient:Arch:00007" in t]
    guest = [t for t in transactions.values() if "vendor class: udhcp" in t]
    assert firmware and guest, log[-4000:]
    assert all("option: 67 bootfile-name  shimx64.efi" in t for t in firmware), firmware
    assert not any("bootfile-name" in t for t in guest), guest
    for name in served:
        assert re.search(rf"dnsmasq-tftp\[\d+\]: sent {re.escape(root)}/{re.escape(str(name))} to "
                         rf"{re.escape(planned['ip'])}", log), f"{name} not sent:\n{log[-4000:]}"


def test_the_network_boot_stays_until_the_bmc_puts_the_node_back_on_its_disk(lab: LabSession) -> None:
    """virtualbmc ignores the next-boot-only bit of DCI's 0xa0: the next cold start boots the chain again (after
    an install, the live installer again) until the boot device is set back to the disk."""
    planned = node(lab)
    bmc = lab.outputs("sno1", show_secrets=True)["bmc"]
    power_off(lab, bmc)
    boots = lab.console(HV2, DOMAIN).boots
    assert ipmitool(lab, bmc, "power", "on").returncode == 0
    wait_for("a second cold start to boot the TFTP chain again",
             lambda: booted(lab, boots, "uefi-tftp", planned["ip"]), timeout=420, every=2)
    power_off(lab, bmc)
    boots = lab.console(HV2, DOMAIN).boots
    for command in (["chassis", "bootdev", "disk", "options=efiboot"], ["power", "on"]):
        done = ipmitool(lab, bmc, *command)
        assert done.returncode == 0, f"{command}: {done.stdout}{done.stderr}"
    wait_for("sno1 back on its disk", lambda: booted(lab, boots, "uefi-disk", planned["ip"]), timeout=420, every=2)


def test_destroy_removes_the_nodes_tftp_root(lab: LabSession) -> None:
    lab.pulumi.destroy("sno1")
    assert lab.ssh(JUMPHOST, f"ls -A {TFTP_ROOT}").split() == []
