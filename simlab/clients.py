"""Running client commands the way the project does: from the jumphost's network namespace.

Clients (ssh, virsh, dig, pulumi) keep the root's mount namespace, so they see the repo and
.engine; only their network is the lab's. `ip netns exec` also applies
/etc/netns/ocplab-jh/ssh/ssh_config, which makes plain `ssh` and virsh's qemu+ssh verify
host keys against .simlab/ssh/known_hosts.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from urllib.parse import quote

from simlab.env import client_env
from simlab.errors import PreflightError
from simlab.paths import StatePaths
from simlab.preflight import BINARIES
from simlab.topology import JUMPHOST_NETNS, NETWORK


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise PreflightError(f"`{name}` not found on PATH: install it with "
                             f"`apt-get install {BINARIES.get(name, name)}`")
    return path


def jumphost_argv(cmd: Sequence[str]) -> list[str]:
    """argv that runs `cmd` in the jumphost netns (root's filesystem, lab network)."""
    return [tool("ip"), "netns", "exec", JUMPHOST_NETNS, *cmd]


def run_in_jumphost(
    cmd: Sequence[str],
    *,
    check: bool = False,
    timeout: float | None = 300,
    input: str | None = None,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a client command from the jumphost netns with client_env(); capture text output."""
    return subprocess.run(
        jumphost_argv(cmd),
        input=input,
        stdin=None if input is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=dict(env) if env is not None else client_env(),
        cwd=cwd or str(StatePaths().repo),
        check=check,
    )


def ssh_argv(host: str, command: str | Sequence[str], paths: StatePaths | None = None,
             user: str = "root") -> list[str]:
    """ssh argv for `host` (lab IP or short name) with the lab's config (pinned host keys)."""
    paths = paths or StatePaths()
    remote = command if isinstance(command, str) else shlex.join(command)
    return [tool("ssh"), "-F", str(paths.ssh_config), f"{user}@{host}", "--", remote]


def ssh_run(
    host: str,
    command: str | Sequence[str],
    *,
    check: bool = False,
    timeout: float | None = 120,
    input: str | None = None,
    paths: StatePaths | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a command on a lab host over SSH, from the jumphost netns, as root."""
    return run_in_jumphost(ssh_argv(host, command, paths), check=check, timeout=timeout,
                           input=input)


def libvirt_uri(ip: str, paths: StatePaths | None = None) -> str:
    """qemu+ssh URI with keyfile= and knownhosts= (both the C and the pure-Go client); an IPv6 address in
    brackets, as libvirt's URI parser takes it."""
    paths = paths or StatePaths()
    host = f"[{ip}]" if ":" in ip else ip
    return (f"qemu+ssh://root@{host}/system?keyfile={quote(str(paths.key))}"
            f"&knownhosts={quote(str(paths.known_hosts))}")


def virsh(ip: str, *args: str, timeout: float | None = 120) -> subprocess.CompletedProcess[str]:
    """virsh against a hypervisor over qemu+ssh, from the jumphost netns."""
    return run_in_jumphost([tool("virsh"), "-c", libvirt_uri(ip), *args], timeout=timeout)


def lab_ip(host_index: int) -> str:
    """The lab address .<host_index> (1 = jumphost, 10+i = hv<i>)."""
    return str(NETWORK.network_address + host_index)
