"""A cluster stack's configuration: topology, nodes in the seed's terms, validated up front.

Either role counts with per-role sizes, or an explicit `hosts` list as dci-openshift-agent's
libvirt inventories write it (name, memory, vcpus, disk_size, disk2_size, disk_cache, disk_bus,
cpu_mode, networks with pinned MACs, users, run_commands).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, cast

from core.config_schema import ClusterSchema, checked
from core.dci_first_boot import FirstBoot, first_boot_of, keypair_command, user_fields
from core.errors import Problems
from core.macs import mac_problem
from core.names import label_problem
from core.seed_media import SeedMedia
from core.sizes import parse_bytes, parse_count

TOPOLOGIES = ("ipi", "sno")
ROLES = ("provisionhost", "master", "worker")
DISK_BUSES = ("virtio", "virtio_scsi", "scsi", "sata", "ide")
DISK_CACHES = ("none", "writethrough", "writeback", "directsync", "unsafe", "default")
CPU_MODES = ("host-passthrough", "host-model", "custom", "maximum")
NETWORKS = ("baremetal", "provisioning")

# The seed's minimums (provisionhost and masters 16 GiB @ 8 vCPU, workers twice that, SNO 16 GiB).
DEFAULT_SIZES: dict[str, dict[str, Any]] = {
    "provisionhost": {"memory": 16384, "vcpus": 8, "disk_size": "42G"},
    "master": {"memory": 16384, "vcpus": 8, "disk_size": "42G"},
    "worker": {"memory": 32768, "vcpus": 16, "disk_size": "42G", "disk2_size": "150G"},
    "sno": {"memory": 16384, "vcpus": 8, "disk_size": "120G"},
}


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
    # DCI's user on the provisionhost (core.dci_first_boot), already merged into its users and run_commands;
    # its controller key joins at render time. None: SNO, `ocplab:dci.user: null`, or kept off for a stack
    # deployed before it was the default.
    first_boot: FirstBoot | None = None
    # ocplab:seed_media: cloud-init seeds as files the hypervisor makes, or as libvirt volumes the provider uploads
    # (hypervisors with no ISO maker). None: as the stack was deployed, else files (core.seed_media).
    seed_media: SeedMedia | None = None

    @property
    def has_provisioning(self) -> bool:
        return any("provisioning" in n.networks for n in self.nodes)

    @property
    def isolated_provisioning(self) -> bool:
        """A libvirt network of its own: what the cluster's provisioning NICs attach to unless bridged."""
        return self.has_provisioning and self.provisioning_network == "isolated"

    def by_role(self, role: str) -> list[NodeSpec]:
        return [n for n in self.nodes if n.role == role]


def _role_of(name: str, entry: Mapping[str, Any], topology: str) -> str | None:
    role = entry.get("role")
    if isinstance(role, str):
        return role
    if topology == "sno":
        return "master"
    return next((r for r in ROLES if r in name), None)


def _choice(entry: Mapping[str, Any], key: str, allowed: tuple[str, ...], default: str, where: str,
            problems: Problems) -> str:
    value = entry.get(key, default)
    if value not in allowed:
        problems.add(f"{where}.{key}", f"{value!r} is not one of {', '.join(allowed)}")
        return default
    return str(value)


def _users(raw: Any, where: str, problems: Problems) -> tuple[User, ...]:
    users: list[User] = []
    for index, item in enumerate(raw or []):
        if not isinstance(item, Mapping) or not isinstance(item.get("name"), str):
            problems.add(f"{where}.users[{index}]", "each user needs a name")
            continue
        keys = item.get("ssh_authorized_keys", []) or []
        extra = {k: v for k, v in item.items() if k not in ("name", "ssh_authorized_keys")}
        users.append(User(name=item["name"], ssh_authorized_keys=tuple(map(str, keys)), extra=extra))
    return tuple(users)


def _node(entry: Mapping[str, Any], index: int, topology: str, defaults: Mapping[str, Any],
          image: str, problems: Problems) -> NodeSpec | None:
    where = f"ocplab:hosts[{index}]"
    name = entry.get("name")
    if problem := label_problem(name):
        problems.add(f"{where}.name", problem)
        return None
    assert isinstance(name, str)
    where = f"ocplab:hosts.{name}"
    role = _role_of(name, entry, topology)
    if role not in ROLES:
        problems.add(f"{where}.role", f"{role!r} is not one of {', '.join(ROLES)}; "
                     "set role, or put provisionhost/master/worker in the name")
        return None
    sizes = {**DEFAULT_SIZES["sno" if topology == "sno" else role], **entry}
    numbers: dict[str, int | None] = {}
    for key, parse in (("memory", parse_count), ("vcpus", parse_count)):
        try:
            numbers[key] = parse(sizes[key])
            if not numbers[key]:
                raise ValueError("must be at least 1")
        except ValueError as exc:
            problems.add(f"{where}.{key}", f"{exc}; write a whole number ({'MiB' if key == 'memory' else 'count'})")
    for key in ("disk_size", "disk2_size"):
        try:
            numbers[key] = parse_bytes(sizes[key]) if sizes.get(key) not in (None, "", 0) else None
        except ValueError as exc:
            problems.add(f"{where}.{key}", str(exc))
    networks_raw = entry.get("networks") or [{"name": "baremetal"}] + (
        [{"name": "provisioning"}] if topology == "ipi" else [])
    networks: list[str] = []
    macs: dict[str, str] = {}
    pinned_ip: str | None = None
    for net_index, net in enumerate(networks_raw):
        net_name = net.get("name") if isinstance(net, Mapping) else None
        if net_name not in NETWORKS:
            problems.add(f"{where}.networks[{net_index}].name", f"{net_name!r} is not one of {', '.join(NETWORKS)}")
            continue
        assert isinstance(net, Mapping)
        networks.append(str(net_name))
        if net.get("mac") is not None:
            if problem := mac_problem(net["mac"]):
                problems.add(f"{where}.networks[{net_index}].mac", problem)
            else:
                macs[str(net_name)] = str(net["mac"]).lower()
        if net.get("ip") is not None:
            if net_name != "baremetal":
                problems.add(f"{where}.networks[{net_index}].ip", "only the baremetal NIC has a lab address; "
                             "remove ip from the provisioning NIC")
            else:
                pinned_ip = str(net["ip"])
    if "baremetal" not in networks:
        problems.add(f"{where}.networks", "every node needs a baremetal NIC (its DHCP address comes from there)")
    def default(key: str, fallback: str) -> str:
        given = defaults.get(key)  # an explicit null is "not given", as the schema takes it
        return fallback if given is None else str(given)

    run_commands = entry.get("run_commands", []) or []
    if not isinstance(run_commands, list) or not all(isinstance(c, str) for c in run_commands):
        problems.add(f"{where}.run_commands", "must be a list of shell command strings")
        run_commands = []
    return NodeSpec(
        name=name, role=role, memory_mib=numbers.get("memory") or 1, vcpus=numbers.get("vcpus") or 1,
        disk_bytes=numbers.get("disk_size") or 0, disk2_bytes=numbers.get("disk2_size"),
        disk_cache=_choice(sizes, "disk_cache", DISK_CACHES, default("disk_cache", "unsafe"), where, problems),
        disk_bus=_choice(sizes, "disk_bus", DISK_BUSES, default("disk_bus", "virtio"), where, problems),
        cpu_mode=_choice(sizes, "cpu_mode", CPU_MODES, default("cpu_mode", "host-passthrough"), where, problems),
        image=str(entry.get("image", image)), networks=tuple(networks), pinned_macs=macs,
        users=_users(entry.get("users"), where, problems), run_commands=tuple(run_commands), pinned_ip=pinned_ip,
    )


def _hosts_from_counts(values: Mapping[str, Any], topology: str, problems: Problems) -> list[dict[str, Any]]:
    """Expand role counts (masters, workers) into host entries named like the seed's."""
    sizes = values.get("sizes", {}) or {}
    if not isinstance(sizes, Mapping):
        problems.add("ocplab:sizes", "must map roles to {memory, vcpus, disk_size, ...}")
        sizes = {}
    if topology == "sno":
        return [{"name": "sno", "role": "master", **dict(sizes.get("sno") or {})}]
    counts: dict[str, int] = {}
    for key, default in (("masters", 3), ("workers", 2)):
        try:
            counts[key] = parse_count(values.get(key, default))
        except ValueError as exc:
            problems.add(f"ocplab:{key}", str(exc))
            counts[key] = default
    provisionhost = dict(values.get("provisionhost", {}) or {})
    def size(role: str) -> dict[str, Any]:  # `master:` with nothing under it is YAML's None
        return dict(sizes.get(role) or {})

    hosts = [{"name": "provisionhost", "role": "provisionhost", **size("provisionhost"), **provisionhost}]
    hosts += [{"name": f"master-{i}", "role": "master", **size("master")} for i in range(counts["masters"])]
    hosts += [{"name": f"worker-{i}", "role": "worker", **size("worker")} for i in range(counts["workers"])]
    return hosts


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


def _pinned_vips(values: Mapping[str, Any], topology: str, problems: Problems) -> dict[str, str]:
    vips = {key: str(ip) for key, ip in (values.get("vips") or {}).items() if ip is not None}
    if vips and topology != "ipi":
        problems.add("ocplab:vips", "only an IPI cluster has API and ingress VIPs; an SNO cluster answers on its node")
        return {}
    return vips


def _check_pinned_addresses(nodes: list[NodeSpec], vips: Mapping[str, str], problems: Problems) -> None:
    pins = [(f"ocplab:vips.{key}", f"the {key} VIP", ip) for key, ip in vips.items()]
    pins += [(f"ocplab:hosts.{n.name}.networks.baremetal.ip", n.name, n.pinned_ip) for n in nodes if n.pinned_ip]
    holders: dict[str, str] = {}
    for where, what, ip in pins:
        if ip in holders:
            problems.add(where, f"{ip} is already pinned for {holders[ip]}; each node and VIP needs its own address")
        else:
            holders[ip] = what


def parse_cluster_config(stack: str, values: Mapping[str, Any], dci_default: bool = True) -> ClusterConfig:
    """Check `values` against the schema, then build the config; raise ConfigError with every problem.
    `dci_default=False` leaves DCI's user off unless the stack sets ocplab:dci (see keeps_earlier_provisionhost)."""
    return checked(ClusterSchema, values, lambda v: _parse_cluster_config(stack, v, dci_default))


def _with_first_boot(nodes: list[NodeSpec], first: FirstBoot, listed: bool, problems: Problems) -> list[NodeSpec]:
    """DCI's user merged into the provisionhost's own users, its key pair command after the stack's commands."""
    def merged(node: NodeSpec, index: int) -> NodeSpec:
        users = list(node.users)
        at = next((i for i, u in enumerate(users) if u.name == first.user), None)
        fields, problem = user_fields(users[at].extra if at is not None else None, first.user)
        if problem:
            where = f"ocplab:hosts[{index}]" if listed else "ocplab:provisionhost"
            problems.add(f"{where}.users[{at}].sudo", problem)
        if at is None:
            users.append(User(name=first.user, extra=fields))
        else:
            users[at] = replace(users[at], extra=fields)
        return replace(node, users=tuple(users), run_commands=(*node.run_commands, keypair_command(first.user)))

    return [merged(n, i) if n.role == "provisionhost" else n for i, n in enumerate(nodes)]


def _parse_cluster_config(stack: str, values: Mapping[str, Any], dci_default: bool = True) -> ClusterConfig:
    """Build a ClusterConfig from `ocplab:*` values of a cluster stack; raise ConfigError."""
    problems = Problems()
    name = str(values.get("cluster") or stack)
    if problem := label_problem(name):
        problems.add("ocplab:cluster", problem)
    lab = values.get("lab")
    if not isinstance(lab, str) or not lab:
        problems.add("ocplab:lab", "is required: the name of the lab stack this cluster belongs to")
    topology = values.get("topology", "ipi")
    if topology not in TOPOLOGIES:
        problems.add("ocplab:topology", f"{topology!r} is not one of {', '.join(TOPOLOGIES)}")
        topology = "ipi"
    hypervisor = values.get("hypervisor")
    if problem := label_problem(hypervisor):
        problems.add("ocplab:hypervisor", f"{problem}; name a hypervisor of the lab stack")
    domain_type = values.get("domain_type", "kvm")
    if domain_type not in ("kvm", "qemu"):
        problems.add("ocplab:domain_type", f"{domain_type!r} is not kvm or qemu (qemu = TCG, no hardware acceleration)")
    start = values.get("start", True)
    if not isinstance(start, bool):
        problems.add("ocplab:start", f"{start!r} is not true or false (false: define the domains, do not start them)")
        start = True
    provisioning = values.get("provisioning_network", "isolated")
    if provisioning not in ("isolated", "bridged"):
        problems.add("ocplab:provisioning_network", f"{provisioning!r} is not isolated or bridged")
    elif provisioning == "bridged" and topology != "ipi":
        problems.add("ocplab:provisioning_network", "bridged is for IPI clusters (an SNO node has no provisioning NIC)")
    seed_media = values.get("seed_media")  # file or volume: core.config_schema checked it
    defaults = values.get("defaults", {}) or {}
    raw_hosts = values.get("hosts")
    if raw_hosts is not None and not isinstance(raw_hosts, list):
        problems.add("ocplab:hosts", "must be a list of hosts")
        raw_hosts = []
    entries = raw_hosts if raw_hosts else _hosts_from_counts(values, str(topology), problems)
    image = str(values.get("image", "rhcos"))
    nodes = [node for index, entry in enumerate(entries)
             if (node := _node(entry if isinstance(entry, Mapping) else {}, index, str(topology), defaults, image,
                               problems))]
    if len(nodes) == len(entries):
        _check_topology(str(topology), nodes, problems)
    _check_unique(nodes, problems)
    vips = _pinned_vips(values, str(topology), problems)
    _check_pinned_addresses(nodes, vips, problems)
    first_boot = first_boot_of(values, str(topology), problems)
    if first_boot is not None and not (dci_default or first_boot.explicit):
        first_boot = None
    if first_boot is not None:
        nodes = _with_first_boot(nodes, first_boot, bool(raw_hosts), problems)
    problems.raise_if_any()
    return ClusterConfig(name=name, lab=str(lab), topology=str(topology), hypervisor=str(hypervisor),
                         domain_type=str(domain_type), nodes=tuple(nodes), start=start, pinned_vips=vips,
                         provisioning_network=str(provisioning), first_boot=first_boot,
                         seed_media=cast("SeedMedia | None", seed_media))
