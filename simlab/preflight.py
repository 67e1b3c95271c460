"""Checks that the machine can host the lab before anything is created.

Each failure is one sentence naming the problem and its fix, so `up` never leaves half a lab
behind because a tool was missing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from simlab.errors import PreflightError

# command -> Debian package that provides it
BINARIES: dict[str, str] = {
    "ip": "iproute2",
    "nsenter": "util-linux",
    "unshare": "util-linux",
    "setsid": "util-linux",
    "tini": "tini",  # each daemon's subreaper (simlab.hostexec.spawn_daemon)
    "mount": "mount",
    "umount": "mount",
    "hostname": "hostname",
    "ssh": "openssh-client",
    "ssh-keygen": "openssh-client",
    "sshd": "openssh-server",
    "libvirtd": "libvirt-daemon-system",
    "virsh": "libvirt-clients",
    "virt-ssh-helper": "libvirt-daemon",
    "qemu-system-x86_64": "qemu-system-x86",
    "NetworkManager": "network-manager",
    "nmcli": "network-manager",
    "dbus-daemon": "dbus",
    "udevadm": "udev",
    "dnsmasq": "dnsmasq",
    # The outside namespace's servers (HTTP, DNS, NTP) and how they drop root.
    "busybox": "busybox-static",
    "chronyd": "chrony",
    "setpriv": "util-linux",
}

UDEVD_CANDIDATES = ("/lib/systemd/systemd-udevd", "/usr/lib/systemd/systemd-udevd")


@dataclass(frozen=True)
class Tools:
    """Absolute paths of the programs the lab runs, resolved once by `check`."""

    paths: dict[str, str]

    def __getitem__(self, name: str) -> str:
        return self.paths[name]


def require_root() -> None:
    """Real root: uid 0 in the initial user namespace (a user namespace's root cannot
    write /run/netns or mount over /etc for the daemons)."""
    if os.geteuid() != 0:
        raise PreflightError(
            "this needs root (it creates network namespaces and mounts): "
            "run it as root, e.g. `sudo .venv/bin/python -m simlab up`"
        )
    uid_map = Path("/proc/self/uid_map").read_text().split()
    if uid_map != ["0", "0", "4294967295"]:
        raise PreflightError(
            "running as root of a user namespace, not as the machine's root: "
            "run it as real root on the host or VM (not under `unshare --user` or rootless)"
        )


def find_tools(names: tuple[str, ...] | None = None) -> Tools:
    """Resolve the needed programs on PATH, or fail naming the apt package to install."""
    found: dict[str, str] = {}
    for name, package in BINARIES.items():
        if names is not None and name not in names:
            continue
        path = shutil.which(name)
        if path is None:
            raise PreflightError(
                f"`{name}` not found on PATH ({os.environ.get('PATH', '')}): "
                f"install it with `apt-get install {package}` (or add its directory to PATH)"
            )
        found[name] = path
    if names is not None:
        return Tools(found)
    udevd = next((p for p in UDEVD_CANDIDATES if os.access(p, os.X_OK)), None)
    if udevd is None:
        raise PreflightError("systemd-udevd not found: install it with `apt-get install udev`")
    found["systemd-udevd"] = udevd
    return Tools(found)


def require_kernel(tools: Tools) -> None:
    """Network/mount namespaces and overlayfs must work here (not only exist in the kernel)."""
    if not Path("/proc/self/ns/net").exists():
        raise PreflightError(
            "this kernel has no network namespace support (CONFIG_NET_NS): "
            "run the simlab on a Linux host or VM whose kernel has it"
        )
    probe = subprocess.run(
        [tools["unshare"], "--net", "--mount", "--uts", "true"],
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.returncode != 0:
        raise PreflightError(
            f"cannot create network/mount namespaces here ({probe.stderr.strip() or 'unshare failed'}): "
            "run as root on a host or VM, or in a container with CAP_SYS_ADMIN"
        )
    filesystems = Path("/proc/filesystems").read_text()
    if "\toverlay\n" not in filesystems:
        raise PreflightError("the kernel has no overlayfs: load it with `modprobe overlay`")


def check() -> Tools:
    """All checks, cheapest and most common first; returns the resolved tools."""
    require_root()
    tools = find_tools()
    require_kernel(tools)
    return tools


def check_light(names: tuple[str, ...] = ("ip", "nsenter", "mount", "umount")) -> Tools:
    """Root and the few tools needed to inspect, enter or remove a lab."""
    require_root()
    return find_tools(names)
