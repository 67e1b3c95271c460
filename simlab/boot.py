"""Boots a host's daemons in the order its init system would, waiting for each to be ready.

Hypervisor: udevd and D-Bus, then NetworkManager (which brings eth0 up with its profile) and
libvirtd, then sshd once the lab address is there. Jumphost: its address, then sshd.
Each wait fails fast, naming the daemon's log, if the daemon dies.
"""

from __future__ import annotations

from collections.abc import Callable
from ipaddress import IPv4Address, IPv6Address, ip_address
from pathlib import Path

from simlab.errors import SimlabError
from simlab.hostexec import HostExec
from simlab.run import wait_for
from simlab.topology import HostPlan

START_TIMEOUT = 60.0


def alive(pid: int) -> bool:
    """True while the process exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _wait(hx: HostExec, daemon: str, pid: int, what: str, ready: Callable[[], bool]) -> None:
    wait_daemon(hx.host.name, daemon, pid, hx.log(daemon), what, ready)


def wait_daemon(where: str, daemon: str, pid: int, log: Path, what: str, ready: Callable[[], bool]) -> None:
    """Poll `ready` until it holds; fail at once, with the log's last line, if the daemon dies."""
    def check() -> bool:
        if not alive(pid):
            raise SimlabError(f"{where}: {daemon} exited while starting; see {log}: {_last_line(log)}")
        return ready()

    wait_for(f"{where}: {what}", check, START_TIMEOUT, hint=f"see {log}")


def _last_line(log: Path) -> str:
    try:
        lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return "no log"
    return lines[-1] if lines else "empty log"


def tcp_listening(pid: int, host: HostPlan, port: int) -> bool:
    """Whether a socket listens on the host's lab address and `port` in the netns of `pid` (read from /proc)."""
    return socket_bound(pid, ip_address(host.address), port, "tcp")


def proc_net_address(ip: IPv4Address | IPv6Address) -> str:
    """An address as /proc/net/{tcp,udp}[6] write it: each 32-bit word in the kernel's (little-endian) order."""
    packed = ip.packed
    return "".join(f"{int.from_bytes(packed[i:i + 4], 'little'):08X}" for i in range(0, len(packed), 4))


def socket_bound(pid: int, ip: IPv4Address | IPv6Address, port: int, proto: str) -> bool:
    """Whether the netns of `pid` has a socket on ip:port (or the wildcard): listening for TCP,
    bound for UDP (which has no listening state)."""
    table_name = proto if ip.version == 4 else f"{proto}6"
    want = f"{proc_net_address(ip)}:{port:04X}"
    wildcard = f"{'0' * len(proc_net_address(ip))}:{port:04X}"
    try:
        table = Path(f"/proc/{pid}/net/{table_name}").read_text()
    except OSError:
        return False
    for line in table.splitlines()[1:]:
        fields = line.split()
        if fields[1] in (want, wildcard) and (proto == "udp" or fields[3] == "0A"):
            return True
    return False


def start_sshd(hx: HostExec) -> int:
    pid = hx.spawn("sshd", [hx.tools["sshd"], "-D", "-e", "-f", "/etc/ssh/sshd_config"])
    _wait(hx, "sshd", pid, f"sshd on {hx.host.address} port 22", lambda: tcp_listening(pid, hx.host, 22))
    return pid


def boot_jumphost(hx: HostExec) -> dict[str, int]:
    return {"sshd": start_sshd(hx)}


def boot_hypervisor(hx: HostExec) -> dict[str, int]:
    t = hx.tools
    pids: dict[str, int] = {}
    pids["udevd"] = hx.spawn("udevd", [t["systemd-udevd"]], {"SYSTEMD_LOG_TARGET": "console"})
    pids["dbus"] = hx.spawn("dbus", [t["dbus-daemon"], "--system", "--nofork", "--nopidfile"])
    _wait(hx, "udevd", pids["udevd"], "udevd control socket",
          lambda: hx.private_path("/run/udev/control").exists())
    _wait(hx, "dbus", pids["dbus"], "system D-Bus socket",
          lambda: hx.private_path("/run/dbus/system_bus_socket").exists())
    # eth0 existed before udevd: replay its "add" so udev records it (else NM leaves it
    # unmanaged). Only the net subsystem: other uevents would reach every host's udevd.
    hx.run([t["udevadm"], "trigger", "--action=add", "--subsystem-match=net"])
    hx.run([t["udevadm"], "settle", "--timeout=30"], timeout=40)
    pids["NetworkManager"] = hx.spawn("NetworkManager", [t["NetworkManager"], "--debug"])
    pids["libvirtd"] = hx.spawn("libvirtd", [t["libvirtd"], "-p", "/run/libvirt/libvirtd.pid"])
    _wait(hx, "NetworkManager", pids["NetworkManager"], f"NetworkManager connecting {hx.host.nic}",
          lambda: _nm_connected(hx))
    if hx.host.ipv6_only:  # sshd binds the address: it must have passed duplicate address detection
        _wait(hx, "NetworkManager", pids["NetworkManager"], f"{hx.host.address} usable on {hx.host.nic}",
              lambda: _ipv6_ready(hx))
    pids["sshd"] = start_sshd(hx)
    _wait(hx, "libvirtd", pids["libvirtd"], "libvirtd socket",
          lambda: hx.private_path("/run/libvirt/libvirt-sock").exists())
    hx.run([t["virsh"], "-q", "-c", "qemu:///system", "uri"], timeout=30)
    return pids


def _nm_connected(hx: HostExec) -> bool:
    done = hx.run([hx.tools["nmcli"], "-t", "-g", "GENERAL.STATE", "device", "show", hx.host.nic],
                  check=False, timeout=15)
    return done.returncode == 0 and done.stdout.startswith("100")


def _ipv6_ready(hx: HostExec) -> bool:
    """The host's lab IPv6 address is on its NIC and no longer tentative."""
    done = hx.run([hx.tools["ip"], "-6", "-o", "addr", "show", "dev", hx.host.nic, "to", hx.host.address],
                  check=False, timeout=15)
    return done.returncode == 0 and hx.host.address in done.stdout and "tentative" not in done.stdout


def rss_kib(pid: int) -> int:
    """Resident set size of one process (KiB), 0 if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0
