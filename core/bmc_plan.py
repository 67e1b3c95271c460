"""Virtual BMCs of a cluster: which nodes get one, on which port, with which credentials.

Pure, so the lab stack checks port ranges and the cluster stack refuses an exhausted range before
anything is created. The password is derived, not stored: HMAC-SHA256 keyed by the lab's SSH
private key over the cluster name gives the same password on every update and rebuild, and
whoever holds the key (the stacks, the baseline, the hand-off) can derive it again.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.clusterconfig import ClusterConfig
from core.config_schema import DEFAULT_BMC
from core.errors import ConfigError
from core.port_range import PortRange

BMC_USER = "admin"
BMC_KIND = DEFAULT_BMC
BMC_ROLES = ("master", "worker")
PASSWORD_LENGTH = 20  # IPMI 2.0 passwords are at most 20 bytes


def bmc_nodes(cluster: ClusterConfig) -> list[str]:
    """Nodes the installer powers through a BMC: masters and workers (the SNO node is a master)."""
    return [n.name for n in cluster.nodes if n.role in BMC_ROLES]


def redfish_plan(cluster: ClusterConfig, address: str, ports: PortRange) -> BmcPlan:
    """One sushy-tools emulator per cluster on the first port of the slice's range, serving its BMC nodes."""
    return BmcPlan(address=address, ports={name: ports.first for name in bmc_nodes(cluster)}, kind="redfish",
                   port=ports.first)


def plan_bmc_ports(cluster: ClusterConfig, ports: PortRange) -> dict[str, int]:
    """One port per BMC node, in node order, from the start of the slice's range."""
    names = bmc_nodes(cluster)
    if len(names) > ports.size:
        raise ConfigError([f"ocplab:slices.{cluster.name}.bmc_ports: cluster {cluster.name} needs {len(names)} "
                           f"BMC ports ({', '.join(names)}) but its range {ports} has {ports.size}; "
                           "widen the range in the lab stack"])
    return {name: ports.first + index for index, name in enumerate(names)}


def domain_name(cluster: str, node: str) -> str:
    """The libvirt domain of a node (components.node names it the same way)."""
    return f"{cluster}-{node}"


def bmc_password(private_key: str, cluster: str) -> str:
    """The cluster's BMC password: stable for a lab key and cluster name, never stored."""
    digest = hmac.new(private_key.encode(), f"ocplab-bmc:{cluster}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:PASSWORD_LENGTH]


@dataclass(frozen=True)
class BmcPlan:
    """The public part of a cluster's BMCs; the password joins it only as a secret."""

    address: str
    ports: Mapping[str, int]
    kind: str = BMC_KIND
    port: int | None = None  # redfish: the one HTTPS port of the cluster's sushy-tools emulator

    def entries(self, cluster: str) -> list[tuple[str, int]]:
        """(libvirt domain, port) for every BMC, in node order."""
        return [(domain_name(cluster, node), port) for node, port in self.ports.items()]

    def public(self) -> dict[str, Any]:
        """The cluster output `bmc` without its password (tools.dci_inventory reads it). Redfish nodes are
        systems of one emulator, each found by its domain's UUID (the node's `uuid` output)."""
        if self.kind == "redfish":
            return {"kind": "redfish", "address": self.address, "user": BMC_USER, "port": self.port,
                    "nodes": {node: {} for node in self.ports}}
        return {"kind": BMC_KIND, "address": self.address, "user": BMC_USER,
                "nodes": {node: {"port": port} for node, port in self.ports.items()}}


def with_password(public: Mapping[str, Any] | None, password: str) -> dict[str, Any] | None:
    """The full `bmc` output: the public part and the password (keep the result secret)."""
    return None if public is None else {**public, "password": password}
