"""A simulated lab session for end-to-end tests: `pulumi` and every client run from the jumphost namespace."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml

from simlab.clients import run_in_jumphost, ssh_run
from simlab.guest.build import build_image
from simlab.guest.console import GuestReport, parse_console
from simlab.lab import Simlab, load
from simlab.pulumi_engine import Workspace, copy_project, require_engine, set_stack_config
from simlab.state import OutsideState
from simlab.topology import PREFIX, SWITCH_BRIDGE, SWITCH_NETNS
from tests.tools import require_tool

JUMPHOST = "192.168.16.1"
PROJECT = Path(__file__).resolve().parent.parent.parent


class LabSession:
    """A copy of the project (its stack files may change) and a private file backend, driven with the
    real engine from the jumphost namespace, so tests never touch a user's stacks or state."""

    def __init__(self, workdir: Path) -> None:
        self.project = copy_project(workdir / "project")
        self.pulumi = Workspace(project=self.project, backend=workdir / "pulumi-state")
        self.figures: dict[str, float] = {}

    def env(self) -> dict[str, str]:
        env = self.pulumi.env()
        env["PYTHONPATH"] = str(PROJECT)
        env["OCPLAB_STACKS_DIR"] = str(self.project / "stacks")  # what tools read as the stack files
        return env

    def jumphost(self, argv: list[str], timeout: float = 900) -> subprocess.CompletedProcess[str]:
        return run_in_jumphost(argv, env=self.env(), timeout=timeout, cwd=str(PROJECT))

    def up(self, stack: str, *extra: str) -> subprocess.CompletedProcess[str]:
        """`pulumi up` (raises PulumiError with the output's tail when it fails)."""
        return self.pulumi.up(stack, *extra)

    def up_parallel(self, stacks: list[str]) -> list[subprocess.CompletedProcess[str]]:
        with ThreadPoolExecutor(max_workers=len(stacks)) as pool:
            return list(pool.map(self.up, stacks))

    def outputs(self, stack: str, show_secrets: bool = False) -> dict[str, Any]:
        return self.pulumi.outputs(stack, show_secrets=show_secrets)

    def edit_stack(self, stack: str, changes: dict[str, Any]) -> None:
        set_stack_config(self.project, stack, changes)

    def ssh(self, host: str, command: str) -> str:
        result = ssh_run(host, command, timeout=120)
        assert result.returncode == 0, f"on {host}: {command}\n{result.stderr}"
        return result.stdout

    def virsh(self, host: str, *args: str) -> str:
        return self.ssh(host, "virsh -q " + " ".join(args))

    def console(self, host: str, domain: str) -> GuestReport:
        return parse_console(self.console_text(host, domain))

    def console_text(self, host: str, domain: str) -> str:
        """The guest's serial log as written so far ("" before there is one)."""
        result = ssh_run(host, f"cat /var/log/libvirt/qemu/{domain}-console.log", timeout=60)
        return result.stdout if result.returncode == 0 else ""

    def note(self, what: str, value: float) -> None:
        """Figures the run prints at the end (times, counts): measured, never asserted on."""
        self.figures[what] = value


def lab_session(tmp_path_factory: pytest.TempPathFactory, ipv6_only: bool = False) -> Iterator[LabSession]:
    """A module's own lab (IPv6-only: `simlab up --ipv6-only`) and session, torn down after it; its figures
    printed at the end."""
    require_root_and_engine()
    build_image()
    lab = Simlab(hypervisors=2, ipv6_only=ipv6_only)
    started = time.monotonic()
    lab.up()
    session = LabSession(Path(tmp_path_factory.mktemp("e2e")))
    session.note(f"simlab up{' --ipv6-only' if ipv6_only else ''} (s)", time.monotonic() - started)
    try:
        yield session
    finally:
        lab.down()
        for what, value in session.figures.items():
            print(f"\nfigure: {what}: {value:.1f}")


def dig(session: LabSession, name: str, reverse: bool = False, rtype: str = "A", server: str = JUMPHOST) -> list[str]:
    """Answers from the jumphost's dnsmasq (at `server`: an IPv6-only lab's is fd00:16::1), as a client in the
    jumphost namespace sees them."""
    argv = ["dig", f"@{server}", "+short", "+tries=3", "+time=1"]
    argv += ["-x", name] if reverse else [name, rtype]
    result = session.jumphost(argv, timeout=30)
    return [line for line in result.stdout.split() if line and not line.startswith(";")]


def dig_status(session: LabSession, name: str, reverse: bool = False) -> str:
    """The response code (NOERROR, NXDOMAIN, REFUSED...) the jumphost's dnsmasq gives for `name`."""
    argv = ["dig", f"@{JUMPHOST}", "+tries=3", "+time=1"]
    argv += ["-x", name] if reverse else [name, "A"]
    found = re.search(r"status: ([A-Z]+)", session.jumphost(argv, timeout=30).stdout)
    return found.group(1) if found else "no answer"


# The stratum an NTP server (argv[1], IPv4 or IPv6) answers with (RFC 5905 header, byte 1): the tiny query chronyd -Q
# cannot print. Run with `python -c` in a namespace.
SNTP_QUERY = """
import socket, sys
family, kind, proto, _, address = socket.getaddrinfo(sys.argv[1], 123, type=socket.SOCK_DGRAM)[0]
s = socket.socket(family, kind, proto); s.settimeout(5)
for _ in range(5):
    s.sendto(b"\\x23" + bytes(47), address)
    try:
        data = s.recv(512); break
    except socket.timeout:
        continue
print(f"stratum={data[1]}")
"""


def stack_value(session: LabSession, stack: str, key: str) -> Any:
    """One config value of the session's copy of a stack file, as `edit_stack` would replace it."""
    document = yaml.safe_load((session.project / "stacks" / f"Pulumi.{stack}.yaml").read_text())
    return document["config"][key]


def outside() -> OutsideState:
    """The simulated lab's outside (its DNS server's address and query log), from lab.json."""
    state = load().outside
    assert state is not None, "this simulated lab has no outside: bring it up again with this checkout"
    return state


def require_root_and_engine() -> None:
    """Fail loudly, with the fix, where the simulated lab or the engine cannot run."""
    if os.geteuid() != 0:
        raise RuntimeError("the simulated lab tests need root (network namespaces, libvirtd): run them as root")
    require_engine()


DHCP_CLIENT_NETNS = f"{PREFIX}dhcpc"  # PREFIX: `simlab down` removes it even after a crash
_BOUND_SCRIPT = '#!/bin/sh\n[ "$1" = bound ] && echo "bound $ip $hostname"\nexit 0\n'


def dhcp_offer(mac: str, workdir: Path) -> tuple[str, str] | None:
    """(IP, hostname) the lab's DHCP server gives a client with `mac`, by a real exchange (busybox udhcpc,
    released at once) from a throwaway namespace cabled to the lab switch; None when nobody answers."""
    script = workdir / "udhcpc-bound.sh"
    script.write_text(_BOUND_SCRIPT)
    script.chmod(0o755)
    ip = require_tool("ip", "the Debian package iproute2")
    busybox = require_tool("busybox", "the Debian package busybox-static")
    steps = [[ip, "netns", "add", DHCP_CLIENT_NETNS],
             [ip, "-n", SWITCH_NETNS, "link", "add", "dhcpc-port", "type", "veth", "peer", "name", "eth0",
              "netns", DHCP_CLIENT_NETNS],
             [ip, "-n", DHCP_CLIENT_NETNS, "link", "set", "eth0", "address", mac, "up"],
             [ip, "-n", SWITCH_NETNS, "link", "set", "dhcpc-port", "master", SWITCH_BRIDGE, "up"]]
    try:
        for step in steps:
            subprocess.run(step, check=True, capture_output=True, timeout=30)
        result = subprocess.run([ip, "netns", "exec", DHCP_CLIENT_NETNS, busybox, "udhcpc", "-i", "eth0", "-f", "-q",
                                 "-R", "-n", "-t", "4", "-T", "1", "-s", str(script)],
                                capture_output=True, text=True, timeout=60, check=False)
    finally:  # the port first: a namespace's veths go asynchronously after `netns del`, and the next probe reuses it
        subprocess.run([ip, "-n", SWITCH_NETNS, "link", "del", "dhcpc-port"], capture_output=True, timeout=30,
                       check=False)
        subprocess.run([ip, "netns", "del", DHCP_CLIENT_NETNS], capture_output=True, timeout=30, check=False)
    bound = [line.split() for line in result.stdout.splitlines() if line.startswith("bound ")]
    return (bound[0][1], bound[0][2] if len(bound[0]) > 2 else "") if bound else None


STAND_IN_NETNS = f"{PREFIX}standin"  # PREFIX: `simlab down` removes it even after a crash


@contextmanager
def stand_in_node(host_netns: str, bridge: str, address: str) -> Iterator[list[str]]:
    """A namespace cabled into `bridge` of a hypervisor (as a node's NIC would be) with `address`, for a client
    the guest image lacks; yields the argv prefix that runs a command in it. Removed after."""
    ip = require_tool("ip", "the Debian package iproute2")
    steps = [[ip, "netns", "add", STAND_IN_NETNS],
             [ip, "-n", host_netns, "link", "add", "standin-port", "type", "veth", "peer", "name", "eth0",
              "netns", STAND_IN_NETNS],
             [ip, "-n", STAND_IN_NETNS, "addr", "add", address, "dev", "eth0"],
             [ip, "-n", STAND_IN_NETNS, "link", "set", "eth0", "up"],
             [ip, "-n", host_netns, "link", "set", "standin-port", "master", bridge, "up"]]
    try:
        for step in steps:
            subprocess.run(step, check=True, capture_output=True, timeout=30)
        yield [ip, "netns", "exec", STAND_IN_NETNS]
    finally:
        subprocess.run([ip, "-n", host_netns, "link", "del", "standin-port"], capture_output=True, timeout=30,
                       check=False)
        subprocess.run([ip, "netns", "del", STAND_IN_NETNS], capture_output=True, timeout=30, check=False)


def wait_for(what: str, check: Callable[[], bool], timeout: float = 60, every: float = 0.1) -> float:
    """Seconds until `check` holds (fails after `timeout`)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if check():
            return time.monotonic() - started
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def inventory_listing(lab: LabSession, path: Path) -> dict[str, Any]:
    env = {**lab.env(), "ANSIBLE_HOME": str(path.parent / ".ansible"), "ANSIBLE_LOCAL_TEMP": str(path.parent / ".t"),
           "ANSIBLE_INVENTORY_UNPARSED_FAILED": "true"}
    done = subprocess.run([require_tool("ansible-inventory", "ansible-core (make venv)"), "-i", str(path),
                           "--list"], capture_output=True, text=True, env=env, check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    listed: dict[str, Any] = json.loads(done.stdout)
    return listed
