"""Helpers for booting the guest image under TCG on a private network namespace.

Everything here is started by the tests and stopped by their fixtures' finalizers: the
namespace (bridges, taps), dnsmasq and qemu. Nothing gets an address in the root namespace.
"""

from __future__ import annotations

import ctypes
import os
import random
import re
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from simlab.guest.console import GuestReport, parse_console
from simlab.guest.tools import require_tool, run


def random_mac() -> str:
    return "52:54:00:" + ":".join(f"{random.randrange(256):02x}" for _ in range(3))


PR_SET_PDEATHSIG = 1
NS_PREFIX = "ocplab-guesttest-"


def die_with_parent() -> None:
    """preexec_fn: the child gets SIGKILL if pytest dies before its finalizers run."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_namespaces() -> list[str]:
    """Deletes empty namespaces left by earlier runs of these tests whose pytest is gone."""
    ip = require_tool("ip", "iproute2")
    removed = []
    for line in subprocess.run([ip, "netns", "list"], capture_output=True, text=True, check=True).stdout.splitlines():
        name = line.split()[0] if line.split() else ""
        match = re.fullmatch(re.escape(NS_PREFIX) + r"(\d+)", name)
        if not match or pid_alive(int(match.group(1))):
            continue
        pids = subprocess.run([ip, "netns", "pids", name], capture_output=True, text=True, check=False).stdout.split()
        if not pids:
            run([ip, "netns", "delete", name])
            removed.append(name)
    return removed


def stop_process(proc: subprocess.Popen[bytes], timeout: float = 5.0) -> None:
    """SIGTERM, then SIGKILL: for a process this test started (by its own handle)."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)


@dataclass
class NetNs:
    """A network namespace of our own, with bridges and taps inside it."""

    name: str
    ip: str = field(default_factory=lambda: require_tool("ip", "iproute2"))

    def create(self) -> None:
        run([self.ip, "netns", "add", self.name])
        self.run("ip", "link", "set", "lo", "up")

    def delete(self) -> None:
        if self.name in subprocess.run([self.ip, "netns", "list"], capture_output=True, text=True).stdout.split():
            run([self.ip, "netns", "delete", self.name])

    def argv(self, *argv: str) -> list[str]:
        return [self.ip, "netns", "exec", self.name, *argv]

    def run(self, *argv: str) -> str:
        return run(self.argv(*argv))

    def add_bridge(self, bridge: str, cidr: str | None = None) -> None:
        self.run("ip", "link", "add", bridge, "type", "bridge")
        if cidr:
            self.run("ip", "addr", "add", cidr, "dev", bridge)
        self.run("ip", "link", "set", bridge, "up")

    def add_tap(self, tap: str, bridge: str) -> None:
        self.run("ip", "tuntap", "add", "dev", tap, "mode", "tap")
        self.run("ip", "link", "set", tap, "master", bridge, "up")

    def ping(self, address: str) -> bool:
        ping = require_tool("ping", "iputils-ping")
        proc = subprocess.run(self.argv(ping, "-c", "1", "-W", "2", address), capture_output=True, check=False)
        return proc.returncode == 0


@dataclass(frozen=True)
class StaticLease:
    mac: str
    ip: str
    hostname: str
    ip6: str | None = None  # its DHCPv6 reservation, where the network has IPv6


def dnsmasq_conf(bridge: str, network: str, netmask: str, domain: str, hosts: list[StaticLease], workdir: Path,
                 network6: str | None = None) -> str:
    """Static-only DHCP with a 2-minute lease (dnsmasq's minimum), so renewals come quickly; with `network6`
    (a /64's first address), static-only DHCPv6 too, announced by router advertisements as the lab's dnsmasq
    does (renderers/dnsmasq_base.py)."""
    lines = [
        f"interface={bridge}",
        "bind-interfaces",
        "no-resolv",
        "no-hosts",
        "user=root",
        f"domain={domain}",
        f"dhcp-range={network},static,{netmask},2m",
        f"dhcp-leasefile={workdir / 'dnsmasq.leases'}",
        f"log-facility={workdir / 'dnsmasq.log'}",
        "log-dhcp",
        *([f"dhcp-range={network6},static,64,2m", "enable-ra"] if network6 else []),
    ]
    lines += [f"dhcp-host={h.mac},{h.ip},{f'[{h.ip6}],' if h.ip6 and network6 else ''}{h.hostname}" for h in hosts]
    return "\n".join(lines) + "\n"


# dnsmasq drops capabilities, which clears PR_SET_PDEATHSIG: a shell that keeps our pipe open
# holds it instead, and stops it when the pipe closes (our stop, or pytest's death).
_DNSMASQ_KEEPER = 'dnsmasq "$@" </dev/null & pid=$!; read -r _; kill "$pid"; wait "$pid"'


@dataclass
class Dnsmasq:
    """dnsmasq in the namespace, under a shell that stops it when our pipe closes."""

    proc: subprocess.Popen[bytes]
    pid_file: Path

    def stop(self, timeout: float = 5.0) -> None:
        if self.proc.stdin and not self.proc.stdin.closed:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            if self.pid_file.is_file():
                os.kill(int(self.pid_file.read_text()), signal.SIGKILL)
            stop_process(self.proc)


def start_dnsmasq(ns: NetNs, conf: Path) -> Dnsmasq:
    require_tool("dnsmasq", "dnsmasq-base")
    pid_file = conf.with_suffix(".pid")
    err = conf.with_suffix(".err")
    with err.open("wb") as stderr:
        proc = subprocess.Popen(
            ns.argv("sh", "-c", _DNSMASQ_KEEPER, "dnsmasq", "--keep-in-foreground", f"--conf-file={conf}",
                    f"--pid-file={pid_file}"),
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=stderr)
    server = Dnsmasq(proc, pid_file)
    deadline = time.monotonic() + 5
    while not (pid_file.is_file() and pid_file.read_text().strip()):
        if proc.poll() is not None or time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"dnsmasq did not start: {err.read_text(errors='replace')}")
        time.sleep(0.1)
    return server


def make_overlay(base: Path, path: Path, size: str) -> Path:
    qemu_img = require_tool("qemu-img", "qemu-utils")
    run([qemu_img, "create", "-q", "-f", "qcow2", "-b", str(base), "-F", "qcow2", str(path), size])
    return path


def make_blank(path: Path, size: str) -> Path:
    run([require_tool("qemu-img", "qemu-utils"), "create", "-q", "-f", "qcow2", str(path), size])
    return path


def make_seed_iso(workdir: Path, user_data: str, meta_data: str) -> Path:
    """A NoCloud seed as libvirt_cloudinit_disk makes it: ISO 9660 labelled cidata."""
    genisoimage = require_tool("genisoimage", "genisoimage")
    src = workdir / "seed"
    src.mkdir()
    (src / "user-data").write_text(user_data)
    (src / "meta-data").write_text(meta_data)
    iso = workdir / "seed.iso"
    subprocess.run([genisoimage, "-quiet", "-output", str(iso), "-V", "cidata", "-J", "-r", "user-data", "meta-data"],
                   cwd=src, check=True)
    return iso


@dataclass
class Guest:
    """A running qemu and its serial log."""

    proc: subprocess.Popen[bytes]
    log: Path
    started: float

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def report(self) -> GuestReport:
        return parse_console(self.text())

    def wait(self, what: str, ready: Callable[[GuestReport], bool], timeout: float) -> tuple[GuestReport, float]:
        """Polls the log until `ready(report)`; returns it and the seconds since qemu started."""
        deadline = time.monotonic() + timeout
        while True:
            report = self.report()
            if ready(report):
                return report, time.monotonic() - self.started
            if self.proc.poll() is not None:
                err = self.log.with_suffix(".qemu.err")
                stderr = err.read_text(errors="replace") if err.exists() else ""
                raise AssertionError(f"qemu exited ({self.proc.returncode}) before {what}: {stderr}\n{self.tail()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no {what} within {timeout:.0f} s:\n{self.tail()}")
            time.sleep(0.25)

    def tail(self, lines: int = 60) -> str:
        return "\n".join(self.text().replace("\r", "").splitlines()[-lines:])


def qemu_argv(log: Path, machine: str, devices: list[str]) -> list[str]:
    """TCG only: nested KVM does not work on the lab hosts."""
    qemu = require_tool("qemu-system-x86_64", "qemu-system-x86")
    return [qemu, "-machine", f"{machine},accel=tcg", "-m", "256", "-smp", "1", "-nodefaults", "-no-user-config",
            "-display", "none", "-serial", f"file:{log}", "-no-reboot", *devices]


def start_guest(ns: NetNs, log: Path, machine: str, devices: list[str]) -> Guest:
    err = log.with_suffix(".qemu.err")
    with err.open("wb") as stderr:
        proc = subprocess.Popen(ns.argv(*qemu_argv(log, machine, devices)), stdout=subprocess.DEVNULL, stderr=stderr,
                                preexec_fn=die_with_parent)
    return Guest(proc, log, time.monotonic())

