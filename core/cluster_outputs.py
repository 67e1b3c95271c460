"""A cluster stack's outputs (`pulumi stack output --json --show-secrets`) checked and typed once.

What is handed off from a cluster stack renders from these outputs: the DCI inventories
(tools.dci_inventory) and the installer's install-config (renderers.install_config). Reading them
in one place means a field the stacks rename or drop fails the same way for every renderer, with an
error naming the stack, the output and the field.

The outputs cross a trust boundary (whoever can write the stack's state wrote them), and what is
read here ends in INI inventories, which Ansible templates and which cannot mark a value unsafe. So
every field is checked against a full-match allow-list, the config schema's own types where one
exists (DNS labels, domains, IPv4 addresses, CIDRs, MACs, user names, ports): none of them admits
`{`, `}`, `#`, a quote, a blank or a line break, so no value read here can be templated by Ansible
(`{{`, `{%`, `{#`, or a `#jinja2:` header) or add an INI line.

Secrets: `bmc.password` is a Pulumi secret. It is kept out of every repr and no error message
carries a value read from `bmc`: errors name fields, never their values.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from core.cluster_design import ClusterDesign
from core.config_schema import Cidr, Cidr6, Domain, IPv4, IPv4or6, IPv6, Label, Mac, Port, UserName
from core.errors import OcplabError
from core.resource_facts import provisioning_network_name


class OutputsError(OcplabError, ValueError):
    """The outputs can't give what was asked; the message says which stack and what to do."""


@dataclass(frozen=True)
class Node:
    name: str
    role: str
    hypervisor: str
    ip: str | None  # None on an IPv6-only cluster
    fqdn: str
    macs: Mapping[str, str]
    uuid: str
    ip6: str | None = None  # dual-stack and IPv6-only: its IPv6 address

    @property
    def address(self) -> str:
        """Where the node is reached: its IPv4 address, its IPv6 one on an IPv6-only cluster."""
        return self.ip or self.ip6 or ""


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

    ip: str | None  # None on an IPv6-only cluster, whose bootstrap VM has ip6
    mac: str
    fqdn: str
    ip6: str | None = None


@dataclass(frozen=True)
class Cluster:
    """The outputs checked and typed once, so renderers only format."""

    stack: str
    name: str
    domain: str
    topology: str
    cidr: str | None  # None on an IPv6-only lab (cidr6, dns6 alone), as gateway and dns
    gateway: str | None
    dns: str | None
    jumphost_address: str  # its IPv6 address on an IPv6-only lab
    jumphost_user: str
    hypervisors: Mapping[str, str]
    api_vip: str | None  # None on an IPv6-only cluster (api_vip6, ingress_vip6 alone)
    ingress_vip: str | None
    nodes: tuple[Node, ...]
    bmc: Bmc | None
    bootstrap: Bootstrap | None = None
    provisionhost_user: str | None = None  # DCI's user on the provisionhost (core.dci_user), if made
    # "bootstrap"/"cluster" -> RHCOS in the lab's cache, `http://cache...:<port>/<file>?sha256=<hex>` (core.os_images)
    os_images: Mapping[str, str] = field(default_factory=dict)
    cidr6: str | None = None  # dual-stack: the lab's IPv6 prefix and the cluster's IPv6 VIPs
    dns6: str | None = None  # the jumphost's IPv6 address (the lab's DNS and NTP server, and its IPv6 router with nat)
    api_vip6: str | None = None
    ingress_vip6: str | None = None

    def by_role(self, role: str) -> list[Node]:
        return [n for n in self.nodes if n.role == role]


# --- the contract: what a cluster stack exports, field by field -------------------------------------------------


def full_match(regex: str, what: str) -> AfterValidator:
    """A full-match check whose message never quotes the value (it may be the BMC password)."""
    compiled = re.compile(regex)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise ValueError(f"is not {what}")
        return value

    return AfterValidator(check)


Uuid = Annotated[str, full_match(r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}", "a UUID")]
# What core.bmc_plan.bmc_password derives (20 characters of URL-safe base64), with room for a longer one:
# nothing Ansible could template, nothing a shell, YAML or an INI line would split.
BmcPassword = Annotated[str, full_match(r"[A-Za-z0-9_-]{1,64}", "1-64 letters, digits, '_' or '-'")]
# A Pulumi stack name as the CLI takes it (`org/project/stack` included); it is written into headers.
# Bump when an output changes meaning or goes away; readers refuse versions they do not know by name.
CONTRACT_VERSION = 1
READABLE_VERSIONS = (1,)
STACK_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}(/[A-Za-z0-9_.-]{1,100}){0,2}")
# The reader's validators are built when first used: a cluster program only writes these outputs.
_LABEL: TypeAdapter[str] = TypeAdapter(Label, config=ConfigDict(strict=True, defer_build=True))


class _Read(BaseModel):
    """Strict (no "8082" for a port, no true for a number); fields the tools don't read are ignored."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True, defer_build=True)


class _Network(_Read):
    # None on an IPv6-only lab (cidr6 and dns6 alone); read_cluster checks one family is there
    cidr: Cidr | None = None
    gateway: IPv4 | None = None
    dns: IPv4 | None = None
    cidr6: Cidr6 | None = None
    dns6: IPv6 | None = None


class _Jumphost(_Read):
    address: IPv4 | None = None  # None on an IPv6-only lab: address6
    user: UserName
    address6: IPv6 | None = None


class _Hypervisor(_Read):
    name: Label
    address: IPv4or6  # IPv6 on an IPv6-only lab


class _Node(_Read):
    name: Label
    role: Literal["provisionhost", "master", "worker"]
    hypervisor: Label
    ip: IPv4 | None = None
    fqdn: Domain
    macs: Annotated[dict[Label, Mac], Field(max_length=8)]
    uuid: Uuid
    ip6: IPv6 | None = None


class _BmcNode(_Read):
    port: Port | None = None


class _Bmc(_Read):
    kind: Literal["redfish", "ipmi"]
    address: IPv4or6  # IPv6 where BMCs listen on the hypervisor's IPv6 address (an IPv6-only cluster)
    port: Port | None = None
    user: UserName
    password: BmcPassword
    nodes: Annotated[dict[Label, _BmcNode], Field(max_length=512)] | None = None


class _Bootstrap(_Read):
    ip: IPv4 | None = None
    ip6: IPv6 | None = None
    mac: Mac
    fqdn: Domain


# An image of the lab's cache with the sha256 the installer checks (core.os_images; lab_contract.CachedImage's URL).
OsImageUrl = Annotated[str, full_match(r"http://[a-z0-9.-]{1,253}:\d{1,5}/[A-Za-z0-9._-]{1,128}\?sha256=[0-9a-f]{64}",
                                       "http://<cache host>:<port>/<file>?sha256=<64 hex digits>")]


class _OsImages(_Read):
    bootstrap: OsImageUrl | None = None
    cluster: OsImageUrl | None = None


class _Outputs(_Read):
    cluster: Label
    domain: Domain
    cluster_domain: Domain | None = None
    topology: Literal["ipi", "sno"]
    network: _Network
    jumphost: _Jumphost
    hypervisor: _Hypervisor
    api_vip: IPv4 | None = None
    ingress_vip: IPv4 | None = None
    api_vip6: IPv6 | None = None
    ingress_vip6: IPv6 | None = None
    nodes: Annotated[list[_Node], Field(min_length=1, max_length=512)]
    bmc: _Bmc | None = None
    bootstrap: _Bootstrap | None = None
    provisionhost_user: UserName | None = None
    os_images: _OsImages | None = None


# --- errors that name the field -----------------------------------------------------------------------------------

_KEY = re.compile(r"[A-Za-z0-9_-]{1,63}")
_WORDS = {
    "missing": "is missing", "string_type": "is not a string", "int_type": "is not a whole number",
    "dict_type": "is not an object", "model_type": "is not an object", "list_type": "is not a list",
    "too_short": "is empty", "too_long": "has too many entries", "literal_error": "is not one of the known values",
    "greater_than_equal": "is out of range", "less_than_equal": "is out of range", "string_too_long": "is too long",
}


def _where(loc: tuple[int | str, ...]) -> str:
    """`nodes[0].macs.baremetal`; a key that is no plain word (it is the value that failed) is not shown."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part != "[key]":
            path += ("." if path else "") + (part if _KEY.fullmatch(part) else "<key>")
    return path


def _problem(error: Mapping[str, Any], secret: bool) -> str:
    """What is wrong, in words; the value only outside `bmc` (the config schema's patterns quote it)."""
    kind = str(error["type"])
    if kind == "literal_error" and not secret:
        return f"{error.get('input')!r:.80} is not one of {error.get('ctx', {}).get('expected')}"
    if kind in _WORDS:
        return _WORDS[kind] + (" (a key)" if error["loc"][-1:] == ("[key]",) else "")
    text = str(error["msg"]).removeprefix("Value error, ")
    # A key that failed is not shown in the field's name (_where): nor is it here.
    if (secret or error["loc"][-1:] == ("[key]",)) and isinstance(value := error.get("input"), str):
        text = text.removeprefix(f"{value[:80]!r} ")  # core.config_schema's patterns start with the value
    return text if kind == "value_error" else f"is not valid ({kind})"


def _refusal(stack: str, exc: ValidationError) -> OutputsError:
    errors = exc.errors(include_url=False)
    first = errors[0]
    loc = tuple(first["loc"])
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return OutputsError(f"stack {stack}: output {_where(loc)} {_problem(first, loc[:1] == ('bmc',))}{more}")


# --- reading ------------------------------------------------------------------------------------------------------


def _stack_name(outputs: Mapping[str, Any], stack: str | None) -> str:
    """The stack named in errors and inventory headers: the caller's, else the outputs' cluster if it is a label."""
    if stack:
        if not STACK_NAME.fullmatch(stack):
            raise OutputsError(f"{stack[:80]!r} is not a stack name (letters, digits, '_', '.', '-', org/project/)")
        return stack
    try:
        return _LABEL.validate_python(outputs.get("cluster"))
    except ValidationError:
        return "(unnamed)"


def _check_deployed(outputs: Mapping[str, Any], stack: str) -> None:
    """Refuse lab stacks, stacks never brought up and other contract versions before reading any field."""
    if outputs.get("kind") == "lab":
        raise OutputsError(f"stack {stack} is a lab stack; name a cluster stack")
    if not outputs.get("nodes"):
        raise OutputsError(f"stack {stack} has no deployed nodes: run pulumi up first")
    if outputs.get("kind", "cluster") != "cluster":
        raise OutputsError(f"stack {stack} is not a cluster stack (its kind is {str(outputs.get('kind'))[:40]!r})")
    version = outputs.get("version", 1)  # stacks deployed before the contract said its version are version 1
    if isinstance(version, bool) or version not in READABLE_VERSIONS:
        raise OutputsError(f"stack {stack} exports cluster contract version {str(version)[:20]!r}, this ocplab reads "
                           f"{', '.join(map(str, READABLE_VERSIONS))}: run pulumi up -s {stack} with this ocplab first")


def _node(raw: _Node) -> Node:
    return Node(name=raw.name, role=raw.role, hypervisor=raw.hypervisor, ip=raw.ip, fqdn=raw.fqdn,
                macs=dict(raw.macs), uuid=raw.uuid, ip6=raw.ip6)


def _bmc(raw: _Bmc | None, stack: str) -> Bmc | None:
    """None when the lab runs no BMC emulator for this cluster: renderers then write no BMC fields."""
    if raw is None:
        return None
    # sushy-tools serves every node on one port; virtualbmc (ipmi) may give only per-node ports.
    if raw.kind == "redfish" and raw.port is None:
        raise OutputsError(f"stack {stack}: output bmc.port is missing (a redfish BMC has one port)")
    ports = {name: entry.port for name, entry in (raw.nodes or {}).items() if entry.port is not None}
    return Bmc(kind=raw.kind, address=raw.address, port=raw.port, user=raw.user, password=raw.password,
               node_ports=ports, stack=stack)


def _bootstrap(raw: _Bootstrap | None) -> Bootstrap | None:
    """None for SNO, and for outputs written before the stacks planned the bootstrap VM."""
    return None if raw is None else Bootstrap(ip=raw.ip, mac=raw.mac, fqdn=raw.fqdn, ip6=raw.ip6)


def read_cluster(outputs: Mapping[str, Any], stack: str | None = None) -> Cluster:
    """Check `pulumi stack output --json --show-secrets` of a cluster stack and type it."""
    if not isinstance(outputs, Mapping):
        raise OutputsError(f"stack {stack or '(unnamed)'}: the outputs are not an object")
    name = _stack_name(outputs, stack)
    _check_deployed(outputs, name)
    try:
        raw = _Outputs.model_validate(dict(outputs))
    except ValidationError as exc:
        raise _refusal(name, exc) from None
    cluster = Cluster(
        stack=name, name=raw.cluster, domain=raw.domain, topology=raw.topology, cidr=raw.network.cidr,
        gateway=raw.network.gateway, dns=raw.network.dns,
        jumphost_address=raw.jumphost.address or raw.jumphost.address6 or "",
        jumphost_user=raw.jumphost.user, hypervisors={raw.hypervisor.name: raw.hypervisor.address},
        api_vip=raw.api_vip, ingress_vip=raw.ingress_vip, nodes=tuple(_node(n) for n in raw.nodes),
        bmc=_bmc(raw.bmc, name), bootstrap=_bootstrap(raw.bootstrap), provisionhost_user=raw.provisionhost_user,
        os_images=raw.os_images.model_dump(exclude_none=True) if raw.os_images else {},
        cidr6=raw.network.cidr6, dns6=raw.network.dns6, api_vip6=raw.api_vip6, ingress_vip6=raw.ingress_vip6,
    )
    _check_lab_family(raw, name)
    if (cluster.cidr6 is None) != (cluster.api_vip6 is None) or (cluster.api_vip6 is None) != \
            (cluster.ingress_vip6 is None) or any((n.ip6 is None) != (cluster.cidr6 is None) for n in cluster.nodes):
        raise OutputsError(f"stack {name}: outputs network.cidr6, api_vip6, ingress_vip6 and every node's ip6 are "
                           "set together (a dual-stack cluster) or not at all")
    if (cluster.api_vip is None) != (cluster.ingress_vip is None) or any(
            (n.ip is None) != (cluster.api_vip is None) for n in cluster.nodes) or \
            (cluster.api_vip is None and cluster.api_vip6 is None):
        raise OutputsError(f"stack {name}: outputs api_vip, ingress_vip and every node's ip are set together (an "
                           "IPv4 or dual-stack cluster) or not at all (an IPv6-only one, with api_vip6)")
    _check_nodes(cluster)
    if raw.cluster_domain is not None and raw.cluster_domain != f"{cluster.name}.{cluster.domain}":
        raise OutputsError(f"stack {name}: output cluster_domain is not <cluster>.<domain> "
                           f"({cluster.name}.{cluster.domain})")
    return cluster


def _check_lab_family(raw: _Outputs, stack: str) -> None:
    """A lab with IPv4 gives network.cidr, gateway, dns and jumphost.address; an IPv6-only lab none of them, but
    network.cidr6 and jumphost.address6, and its clusters no IPv4 address."""
    ipv4 = {"network.cidr": raw.network.cidr, "network.gateway": raw.network.gateway, "network.dns": raw.network.dns,
            "jumphost.address": raw.jumphost.address}
    missing = [field for field, value in ipv4.items() if value is None]
    if missing and len(missing) < len(ipv4):
        raise OutputsError(f"stack {stack}: output {missing[0]} is missing (a lab with IPv4 gives "
                           f"{', '.join(ipv4)}; an IPv6-only lab none of them)")
    if missing and (raw.network.cidr6 is None or raw.jumphost.address6 is None or raw.api_vip is not None
                    or any(node.ip for node in raw.nodes)):
        raise OutputsError(f"stack {stack}: outputs of a cluster on an IPv6-only lab (no network.cidr) have "
                           "network.cidr6, jumphost.address6 and IPv6 addresses only")


def _check_nodes(cluster: Cluster) -> None:
    """Unique host names (they become inventory hosts) and a baremetal MAC on every node."""
    names = [n.name for n in cluster.nodes]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise OutputsError(f"stack {cluster.stack}: output nodes names a node twice: {', '.join(duplicates)}")
    for index, node in enumerate(cluster.nodes):
        if "baremetal" not in node.macs:
            raise OutputsError(f"stack {cluster.stack}: output nodes[{index}].macs has no baremetal MAC "
                               f"(node {node.name})")


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


# --- writing: what a cluster stack exports (the reader above parses the same fields) ----------------------------

# Every output a cluster stack exports besides `kind`, `bmc` (a secret) and `seed_media`, in export order.
EXPORTED = ("version", "cluster", "domain", "cluster_domain", "topology", "lab", "network", "jumphost", "hypervisor",
            "api_vip", "ingress_vip", "api_vip6", "ingress_vip6", "nodes", "dnsmasq", "assignments", "bootstrap",
            "vrrp", "provisioning", "provisionhost_user", "os_images")


def _provisioning(design: ClusterDesign) -> dict[str, str] | None:
    """Where the provisioning NICs are: the cluster's own libvirt network, or the hypervisor's bridge."""
    config = design.cluster
    if not config.has_provisioning:
        return None
    if config.provisioning_network == "bridged":
        return {"mode": "bridged", "bridge": str(design.hypervisor.provisioning_bridge)}
    return {"mode": "isolated", "network": provisioning_network_name(config.name)}


def cluster_outputs(design: ClusterDesign, uuids: Mapping[str, str], dnsmasq: Mapping[str, str]) -> dict[str, Any]:
    """What DCI and people read: names, roles, MACs, IPs, FQDNs, domain UUIDs, dnsmasq entries, and the
    BMCs without their password (it joins them only as a secret: see core.bmc_plan)."""
    config, plan = design.cluster, design.plan
    return {
        "version": CONTRACT_VERSION,
        "cluster": config.name, "domain": design.domain, "cluster_domain": design.zone,
        "topology": config.topology, "lab": config.lab,
        # An IPv4 lab's network has no IPv6 keys: a cluster deployed before dual-stack sees no change; an IPv6-only
        # lab's (contract version 3) no IPv4 keys, and its jumphost and hypervisor are named by their IPv6 address.
        "network": {k: v for k, v in asdict(design.network).items() if v is not None},
        "jumphost": {k: v for k, v in asdict(design.jumphost).items() if v is not None or k == "ssh_key_path"},
        "hypervisor": {"name": config.hypervisor, "address": design.hypervisor.ssh_address},
        "api_vip": plan.api_vip, "ingress_vip": plan.ingress_vip,
        "api_vip6": plan.api_vip6, "ingress_vip6": plan.ingress_vip6,  # None (no output) on an IPv4 cluster
        "provisioning": _provisioning(design),
        "nodes": [{"name": n.name, "role": n.role, "hypervisor": config.hypervisor,
                   **({"ip": ip} if (ip := plan.nodes[n.name].ip) else {}),  # none on an IPv6-only cluster
                   "fqdn": f"{n.name}.{design.zone}", "macs": dict(plan.nodes[n.name].macs), "uuid": uuids[n.name],
                   "memory_mib": n.memory_mib, "vcpus": n.vcpus, "disk_bytes": n.disk_bytes,
                   **({"ip6": ip6} if (ip6 := plan.nodes[n.name].ip6) else {})} for n in config.nodes],
        "dnsmasq": dict(dnsmasq),
        "assignments": plan.as_dict(),
        "bootstrap": {**({"ip": plan.bootstrap.ip} if plan.bootstrap.ip else {"ip6": plan.bootstrap.ip6}),
                      "mac": plan.bootstrap.macs["baremetal"],
                      "fqdn": f"bootstrap.{design.zone}"} if plan.bootstrap else None,
        "vrrp": design.vrrp.as_dict() if design.vrrp else None,
        "bmc": design.bmc.public() if design.bmc else None,
        "provisionhost_user": config.dci_user.name if config.dci_user else None,
        "os_images": dict(design.os_images) if design.os_images else None,  # none: the installer's own RHCOS
    }
