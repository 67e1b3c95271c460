"""The simlab as one object: bring the whole lab up, describe it, take it down.

    lab = Simlab(hypervisors=2).up()      # -> LabState, also written to .simlab/lab.json
    Simlab(ipv6_only=True).up()           # the lab network in IPv6 alone (fd00:16::/64)
    lab = load()                          # the running lab, from lab.json
    Simlab().down()                       # idempotent; also cleans a crashed lab
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

from simlab import boot, capscache, hostfs, mountns, netns, preflight, sshkeys, teardown
from simlab.clients import libvirt_uri, ssh_argv
from simlab.errors import PreflightError, SimlabError
from simlab.hostexec import HostExec
from simlab.outside import Outside
from simlab.paths import StatePaths
from simlab.run import run
from simlab.state import SCHEMA_VERSION, HostState, LabState, OutsideState, SshState, SwitchState
from simlab.topology import (
    JUMPHOST,
    JUMPHOST_NETNS,
    MAX_HYPERVISORS,
    SWITCH_BRIDGE,
    SWITCH_NETNS,
    HostPlan,
    outside,
    plan,
)

MAX_PARALLEL = 12


@dataclass(frozen=True)
class HostHealth:
    """Whether a host's recorded daemons still run (`dead` names those that do not), and the
    resident memory of those that do."""

    name: str
    ip: str
    dead: list[str]
    rss_kib: int

    @property
    def ok(self) -> bool:
        return not self.dead


class Simlab:
    """A simulated lab of one jumphost and `hypervisors` hypervisors on this machine; `ipv6_only`: their lab NICs
    hold their fd00:16::/64 addresses alone, and sshd, known_hosts, lab.json and libvirt URIs name those."""

    def __init__(self, hypervisors: int = 2, paths: StatePaths | None = None, ipv6_only: bool = False) -> None:
        if not 1 <= hypervisors <= MAX_HYPERVISORS:
            raise PreflightError(
                f"--hypervisors must be between 1 and {MAX_HYPERVISORS}, not {hypervisors}")
        self.hypervisors = hypervisors
        self.paths = paths or StatePaths()
        self.ipv6_only = ipv6_only

    def up(self, log: Callable[[str], None] = lambda _: None) -> LabState:
        """Create the lab from scratch (tearing down any earlier or crashed one first)."""
        tools = preflight.check()
        with self._locked():
            found = teardown.teardown(tools, self.paths)
            if found.found_anything:
                log(f"removed an earlier lab first ({len(found.killed)} processes, "
                    f"{len(found.netns)} namespaces)")
            try:
                state = self._build(tools, plan(self.hypervisors, self.ipv6_only), log)
            except BaseException:
                with contextlib.suppress(Exception):
                    teardown.teardown(tools, self.paths)
                raise
        return state

    def down(self) -> teardown.Report:
        """Kill every lab process, unmount, delete namespaces and state (cache/ is kept)."""
        tools = preflight.check_light()
        with self._locked():
            return teardown.teardown(tools, self.paths)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """One up/down at a time per checkout (flock on .simlab/.lock)."""
        self.paths.state.mkdir(exist_ok=True)
        fd = os.open(self.paths.state / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise SimlabError("another simlab up/down is running on this checkout") from None
            yield
        finally:
            os.close(fd)

    def _build(self, tools: preflight.Tools, hosts: list[HostPlan],
               log: Callable[[str], None]) -> LabState:
        p = self.paths
        p.ssh_dir.mkdir(parents=True, exist_ok=True)
        p.ssh_dir.chmod(0o700)
        sshkeys.keygen(tools, p.key, "ocplab-simlab")
        client_key = sshkeys.public_line(p.key)
        host_keys = []
        for h in hosts:
            hostfs.layout(p, h)
            hostfs.seed_common(p, h, client_key)
            if h.role == "hypervisor":
                hostfs.seed_hypervisor(p, h)
                capscache.seed(p, h.name)
            else:
                hostfs.seed_jumphost(p, h)
            key = hostfs.host_key_path(p, h)
            sshkeys.keygen(tools, key, f"root@{h.name}")
            host_keys.append((h, sshkeys.public_line(key)))
        p.known_hosts.write_text(sshkeys.known_hosts_text(host_keys))
        p.ssh_config.write_text(sshkeys.client_config_text(p, hosts))
        hostfs.give_client_identity(p, hosts[0])
        sshkeys.install_netns_ssh_config(p, JUMPHOST_NETNS, self.ipv6_only)
        log("keys and host filesystems ready")

        mountns.prepare_ns_dir(tools, p)
        netns.create_switch(tools)
        for h in hosts:
            netns.cable_host(tools, h)
            if h.role == "hypervisor":
                netns.cable_provisioning(tools, h)
        netns.address_host(tools, hosts[0])
        netns.cable_outside(tools, outside(), hosts[0])
        log("network ready")
        out = Outside(tools, p, outside()).start()
        log(f"outside up at {out.ip} (DNS, HTTP, NTP) behind the jumphost's {out.uplink}")

        def start(h: HostPlan) -> dict[str, int]:
            mountns.create(tools, p, h)
            hx = HostExec(tools, p, h)
            pids = boot.boot_jumphost(hx) if h.name == JUMPHOST else boot.boot_hypervisor(hx)
            log(f"{h.name} up at {h.address}")
            return pids

        pids = _parallel(start, hosts)
        _parallel(lambda h: self._check_ssh(tools, h), hosts)
        state = self._state(hosts, pids, out)
        state.save(p.lab_json)
        return state

    def _check_ssh(self, tools: preflight.Tools, h: HostPlan) -> None:
        """The end-to-end proof: from the jumphost netns, key login with a verified host key."""
        argv = [tools["ip"], "netns", "exec", JUMPHOST_NETNS,
                *ssh_argv(h.address, "hostname", self.paths)]
        out = run(argv, timeout=30).stdout.strip()
        if out != h.name:
            raise SimlabError(f"ssh to {h.address} reached {out!r}, expected {h.name}")

    def _state(self, hosts: list[HostPlan], pids: list[dict[str, int]], out: OutsideState) -> LabState:
        p = self.paths
        return LabState(
            version=SCHEMA_VERSION,
            repo=str(p.repo),
            network=str(hosts[0].network),
            created=datetime.now(UTC).isoformat(timespec="seconds"),
            switch=SwitchState(netns=SWITCH_NETNS, bridge=SWITCH_BRIDGE),
            ssh=SshState(key=str(p.key), public_key=str(p.public_key),
                         known_hosts=str(p.known_hosts), config=str(p.ssh_config)),
            hosts=[
                HostState(
                    name=h.name, role=h.role, hostname=h.name, netns=h.netns, ip=h.address,
                    prefixlen=h.network.prefixlen, nic=h.nic, mac=h.mac, switch_port=h.switch_port,
                    ssh_user=h.ssh_user, mount_ns=str(p.mount_ns(h.name)),
                    uts_ns=str(p.uts_ns(h.name)), root_dir=str(p.host_dir(h.name)),
                    logs=str(p.host_logs(h.name)), pids=hp,
                    libvirt_uri=libvirt_uri(h.address, p) if h.role == "hypervisor" else None,
                )
                for h, hp in zip(hosts, pids, strict=True)
            ],
            outside=out,
        )


def _parallel(fn: Callable[[HostPlan], dict[str, int] | None],
              hosts: list[HostPlan]) -> list[dict[str, int]]:
    """Run fn per host concurrently; re-raise the first failure after all have finished."""
    with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL, len(hosts))) as pool:
        futures = [pool.submit(fn, h) for h in hosts]
    results = []
    for f in futures:
        r = f.result()
        results.append(r or {})
    return results


def load(paths: StatePaths | None = None) -> LabState:
    """The running lab as recorded by `up`; SimlabError if none is up."""
    paths = paths or StatePaths()
    try:
        text = paths.lab_json.read_text()
    except FileNotFoundError:
        raise SimlabError("no simlab is running: start one with "
                          "`.venv/bin/python -m simlab up`") from None
    try:
        return LabState.from_json(text)
    except (ValueError, KeyError, TypeError) as e:
        raise SimlabError(f"{paths.lab_json} is unreadable ({e}): run `python -m simlab up` "
                          "to recreate the lab") from None


def health(state: LabState) -> list[HostHealth]:
    """Which recorded daemons of each host (and of the outside) are still alive."""
    found = [_health(h.name, h.ip, h.pids) for h in state.hosts]
    if state.outside is not None:
        found.append(_health("outside", state.outside.ip, state.outside.pids))
    return found


def _health(name: str, ip: str, pids: dict[str, int]) -> HostHealth:
    return HostHealth(name, ip, sorted(d for d, pid in pids.items() if not boot.alive(pid)),
                      sum(boot.rss_kib(pid) for pid in pids.values()))
