"""Each host's own mount and UTS namespace, kept alive by bind mounts under .simlab/ns/.

A host sees the machine's filesystem except: /etc, /var and /usr/local (where the lab stack installs
the mirror's registry build) are overlays whose writes land in the host's private dir, /run, /tmp
and /root are private dirs, /sys shows the host's netns, and /dev/shm is its own tmpfs. So daemons
in a host never touch the root's files.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path

from simlab.paths import StatePaths
from simlab.preflight import Tools
from simlab.run import run
from simlab.topology import HostPlan

OVERLAID = ("etc", "var", "usr/local")
PRIVATE = ("run", "tmp", "root")


def is_mountpoint(path: Path) -> bool:
    return str(path) in mount_points()


def mount_points() -> list[str]:
    """Mount points of the calling mount namespace, in mount order."""
    points = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        fields = line.split(" ")
        points.append(_unescape(fields[4]))
    return points


def _unescape(field: str) -> str:
    """mountinfo escapes space, tab, newline and backslash as octal."""
    for code, char in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
        field = field.replace(code, char)
    return field


def prepare_ns_dir(tools: Tools, paths: StatePaths) -> None:
    """Namespace files can only be bound under a private mount: make .simlab/ns one."""
    paths.ns_dir.mkdir(parents=True, exist_ok=True)
    if not is_mountpoint(paths.ns_dir):
        run([tools["mount"], "--bind", str(paths.ns_dir), str(paths.ns_dir)])
    run([tools["mount"], "--make-private", str(paths.ns_dir)])


def _setup_script(paths: StatePaths, host: HostPlan) -> str:
    """What runs first inside the new namespaces (sh -e)."""
    hd = paths.host_dir(host.name)
    q = shlex.quote
    lines = [
        # Drop the copies of other hosts' namespace binds and of /run/netns: they would pin them.
        f"umount -l {q(str(paths.ns_dir))}",
        "umount -l /run/netns 2>/dev/null || true",
        # A sysfs mounted from inside the netns lists the host's own interfaces.
        "umount -l /sys",
        "mount -t sysfs sysfs /sys",
    ]
    for top in OVERLAID:
        upper, work = hd / top / "upper", hd / top / "work"
        lines.append(
            f"mount -t overlay overlay -o lowerdir=/{top},upperdir={q(str(upper))},"
            f"workdir={q(str(work))} /{top}"
        )
    lines += [f"mount --bind {q(str(hd / d))} /{d}" for d in PRIVATE]
    lines += [
        "mount -t tmpfs -o mode=1777,size=64m tmpfs /dev/shm",
        f"hostname {q(host.name)}",
    ]
    return "\n".join(lines) + "\n"


def create(tools: Tools, paths: StatePaths, host: HostPlan) -> None:
    """Create the host's persistent mount+UTS namespaces, entered from its netns."""
    mnt, uts = paths.mount_ns(host.name), paths.uts_ns(host.name)
    mnt.touch()
    uts.touch()
    run([
        tools["nsenter"], f"--net=/run/netns/{host.netns}", "--",
        tools["unshare"], f"--mount={mnt}", f"--uts={uts}", "--propagation", "private", "--",
        "/bin/sh", "-ec", _setup_script(paths, host),
    ])


def enter_argv(tools: Tools, paths: StatePaths, host: HostPlan | str, netns: str) -> list[str]:
    """argv prefix that runs a command inside a host's net, mount and UTS namespaces."""
    name = host.name if isinstance(host, HostPlan) else host
    return [
        tools["nsenter"], f"--net=/run/netns/{netns}",
        f"--mount={paths.mount_ns(name)}", f"--uts={paths.uts_ns(name)}", "--wd=/", "--",
    ]


def ns_identity(path: Path) -> tuple[int, int] | None:
    """(st_dev, st_ino) of a namespace bound at `path`, or None if nothing is bound there."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    parent = os.stat(path.parent)
    # A namespace bind lives on nsfs, not on the directory's filesystem.
    return None if st.st_dev == parent.st_dev else (st.st_dev, st.st_ino)
