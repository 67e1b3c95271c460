"""The lab stack's configuration: parsed and fully validated before any resource is declared.

Input is the plain mapping of `ocplab:*` config values (what `pulumi.Config` returns as objects),
so the rules are unit-tested without an engine. Every problem names the config field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import netaddr

from core.addresses import AddressRange
from core.bmc_plan import BMC_KIND, BMC_KINDS, PortRange
from core.config_schema import LabSchema, checked
from core.errors import Problems
from core.names import domain_problem, label_problem
from core.sizes import parse_bytes

BRIDGE_BACKENDS = ("nmcli", "iproute2")


@dataclass(frozen=True)
class SshTarget:
    """How to reach a host over SSH; the private key is never held here, only where it lives."""

    address: str
    user: str
    port: int = 22


@dataclass(frozen=True)
class Jumphost:
    ssh: SshTarget
    interface: str
    key_path: str | None
    known_hosts: str  # host keys are always pinned: without one given, the user's own known_hosts


@dataclass(frozen=True)
class HostCapacity:
    """The capacity a lab admin expects a hypervisor to have (`ocplab plan --planned`); once the lab is
    deployed, libvirt's figures count instead."""

    vcpus: int
    memory_mib: int
    disk_bytes: int | None = None


@dataclass(frozen=True)
class Hypervisor:
    name: str
    ssh: SshTarget
    nic: str
    bridge: str
    bridge_backend: str
    pool_path: str
    capacity: HostCapacity | None = None
    provisioning_nic: str | None = None  # a second NIC, bridged with no address for bridged provisioning
    provisioning_bridge: str = "br1"

    @property
    def network_name(self) -> str:
        """The libvirt network name clusters attach their baremetal NICs to."""
        return f"ocplab-{self.bridge}"

    @property
    def pool_name(self) -> str:
        return "ocplab"

    @staticmethod
    def base_volume_name(image: str) -> str:
        """The base image's volume in the pool; libvirt's id for it is its path under pool_path."""
        return f"base-{image}.qcow2"


@dataclass(frozen=True)
class Slice:
    """The addresses one cluster may use, and the hypervisor it lives on."""

    cluster: str
    hypervisor: str
    range: AddressRange
    bmc_ports: PortRange | None = None
    bmc: str = BMC_KIND  # ipmi: a virtualbmc per node and port; redfish: one sushy-tools emulator on the first port


@dataclass(frozen=True)
class Network:
    cidr: netaddr.IPNetwork
    gateway: netaddr.IPAddress
    dns_upstream: tuple[str, ...]
    reserved: tuple[AddressRange, ...]
    lease_time: str


@dataclass(frozen=True)
class LabConfig:
    name: str
    domain: str
    network: Network
    jumphost: Jumphost
    hypervisors: tuple[Hypervisor, ...]
    images: Mapping[str, str]
    slices: tuple[Slice, ...]
    overcommit: Mapping[str, float] = field(default_factory=lambda: {"cpu": 1.0, "memory": 1.0})

    def hypervisor(self, name: str) -> Hypervisor:
        return next(h for h in self.hypervisors if h.name == name)

    def slice_of(self, cluster: str) -> Slice | None:
        return next((s for s in self.slices if s.cluster == cluster), None)


def _mapping(value: Any, field_name: str, problems: Problems) -> Mapping[str, Any]:
    if isinstance(value, Mapping):
        return value
    problems.add(field_name, "is missing or not a mapping")
    return {}


def _text(source: Mapping[str, Any], key: str, field_name: str, problems: Problems,
          default: str | None = None) -> str:
    value = source.get(key, default)
    if isinstance(value, str) and value:
        return value
    problems.add(f"{field_name}.{key}", "is required (a non-empty string)")
    return ""


def _address(text: str, field_name: str, problems: Problems) -> netaddr.IPAddress | None:
    try:
        return netaddr.IPAddress(text, 4)
    except (netaddr.AddrFormatError, ValueError, TypeError):
        problems.add(field_name, f"{text!r} is not an IPv4 address")
        return None


def _ssh(source: Mapping[str, Any], field_name: str, problems: Problems) -> SshTarget:
    address = _text(source, "address", field_name, problems)
    if address:
        _address(address, f"{field_name}.address", problems)
    port = source.get("port", 22)
    if not isinstance(port, int) or not 0 < port < 65536:
        problems.add(f"{field_name}.port", f"{port!r} is not a TCP port")
        port = 22
    return SshTarget(address=address, user=_text(source, "user", field_name, problems, "root"),
                     port=port)


def _network(raw: Mapping[str, Any], problems: Problems) -> Network | None:
    try:
        cidr = netaddr.IPNetwork(raw.get("cidr", ""), version=4)
    except (netaddr.AddrFormatError, ValueError, TypeError):
        problems.add("ocplab:network.cidr", f"{raw.get('cidr')!r} is not an IPv4 CIDR like 192.168.16.0/24")
        return None
    gateway = _address(str(raw.get("gateway", "")), "ocplab:network.gateway", problems)
    if gateway is not None and gateway not in cidr:
        problems.add("ocplab:network.gateway", f"{gateway} is outside {cidr}")
    reserved: list[AddressRange] = []
    for index, text in enumerate(raw.get("reserved", []) or []):
        try:
            reserved.append(AddressRange.parse(text))
        except ValueError as exc:
            problems.add(f"ocplab:network.reserved[{index}]", str(exc))
    upstream = raw.get("dns_upstream", []) or []
    for index, server in enumerate(upstream):
        _address(str(server), f"ocplab:network.dns_upstream[{index}]", problems)
    return Network(cidr=cidr, gateway=gateway or cidr.network, dns_upstream=tuple(map(str, upstream)),
                   reserved=tuple(reserved), lease_time=str(raw.get("lease_time", "1h")))


def _jumphost(raw: Mapping[str, Any], has_key_secret: bool, problems: Problems) -> Jumphost:
    key_path = raw.get("ssh_key_path")
    if not has_key_secret and not key_path:
        problems.add("ocplab:jumphost.ssh_key_path",
                     "no SSH key: set ssh_key_path, or store the key with "
                     "`pulumi config set --secret ocplab:sshPrivateKey < key`")
    return Jumphost(ssh=_ssh(raw, "ocplab:jumphost", problems),
                    interface=_text(raw, "interface", "ocplab:jumphost", problems),
                    key_path=str(key_path) if key_path else None,
                    known_hosts=str(raw.get("known_hosts") or USER_KNOWN_HOSTS))


def _capacity(raw: Any, where: str, problems: Problems) -> HostCapacity | None:
    """The declared capacity (the schema checked types and bounds): memory a number of MiB or a size."""
    if raw is None:
        return None
    entry = _mapping(raw, where, problems)
    try:
        memory = entry.get("memory")
        memory_mib = memory if isinstance(memory, int) else parse_bytes(memory) // 1024**2
        disk = entry.get("disk")
        return HostCapacity(vcpus=int(entry["vcpus"]), memory_mib=int(memory_mib),
                            disk_bytes=None if disk is None else parse_bytes(disk))
    except (KeyError, TypeError, ValueError) as exc:
        problems.add(where, f"is not {{vcpus, memory, disk}} ({exc})")
        return None


def _hypervisors(raw: Any, problems: Problems) -> list[Hypervisor]:
    if not isinstance(raw, list) or not raw:
        problems.add("ocplab:hypervisors", "must list at least one hypervisor")
        return []
    found: list[Hypervisor] = []
    for index, item in enumerate(raw):
        where = f"ocplab:hypervisors[{index}]"
        entry = _mapping(item, where, problems)
        name = _text(entry, "name", where, problems)
        if name and (problem := label_problem(name)):
            problems.add(f"{where}.name", problem)
        backend = entry.get("bridge_backend", "nmcli")
        if backend not in BRIDGE_BACKENDS:
            problems.add(f"{where}.bridge_backend",
                         f"{backend!r} is not one of {', '.join(BRIDGE_BACKENDS)}")
        found.append(Hypervisor(
            name=name, ssh=_ssh(entry, where, problems), nic=_text(entry, "nic", where, problems),
            bridge=_text(entry, "bridge", where, problems, "br0"), bridge_backend=str(backend),
            pool_path=_text(entry, "pool_path", where, problems, "/var/lib/libvirt/ocplab"),
            capacity=_capacity(entry.get("capacity"), f"{where}.capacity", problems),
            **_provisioning(entry, where, problems)))
    return found


def _provisioning(entry: Mapping[str, Any], where: str, problems: Problems) -> dict[str, Any]:
    """A second NIC for bridged provisioning networks: neither the lab NIC nor its bridge."""
    nic = entry.get("provisioning_nic")
    if nic is None:
        return {}
    bridge = str(entry.get("provisioning_bridge", "br1"))
    if nic == entry.get("nic"):
        problems.add(f"{where}.provisioning_nic", f"{nic!r} is the lab NIC; name the second NIC that carries the "
                     "provisioning network (it must have no address)")
    if bridge == entry.get("bridge", "br0"):
        problems.add(f"{where}.provisioning_bridge", f"{bridge!r} is the lab bridge; give the provisioning bridge "
                     "another name (default br1)")
    return {"provisioning_nic": str(nic), "provisioning_bridge": bridge}


def _slices(raw: Any, problems: Problems) -> list[Slice]:
    if raw is None:
        return []
    if not isinstance(raw, Mapping):
        problems.add("ocplab:slices", "must map cluster names to {hypervisor, range}")
        return []
    found: list[Slice] = []
    for cluster, item in raw.items():
        where = f"ocplab:slices.{cluster}"
        if problem := label_problem(cluster):
            problems.add(where, f"cluster name {problem}")
        entry = _mapping(item, where, problems)
        hypervisor = _text(entry, "hypervisor", where, problems)
        try:
            address_range = AddressRange.parse(entry.get("range", ""))
        except ValueError as exc:
            problems.add(f"{where}.range", str(exc))
            continue
        bmc_ports = None
        if entry.get("bmc_ports") is not None:
            try:
                bmc_ports = PortRange.parse(entry["bmc_ports"])
            except ValueError as exc:
                problems.add(f"{where}.bmc_ports", str(exc))
        kind = entry.get("bmc", BMC_KIND)
        if kind not in BMC_KINDS:
            problems.add(f"{where}.bmc", f"{kind!r} is not a BMC kind; use one of {', '.join(BMC_KINDS)}")
        elif kind == "redfish" and entry.get("bmc_ports") is None:
            problems.add(f"{where}.bmc", "a redfish slice needs bmc_ports: its sushy-tools emulator listens "
                         "(HTTPS) on the first port of the range; add bmc_ports, e.g. 8100-8100")
        found.append(Slice(cluster=str(cluster), hypervisor=hypervisor, range=address_range, bmc_ports=bmc_ports,
                           bmc=str(kind)))
    return found


def _duplicates(names: list[str]) -> set[str]:
    return {n for n in names if n and names.count(n) > 1}


def _check_plan(config: LabConfig, problems: Problems) -> None:
    """The address plan: slices inside the network, clear of infrastructure and of each other."""
    net = config.network
    taken: dict[str, AddressRange] = {
        "the network address": AddressRange(net.cidr.network, net.cidr.network),
        "the gateway": AddressRange(net.gateway, net.gateway),
        "the jumphost": AddressRange.parse(config.jumphost.ssh.address or str(net.gateway)),
    }
    if net.cidr.broadcast is not None:
        taken["the broadcast address"] = AddressRange(net.cidr.broadcast, net.cidr.broadcast)
    for hv in config.hypervisors:
        if hv.ssh.address:
            taken[f"hypervisor {hv.name}"] = AddressRange.parse(hv.ssh.address)
            if netaddr.IPAddress(hv.ssh.address) not in net.cidr:
                problems.add(f"ocplab:hypervisors.{hv.name}.address",
                             f"{hv.ssh.address} is outside the lab network {net.cidr}")
    for index, reserved in enumerate(net.reserved):
        taken[f"reserved range {index} ({reserved})"] = reserved
    hv_names = {hv.name for hv in config.hypervisors}
    for item in config.slices:
        where = f"ocplab:slices.{item.cluster}"
        if item.hypervisor and item.hypervisor not in hv_names:
            problems.add(f"{where}.hypervisor", f"unknown hypervisor {item.hypervisor!r}; "
                         f"known: {', '.join(sorted(hv_names)) or 'none'}")
        if not item.range.within(net.cidr):
            problems.add(f"{where}.range", f"{item.range} is outside the lab network {net.cidr}")
        for what, used in taken.items():
            if item.range.overlaps(used):
                problems.add(f"{where}.range", f"{item.range} overlaps {what} ({used}); "
                             "move the slice to free addresses")
    for index, first in enumerate(config.slices):
        for second in config.slices[index + 1:]:
            if first.range.overlaps(second.range):
                problems.add(f"ocplab:slices.{second.cluster}.range",
                             f"{second.range} overlaps slice {first.cluster} ({first.range}); "
                             "slices must not share addresses")
            if (first.hypervisor == second.hypervisor and first.bmc_ports and second.bmc_ports
                    and first.bmc_ports.overlaps(second.bmc_ports)):
                problems.add(f"ocplab:slices.{second.cluster}.bmc_ports",
                             f"{second.bmc_ports} overlaps slice {first.cluster}'s BMC ports ({first.bmc_ports}) "
                             f"on hypervisor {first.hypervisor}; give each slice its own ports")


def parse_lab_config(name: str, values: Mapping[str, Any], has_key_secret: bool = False) -> LabConfig:
    """Check `values` against the schema, then build the config; raise ConfigError with every problem."""
    return checked(LabSchema, values, lambda v: _parse_lab_config(name, v, has_key_secret))


def _parse_lab_config(name: str, values: Mapping[str, Any], has_key_secret: bool = False) -> LabConfig:
    """Build a LabConfig from `ocplab:*` values (keys without the prefix); raise ConfigError."""
    problems = Problems()
    domain = values.get("domain")
    if problem := domain_problem(domain):
        problems.add("ocplab:domain", problem)
    network = _network(_mapping(values.get("network"), "ocplab:network", problems), problems)
    jumphost = _jumphost(_mapping(values.get("jumphost"), "ocplab:jumphost", problems),
                         has_key_secret, problems)
    hypervisors = _hypervisors(values.get("hypervisors"), problems)
    for dup in _duplicates([hv.name for hv in hypervisors]):
        problems.add("ocplab:hypervisors", f"name {dup!r} is used twice; names must be unique")
    for dup in _duplicates([hv.ssh.address for hv in hypervisors]):
        problems.add("ocplab:hypervisors", f"address {dup} is used twice")
    images = _mapping(values.get("images", {}), "ocplab:images", problems)
    for image in images:
        if problem := label_problem(image):
            problems.add(f"ocplab:images.{image}", f"image name {problem}")
    slices = _slices(values.get("slices"), problems)
    overcommit = _mapping(values.get("overcommit", {"cpu": 1.0, "memory": 1.0}),
                          "ocplab:overcommit", problems)
    ratios: dict[str, float] = {}
    for key in ("cpu", "memory"):
        value = overcommit.get(key, 1.0)
        if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
            problems.add(f"ocplab:overcommit.{key}", f"{value!r} is not a positive number")
            value = 1.0
        ratios[key] = float(value)
    problems.raise_if_any()
    assert network is not None  # a None network always recorded a problem above
    config = LabConfig(name=name, domain=str(domain), network=network, jumphost=jumphost,
                       hypervisors=tuple(hypervisors), images={k: str(v) for k, v in images.items()},
                       slices=tuple(slices), overcommit=ratios)
    _check_plan(config, problems)
    problems.raise_if_any()
    return config


# Where host keys are looked up when the lab names no known_hosts (found by address, hashed or not).
USER_KNOWN_HOSTS = "~/.ssh/known_hosts"


def resolve_path(path: str, base: Path) -> Path:
    """Stack files name paths relative to the project directory, where `pulumi` runs."""
    candidate = Path(path).expanduser()
    return candidate if candidate.is_absolute() else (base / candidate).resolve()
