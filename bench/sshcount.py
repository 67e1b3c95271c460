"""SSH connections and packets that leave the jumphost namespace (where pulumi, its providers and the
baseline run), counted by two iptables rules: new connections (SYN) to port 22, and every packet to
port 22 (each SSH round trip is at least one)."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass

from simlab.topology import JUMPHOST_NETNS

TAG = "ocplab-bench-ssh"
RULES = (("syn", ["-p", "tcp", "--dport", "22", "--syn"]), ("packets", ["-p", "tcp", "--dport", "22"]))


@dataclass(frozen=True)
class SshCount:
    connections: int
    packets: int

    def __sub__(self, other: SshCount) -> SshCount:
        return SshCount(self.connections - other.connections, self.packets - other.packets)

    def describe(self) -> str:
        return f"{self.connections} SSH connections, {self.packets} packets to port 22"


def _iptables(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", "netns", "exec", JUMPHOST_NETNS, "iptables", "-w", *args], capture_output=True,
                          text=True, check=False, timeout=30)


def install() -> bool:
    """Add the counting rules (ACCEPT, so nothing changes); False when iptables cannot."""
    for key, match in RULES:
        if _iptables("-A", "OUTPUT", *match, "-m", "comment", "--comment", f"{TAG}-{key}", "-j", "ACCEPT"
                     ).returncode != 0:
            return False
    return True


def parse_counters(listing: str) -> SshCount:
    """The two rules' packet counters from `iptables -L OUTPUT -v -x -n`."""
    found = {}
    for line in listing.splitlines():
        for key, _ in RULES:
            if f"{TAG}-{key} " in line + " ":
                found[key] = int(line.split()[0])
    return SshCount(found.get("syn", 0), found.get("packets", 0))


def read() -> SshCount | None:
    result = _iptables("-L", "OUTPUT", "-v", "-x", "-n")
    return parse_counters(result.stdout) if result.returncode == 0 else None
