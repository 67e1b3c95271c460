"""SSH identity of the lab: one client key per `up`, one host key per host, pinned host keys.

Clients always verify host keys (known_hosts + StrictHostKeyChecking yes), the way the
project's pulumi-libvirt and pulumi-command connections do.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Sequence
from pathlib import Path

from simlab.paths import StatePaths
from simlab.preflight import Tools
from simlab.run import run
from simlab.topology import NETWORK, NETWORK6, HostPlan

# ip netns exec bind-mounts /etc/netns/<ns>/<entry> over /etc/<entry> for commands it runs,
# so virsh's ssh (which ignores the URI's knownhosts=) verifies against the lab's file too.
ETC_NETNS = Path("/etc/netns")
NETNS_MARKER = "etc-netns-created"


def keygen(tools: Tools, key: Path, comment: str) -> None:
    key.unlink(missing_ok=True)
    Path(f"{key}.pub").unlink(missing_ok=True)
    run([tools["ssh-keygen"], "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(key)])


def public_line(key: Path) -> str:
    """'type base64' of a key pair's public half."""
    fields = Path(f"{key}.pub").read_text().split()
    return f"{fields[0]} {fields[1]}"


def known_hosts_text(entries: Sequence[tuple[HostPlan, str]]) -> str:
    """One line per host: 'name,address type base64' (the bare IPv6 address in an IPv6-only lab, as ssh-keyscan
    writes it and as the lab stack looks a host up)."""
    return "".join(f"{h.name},{h.address} {key}\n" for h, key in entries)


def client_config_text(paths: StatePaths, hosts: Sequence[HostPlan]) -> str:
    """ssh_config for `ssh -F .simlab/ssh/config root@192.168.16.11` (or `hv1`; root@fd00:16::b when IPv6-only)."""
    lines = ["# ocplab simlab: reach lab hosts from the jumphost netns; host keys are pinned"]
    for h in hosts:
        lines += [f"Host {h.name}", f"    HostName {h.address}"]
    lines += [
        f"Host {' '.join(h.name for h in hosts)} {_net_glob(hosts[0].ipv6_only)}",
        *_client_options(paths),
    ]
    return "\n".join(lines) + "\n"


def _net_glob(ipv6_only: bool = False) -> str:
    """A Host pattern for every address of the lab network (fd00:16::* in an IPv6-only lab)."""
    if ipv6_only:
        return f"{NETWORK6.network_address}*"
    a, b, c, _ = str(NETWORK.network_address).split(".")
    return f"{a}.{b}.{c}.*"


def _client_options(paths: StatePaths) -> list[str]:
    return [
        "    User root",
        f'    IdentityFile "{paths.key}"',
        "    IdentitiesOnly yes",
        f'    UserKnownHostsFile "{paths.known_hosts}"',
        "    GlobalKnownHostsFile /dev/null",
        "    StrictHostKeyChecking yes",
        "    BatchMode yes",
        "    ConnectTimeout 10",
        "    ServerAliveInterval 15",
    ]


def netns_ssh_config_text(paths: StatePaths, ipv6_only: bool = False) -> str:
    """/etc/ssh/ssh_config as seen by commands run with `ip netns exec <jumphost ns>`."""
    return "\n".join([
        "# ocplab simlab: ssh client config inside the jumphost network namespace",
        f"Host {_net_glob(ipv6_only)}",
        *_client_options(paths)[1:],
        "Host *",
        "    SendEnv LANG LC_*",
    ]) + "\n"


def install_netns_ssh_config(paths: StatePaths, netns: str, ipv6_only: bool = False) -> None:
    """Write /etc/netns/<netns>/ssh/ssh_config; remember if /etc/netns was ours to remove."""
    if not ETC_NETNS.exists():
        ETC_NETNS.mkdir(mode=0o755)
        (paths.state / NETNS_MARKER).write_text("simlab created /etc/netns\n")
    ssh_dir = ETC_NETNS / netns / "ssh"
    ssh_dir.mkdir(parents=True, exist_ok=True)
    (ssh_dir / "ssh_config").write_text(netns_ssh_config_text(paths, ipv6_only))


def remove_netns_ssh_config(paths: StatePaths, netns: str) -> None:
    shutil.rmtree(ETC_NETNS / netns, ignore_errors=True)
    marker = paths.state / NETNS_MARKER
    if marker.exists():
        with contextlib.suppress(OSError):  # someone else uses /etc/netns now: leave it
            ETC_NETNS.rmdir()
        marker.unlink()


def sshd_config_text(host: HostPlan) -> str:
    """A server that takes root logins by key only, on the host's lab address (its IPv6 one in an IPv6-only lab)."""
    reached = f"[{host.address}]" if host.ipv6_only else host.address
    return "\n".join([
        f"# ocplab simlab: sshd of {host.name}, reached at {reached}:22 on the lab network",
        f"ListenAddress {host.address}",
        "HostKey /etc/ssh/ssh_host_ed25519_key",
        "PermitRootLogin prohibit-password",
        "PubkeyAuthentication yes",
        "AuthorizedKeysFile .ssh/authorized_keys",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "UsePAM no",
        "PidFile /run/sshd.pid",
        # Pulumi opens many sessions at once; the defaults (10 / 10) refuse some of them.
        "MaxStartups 100:30:200",
        "MaxSessions 100",
        "AllowStreamLocalForwarding yes",
        "X11Forwarding no",
        "PrintMotd no",
        "AcceptEnv LANG LC_*",
        "Subsystem sftp /usr/lib/openssh/sftp-server",
    ]) + "\n"
