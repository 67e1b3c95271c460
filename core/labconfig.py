"""The lab stack's configuration: parsed and fully validated before any resource is declared.

Input is the plain mapping of `ocplab:*` config values (what `pulumi.Config` returns as objects).
core.config_schema validates it once; its model becomes the dataclasses below, and what spans
fields (the address plan, uniqueness, a second NIC, redfish ports) is checked here. Every problem
names the config field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import netaddr

from core.addresses import AddressRange
from core.bmc_plan import BMC_KIND
from core.cache_config import Cache, cache_of, cache_problems
from core.config_schema import (
    PROVISIONING_BRIDGE,
    CapacitySchema,
    HypervisorSchema,
    JumphostSchema,
    LabSchema,
    NetworkSchema,
    Routing,
    SliceSchema,
    validated,
)
from core.errors import Problems
from core.mirror_config import Mirror, mirror_of, mirror_problems
from core.port_range import PortRange
from core.sizes import parse_bytes

# Router advertisements announce the lab's IPv6 prefix on-link, and dnsmasq's DHCPv6 ranges are /64 at least
# (its man page, --dhcp-range): the lab's IPv6 network is one /64.
PREFIX6 = 64
# A slice's IPv6 range is planned address by address, like an IPv4 one (at most a /20 there).
MAX_SLICE6 = 4096
# Where host keys are looked up when the lab names no known_hosts (found by address, hashed or not).
USER_KNOWN_HOSTS = "~/.ssh/known_hosts"


@dataclass(frozen=True)
class SshTarget:
    """How to reach a host over SSH; the private key is never held here, only where it lives. `address` is the
    host's IPv4 address, or its IPv6 one (address6) on an IPv6-only lab."""

    address: str
    user: str
    port: int = 22


@dataclass(frozen=True)
class Jumphost:
    ssh: SshTarget
    interface: str
    key_path: str | None
    known_hosts: str  # host keys are always pinned: without one given, the user's own known_hosts
    uplink: str | None = None  # toward the outside: where routing nat masquerades the lab
    address6: str | None = None  # dual-stack: its IPv6 address on the lab interface


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
    provisioning_bridge: str = PROVISIONING_BRIDGE
    address6: str | None = None  # dual-stack: its IPv6 address on the lab NIC, then on the bridge

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
    range: AddressRange | None  # None: an IPv6-only cluster (range6 alone)
    bmc_ports: PortRange | None = None
    bmc: str = BMC_KIND  # ipmi: a virtualbmc per node and port; redfish: one sushy-tools emulator on the first port
    range6: AddressRange | None = None  # dual-stack: the cluster's IPv6 addresses


@dataclass(frozen=True)
class Network:
    cidr: netaddr.IPNetwork | None  # None: an IPv6-only lab (cidr6 alone)
    # The DHCP router option: the jumphost itself when it routes the lab (nat); on an IPv6-only lab its IPv6
    # router (which announces itself: only kept out of the slices), None only in a config refused anyway.
    gateway: netaddr.IPAddress | None
    dns_upstream: tuple[str, ...]
    reserved: tuple[AddressRange, ...]
    lease_time: str
    routing: Routing = "none"
    ntp_upstream: tuple[str, ...] = ()  # none: the jumphost serves its own clock, at a high stratum
    cidr6: netaddr.IPNetwork | None = None  # dual-stack: the lab's IPv6 prefix, served by DHCPv6

    @property
    def ipv6_only(self) -> bool:
        return self.cidr is None

    @property
    def family(self) -> int:
        """The family of the lab's own addresses (gateway, upstreams, reserved): 4 unless IPv6-only."""
        return 6 if self.cidr is None else 4


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
    mirror: Mirror | None = None  # the lab's mirror registry on the jumphost (ocplab:mirror)
    cache: Cache | None = None  # the lab's image cache on the jumphost (ocplab:cache)

    def hypervisor(self, name: str) -> Hypervisor:
        return next(h for h in self.hypervisors if h.name == name)

    def slice_of(self, cluster: str) -> Slice | None:
        return next((s for s in self.slices if s.cluster == cluster), None)


def _ssh(host: JumphostSchema | HypervisorSchema) -> SshTarget:
    # An IPv6-only lab names its hosts by address6 (_check_families refuses a host with neither).
    return SshTarget(address=host.address or host.address6 or "", user=host.user, port=host.port)


def _reserved(text: str) -> AddressRange:
    return AddressRange.parse(text, 6 if ":" in text else 4)


def _network(net: NetworkSchema, jump: JumphostSchema) -> Network:
    # Without a gateway _check_routing refuses the config, unless the jumphost routes the lab.
    gateway = net.gateway or jump.address
    return Network(cidr=netaddr.IPNetwork(net.cidr, version=4) if net.cidr else None,
                   gateway=netaddr.IPAddress(gateway) if gateway else None,
                   dns_upstream=tuple(net.dns_upstream), reserved=tuple(map(_reserved, net.reserved)),
                   lease_time=net.lease_time, routing=net.routing, ntp_upstream=tuple(net.ntp_upstream),
                   cidr6=netaddr.IPNetwork(net.cidr6, version=6) if net.cidr6 else None)


def _jumphost(jump: JumphostSchema) -> Jumphost:
    return Jumphost(ssh=_ssh(jump), interface=jump.interface, key_path=jump.ssh_key_path,
                    known_hosts=jump.known_hosts or USER_KNOWN_HOSTS, uplink=jump.uplink, address6=jump.address6)


def _capacity(capacity: CapacitySchema | None) -> HostCapacity | None:
    """Memory is a number of MiB or a size, the disk a number of GiB or a size."""
    if capacity is None:
        return None
    memory = capacity.memory if isinstance(capacity.memory, int) else parse_bytes(capacity.memory) // 1024**2
    disk = None if capacity.disk is None else parse_bytes(capacity.disk)
    return HostCapacity(vcpus=capacity.vcpus, memory_mib=memory, disk_bytes=disk)


def _hypervisor(hv: HypervisorSchema) -> Hypervisor:
    # Without a second NIC its bridge is moot: the default is kept, as deployed labs export it.
    bridge = hv.provisioning_bridge if hv.provisioning_nic else PROVISIONING_BRIDGE
    return Hypervisor(name=hv.name, ssh=_ssh(hv), nic=hv.nic, bridge=hv.bridge, bridge_backend=hv.bridge_backend,
                      pool_path=hv.pool_path, capacity=_capacity(hv.capacity), provisioning_nic=hv.provisioning_nic,
                      provisioning_bridge=bridge, address6=hv.address6)


def _slice(cluster: str, slice_: SliceSchema, problems: Problems) -> Slice:
    """PortRange lives above the schema (core.bmc_plan reads the cluster config), so its bounds are read here."""
    ports = None
    if slice_.bmc_ports is not None:
        try:
            ports = PortRange.parse(slice_.bmc_ports)
        except ValueError as exc:
            problems.add(f"ocplab:slices.{cluster}.bmc_ports", str(exc))
    if slice_.range is None and slice_.range6 is None:
        problems.add(f"ocplab:slices.{cluster}.range", "the slice has no addresses: give range (IPv4), range6 "
                     "(IPv6, on a lab with network.cidr6) or both")
    return Slice(cluster=cluster, hypervisor=slice_.hypervisor,
                 range=AddressRange.parse(slice_.range) if slice_.range else None,
                 bmc_ports=ports, bmc=slice_.bmc,
                 range6=AddressRange.parse(slice_.range6, 6) if slice_.range6 else None)


def _check_key(config: LabConfig, has_key_secret: bool, problems: Problems) -> None:
    if not has_key_secret and not config.jumphost.key_path:
        problems.add("ocplab:jumphost.ssh_key_path",
                     "no SSH key: set ssh_key_path, or store the key with "
                     "`pulumi config set --secret ocplab:sshPrivateKey < key`")


def _check_hypervisors(lab: LabSchema, problems: Problems) -> None:
    """A second NIC for bridged provisioning networks is neither the lab NIC nor its bridge; names and
    addresses are unique."""
    for index, hv in enumerate(lab.hypervisors):
        where = f"ocplab:hypervisors[{index}]"
        if hv.provisioning_nic is not None and hv.provisioning_nic == hv.nic:
            problems.add(f"{where}.provisioning_nic", f"{hv.nic!r} is the lab NIC; name the second NIC that carries "
                         "the provisioning network (it must have no address)")
        if hv.provisioning_nic is not None and hv.provisioning_bridge == hv.bridge:
            problems.add(f"{where}.provisioning_bridge", f"{hv.bridge!r} is the lab bridge; give the provisioning "
                         "bridge another name (default br1)")
    for dup in _duplicates([hv.name for hv in lab.hypervisors]):
        problems.add("ocplab:hypervisors", f"name {dup!r} is used twice; names must be unique")
    for dup in _duplicates([hv.address or "" for hv in lab.hypervisors]):
        problems.add("ocplab:hypervisors", f"address {dup} is used twice")


def _check_redfish(lab: LabSchema, problems: Problems) -> None:
    for cluster, slice_ in lab.slices.items():
        if slice_.bmc == "redfish" and slice_.bmc_ports is None:
            problems.add(f"ocplab:slices.{cluster}.bmc", "a redfish slice needs bmc_ports: its sushy-tools emulator "
                         "listens (HTTPS) on the first port of the range; add bmc_ports, e.g. 8100-8100")


def _check_routing(lab: LabSchema, problems: Problems) -> None:
    """nat: the jumphost routes the lab out of an uplink of its own and is the lab's gateway; none: the lab's
    network has a router of its own, which must be named."""
    net, jump = lab.network, lab.jumphost
    if net.routing == "none" and net.gateway is None and net.cidr is None and net.cidr6 is not None:
        problems.add("ocplab:network.gateway", "no gateway: name the IPv6-only lab network's router (its IPv6 "
                     "address in network.cidr6; an IPv6-only lab has no NAT, so the jumphost is never its router)")
    elif net.routing == "none" and net.gateway is None:
        problems.add("ocplab:network.gateway", "no gateway: name the lab network's router, or set "
                     "network.routing: nat for the jumphost to route the lab out of its uplink")
    if net.routing == "nat" and jump.uplink is None:
        problems.add("ocplab:jumphost.uplink", "routing nat needs the jumphost's interface toward the outside: "
                     "set jumphost.uplink (e.g. eth1), or set network.routing: none")
    if net.routing == "nat" and net.gateway not in (None, jump.address):
        problems.add("ocplab:network.gateway", f"with routing nat the jumphost ({jump.address}) is the lab's "
                     f"gateway, not {net.gateway}: remove network.gateway, or set network.routing: none")
    if jump.uplink is not None and jump.uplink == jump.interface:
        problems.add("ocplab:jumphost.uplink", f"{jump.uplink!r} is the jumphost's lab interface; name the "
                     "interface toward the outside")


def _check_families(lab: LabSchema, problems: Problems) -> None:
    """A lab network has IPv4 (cidr), IPv6 (cidr6) or both. Its own addresses (hosts, gateway, upstreams,
    reserved ranges) are of the lab's family: IPv4 on a lab with cidr, IPv6 on an IPv6-only lab, whose hosts are
    named by address6 alone and whose jumphost routes nothing (no NAT66: docs/ipv6.md)."""
    net = lab.network
    if net.cidr is None and net.cidr6 is None:
        problems.add("ocplab:network.cidr", "the lab network has no address: give network.cidr (IPv4, e.g. "
                     "192.168.16.0/24), network.cidr6 (IPv6, e.g. fd00:16::/64, an IPv6-only lab) or both")
        return
    family = 6 if net.cidr is None else 4
    hosts: list[tuple[str, JumphostSchema | HypervisorSchema]] = [("ocplab:jumphost", lab.jumphost)]
    hosts += [(f"ocplab:hypervisors[{index}]", hv) for index, hv in enumerate(lab.hypervisors)]
    for where, host in hosts:
        if family == 4 and host.address is None:
            problems.add(f"{where}.address", "is required: the host's IPv4 address on the lab network (only an "
                         "IPv6-only lab, network.cidr6 without network.cidr, names its hosts by address6 alone)")
        elif family == 6 and host.address is not None:
            problems.add(f"{where}.address", f"{host.address} is IPv4 and the lab network is IPv6-only (network.cidr6 "
                         f"without network.cidr): remove address and name the host by address6, or give "
                         f"network.cidr too (dual-stack)")
        elif family == 6 and host.address6 is None and where != "ocplab:jumphost":  # _check_plan6 names the jumphost
            problems.add(f"{where}.address6", "is required on an IPv6-only lab: the hypervisor's IPv6 address on its "
                         "lab NIC (in network.cidr6), where ocplab reaches it")
    if family == 4:
        return
    shown = "an IPv6-only lab's (network.cidr6 without network.cidr)"
    if net.gateway is not None and ":" not in net.gateway:
        problems.add("ocplab:network.gateway", f"{net.gateway} is IPv4; {shown} router is an IPv6 address in "
                     f"network.cidr6: give it, or give network.cidr too (dual-stack)")
    for index, upstream in enumerate(net.dns_upstream):
        if ":" not in upstream:
            problems.add(f"ocplab:network.dns_upstream[{index}]", f"{upstream} is IPv4; {shown} jumphost asks IPv6 "
                         "name servers: give their IPv6 addresses")
    for index, server in enumerate(net.ntp_upstream):
        if netaddr.valid_ipv4(server):
            problems.add(f"ocplab:network.ntp_upstream[{index}]", f"{server} is IPv4; {shown} jumphost takes time "
                         "over IPv6: give an IPv6 address or a host name")
    for index, text in enumerate(net.reserved):
        if ":" not in text:
            problems.add(f"ocplab:network.reserved[{index}]", f"{text} is IPv4; {shown} reserved ranges are IPv6 "
                         "ranges in network.cidr6")
    if net.routing == "nat":
        problems.add("ocplab:network.routing", "nat: an IPv6-only lab has no NAT (no NAT66, docs/ipv6.md): set "
                     "network.routing: none and name the lab's IPv6 router as network.gateway")
    for cluster, slice_ in lab.slices.items():
        if slice_.range is not None:
            problems.add(f"ocplab:slices.{cluster}.range", f"{slice_.range} is IPv4 and the lab network is "
                         "IPv6-only: give the slice range6 alone (e.g. fd00:16::20-fd00:16::2f)")


def _duplicates(names: list[str]) -> set[str]:
    return {n for n in names if n and names.count(n) > 1}


def _check_plan(config: LabConfig, problems: Problems) -> None:
    """The address plan: slices inside the network, clear of infrastructure and of each other."""
    net = config.network
    if net.cidr is None:  # IPv6-only: _check_plan6 checks the plan, the hypervisor names are checked here
        _check_slices(config, problems)
        return
    if net.gateway is not None and net.gateway.version != 4:
        problems.add("ocplab:network.gateway", f"{net.gateway} is IPv6; the lab's router on an IPv4 or dual-stack "
                     f"lab is its IPv4 address, in {net.cidr} (router advertisements name the IPv6 one)")
    elif net.gateway is None or net.gateway not in net.cidr:
        problems.add("ocplab:network.gateway", f"{net.gateway} is outside {net.cidr}")
    _check_own_family(config, problems)
    taken: dict[str, AddressRange] = {
        "the network address": AddressRange(net.cidr.network, net.cidr.network),
        "the jumphost": AddressRange.parse(config.jumphost.ssh.address),
    }
    if net.routing == "none" and net.gateway is not None and net.gateway.version == 4:
        taken["the gateway"] = AddressRange(net.gateway, net.gateway)
    if net.cidr.broadcast is not None:
        taken["the broadcast address"] = AddressRange(net.cidr.broadcast, net.cidr.broadcast)
    for hv in config.hypervisors:
        taken[f"hypervisor {hv.name}"] = AddressRange.parse(hv.ssh.address)
        if netaddr.IPAddress(hv.ssh.address) not in net.cidr:
            problems.add(f"ocplab:hypervisors.{hv.name}.address",
                         f"{hv.ssh.address} is outside the lab network {net.cidr}")
    for index, reserved in enumerate(net.reserved):
        if reserved.version == 4:
            taken[f"reserved range {index} ({reserved})"] = reserved
    _check_slices(config, problems)
    for item in config.slices:
        where = f"ocplab:slices.{item.cluster}"
        if item.range is None:  # IPv6-only: _check_plan6 checks its range6
            continue
        if not item.range.within(net.cidr):
            problems.add(f"{where}.range", f"{item.range} is outside the lab network {net.cidr}")
        for what, used in taken.items():
            if item.range.overlaps(used):
                problems.add(f"{where}.range", f"{item.range} overlaps {what} ({used}); "
                             "move the slice to free addresses")
    for index, first in enumerate(config.slices):
        for second in config.slices[index + 1:]:
            if first.range and second.range and first.range.overlaps(second.range):
                problems.add(f"ocplab:slices.{second.cluster}.range",
                             f"{second.range} overlaps slice {first.cluster} ({first.range}); "
                             "slices must not share addresses")


def _check_own_family(config: LabConfig, problems: Problems) -> None:
    """On a lab with cidr, the lab's own addresses stay IPv4 (what they have always been)."""
    net = config.network
    for index, upstream in enumerate(net.dns_upstream):
        if ":" in upstream:
            problems.add(f"ocplab:network.dns_upstream[{index}]", f"{upstream} is IPv6; a lab with network.cidr asks "
                         "IPv4 name servers: give their IPv4 addresses")
    for index, server in enumerate(net.ntp_upstream):
        if ":" in server:
            problems.add(f"ocplab:network.ntp_upstream[{index}]", f"{server} is IPv6; a lab with network.cidr takes "
                         "time over IPv4: give an IPv4 address or a host name")
    for index, reserved in enumerate(net.reserved):
        if reserved.version == 6:
            problems.add(f"ocplab:network.reserved[{index}]", f"{reserved} is IPv6; a lab with network.cidr "
                         "reserves IPv4 ranges (slices' range6 are planned apart)")


def _check_slices(config: LabConfig, problems: Problems) -> None:
    """Each slice on a known hypervisor; slices on one hypervisor with their own BMC ports."""
    hv_names = {hv.name for hv in config.hypervisors}
    for item in config.slices:
        if item.hypervisor not in hv_names:
            problems.add(f"ocplab:slices.{item.cluster}.hypervisor", f"unknown hypervisor {item.hypervisor!r}; "
                         f"known: {', '.join(sorted(hv_names)) or 'none'}")
    for index, first in enumerate(config.slices):
        for second in config.slices[index + 1:]:
            if (first.hypervisor == second.hypervisor and first.bmc_ports and second.bmc_ports
                    and first.bmc_ports.overlaps(second.bmc_ports)):
                problems.add(f"ocplab:slices.{second.cluster}.bmc_ports",
                             f"{second.bmc_ports} overlaps slice {first.cluster}'s BMC ports ({first.bmc_ports}) "
                             f"on hypervisor {first.hypervisor}; give each slice its own ports")


def _check_plan6(config: LabConfig, problems: Problems) -> None:
    """The IPv6 plan: a prefix DHCPv6 and router advertisements can serve, the jumphost and hypervisors on it, each
    slice's range6 inside it, clear of those and of each other, and no IPv6 in a lab without it."""
    cidr6, address6 = config.network.cidr6, config.jumphost.address6
    if cidr6 is None:
        if address6 is not None:
            problems.add("ocplab:jumphost.address6", "the lab network has no IPv6: add network.cidr6 (e.g. "
                         "fd00:16::/64), or remove jumphost.address6")
        for index, hv in enumerate(config.hypervisors):
            if hv.address6 is not None:
                problems.add(f"ocplab:hypervisors[{index}].address6", "the lab network has no IPv6: add "
                             "network.cidr6 (e.g. fd00:16::/64) and jumphost.address6, or remove address6")
        for item in config.slices:
            if item.range6 is not None:
                problems.add(f"ocplab:slices.{item.cluster}.range6", "the lab network has no IPv6: add "
                             "network.cidr6 (e.g. fd00:16::/64) and jumphost.address6, or remove range6")
        return
    if cidr6.prefixlen != PREFIX6:
        longer = "longer" if cidr6.prefixlen > PREFIX6 else "shorter"
        fix = cidr6.supernet(PREFIX6)[0] if cidr6.prefixlen > PREFIX6 else next(cidr6.subnet(PREFIX6))
        problems.add("ocplab:network.cidr6", f"{cidr6} is {longer} than /{PREFIX6}: router advertisements announce "
                     f"the /{PREFIX6} the nodes' DHCPv6 addresses are on-link in, and dnsmasq's DHCPv6 ranges are "
                     f"/{PREFIX6}; use a /{PREFIX6}, e.g. {fix}")
    if address6 is None:
        kind = "an IPv6-only lab, which reaches it there," if config.network.ipv6_only else "a dual-stack lab"
        problems.add("ocplab:jumphost.address6", f"{kind} needs the jumphost's IPv6 address on the lab "
                     f"interface (in {cidr6}), where dnsmasq serves DHCPv6 and DNS: set jumphost.address6")
    elif netaddr.IPAddress(address6) not in cidr6 or netaddr.IPAddress(address6) == cidr6.network:
        problems.add("ocplab:jumphost.address6", f"{address6} is not a host address of network.cidr6 {cidr6}")
    taken = {"the subnet-router anycast address": AddressRange(cidr6.network, cidr6.network)}
    if address6 is not None:
        taken["the jumphost"] = AddressRange.parse(address6, 6)
    if config.network.ipv6_only:
        taken.update(_own6(config, cidr6, problems))
    taken.update(_hypervisors6(config, cidr6, taken, problems))
    for index, item in enumerate(config.slices):
        if item.range6 is None:
            continue
        where = f"ocplab:slices.{item.cluster}.range6"
        if not item.range6.within(cidr6):
            problems.add(where, f"{item.range6} is outside the lab's IPv6 network {cidr6}; give a range in it")
        if item.range6.size > MAX_SLICE6:
            problems.add(where, f"{item.range6} holds {item.range6.size} addresses; a slice holds at most "
                         f"{MAX_SLICE6} (e.g. a /116): give a smaller range")
        for what, used in taken.items():
            if item.range6.overlaps(used):
                problems.add(where, f"{item.range6} overlaps {what} ({used}); move the slice to free addresses")
        for other in config.slices[:index]:
            if other.range6 is not None and item.range6.overlaps(other.range6):
                problems.add(where, f"{item.range6} overlaps slice {other.cluster} ({other.range6}); slices must "
                             "not share addresses")
    _check_mac_windows6(config, problems)


def _own6(config: LabConfig, cidr6: netaddr.IPNetwork, problems: Problems) -> dict[str, AddressRange]:
    """An IPv6-only lab's router and reserved ranges: in cidr6, kept out of the slices."""
    net, mine = config.network, {}
    if net.gateway is not None and net.gateway.version == 6:
        if net.gateway not in cidr6 or net.gateway == cidr6.network:
            problems.add("ocplab:network.gateway", f"{net.gateway} is not a host address of network.cidr6 {cidr6}")
        mine["the gateway"] = AddressRange(net.gateway, net.gateway)
    for index, reserved in enumerate(net.reserved):
        if reserved.version != 6:
            continue
        if not reserved.within(cidr6):
            problems.add(f"ocplab:network.reserved[{index}]", f"{reserved} is outside network.cidr6 {cidr6}")
        mine[f"reserved range {index} ({reserved})"] = reserved
    return mine


def _mac_window(range6: AddressRange) -> set[int]:
    """The last three bytes of each address of an IPv6-only slice: its nodes' MACs are made of them
    (core.macs.mac_for_ip6)."""
    return {int(ip) & 0xFFFFFF for ip in range6.addresses()}


def _check_mac_windows6(config: LabConfig, problems: Problems) -> None:
    """IPv6-only slices whose addresses end in the same three bytes would give two nodes one MAC."""
    only6 = [item for item in config.slices if item.range is None and item.range6 is not None]
    for index, item in enumerate(only6):
        for other in only6[:index]:
            if item.range6 and other.range6 and _mac_window(item.range6) & _mac_window(other.range6):
                problems.add(f"ocplab:slices.{item.cluster}.range6",
                             f"{item.range6} and IPv6-only slice {other.cluster}'s {other.range6} have addresses "
                             "ending in the same three bytes, from which an IPv6-only node's MAC is made; move one "
                             "so their last 24 bits differ (e.g. fd00:16::30-fd00:16::37 and fd00:16::40-fd00:16::47)")


def _hypervisors6(config: LabConfig, cidr6: netaddr.IPNetwork, taken: Mapping[str, AddressRange],
                  problems: Problems) -> dict[str, AddressRange]:
    """Each hypervisor's address6: a host address of cidr6, its own (not the jumphost's nor another's)."""
    mine: dict[str, AddressRange] = {}
    for index, hv in enumerate(config.hypervisors):
        if hv.address6 is None:
            continue
        where, address = f"ocplab:hypervisors[{index}].address6", netaddr.IPAddress(hv.address6, 6)
        used = AddressRange(address, address)
        if address not in cidr6 or address == cidr6.network:
            problems.add(where, f"{hv.address6} is not a host address of network.cidr6 {cidr6}: give the address "
                         f"the hypervisor's NIC has in it")
        elif clash := next((what for what, other in {**taken, **mine}.items() if used.overlaps(other)), None):
            problems.add(where, f"{hv.address6} is {clash}'s address; give hypervisor {hv.name} its own")
        mine[f"hypervisor {hv.name}"] = used
    return mine


def parse_lab_config(name: str, values: Mapping[str, Any], has_key_secret: bool = False) -> LabConfig:
    """Check `values` (keys without the `ocplab:` prefix) against the schema, then build the config from the
    validated model and check what spans fields; raise ConfigError with every problem."""
    lab = validated(LabSchema, values)
    problems = Problems()
    config = LabConfig(name=name, domain=lab.domain, network=_network(lab.network, lab.jumphost),
                       jumphost=_jumphost(lab.jumphost),
                       hypervisors=tuple(map(_hypervisor, lab.hypervisors)), images=dict(lab.images),
                       slices=tuple(_slice(cluster, slice_, problems) for cluster, slice_ in lab.slices.items()),
                       overcommit={"cpu": lab.overcommit.cpu, "memory": lab.overcommit.memory},
                       mirror=mirror_of(lab.mirror), cache=cache_of(lab.cache))
    _check_key(config, has_key_secret, problems)
    _check_hypervisors(lab, problems)
    _check_redfish(lab, problems)
    before = len(problems.items)
    _check_families(lab, problems)
    if len(problems.items) > before:  # a host without an address, a family mixed: the plans below would misread
        problems.raise_if_any()
    _check_routing(lab, problems)
    _check_plan(config, problems)
    _check_plan6(config, problems)
    for where, problem in mirror_problems(config) + cache_problems(config):
        problems.add(where, problem)
    problems.raise_if_any()
    return config


def resolve_path(path: str, base: Path) -> Path:
    """Stack files name paths relative to the project directory, where `pulumi` runs."""
    candidate = Path(path).expanduser()
    return candidate if candidate.is_absolute() else (base / candidate).resolve()
