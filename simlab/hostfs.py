"""Seeds each host's private filesystem: what a freshly installed server of its role holds.

Files written here land in the host's overlay upper dirs (/etc, /var) and private dirs
(/run, /tmp, /root) before its namespaces exist, so the daemons find their config at the
usual paths and the machine's own /etc and /var are never written.
"""

from __future__ import annotations

import os
import pwd
import shutil
import uuid
from pathlib import Path

from simlab.mountns import OVERLAID
from simlab.paths import StatePaths
from simlab.sshkeys import sshd_config_text
from simlab.topology import JUMPHOST, ROUTER6, HostPlan

UDEV_RULE_DIRS = (Path("/usr/lib/udev/rules.d"), Path("/lib/udev/rules.d"))
# Rules a hypervisor's udevd keeps: naming/driver facts NetworkManager needs for net devices.
# Every other rule is masked: this udevd also receives the machine's non-network uevents and
# must not act on them (block device symlinks in the shared /dev, dm cookies, modprobe...).
UDEV_KEEP = frozenset({
    "75-net-description.rules",
    "80-net-setup-link.rules",
    "84-nm-drivers.rules",
    "85-nm-unmanaged.rules",
})

NM_CONF = """\
# ocplab simlab: NetworkManager of a hypervisor. It owns eth0 through the eth0 profile and
# makes no automatic profiles; DNS and hostname stay as written by the simlab.
[main]
plugins=keyfile
no-auto-default=*
dns=none
rc-manager=unmanaged
hostname-mode=none
auth-polkit=false

[logging]
level=INFO

[connectivity]
enabled=false
"""

QEMU_CONF = """\
# ocplab simlab: what lets TCG guests start inside a namespace-only "server":
# run QEMU as root with no SELinux/AppArmor labelling, no cgroups (none are mounted, and
# several libvirtds would fight over the same paths), no per-guest mount namespace, and
# QEMU logs written directly (no virtlogd daemon).
user = "root"
group = "root"
security_driver = "none"
cgroup_controllers = [ ]
namespaces = [ ]
stdio_handler = "file"
remember_owner = 0
"""


def _write(path: Path, text: str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)


def _opaque_dir(path: Path) -> None:
    """A dir in an overlay upper that hides the machine's copy (only what we write shows)."""
    path.mkdir(parents=True, exist_ok=True)
    os.setxattr(path, "trusted.overlay.opaque", b"y")


def layout(paths: StatePaths, host: HostPlan) -> None:
    """The empty private dirs the host's mount namespace binds or overlays."""
    hd = paths.host_dir(host.name)
    for top in OVERLAID:
        (hd / top / "upper").mkdir(parents=True, exist_ok=True)
        (hd / top / "work").mkdir(parents=True, exist_ok=True)
    for sub, mode in (("run", 0o755), ("tmp", 0o1777), ("root", 0o700), ("pids", 0o755)):
        (hd / sub).mkdir(parents=True, exist_ok=True)
        (hd / sub).chmod(mode)
    paths.host_logs(host.name).mkdir(parents=True, exist_ok=True)


def etc_upper(paths: StatePaths, host: HostPlan) -> Path:
    return paths.host_dir(host.name) / "etc" / "upper"


def host_key_path(paths: StatePaths, host: HostPlan) -> Path:
    """Where the host's sshd finds its key (/etc/ssh/ssh_host_ed25519_key inside the host)."""
    return etc_upper(paths, host) / "ssh" / "ssh_host_ed25519_key"


def seed_common(paths: StatePaths, host: HostPlan, authorized_key: str) -> None:
    """Identity, name resolution, sshd and root's home: the same on every host."""
    hd = paths.host_dir(host.name)
    etc = etc_upper(paths, host)
    machine_id = uuid.uuid4().hex
    # Each server has its own machine-id: udev derives persistent MACs (e.g. of br0) from it.
    _write(etc / "machine-id", machine_id + "\n", 0o444)
    _write(hd / "var" / "upper" / "lib" / "dbus" / "machine-id", machine_id + "\n", 0o444)
    _write(etc / "hostname", host.name + "\n")
    _write(etc / "hosts", (
        "127.0.0.1\tlocalhost\n"
        "::1\tlocalhost ip6-localhost ip6-loopback\n"
        f"{host.address}\t{host.name}\n"
    ))
    # The jumphost is the lab's DNS server (once the project starts dnsmasq there).
    _write(etc / "resolv.conf", f"nameserver {_jumphost_address(host)}\n")
    _write(etc / "ssh" / "sshd_config", sshd_config_text(host))
    (etc / "ocplab").mkdir(parents=True, exist_ok=True)
    (hd / "run" / "sshd").mkdir(exist_ok=True)
    # /var/lock is /run/lock: `virsh console` locks the pty there, as on any distribution.
    (hd / "run" / "lock").mkdir(exist_ok=True)
    (hd / "run" / "lock").chmod(0o1777)
    root = hd / "root"
    for name, src in ((".bashrc", "/etc/skel/.bashrc"), (".profile", "/etc/skel/.profile")):
        if Path(src).is_file():
            shutil.copyfile(src, root / name)
    ssh = root / ".ssh"
    ssh.mkdir(mode=0o700, exist_ok=True)
    _write(ssh / "authorized_keys", authorized_key + " simlab\n", 0o600)


def seed_hypervisor(paths: StatePaths, host: HostPlan) -> None:
    """NetworkManager with one eth0 profile (no bridge yet), a net-only udev, libvirt's qemu."""
    etc = etc_upper(paths, host)
    for run_dir in ("dbus", "libvirt"):
        (paths.host_dir(host.name) / "run" / run_dir).mkdir(exist_ok=True)
    nm = etc / "NetworkManager"
    _opaque_dir(nm)
    for sub in ("conf.d", "dispatcher.d", "dnsmasq.d", "dnsmasq-shared.d"):
        (nm / sub).mkdir(exist_ok=True)
    _write(nm / "NetworkManager.conf", NM_CONF)
    _write(nm / "system-connections" / "eth0.nmconnection", eth0_profile(host), 0o600)
    rules = etc / "udev" / "rules.d"
    rules.mkdir(parents=True, exist_ok=True)
    for rule_dir in UDEV_RULE_DIRS:
        if rule_dir.is_dir():
            for rule in os.listdir(rule_dir):
                if rule.endswith(".rules") and rule not in UDEV_KEEP and not (rules / rule).exists():
                    (rules / rule).symlink_to("/dev/null")
    _write(etc / "libvirt" / "qemu.conf", QEMU_CONF)


def _jumphost_address(host: HostPlan) -> str:
    """The jumphost's address in the host's lab network: its gateway and DNS server."""
    return str(host.network.network_address + 1)


def eth0_profile(host: HostPlan) -> str:
    """The keyfile a RHEL server installed with static lab addresses (IPv4 and IPv6) would have for its NIC; in an
    IPv6-only lab, no IPv4 at all and its /64 address with the lab's IPv6 router and the jumphost as DNS server."""
    gateway = _jumphost_address(host)
    head = [
        "[connection]",
        f"id={host.nic}",
        f"uuid={uuid.uuid5(uuid.NAMESPACE_DNS, f'{host.name}.{host.nic}.simlab')}",
        "type=ethernet",
        f"interface-name={host.nic}",
        "autoconnect=true",
        "",
        "[ethernet]",
        "",
    ]
    if host.ipv6_only:
        return "\n".join([*head, "[ipv4]", "method=disabled", "", "[ipv6]", "method=manual",
                          f"address1={host.cidr6},{ROUTER6}", f"dns={gateway};", "may-fail=false", ""])
    return "\n".join([
        *head,
        "[ipv4]",
        "method=manual",
        f"address1={host.cidr},{gateway}",
        f"dns={gateway};",
        "may-fail=false",
        "",
        "[ipv6]",  # its address in the lab /64 too, as a dual-stack server's: an IPv4 lab's bridge leaves it off
        "method=manual",
        f"address1={host.cidr6}",
        "",
    ])


def seed_jumphost(paths: StatePaths, host: HostPlan) -> None:
    """Dirs dnsmasq writes to, owned as Debian's packaging would; dnsmasq itself not configured."""
    hd = paths.host_dir(host.name)
    run_dnsmasq = hd / "run" / "dnsmasq"
    run_dnsmasq.mkdir(exist_ok=True)
    try:
        user = pwd.getpwnam("dnsmasq")
        os.chown(run_dnsmasq, user.pw_uid, user.pw_gid)
    except KeyError:
        pass  # dnsmasq then runs as nobody and writes its pid file as root before dropping
    (hd / "var" / "upper" / "lib" / "misc").mkdir(parents=True, exist_ok=True)
    (etc_upper(paths, host) / "dnsmasq.d").mkdir(parents=True, exist_ok=True)


def give_client_identity(paths: StatePaths, host: HostPlan) -> None:
    """The jumphost's root can ssh to every host, as on a real jumphost."""
    assert host.name == JUMPHOST
    ssh = paths.host_dir(host.name) / "root" / ".ssh"
    shutil.copyfile(paths.key, ssh / "id_ed25519")
    (ssh / "id_ed25519").chmod(0o600)
    shutil.copyfile(paths.public_key, ssh / "id_ed25519.pub")
    shutil.copyfile(paths.known_hosts, ssh / "known_hosts")
