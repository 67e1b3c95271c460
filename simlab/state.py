"""lab.json: the description of the running lab that tests, fixtures and tools read.

Schema (version 1):
{
  "version": 1, "repo": "/abs/repo", "network": "192.168.16.0/24", "created": "ISO-8601",
  "switch": {"netns": "ocplab-sw", "bridge": "lab"},
  "ssh": {"key": abs path, "public_key": abs path, "known_hosts": abs path, "config": abs path},
  "hosts": [{"name": "jumphost", "role": "jumphost", "hostname": "jumphost",
             "netns": "ocplab-jh", "ip": "192.168.16.1", "prefixlen": 24, "nic": "eth0",
             "mac": "02:00:c0:a8:10:01", "switch_port": "jumphost", "ssh_user": "root",
             "mount_ns": abs path, "uts_ns": abs path, "root_dir": abs path,
             "logs": abs path, "pids": {"sshd": 1234}, "libvirt_uri": null}, ...]
}
Hypervisors carry pids for udevd, dbus, NetworkManager, libvirtd, sshd and a libvirt_uri.
An IPv6-only lab (`simlab up --ipv6-only`) has "network": "fd00:16::/64" and each host's IPv6 address as "ip"
(prefixlen 64, libvirt_uri "qemu+ssh://root@[fd00:16::b]/system?..."): the addresses clients reach it at.
"outside" (absent in files of older labs): {"netns": "ocplab-out", "ip": "198.51.100.2", "prefixlen": 24,
  "uplink": "uplink0", "uplink_ip": "198.51.100.1", "name": "www.outside.test",
  "url": "http://198.51.100.2/hello.txt", "query_log": abs path, "http_log": abs path,
  "pids": {"dnsmasq": 1, "httpd": 2, "chronyd": 3}}
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class HostState:
    """One running host as recorded in lab.json."""

    name: str
    role: str
    hostname: str
    netns: str
    ip: str
    prefixlen: int
    nic: str
    mac: str
    switch_port: str
    ssh_user: str
    mount_ns: str
    uts_ns: str
    root_dir: str
    logs: str
    pids: dict[str, int]
    libvirt_uri: str | None


@dataclass(frozen=True)
class SshState:
    key: str
    public_key: str
    known_hosts: str
    config: str


@dataclass(frozen=True)
class SwitchState:
    netns: str
    bridge: str


@dataclass(frozen=True)
class OutsideState:
    """The outside namespace: where it is, the name and file it serves, the logs tests read."""

    netns: str
    ip: str
    prefixlen: int
    uplink: str
    uplink_ip: str
    name: str
    url: str
    query_log: str
    http_log: str
    pids: dict[str, int]


@dataclass(frozen=True)
class LabState:
    """The whole lab.json document."""

    version: int
    repo: str
    network: str
    created: str
    switch: SwitchState
    ssh: SshState
    hosts: list[HostState]
    outside: OutsideState | None = None

    @property
    def ipv6_only(self) -> bool:
        """Whether the lab network is IPv6 alone (`simlab up --ipv6-only`)."""
        return ":" in self.network

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> LabState:
        raw: dict[str, Any] = json.loads(text)
        if raw.get("version") != SCHEMA_VERSION:
            raise ValueError(f"lab.json schema version {raw.get('version')!r}, "
                             f"expected {SCHEMA_VERSION}")
        return cls(
            version=raw["version"],
            repo=raw["repo"],
            network=raw["network"],
            created=raw["created"],
            switch=SwitchState(**raw["switch"]),
            ssh=SshState(**raw["ssh"]),
            hosts=[HostState(**h) for h in raw["hosts"]],
            outside=OutsideState(**raw["outside"]) if raw.get("outside") else None,
        )

    def save(self, path: Path) -> None:
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(self.to_json())
        tmp.replace(path)
