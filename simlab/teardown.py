"""Removes a lab, complete or half-made, using only what can be found on the machine.

It needs no lab.json: namespaces are found by name (/run/netns/ocplab-*) and under
.simlab/ns, processes by the namespaces they are in, mounts by their path. So it also
cleans up after a crashed `up` and is safe to run twice.
"""

from __future__ import annotations

import os
import shutil
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

from simlab import capscache
from simlab.errors import SimlabError
from simlab.mountns import mount_points, ns_identity
from simlab.netns import delete_netns, lab_netns, netns_path
from simlab.paths import StatePaths
from simlab.preflight import Tools
from simlab.run import run
from simlab.sshkeys import remove_netns_ssh_config
from simlab.topology import JUMPHOST_NETNS

NsId = tuple[int, int]


@dataclass
class Report:
    """What a teardown found and removed."""

    killed: list[int] = field(default_factory=list)
    unmounted: list[str] = field(default_factory=list)
    netns: list[str] = field(default_factory=list)

    @property
    def found_anything(self) -> bool:
        return bool(self.killed or self.unmounted or self.netns)


def _protected() -> set[int]:
    """This process and its ancestors: never killed, even when run from inside the lab."""
    pids, pid = {1}, os.getpid()
    while pid > 1:
        pids.add(pid)
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            break
        pid = int(stat.rsplit(")", 1)[1].split()[1])
    return pids


def _ns_of(pid: str, kind: str) -> NsId | None:
    try:
        st = os.stat(f"/proc/{pid}/ns/{kind}")
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def lab_processes(net_ids: set[NsId], mnt_ids: set[NsId]) -> list[int]:
    """Pids living in a lab netns or a lab host's mount namespace (QEMU guests included)."""
    protected = _protected()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) in protected:
            continue
        if _ns_of(entry, "net") in net_ids or _ns_of(entry, "mnt") in mnt_ids:
            found.append(int(entry))
    return found


def _namespace_ids(paths: StatePaths) -> tuple[set[NsId], set[NsId]]:
    root_net, root_mnt = _ns_of("1", "net"), _ns_of("1", "mnt")
    net_ids = {i for n in lab_netns() if (i := ns_identity(netns_path(n))) and i != root_net}
    mnt_ids: set[NsId] = set()
    if paths.ns_dir.is_dir():
        for f in paths.ns_dir.glob("*.mnt"):
            i = ns_identity(f)
            if i and i != root_mnt:
                mnt_ids.add(i)
    return net_ids, mnt_ids


def kill_lab_processes(paths: StatePaths, grace: float = 3.0) -> list[int]:
    """SIGTERM everything in the lab, then SIGKILL what is left; rescan until none remain."""
    net_ids, mnt_ids = _namespace_ids(paths)
    if not net_ids and not mnt_ids:
        return []
    killed: list[int] = []
    deadline = time.monotonic() + grace
    sig = signal.SIGTERM
    for _ in range(200):
        pids = lab_processes(net_ids, mnt_ids)
        if not pids:
            return killed
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                continue
            if pid not in killed:
                killed.append(pid)
        time.sleep(0.05)
        if time.monotonic() >= deadline:
            sig = signal.SIGKILL
    left = lab_processes(net_ids, mnt_ids)
    if left:
        raise SimlabError(f"processes {left} in the lab namespaces survive SIGKILL")
    return killed


def unmount_state(tools: Tools, paths: StatePaths) -> list[str]:
    """Unmount everything the root namespace has mounted under .simlab (namespace binds)."""
    state = str(paths.state) + "/"
    done: list[str] = []
    for point in reversed(mount_points()):
        if point.startswith(state) and point not in done:
            run([tools["umount"], point], check=False)
            if point in mount_points():
                run([tools["umount"], "-l", point])
            done.append(point)
    return done


def remove_state(paths: StatePaths) -> None:
    """Delete .simlab except cache/ (and the directory itself, which holds the lock)."""
    left = [p for p in mount_points() if p.startswith(str(paths.state) + "/")]
    if left:
        raise SimlabError(f"refusing to delete {paths.state}: still mounted: {', '.join(left)}")
    if not paths.state.is_dir():
        return
    for entry in paths.state.iterdir():
        if entry.name in ("cache", ".lock"):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def teardown(tools: Tools, paths: StatePaths) -> Report:
    report = Report()
    report.killed = kill_lab_processes(paths)
    report.unmounted = unmount_state(tools, paths)
    for name in lab_netns():
        delete_netns(tools, name)
        report.netns.append(name)
    remove_netns_ssh_config(paths, JUMPHOST_NETNS)
    remaining = lab_netns()
    if remaining:
        raise SimlabError(f"could not delete network namespaces {remaining}")
    capscache.save(paths)
    remove_state(paths)
    return report
