"""Boots the real guest image under TCG and checks, from its serial console only, what it got.

Needs root (network namespace, taps). Run with -s to see the timings.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from simlab.guest.build import BuildResult
from simlab.guest.console import GuestReport
from tests.guest.conftest import DOMAIN, GATEWAY, GuestNet
from tests.guest.lab import Guest, make_blank, make_overlay, make_seed_iso

SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOcPlAbGuEsTtEsTkEy0000000000000000000000000 test@ocplab"
USER_DATA = f"""#cloud-config
hostname: ci-node-0
fqdn: ci-node-0.{DOMAIN}
users:
  - default
  - name: core
    gecos: CoreOS Admin
    groups: [wheel]
    sudo: ALL=(ALL) NOPASSWD:ALL
    ssh_authorized_keys:
      - {SSH_KEY}
runcmd:
  - touch /tmp/ocplab-runcmd-marker
  - test -f /tmp/ocplab-runcmd-marker
  - [sh, -c, "grep -q '^core:' /etc/passwd && grep -qF 'test@ocplab' /home/core/.ssh/authorized_keys"]
  - test "$(hostname)" = ci-node-0
  - exit_three() {{ return 3; }}; exit_three
  - |
    echo multi-line
    test -f /tmp/ocplab-runcmd-marker
"""
META_DATA = "instance-id: iid-guesttest\nlocal-hostname: md-node-0\n"
BOOT_TIMEOUT = 150.0

pytestmark = pytest.mark.simlab  # root, a network namespace, qemu: deselect with -m "not simlab"

StartQemu = Callable[[Path, str, list[str]], Guest]


def nic(netdev: str, tap: str, model: str, mac: str) -> list[str]:
    return ["-netdev", f"tap,id={netdev},ifname={tap},script=no,downscript=no",
            "-device", f"{model},netdev={netdev},mac={mac}"]


def iface_of(report: GuestReport, mac: str) -> str:
    return next(iface for iface, m in report.nics.items() if m == mac)


def test_lease_disks_cloud_init_and_renewal(
    guest_build: BuildResult, guest_image: Path, guest_net: GuestNet, start_qemu: StartQemu, vm_dir: Path
) -> None:
    host = guest_net.hosts["a"]
    root = make_overlay(guest_image, vm_dir / "root.qcow2", "10G")
    data = make_blank(vm_dir / "data.qcow2", "1G")
    seed = make_seed_iso(vm_dir, USER_DATA, META_DATA)
    devices = [
        "-drive", f"file={root},if=none,id=root,format=qcow2",
        "-device", "virtio-blk-pci,drive=root,bootindex=1",
        "-device", "virtio-scsi-pci,id=scsi0",
        "-drive", f"file={data},if=none,id=data,format=qcow2",
        "-device", "scsi-hd,drive=data,bus=scsi0.0",
        "-drive", f"file={seed},if=none,id=seed,media=cdrom,format=raw,readonly=on",
        "-device", "ide-cd,drive=seed,bus=ide.1",
        *nic("n0", guest_net.tap(guest_net.dhcp_bridge), "virtio-net-pci", host.mac),
    ]
    guest = start_qemu(vm_dir / "serial.log", "pc", devices)

    _, t_lease = guest.wait("a lease", lambda r: any(x.mac == host.mac for x in r.leases.values()), BOOT_TIMEOUT)
    report, t_ready = guest.wait("OCPLAB: ready", lambda r: r.ready, 60)
    iface = iface_of(report, host.mac)
    lease = report.leases[iface]
    print(f"\nimage {guest_build.size} bytes, built in {guest_build.seconds:.1f} s (cached={guest_build.cached})")
    print(f"boot to lease {t_lease:.1f} s, boot to ready {t_ready:.1f} s")

    assert report.kernel and report.boots == 1
    assert (lease.ip, lease.mask, lease.hostname, lease.domain) == (host.ip, 24, host.hostname, DOMAIN)
    assert (lease.router, lease.dns, lease.lease) == (GATEWAY, (GATEWAY,), 120)
    assert {(d.name, d.bytes) for d in report.disks} == {("vda", 10 << 30), ("sda", 1 << 30)}
    assert [c.name for c in report.cdroms] == ["sr0"]

    ci = report.cloud_init
    assert not ci.none and ci.seed == "/dev/sr0" and set(ci.files) >= {"user-data", "meta-data"}
    assert ci.hostname == "ci-node-0"
    assert (report.hostname, report.hostname_source) == ("ci-node-0", "cloud-init")
    assert list(ci.users) == ["core"]
    assert ci.users["core"].keys == 1
    assert ci.users["core"].key_sha256 == [hashlib.sha256(SSH_KEY.encode()).hexdigest()]
    assert [c.rc for c in ci.runcmds] == [0, 0, 0, 0, 3, 0], ci.runcmds
    assert ci.runcmds[0].cmd == "touch /tmp/ocplab-runcmd-marker"
    assert ci.runcmds[3].cmd == 'test "$(hostname)" = ci-node-0'
    assert ci.runcmds[5].cmd == "echo multi-line\\ntest -f /tmp/ocplab-runcmd-marker"
    assert not report.failed_modules and not report.unparsed, (report.failed_modules, report.unparsed)

    deadline = time.monotonic() + 20
    while not guest_net.ns.ping(host.ip):
        assert time.monotonic() < deadline, "guest does not answer ping"

    # IPv6: the router advertisements' managed flag, then its DHCPv6 reservation, by MAC (dhcpcd).
    report, t_lease6 = guest.wait("a DHCPv6 lease", lambda r: iface in r.leases6, 60)
    lease6 = report.leases6[iface]
    print(f"boot to DHCPv6 lease {t_lease6:.1f} s (guest uptime {lease6.uptime} s)")
    assert (lease6.mac, lease6.ip6, lease6.lease) == (host.mac, host.ip6, 120)
    assert lease6.router.startswith("fe80::"), "the router advertisements gave a default route"
    assert guest_net.ns.ping(str(host.ip6)), "the guest answers on its IPv6 address"
    assert not report.unparsed, report.unparsed

    # udhcpc renews at half the lease (60 s of 120 s) after it bound.
    report, t_renew = guest.wait("a renewal", lambda r: bool(r.renewals_of(iface)), 60 + 45)
    renewal = report.renewals_of(iface)[0]
    print(f"first renewal {t_renew - t_lease:.1f} s after the lease")
    assert (renewal.ip, renewal.lease) == (host.ip, 120)
    assert not report.lost


def test_nic_without_dhcp_does_not_block_ready(
    guest_image: Path, guest_net: GuestNet, start_qemu: StartQemu, vm_dir: Path
) -> None:
    """q35: root on SATA (AHCI); e1000e, e1000 and rtl8139 NICs on a bridge without DHCP; a
    virtio NIC with DHCP; no cloud-init seed."""
    host = guest_net.hosts["b"]
    isolated = {"e1000e": "52:54:00:0e:0e:01", "e1000": "52:54:00:0e:0e:02", "rtl8139": "52:54:00:0e:0e:03"}
    root = make_overlay(guest_image, vm_dir / "root.qcow2", "20G")
    data = make_blank(vm_dir / "data.qcow2", "2G")
    devices = [
        "-drive", f"file={root},if=none,id=root,format=qcow2",
        "-device", "ide-hd,drive=root,bus=ide.0,bootindex=1",
        "-drive", f"file={data},if=none,id=data,format=qcow2",
        "-device", "virtio-blk-pci,drive=data",
        *nic("n0", guest_net.tap(guest_net.dhcp_bridge), "virtio-net-pci", host.mac),
    ]
    for index, (model, mac) in enumerate(isolated.items(), 1):
        devices += nic(f"n{index}", guest_net.tap(guest_net.isolated_bridge), model, mac)
    guest = start_qemu(vm_dir / "serial.log", "q35", devices)

    report, t_ready = guest.wait("OCPLAB: ready", lambda r: r.ready, BOOT_TIMEOUT)
    report, _ = guest.wait("the DHCP hostname", lambda r: r.hostname_source == "dhcp", 30)
    print(f"\nq35 with NICs without DHCP: boot to ready {t_ready:.1f} s")

    assert sorted(report.nics.values()) == sorted([host.mac, *isolated.values()])
    for mac in isolated.values():
        iface = iface_of(report, mac)
        assert iface in report.no_lease and iface not in report.leases
    assert report.leases[iface_of(report, host.mac)].ip == host.ip
    assert (report.hostname, report.hostname_source) == (host.hostname, "dhcp")
    assert report.cloud_init.none and not report.cloud_init.runcmds
    assert {(d.name, d.bytes) for d in report.disks} == {("sda", 20 << 30), ("vda", 2 << 30)}
    assert not report.failed_modules and not report.unparsed, (report.failed_modules, report.unparsed)
