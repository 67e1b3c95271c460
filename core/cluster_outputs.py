"""A cluster stack's outputs (`pulumi stack output --json --show-secrets`) checked and typed once.

What is handed off from a cluster stack renders from these outputs: the DCI inventories
(tools.dci_inventory) and the installer's install-config (renderers.install_config). Reading them
in one place means a field the stacks rename or drop fails the same way for every renderer, with an
error naming the stack and the field.

Secrets: `bmc.password` is a Pulumi secret. It is kept out of every repr and no error message
carries a value read from `bmc`: errors name fields, never their values.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


class OutputsError(ValueError):
    """The outputs can't give what was asked; the message says which stack and what to do."""


@dataclass(frozen=True)
class Node:
    name: str
    role: str
    hypervisor: str
    ip: str
    fqdn: str
    macs: Mapping[str, str]
    uuid: str


@dataclass(frozen=True)
class Bmc:
    kind: str
    address: str
    port: int | None
    user: str
    password: str = field(repr=False)
    node_ports: Mapping[str, int]
    stack: str = ""

    def port_of(self, node: str) -> int:
        """vbmc gives each node its own port; sushy-tools serves all of them on one."""
        port = self.node_ports.get(node, self.port)
        if port is None:
            raise OutputsError(f"stack {self.stack}: output bmc.nodes has no port for node {node}")
        return port

    @property
    def redfish_port(self) -> int:
        """sushy-tools' single port, which reading a redfish `bmc` requires."""
        assert self.port is not None
        return self.port


@dataclass(frozen=True)
class Bootstrap:
    """The installer's bootstrap VM of an IPI cluster: its address and MAC on the lab network, planned
    by the cluster stack so the lab's static-only DHCP has a reservation for it."""

    ip: str
    mac: str
    fqdn: str


@dataclass(frozen=True)
class Cluster:
    """The outputs checked and typed once, so renderers only format."""

    stack: str
    name: str
    domain: str
    topology: str
    cidr: str
    gateway: str
    dns: str
    jumphost_address: str
    jumphost_user: str
    hypervisors: Mapping[str, str]
    api_vip: str
    ingress_vip: str
    nodes: tuple[Node, ...]
    bmc: Bmc | None
    bootstrap: Bootstrap | None = None
    provisionhost_user: str | None = None  # DCI's user on the provisionhost (core.dci_first_boot), if made

    def by_role(self, role: str) -> list[Node]:
        return [n for n in self.nodes if n.role == role]


_TEMPLATE_MARKERS = ("{{", "{%", "{#")


def _get(data: Mapping[str, Any], key: str, where: str, kind: type, stack: str) -> Any:
    """A field of the expected type, or an error naming the field (never its value: it may be the password).

    Jinja markers are refused too: DCI's Ansible would template them, and no output of ours has one.
    """
    value = data.get(key)
    if not isinstance(value, kind) or isinstance(value, bool) or value == "":
        raise OutputsError(f"stack {stack}: output {where}{key} is missing or not a {kind.__name__}")
    if isinstance(value, str) and any(m in value for m in _TEMPLATE_MARKERS):
        raise OutputsError(f"stack {stack}: output {where}{key} contains a Jinja marker that Ansible would template")
    return value


def _text(data: Mapping[str, Any], key: str, where: str, stack: str) -> str:
    return str(_get(data, key, where, str, stack))


def _stack_name(outputs: Mapping[str, Any], stack: str | None) -> str:
    if stack:
        return stack
    name = outputs.get("cluster")
    return name if isinstance(name, str) and name else "(unnamed)"


def _node(raw: Any, index: int, stack: str) -> Node:
    where = f"nodes[{index}]."
    if not isinstance(raw, Mapping):
        raise OutputsError(f"stack {stack}: output nodes[{index}] is not an object")
    macs = _get(raw, "macs", where, Mapping, stack)
    return Node(
        name=_text(raw, "name", where, stack), role=_text(raw, "role", where, stack),
        hypervisor=_text(raw, "hypervisor", where, stack), ip=_text(raw, "ip", where, stack),
        fqdn=_text(raw, "fqdn", where, stack), uuid=_text(raw, "uuid", where, stack),
        macs={net: _text(macs, net, f"{where}macs.", stack) for net in macs},
    )


def _bmc(raw: Any, stack: str) -> Bmc | None:
    """None when the lab runs no BMC emulator for this cluster: renderers then write no BMC fields."""
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise OutputsError(f"stack {stack}: output bmc is not an object")
    kind = _text(raw, "kind", "bmc.", stack)
    if kind not in ("redfish", "ipmi"):
        raise OutputsError(f"stack {stack}: output bmc.kind must be redfish or ipmi")
    nodes = raw.get("nodes") or {}
    if not isinstance(nodes, Mapping):
        raise OutputsError(f"stack {stack}: output bmc.nodes is not an object")
    ports = {str(name): int(_get(entry, "port", f"bmc.nodes.{name}.", int, stack))
             for name, entry in nodes.items() if isinstance(entry, Mapping) and "port" in entry}
    # sushy-tools serves every node on one port; virtualbmc (ipmi) may give only per-node ports.
    port = None if kind == "ipmi" and raw.get("port") is None else int(_get(raw, "port", "bmc.", int, stack))
    return Bmc(kind=kind, address=_text(raw, "address", "bmc.", stack), port=port,
               user=_text(raw, "user", "bmc.", stack), password=_text(raw, "password", "bmc.", stack),
               node_ports=ports, stack=stack)


def _bootstrap(raw: Any, stack: str) -> Bootstrap | None:
    """None for SNO, and for outputs written before the stacks planned the bootstrap VM."""
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise OutputsError(f"stack {stack}: output bootstrap is not an object")
    return Bootstrap(ip=_text(raw, "ip", "bootstrap.", stack), mac=_text(raw, "mac", "bootstrap.", stack),
                     fqdn=_text(raw, "fqdn", "bootstrap.", stack))


def _check_deployed(outputs: Mapping[str, Any], stack: str) -> None:
    """Refuse lab stacks and stacks never brought up before reading any field."""
    if outputs.get("kind") == "lab":
        raise OutputsError(f"stack {stack} is a lab stack; name a cluster stack")
    if not outputs.get("nodes"):
        raise OutputsError(f"stack {stack} has no deployed nodes: run pulumi up first")
    if outputs.get("kind", "cluster") != "cluster":
        raise OutputsError(f"stack {stack} is not a cluster stack (its kind is {outputs.get('kind')!r})")


def read_cluster(outputs: Mapping[str, Any], stack: str | None = None) -> Cluster:
    """Check `pulumi stack output --json --show-secrets` of a cluster stack and type it."""
    name = _stack_name(outputs, stack)
    _check_deployed(outputs, name)
    raw_nodes = outputs["nodes"]
    if not isinstance(raw_nodes, list):
        raise OutputsError(f"stack {name}: output nodes is not a list")
    network = _get(outputs, "network", "", Mapping, name)
    jumphost = _get(outputs, "jumphost", "", Mapping, name)
    hypervisor = _get(outputs, "hypervisor", "", Mapping, name)
    cluster = Cluster(
        stack=name, name=_text(outputs, "cluster", "", name), domain=_text(outputs, "domain", "", name),
        topology=_text(outputs, "topology", "", name),
        cidr=_text(network, "cidr", "network.", name), gateway=_text(network, "gateway", "network.", name),
        dns=_text(network, "dns", "network.", name),
        jumphost_address=_text(jumphost, "address", "jumphost.", name),
        jumphost_user=_text(jumphost, "user", "jumphost.", name),
        hypervisors={_text(hypervisor, "name", "hypervisor.", name): _text(hypervisor, "address", "hypervisor.", name)},
        api_vip=_text(outputs, "api_vip", "", name), ingress_vip=_text(outputs, "ingress_vip", "", name),
        nodes=tuple(_node(raw, i, name) for i, raw in enumerate(raw_nodes)), bmc=_bmc(outputs.get("bmc"), name),
        bootstrap=_bootstrap(outputs.get("bootstrap"), name),
        provisionhost_user=_text(outputs, "provisionhost_user", "", name) if outputs.get("provisionhost_user")
        else None,
    )
    _check_nodes(cluster)
    zone = outputs.get("cluster_domain")
    if zone is not None and zone != f"{cluster.name}.{cluster.domain}":
        raise OutputsError(f"stack {name}: output cluster_domain is not <cluster>.<domain> "
                           f"({cluster.name}.{cluster.domain})")
    return cluster


_HOSTNAME = re.compile(r"[a-z0-9]([a-z0-9.-]*[a-z0-9])?", re.IGNORECASE)


def _check_nodes(cluster: Cluster) -> None:
    """Unique host names (they become inventory hosts) and a baremetal MAC on every node."""
    for node in cluster.nodes:
        for value in (node.name, node.fqdn, node.hypervisor):
            if not _HOSTNAME.fullmatch(value):
                raise OutputsError(f"stack {cluster.stack}: {value!r} is not a host name an inventory can hold")
    names = [n.name for n in cluster.nodes]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise OutputsError(f"stack {cluster.stack}: node names repeat: {', '.join(duplicates)}")
    for node in cluster.nodes:
        if "baremetal" not in node.macs:
            raise OutputsError(f"stack {cluster.stack}: node {node.name} has no baremetal MAC")


def require_topology(cluster: Cluster, topology: str) -> None:
    if cluster.topology != topology:
        raise OutputsError(f"stack {cluster.stack} is a {cluster.topology} cluster, not {topology}")


def provisioning_host(cluster: Cluster) -> Node:
    """The IPI cluster's provisioning host: where the installer runs and boots its bootstrap VM."""
    hosts = cluster.by_role("provisionhost")
    if len(hosts) != 1:
        raise OutputsError(f"stack {cluster.stack}: an IPI cluster needs exactly one provisionhost, not {len(hosts)}")
    return hosts[0]


def provisioning_mac(cluster: Cluster, node: Node, what: str) -> str:
    """The MAC of the node's NIC on the provisioning network, which IPI hosts PXE-boot from."""
    if "provisioning" not in node.macs:
        raise OutputsError(f"stack {cluster.stack}: IPI node {node.name} has no provisioning NIC ({what})")
    return node.macs["provisioning"]
