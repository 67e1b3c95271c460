"""The benchmark's hands on the simulated lab: the baseline run timed from the jumphost namespace,
shell on a host, snapshots of what a deploy may change, disk usage, and an unmeasured cleanup."""

from __future__ import annotations

import json
import shlex
import sys
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from renderers import dnsmasq_layout as layout
from simlab.clients import run_in_jumphost, ssh_run
from simlab.env import client_env

PROJECT = Path(__file__).resolve().parent.parent
JUMPHOST = "192.168.16.1"
POOL_DIR = "/var/lib/libvirt/ocplab"
DOMAIN_XML_DIR = "/etc/libvirt/qemu"


def hypervisor_ip(name: str) -> str:
    """hv<i> sits at .(10+i) of the simulated lab."""
    return f"192.168.16.{10 + int(name.removeprefix('hv'))}"


class BenchError(RuntimeError):
    """A step of the benchmark failed: the message carries the command's output."""


@dataclass(frozen=True)
class BaselineRun:
    """One `python -m bench.baseline` process: its wall time (process start to exit, as a user waits),
    the time inside baseline's main, and that time split by step."""

    stacks: tuple[str, ...]
    wall: float
    inside: float
    categories: dict[str, float] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)
    stdout: str = ""


@dataclass(frozen=True)
class Snapshot:
    """What a deploy could change: domain UUIDs, file mtimes (volumes, domain XML, dnsmasq files),
    the provisioning network's UUID and dnsmasq's PID (a restart changes it)."""

    values: dict[str, str]

    def changed(self, other: Snapshot) -> list[str]:
        keys = sorted(set(self.values) | set(other.values))
        return [k for k in keys if self.values.get(k) != other.values.get(k)]

    def count(self, prefix: str) -> int:
        return sum(1 for key in self.values if key.startswith(prefix))


class LabClient:
    """Clients as the project runs them: in the jumphost netns, on private stack and state dirs."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.stacks = workdir / "stacks"
        self.state = workdir / "baseline-state"
        self.timings = workdir / "timings"
        for directory in (self.stacks, self.state, self.timings):
            directory.mkdir(parents=True, exist_ok=True)
        self._serial = 0

    def env(self) -> dict[str, str]:
        env = client_env()
        env.update(OCPLAB_STACKS_DIR=str(self.stacks), OCPLAB_BASELINE_STATE=str(self.state),
                   PYTHONPATH=str(PROJECT))
        return env

    def baseline(self, action: str, *stacks: str) -> BaselineRun:
        """`python -m bench.baseline <action> <stacks>` from the jumphost namespace, timed by step."""
        self._serial += 1
        out = self.timings / f"{self._serial:03d}-{action}-{'+'.join(stacks)[:80]}.json"
        started = time.monotonic()
        result = run_in_jumphost([sys.executable, "-m", "bench.timed_baseline", str(out), action, *stacks],
                                 env=self.env(), timeout=1800, cwd=str(PROJECT))
        wall = time.monotonic() - started
        if result.returncode != 0:
            raise BenchError(f"baseline {action} {' '.join(stacks)} failed ({result.returncode}):\n"
                             f"{result.stdout}\n{result.stderr}")
        timed = json.loads(out.read_text())
        return BaselineRun(tuple(stacks), wall, float(timed["seconds"]), dict(timed["categories"]),
                           dict(timed["calls"]), result.stdout)

    def baseline_together(self, action: str, stacks: Sequence[str]) -> tuple[float, list[BaselineRun]]:
        """One baseline process per stack, all at once (as parallel `pulumi up`s): wall time, runs."""
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=len(stacks)) as pool:
            runs = list(pool.map(lambda stack: self.baseline(action, stack), stacks))
        return time.monotonic() - started, runs

    def baseline_in_turn(self, action: str, stacks: Sequence[str]) -> tuple[float, list[BaselineRun]]:
        """One baseline process per stack, one after the other: wall time, runs."""
        started = time.monotonic()
        runs = [self.baseline(action, stack) for stack in stacks]
        return time.monotonic() - started, runs

    def sh(self, host: str, script: str, timeout: float = 600) -> str:
        """A shell script on a lab host (as root, over SSH from the jumphost namespace)."""
        result = ssh_run(host, "sh -s", input=script, timeout=timeout)
        if result.returncode != 0:
            raise BenchError(f"on {host}: {result.stderr.strip() or result.stdout.strip()}")
        return result.stdout

    def disk_usage(self, hypervisor: str, paths: Iterable[str] = (POOL_DIR, DOMAIN_XML_DIR)) -> int:
        """Bytes allocated under `paths` on a hypervisor (du --block-size=1, apparent size not counted)."""
        quoted = " ".join(shlex.quote(p) for p in paths)
        out = self.sh(hypervisor_ip(hypervisor), f"sync; du -s --block-size=1 -c {quoted} | tail -n 1")
        return int(out.split()[0])

    def allocated_by_file(self, hypervisor: str, cluster: str) -> dict[str, int]:
        """Allocated bytes (st_blocks * 512) of each of a cluster's volumes and domain XMLs."""
        out = self.sh(hypervisor_ip(hypervisor),
                      f"sync; stat -c '%n %b %B' {POOL_DIR}/{cluster}-* {DOMAIN_XML_DIR}/{cluster}-*.xml")
        found = {}
        for line in out.splitlines():
            name, blocks, unit = line.rsplit(" ", 2)
            found[name] = int(blocks) * int(unit)
        return found

    def snapshot(self, hypervisor: str, cluster: str) -> Snapshot:
        """Domain UUIDs, volume and domain-XML mtimes and the provisioning network's UUID on the
        hypervisor; the cluster's dnsmasq files' mtimes and dnsmasq's PID on the jumphost."""
        c = shlex.quote(cluster)
        host_out = self.sh(hypervisor_ip(hypervisor), "\n".join([
            f"for d in $(virsh -q list --all --name | grep '^{cluster}-'); do echo \"uuid:$d $(virsh -q domuuid $d)\";"
            " done",
            f"for f in {POOL_DIR}/{c}-* {DOMAIN_XML_DIR}/{c}-*.xml; do echo \"mtime:$f $(stat -c %y \"$f\")\"; done",
            f"echo \"net:{c}-provisioning $(virsh -q net-uuid {c}-provisioning 2>/dev/null)\"",
        ]))
        files = " ".join(shlex.quote(p) for p in layout.cluster_files(cluster).values())
        jump_out = self.sh(JUMPHOST, f"for f in {files}; do echo \"mtime:$f $(stat -c %y \"$f\")\"; done\n"
                                     f"echo \"pid:dnsmasq $(cat {layout.PID_FILE})\"")
        values = {}
        for line in (host_out + jump_out).splitlines():
            if line.strip():
                key, _, value = line.partition(" ")
                values[key] = value
        return Snapshot(values)

    def cleanup(self, clusters: Sequence[tuple[str, str]]) -> None:
        """Remove (cluster, hypervisor) pairs fast and unmeasured: virsh locally on each hypervisor,
        one dnsmasq restart on the jumphost, then forget their baseline state."""
        by_host: dict[str, list[str]] = {}
        for cluster, hypervisor in clusters:
            by_host.setdefault(hypervisor, []).append(cluster)

        def clean(item: tuple[str, list[str]]) -> None:
            hypervisor, names = item
            self.sh(hypervisor_ip(hypervisor), "\n".join([
                f"for c in {' '.join(names)}; do",
                "  for d in $(virsh -q list --all --name | grep \"^$c-\"); do",
                "    virsh -q destroy \"$d\" >/dev/null 2>&1; virsh -q undefine \"$d\" >/dev/null; done",
                "  virsh -q net-destroy \"$c-provisioning\" >/dev/null 2>&1; "
                "virsh -q net-undefine \"$c-provisioning\" >/dev/null 2>&1",
                "  for v in $(virsh -q vol-list ocplab | awk '{print $1}' | grep \"^$c-\"); do",
                "    virsh -q vol-delete --pool ocplab \"$v\" >/dev/null; done",
                "done; true",
            ]))

        with ThreadPoolExecutor(max_workers=max(1, len(by_host))) as pool:
            list(pool.map(clean, by_host.items()))
        files = " ".join(shlex.quote(p) for cluster, _ in clusters for p in layout.cluster_files(cluster).values())
        self.sh(JUMPHOST, f"set -eu\nexec 9>{layout.LOCK_FILE}\nflock -w 300 9\nrm -f {files}\n"
                          f"{layout.CONTROL} restart\n")
        for cluster, _ in clusters:
            (self.state / f"{cluster}.json").unlink(missing_ok=True)
