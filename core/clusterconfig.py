"""A cluster stack's configuration: topology, nodes in the seed's terms, validated up front.

Either role counts with per-role sizes, or an explicit `hosts` list as dci-openshift-agent's
libvirt inventories write it (name, memory, vcpus, disk_size, disk2_size, disk_cache, disk_bus,
cpu_mode, networks with pinned MACs, users, run_commands). core.config_schema validates the
values once; its model becomes the nodes here, and what spans fields (topology, unique names and
MACs, pinned addresses, DCI's user) is checked here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, get_args

from core.config_schema import (
    ClusterSchema,
    HostSchema,
    NetworkName,
    NicSchema,
    Role,
    SizeSchema,
    UefiSchema,
    UserSchema,
    validated,
)
from core.dci_user import DciUser, dci_user_of, keypair_command, user_fields
from core.errors import Problems
from core.firmware import FIRMWARE_OF, UefiFiles
from core.ip_families import per_family, split_vips
from core.names import label_problem
from core.os_images import config_problems as os_image_problems
from core.os_images import os_images_of
from core.seed_media import SeedMedia
from core.sizes import parse_bytes

ROLES: tuple[Role, ...] = get_args(Role)
NETWORKS: tuple[NetworkName, ...] = get_args(NetworkName)

# The seed's minimums (provisionhost and masters 16 GiB @ 8 vCPU, workers twice that, SNO 16 GiB).
DEFAULT_SIZES: dict[str, dict[str, Any]] = {
    "provisionhost": {"memory": 16384, "vcpus": 8, "disk_size": "42G"},
    "master": {"memory": 16384, "vcpus": 8, "disk_size": "42G"},
    "worker": {"memory": 32768, "vcpus": 16, "disk_size": "42G", "disk2_size": "150G"},
    "sno": {"memory": 16384, "vcpus": 8, "disk_size": "120G"},
}
# What a node's disk_cache, disk_bus and cpu_mode are when neither it nor ocplab:defaults says.
DEFAULT_DEVICES = {"disk_cache": "unsafe", "disk_bus": "virtio", "cpu_mode": "host-passthrough"}
DISKS = ("disk_size", "disk2_size")


@dataclass(frozen=True)
class User:
    name: str
    ssh_authorized_keys: tuple[str, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class NodeSpec:
    name: str
    role: str
    memory_mib: int
    vcpus: int
    disk_bytes: int
    disk2_bytes: int | None
    disk_cache: str
    disk_bus: str
    cpu_mode: str
    image: str
    networks: tuple[str, ...]
    pinned_macs: Mapping[str, str]
    users: tuple[User, ...] = ()
    run_commands: tuple[str, ...] = ()
    pinned_ip: str | None = None  # the baremetal address a lab already gives it (kept by `ocplab import`)
    pinned_ip6: str | None = None  # the same, IPv6 (networks[].ip's IPv6 member)

    @property
    def needs_cloud_init(self) -> bool:
        return bool(self.users or self.run_commands)


@dataclass(frozen=True)
class ClusterConfig:
    name: str
    lab: str
    topology: str
    hypervisor: str
    domain_type: str
    nodes: tuple[NodeSpec, ...]
    start: bool = True  # ocplab:start: false defines the domains without starting them
    # isolated: a libvirt network of the cluster's own; bridged: the hypervisor's provisioning bridge, on the
    # lab's second NIC, so servers elsewhere (a hub's bare-metal spokes) share the provisioning network
    provisioning_network: str = "isolated"
    pinned_vips: Mapping[str, str] = field(default_factory=dict)  # "api"/"ingress" -> address (ocplab:vips)
    pinned_vips6: Mapping[str, str] = field(default_factory=dict)  # the same, IPv6 (dual-stack)
    # DCI's user on the provisionhost (core.dci_user), already merged into its users and run_commands;
    # its controller key joins at render time. None: SNO, `ocplab:dci.user: null`, or kept off for a stack
    # deployed before it was the default.
    dci_user: DciUser | None = None
    # ocplab:seed_media: cloud-init seeds as files the hypervisor makes, or as libvirt volumes the provider uploads
    # (hypervisors with no ISO maker). None: as the stack was deployed, else files (core.seed_media).
    seed_media: SeedMedia | None = None
    # OVMF for a cluster whose topology boots UEFI (core.firmware: SNO); None for the others.
    uefi: UefiFiles | None = None
    # ocplab:os_images: "bootstrap"/"cluster" -> an image of the lab's cache (core.os_images); empty: the installer's
    os_images: Mapping[str, str] = field(default_factory=dict)

    @property
    def has_provisioning(self) -> bool:
        return any("provisioning" in n.networks for n in self.nodes)

    @property
    def isolated_provisioning(self) -> bool:
        """A libvirt network of its own: what the cluster's provisioning NICs attach to unless bridged."""
        return self.has_provisioning and self.provisioning_network == "isolated"

    def by_role(self, role: str) -> list[NodeSpec]:
        return [n for n in self.nodes if n.role == role]


@dataclass(frozen=True)
class _Host:
    """One node as the stack writes it: a `hosts` entry, or one a role count makes (`sizes`, `provisionhost`)."""

    name: str
    role: str | None
    sizes: Mapping[str, Any]  # what the stack sets, over the role's defaults
    users: tuple[UserSchema, ...] = ()
    run_commands: tuple[str, ...] = ()
    networks: tuple[NicSchema, ...] | None = None


def _given(layer: SizeSchema | None) -> dict[str, Any]:
    """The sizes a layer sets. A null is "not given", but a null disk is no disk (as 0 is, as it always was)."""
    if layer is None:
        return {}
    return {key: getattr(layer, key) for key in SizeSchema.model_fields
            if key in layer.model_fields_set and (getattr(layer, key) is not None or key in DISKS)}


def _listed(host: HostSchema) -> _Host:
    nets = None if host.networks is None else tuple(host.networks)
    return _Host(name=host.name, role=host.role, sizes=_given(host), users=tuple(host.users),
                 run_commands=tuple(host.run_commands), networks=nets)


def _counted(config: ClusterSchema) -> list[_Host]:
    """Role counts (masters, workers) expanded into hosts named like the seed's."""
    sizes = config.sizes
    if config.topology == "sno":
        return [_Host(name="sno", role="master", sizes=_given(sizes.sno))]
    own = config.provisionhost
    hosts = [_Host(name="provisionhost", role="provisionhost", sizes={**_given(sizes.provisionhost), **_given(own)},
                   users=tuple(own.users), run_commands=tuple(own.run_commands))]
    hosts += [_Host(name=f"master-{i}", role="master", sizes=_given(sizes.master)) for i in range(config.masters)]
    hosts += [_Host(name=f"worker-{i}", role="worker", sizes=_given(sizes.worker)) for i in range(config.workers)]
    return hosts


def _role_of(host: _Host, topology: str) -> str | None:
    if host.role is not None:
        return host.role
    if topology == "sno":
        return "master"
    return next((r for r in ROLES if r in host.name), None)


def _user(user: UserSchema) -> User:
    extra = {k: v for k, v in user.written().items() if k not in ("name", "ssh_authorized_keys")}
    return User(name=user.name, ssh_authorized_keys=tuple(user.ssh_authorized_keys), extra=extra)


def _nics(host: _Host, topology: str,
          problems: Problems) -> tuple[tuple[str, ...], dict[str, str], dict[int, str]]:
    """The node's networks, its pinned MACs and its pinned lab addresses by family (the baremetal NIC's only)."""
    where = f"ocplab:hosts.{host.name}"
    default: tuple[NetworkName, ...] = ("baremetal", "provisioning") if topology == "ipi" else ("baremetal",)
    nets = host.networks or tuple(NicSchema(name=name) for name in default)
    macs: dict[str, str] = {nic.name: nic.mac.lower() for nic in nets if nic.mac is not None}
    pinned: dict[int, str] = {}
    for index, nic in enumerate(nets):
        if nic.ip is not None and nic.name != "baremetal":
            problems.add(f"{where}.networks[{index}].ip", "only the baremetal NIC has a lab address; "
                         "remove ip from the provisioning NIC")
        elif nic.ip is not None:
            pinned = per_family(nic.ip, f"{where}.networks.baremetal.ip", problems)
    if "baremetal" not in (names := tuple(nic.name for nic in nets)):
        problems.add(f"{where}.networks", "every node needs a baremetal NIC (its DHCP address comes from there)")
    return names, macs, pinned


def _node(host: _Host, config: ClusterSchema, problems: Problems) -> NodeSpec | None:
    role = _role_of(host, config.topology)
    if role not in ROLES:
        problems.add(f"ocplab:hosts.{host.name}.role", f"{role!r} is not one of {', '.join(ROLES)}; "
                     "set role, or put provisionhost/master/worker in the name")
        return None
    sizes = {**DEFAULT_SIZES["sno" if config.topology == "sno" else role], **host.sizes}
    given = config.defaults.model_dump(exclude_none=True)  # an explicit null default is "not given"
    devices = {key: sizes.get(key) or given.get(key) or fallback for key, fallback in DEFAULT_DEVICES.items()}
    disk2 = sizes.get("disk2_size")
    networks, macs, pinned = _nics(host, config.topology, problems)
    return NodeSpec(
        name=host.name, role=role, memory_mib=sizes["memory"], vcpus=sizes["vcpus"],
        disk_bytes=parse_bytes(sizes.get("disk_size") or 0), disk2_bytes=parse_bytes(disk2) if disk2 else None,
        image=sizes.get("image") or config.image, networks=networks, pinned_macs=macs, pinned_ip=pinned.get(4),
        pinned_ip6=pinned.get(6),
        users=tuple(map(_user, host.users)), run_commands=host.run_commands, **devices)


def _check_topology(topology: str, nodes: list[NodeSpec], problems: Problems) -> None:
    roles = [n.role for n in nodes]
    if topology == "sno":
        if len(nodes) != 1:
            problems.add("ocplab:hosts", f"an SNO cluster has exactly one node, not {len(nodes)}")
        return
    if roles.count("provisionhost") != 1:
        count = roles.count("provisionhost")
        problems.add("ocplab:hosts", f"an IPI cluster needs exactly one provisionhost, not {count}")
    if roles.count("master") != 3:
        problems.add("ocplab:masters", f"an IPI cluster needs 3 masters, not {roles.count('master')}")


def _check_unique(nodes: list[NodeSpec], problems: Problems) -> None:
    seen: set[str] = set()
    for node in nodes:
        if node.name in seen:
            problems.add(f"ocplab:hosts.{node.name}", "node name used twice; names must be unique")
        seen.add(node.name)
    owners: dict[str, str] = {}
    for node in nodes:
        for net, mac in node.pinned_macs.items():
            if mac in owners:
                problems.add(f"ocplab:hosts.{node.name}.networks.{net}.mac",
                             f"{mac} is already pinned on {owners[mac]}; each NIC needs its own MAC")
            owners[mac] = f"{node.name}/{net}"


def _pinned_vips(config: ClusterSchema, problems: Problems) -> tuple[dict[str, str], dict[str, str]]:
    """The IPv4 and the IPv6 pins (core.ip_families)."""
    vips = config.vips.model_dump(exclude_none=True) if config.vips else {}
    if vips and config.topology != "ipi":
        problems.add("ocplab:vips", "only an IPI cluster has API and ingress VIPs; an SNO cluster answers on its node")
        return {}, {}
    return split_vips(vips, problems)


def _check_pinned_addresses(nodes: list[NodeSpec], vips: Mapping[str, str], vips6: Mapping[str, str],
                             problems: Problems) -> None:
    """No address pinned twice, in either family."""
    pins = [(f"ocplab:vips.{key}", f"the {key} VIP", ip) for pinned in (vips, vips6) for key, ip in pinned.items()]
    pins += [(f"ocplab:hosts.{n.name}.networks.baremetal.ip", n.name, ip) for n in nodes
             for ip in (n.pinned_ip, n.pinned_ip6) if ip]
    holders: dict[str, str] = {}
    for where, what, ip in pins:
        if ip in holders:
            problems.add(where, f"{ip} is already pinned for {holders[ip]}; each node and VIP needs its own address")
        else:
            holders[ip] = what


def _check_stack(name: str, config: ClusterSchema, problems: Problems) -> None:
    """What the schema cannot see: the stack's own name (the cluster's unless ocplab:cluster), bridged on SNO."""
    if problem := label_problem(name):
        problems.add("ocplab:cluster", problem)
    if config.provisioning_network == "bridged" and config.topology != "ipi":
        problems.add("ocplab:provisioning_network", "bridged is for IPI clusters (an SNO node has no provisioning NIC)")


def _with_dci_user(nodes: list[NodeSpec], dci: DciUser, listed: bool, problems: Problems) -> list[NodeSpec]:
    """DCI's user merged into the provisionhost's own users, its key pair command after the stack's commands."""
    def merged(node: NodeSpec, index: int) -> NodeSpec:
        users = list(node.users)
        at = next((i for i, u in enumerate(users) if u.name == dci.name), None)
        fields, problem = user_fields(users[at].extra if at is not None else None, dci.name)
        if problem:
            where = f"ocplab:hosts[{index}]" if listed else "ocplab:provisionhost"
            problems.add(f"{where}.users[{at}].sudo", problem)
        if at is None:
            users.append(User(name=dci.name, extra=fields))
        else:
            users[at] = replace(users[at], extra=fields)
        return replace(node, users=tuple(users), run_commands=(*node.run_commands, keypair_command(dci.name)))

    return [merged(n, i) if n.role == "provisionhost" else n for i, n in enumerate(nodes)]


def parse_cluster_config(stack: str, values: Mapping[str, Any], dci_default: bool = True) -> ClusterConfig:
    """Check `values` (keys without the `ocplab:` prefix) against the schema, then build the config from the
    validated model and check what spans fields; raise ConfigError with every problem. `dci_default=False`
    leaves DCI's user off unless the stack sets ocplab:dci (see keeps_provisionhost_as_deployed)."""
    config = validated(ClusterSchema, values)
    problems = Problems()
    name = config.cluster or stack
    _check_stack(name, config, problems)
    hosts = list(map(_listed, config.hosts)) if config.hosts else _counted(config)
    nodes = [node for host in hosts if (node := _node(host, config, problems))]
    if len(nodes) == len(hosts):
        _check_topology(config.topology, nodes, problems)
    _check_unique(nodes, problems)
    vips, vips6 = _pinned_vips(config, problems)
    _check_pinned_addresses(nodes, vips, vips6, problems)
    dci_user = dci_user_of(config.dci, "dci" in config.model_fields_set, config.topology, problems)
    if dci_user is not None and not (dci_default or dci_user.explicit):
        dci_user = None
    if dci_user is not None:
        nodes = _with_dci_user(nodes, dci_user, bool(config.hosts), problems)
    uefi = _uefi(config, problems)
    os_images = os_images_of(config.os_images)
    for where, problem in os_image_problems(config.topology, os_images, config.os_images is not None):
        problems.add(where, problem)
    problems.raise_if_any()
    return ClusterConfig(name=name, lab=config.lab, topology=config.topology, hypervisor=config.hypervisor,
                         domain_type=config.domain_type, nodes=tuple(nodes), start=config.start, pinned_vips=vips,
                         pinned_vips6=vips6,
                         provisioning_network=config.provisioning_network, dci_user=dci_user,
                         seed_media=config.seed_media, uefi=uefi, os_images=os_images)


def _uefi(config: ClusterSchema, problems: Problems) -> UefiFiles | None:
    """The OVMF files of a topology that boots UEFI (the schema's defaults unless given); refused elsewhere, where
    they would be silently unused."""
    if FIRMWARE_OF[config.topology] != "uefi":
        if config.uefi is not None:
            problems.add("ocplab:uefi", "an IPI cluster's domains boot BIOS (core.firmware); only an SNO cluster's "
                         "node boots UEFI: remove it")
        return None
    files = config.uefi or UefiSchema()
    return UefiFiles(code=files.code, vars=files.vars)
