"""Fixtures for the guest boot tests: the image, a private namespace with DHCP, and qemu.

Finalizers stop what they started even when a test fails: qemu first, then dnsmasq, then
the namespace (which takes its bridges and taps with it).
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from simlab.guest.build import BuildResult, build
from tests.guest import lab
from tests.guest.lab import Guest, NetNs, StaticLease

NETWORK = "192.168.16.0"
NETMASK = "255.255.255.0"
GATEWAY = "192.168.16.1"
NETWORK6 = "fd00:16::"
GATEWAY6 = "fd00:16::1"
DOMAIN = "lab.test"


@dataclass
class GuestNet:
    """The test namespace: `dhcp_bridge` has dnsmasq with static leases, `isolated_bridge` has nothing."""

    ns: NetNs
    hosts: dict[str, StaticLease]
    dhcp_bridge: str = "br-dhcp"
    isolated_bridge: str = "br-iso"
    _taps: Iterator[int] = field(default_factory=itertools.count)

    def tap(self, bridge: str) -> str:
        name = f"tap{next(self._taps)}"
        self.ns.add_tap(name, bridge)
        return name


@pytest.fixture(scope="session")
def guest_build() -> BuildResult:
    return build()


@pytest.fixture(scope="session")
def guest_image(guest_build: BuildResult) -> Path:
    return guest_build.path


@pytest.fixture(scope="module")
def guest_dir() -> Iterator[Path]:
    """Our own scratch dir: pytest's shared basetemp rotation (other sessions run as the same
    user) could delete tmp_path under a running guest."""
    path = Path(tempfile.mkdtemp(prefix=lab.NS_PREFIX))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def vm_dir(guest_dir: Path, request: pytest.FixtureRequest) -> Path:
    path = guest_dir / str(request.node.name)
    path.mkdir()
    return path


@pytest.fixture(scope="module")
def guest_net(guest_dir: Path) -> Iterator[GuestNet]:
    workdir = guest_dir / "net"
    workdir.mkdir()
    lab.remove_stale_namespaces()
    ns = NetNs(f"{lab.NS_PREFIX}{os.getpid()}")
    try:
        ns.create()
        net = GuestNet(ns, {
            "a": StaticLease(lab.random_mac(), "192.168.16.50", "guest-a", "fd00:16::50"),
            "b": StaticLease(lab.random_mac(), "192.168.16.51", "guest-b"),
        })
        ns.add_bridge(net.dhcp_bridge, f"{GATEWAY}/24")
        ns.run("ip", "-6", "addr", "add", f"{GATEWAY6}/64", "dev", net.dhcp_bridge, "nodad")
        ns.add_bridge(net.isolated_bridge)
        conf = workdir / "dnsmasq.conf"
        conf.write_text(lab.dnsmasq_conf(net.dhcp_bridge, NETWORK, NETMASK, DOMAIN, list(net.hosts.values()), workdir,
                                         NETWORK6))
        dnsmasq = lab.start_dnsmasq(ns, conf)
        try:
            yield net
        finally:
            dnsmasq.stop()
    finally:
        ns.delete()


@pytest.fixture
def start_qemu(guest_net: GuestNet) -> Iterator[Callable[[Path, str, list[str]], Guest]]:
    """Starts qemu in the test namespace; every guest started is stopped after the test."""
    started: list[Guest] = []

    def start(log: Path, machine: str, devices: list[str]) -> Guest:
        guest = lab.start_guest(guest_net.ns, log, machine, devices)
        started.append(guest)
        return guest

    try:
        yield start
    finally:
        for guest in started:
            lab.stop_process(guest.proc)
