"""Where the simlab keeps its state, so every module (and every test) agrees on the layout.

Everything lives under <repo>/.simlab/ (git-ignored). `cache/` survives `down`; the rest is
made by `up` and removed by `down`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class StatePaths:
    """The state directory layout of one repository checkout."""

    repo: Path = REPO

    @property
    def state(self) -> Path:
        return self.repo / ".simlab"

    @property
    def lab_json(self) -> Path:
        return self.state / "lab.json"

    @property
    def cache(self) -> Path:
        """Kept across down/up (the guest image lives here)."""
        return self.state / "cache"

    @property
    def ssh_dir(self) -> Path:
        return self.state / "ssh"

    @property
    def key(self) -> Path:
        """The lab's one client key pair (made per `up`), accepted as root on every host."""
        return self.ssh_dir / "id_ed25519"

    @property
    def public_key(self) -> Path:
        return self.ssh_dir / "id_ed25519.pub"

    @property
    def known_hosts(self) -> Path:
        """Every host's key under its lab IP (and short name)."""
        return self.ssh_dir / "known_hosts"

    @property
    def ssh_config(self) -> Path:
        """For `ssh -F`: key, known_hosts, strict host key checking."""
        return self.ssh_dir / "config"

    @property
    def ns_dir(self) -> Path:
        """Bind mounts that keep each host's mount and UTS namespaces alive without a process."""
        return self.state / "ns"

    @property
    def hosts_dir(self) -> Path:
        return self.state / "hosts"

    @property
    def pulumi_state(self) -> Path:
        """The file backend of the simulated lab's stacks: it lives and dies with the lab, so a fresh
        lab never meets state that describes the previous one."""
        return self.state / "pulumi-state"

    @property
    def logs_dir(self) -> Path:
        return self.state / "logs"

    @property
    def outside_dir(self) -> Path:
        """The outside namespace's files: what its servers serve, their configs, pids and query log."""
        return self.state / "outside"

    def host_dir(self, host: str) -> Path:
        """The host's private filesystem pieces (overlay uppers, /run, /tmp, /root)."""
        return self.hosts_dir / host

    def host_logs(self, host: str) -> Path:
        return self.logs_dir / host

    def mount_ns(self, host: str) -> Path:
        return self.ns_dir / f"{host}.mnt"

    def uts_ns(self, host: str) -> Path:
        return self.ns_dir / f"{host}.uts"
