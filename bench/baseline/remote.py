"""SSH and virsh as the baseline uses them: host keys verified, scripts fed on stdin."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass


class RemoteError(RuntimeError):
    """A remote step failed; the message carries the command's own stderr."""


def _tool(name: str, package: str) -> str:
    path = shutil.which(name)
    if not path:
        raise RemoteError(f"{name} not found: apt-get install {package}")
    return path


@dataclass(frozen=True)
class Ssh:
    """One host reached over SSH with a key file and a known_hosts file (StrictHostKeyChecking)."""

    address: str
    user: str
    key_path: str
    known_hosts: str | None
    port: int = 22

    def argv(self) -> list[str]:
        options = ["-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes", "-o", "ConnectTimeout=10",
                   "-i", self.key_path, "-p", str(self.port)]
        if self.known_hosts:
            options += ["-o", f"UserKnownHostsFile={self.known_hosts}"]
        return [_tool("ssh", "openssh-client"), *options, f"{self.user}@{self.address}"]

    def script(self, text: str, timeout: float = 300) -> str:
        """Run a shell script on the host; return stdout, raise with stderr on failure."""
        result = subprocess.run([*self.argv(), "sh", "-s"], input=text, capture_output=True, text=True,
                                timeout=timeout, check=False)
        if result.returncode != 0:
            raise RemoteError(f"on {self.address}: {result.stderr.strip() or result.stdout.strip()}")
        return result.stdout

    def command(self, text: str, stdin: str = "", timeout: float = 300) -> str:
        """Run `text` as the remote command line (as pulumi-command's remote.Command does), with
        `stdin` fed to it: how secrets reach a script without being part of it."""
        result = subprocess.run([*self.argv(), "--", text], input=stdin, capture_output=True, text=True,
                                timeout=timeout, check=False)
        if result.returncode != 0:
            raise RemoteError(f"on {self.address}: {result.stderr.strip() or result.stdout.strip()}")
        return result.stdout


@dataclass(frozen=True)
class Virsh:
    """virsh against one hypervisor's libvirt URI."""

    uri: str

    def run(self, *args: str, stdin: str | None = None, check: bool = True, timeout: float = 300) -> str:
        result = subprocess.run([_tool("virsh", "libvirt-clients"), "-q", "-c", self.uri, *args], input=stdin,
                                capture_output=True, text=True, timeout=timeout, check=False)
        if check and result.returncode != 0:
            raise RemoteError(f"virsh {' '.join(args[:2])}: {result.stderr.strip()}")
        return result.stdout

    def define_from(self, command: str, xml: str, path: str) -> None:
        """virsh <command> of an XML document (virsh takes a file: written next to the caller)."""
        with open(path, "w") as handle:
            handle.write(xml)
        self.run(command, path)

    def volumes(self, pool: str) -> set[str]:
        """Volume names of a pool (`vol-list --name` is not in every virsh)."""
        return {line.split()[0] for line in self.run("vol-list", pool).splitlines() if line.strip()}

    def exists(self, kind: str, name: str) -> bool:
        info = "dominfo" if kind == "dom" else f"{kind}-info"
        return subprocess.run([_tool("virsh", "libvirt-clients"), "-q", "-c", self.uri, info, name],
                              capture_output=True, check=False, timeout=120).returncode == 0
