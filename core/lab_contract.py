"""The lab stack's outputs: the typed, versioned contract its cluster stacks read through a
StackReference. Made and parsed here only, so a field is named once and an older or foreign lab
stack gives a clear error, not a KeyError deep in a plan.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import asdict, replace
from pathlib import Path
from typing import Annotated, Any

from netaddr import IPAddress, IPNetwork
from pydantic import BeforeValidator, ConfigDict, Field, Strict, TypeAdapter
from pydantic.dataclasses import dataclass

from core import config_schema as schema
from core.addresses import AddressRange
from core.errors import ConfigError
from core.labconfig import LabConfig, SshTarget
from core.ssh_access import hypervisor_uris, lab_files, libvirt_uri
from core.vrrp import vrrp_ids

# Bump when a field changes meaning, goes away or is added; cluster stacks refuse other versions by name.
# 2: network.routing, network.ntp and network.ntp_upstream (where the lab's way out and time come from);
#    mirror and cache (the lab's mirror registry and image cache, only where the lab has them).
# 3: an IPv6-only lab (network.cidr6 without network.cidr): the IPv4 keys go (network.cidr, gateway, prefix, dns,
#    ntp; jumphost.address and each hypervisor's address), the hosts are named by address6 and the lab's IPv6
#    router is network.gateway6; the mirror and the cache, where the lab has them, give the jumphost's address6
#    in place of address. Only such a lab exports version 3: IPv4 and dual-stack labs stay version 2, so
#    their outputs and cluster stacks see no change, and an older ocplab refuses an IPv6-only lab by version.
CONTRACT_VERSION = 2
IPV6_ONLY_VERSION = 3
READABLE_VERSIONS = (1, 2, 3)
# What version 2 added; a version-1 lab is read as having none of it (no routing of ours, no time served, no
# mirror). A version-2 lab always exports the first three; `mirror` only with ocplab:mirror.
_ADDED_IN_2 = ("network.routing", "network.ntp", "network.ntp_upstream", "mirror", "cache")
_OPTIONAL_IN_2 = ("mirror", "cache")
# Dual-stack labs (ocplab:network.cidr6) export these too, in version 2: an IPv4 lab's outputs stay as they were,
# so its cluster stacks see no change; an older ocplab refuses a dual-stack lab naming the field. Likewise
# hypervisors.<name>.address6, only for a hypervisor with ocplab:hypervisors[].address6.
_NETWORK6 = ("cidr6", "dns6")
# What a version-3 (IPv6-only) lab has not, and what it must have instead.
_IPV4_ONLY = ("network.cidr", "network.gateway", "network.prefix", "network.dns", "network.ntp", "jumphost.address")
_REQUIRED_IN_3 = ("network.cidr6", "network.dns6", "jumphost.address6")
# The jumphost's services a lab may have, each with the address it listens on: IPv4's, or address6 in version 3.
_SERVICES = ("mirror", "cache")
# Secret outputs: not part of the contract (a reader without the passphrase sees "[secret]"); a cluster stack
# derives the mirror's password from the lab key instead.
SECRET_OUTPUTS = ("mirror_password",)
# In planned outputs, what only libvirt or the engine can give at pulumi up (ids, domain UUIDs).
PLANNED = "planned"


def _whole(value: Any) -> Any:
    """Numbers cross the engine as floats (a port comes back as 22.0): a whole float is that int."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


# In a team lab the lab stack is another person's: every field is typed and matched in full, with the
# config schema's patterns, so no value can become a new dnsmasq line, URI part, script word or template.
Whole = Annotated[int, Strict(), BeforeValidator(_whole)]
Name = Annotated[schema.Label, Strict()]
Address = Annotated[schema.IPv4, Strict()]
Address6 = Annotated[schema.IPv6, Strict()]
User = Annotated[schema.UserName, Strict()]
Iface = Annotated[schema.Interface, Strict()]
Port = Annotated[Whole, Field(ge=1, le=65535)]
# Absolute paths on the machine that runs pulumi (the lab's key and known_hosts) or on a hypervisor.
LocalPath = Annotated[str, Strict(), schema._pattern(r"/[A-Za-z0-9_./@%+=:, -]{0,1023}",
                                                     "an absolute path (letters, digits, blanks and _./@%+=:,-)")]
# A libvirt volume's key: its path on the hypervisor.
VolumeId = Annotated[str, Strict(), schema._pattern(r"[A-Za-z0-9/][A-Za-z0-9_./:-]{0,1023}",
                                                    "a libvirt volume key (a path without blanks)")]
# Names and ids libvirt and the engine make: network and pool names, UUIDs, command ids.
ObjectId = Annotated[str, Strict(), schema._pattern(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,255}",
                                                    "a libvirt or engine id (letters, digits, _.:-)")]
Uri = Annotated[str, Strict(), Field(max_length=4096)]  # never used: rebuilt from checked parts (parse_lab_outputs)
BmcKind = Annotated[str, Strict(), schema._pattern("ipmi|redfish", "ipmi or redfish")]
VrrpName = Annotated[str, Strict(), schema._pattern("api|ingress", "api or ingress")]
Resource = Annotated[str, Strict(), schema._pattern("cpu|memory", "cpu or memory")]
_OUTPUTS = ConfigDict(extra="forbid", frozen=True)


@dataclass(config=_OUTPUTS)
class Capacity:
    vcpus: Annotated[Whole, Field(ge=1, le=65536)]
    memory_mib: Annotated[Whole, Field(ge=1, le=2**40)]


@dataclass(config=_OUTPUTS)
class HypervisorOutputs:
    name: Name
    # None on an IPv6-only lab (version 3), which names it by address6 (keyword-only: it has a default)
    address: Address | None = dataclasses.field(default=None, kw_only=True)
    user: User
    port: Port
    libvirt_uri: Uri
    bridge: Iface
    network: ObjectId
    network_id: ObjectId
    pool: ObjectId
    base_volumes: Annotated[Mapping[Name, VolumeId], Field(max_length=64)]
    capacity: Capacity | None  # libvirt's figures; None only in a planned view without a declared capacity
    provisioning_bridge: Iface | None = None  # where bridged provisioning NICs attach (a second NIC's bridge)
    address6: Address6 | None = None  # dual-stack: its IPv6 address on the bridge (exported only when set)

    @property
    def ssh_address(self) -> str:
        """Where ocplab reaches it: its IPv4 address, its IPv6 one on an IPv6-only lab (version 3)."""
        return self.address or self.address6 or ""


@dataclass(config=_OUTPUTS)
class JumphostOutputs:
    address: Address | None = dataclasses.field(default=None, kw_only=True)  # None on an IPv6-only lab: address6
    user: User
    port: Port
    interface: Iface
    ssh_key_path: LocalPath | None
    known_hosts: LocalPath  # host keys are always pinned: a lab without one is refused
    dnsmasq: ObjectId
    address6: Address6 | None = None  # an IPv6-only lab's jumphost (exported in version 3 only; else network.dns6)

    @property
    def ssh_address(self) -> str:
        return self.address or self.address6 or ""


@dataclass(config=_OUTPUTS)
class NetworkOutputs:
    # None on an IPv6-only lab (version 3); required in versions 1 and 2 (_version_problems)
    cidr: Annotated[schema.Cidr, Strict()] | None = None
    gateway: Address | None = None
    prefix: Annotated[Whole, Field(ge=16, le=30)] | None = None
    dns: Address | None = None
    routing: schema.Routing = "none"  # nat: the jumphost routes the lab out (gateway)
    ntp: Annotated[list[Address], Field(max_length=8)] = dataclasses.field(default_factory=list)  # DHCP option 42
    # where the lab's NTP server takes time from; empty: its own clock, at a high stratum
    ntp_upstream: Annotated[list[Annotated[schema.NtpName, Strict()] | Annotated[schema.IPv6, Strict()]],
                            Field(max_length=8)] = \
        dataclasses.field(default_factory=list)
    cidr6: Annotated[schema.Cidr6, Strict()] | None = None  # dual-stack: the IPv6 prefix DHCPv6 serves
    dns6: Address6 | None = None  # dual-stack: the jumphost's IPv6 address (DNS, DHCPv6, RA)
    gateway6: Address6 | None = None  # an IPv6-only lab's router (version 3 only)

    @property
    def ipv6_only(self) -> bool:
        return self.cidr is None


@dataclass(config=_OUTPUTS)
class MirrorOutputs:
    """The lab's mirror registry: `https://<host>:<port>`, trusted through ca_certificate, login `user` (the
    password is the secret output mirror_password)."""
    host: Annotated[schema.Domain, Strict()]
    address: Address | None = dataclasses.field(default=None, kw_only=True)  # the jumphost's, where host resolves
    port: Port
    user: User
    ca_certificate: Annotated[str, Strict(), Field(max_length=16384), schema._pattern(
        r"-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]{1,16000}-----END CERTIFICATE-----\n?",
        "a PEM certificate")]
    address6: Address6 | None = None  # an IPv6-only lab's jumphost (version 3), in place of address


Sha256 = Annotated[str, Strict(), schema._pattern(r"[0-9a-f]{64}", "a sha256 (64 lowercase hex digits)")]
CacheName = Annotated[str, Strict(), schema._pattern(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}", "a file name")]


@dataclass(config=_OUTPUTS)
class CachedImage:
    url: Annotated[str, Strict(), schema._pattern(r"http://[a-z0-9.-]{1,253}:\d{1,5}/[A-Za-z0-9._-]{1,128}",
                                                  "an http URL of the lab's cache")]
    sha256: Sha256


@dataclass(config=_OUTPUTS)
class CacheOutputs:
    """The lab's image cache: `url` (http://cache.<domain>:<port>) and each image's URL and sha256."""
    url: Annotated[str, Strict(), schema._pattern(r"http://[a-z0-9.-]{1,253}:\d{1,5}", "an http URL")]
    address: Address | None = dataclasses.field(default=None, kw_only=True)  # the jumphost's; IPv6-only: address6
    port: Port
    images: Annotated[Mapping[CacheName, CachedImage], Field(max_length=64)]
    address6: Address6 | None = None  # an IPv6-only lab's jumphost (version 3), in place of address


@dataclass(config=_OUTPUTS)
class SliceOutputs:
    hypervisor: Name
    range: Annotated[schema.AddressRangeText, Strict()] | None = None  # None: an IPv6-only cluster's slice
    bmc_ports: Annotated[schema.PortRangeText, Strict()] | None = None
    bmc: BmcKind | None = None  # the BMC kind where the slice has bmc_ports
    # the keepalived ids OpenShift will derive from the name (core/vrrp.py)
    vrrp: Mapping[VrrpName, Annotated[Whole, Field(ge=0, le=255)]] | None = None
    range6: Annotated[schema.AddressRange6Text, Strict()] | None = None  # dual-stack: the IPv6 addresses

    @property
    def shown_range(self) -> str:
        """The range a summary shows: IPv4's, or range6 on an IPv6-only slice."""
        return self.range or self.range6 or ""

    @property
    def shown_size(self) -> int:
        return AddressRange.parse(self.range).size if self.range else AddressRange.parse(self.range6 or "", 6).size


@dataclass(config=_OUTPUTS)
class LabOutputs:
    domain: Annotated[schema.Domain, Strict()]
    network: NetworkOutputs
    jumphost: JumphostOutputs
    hypervisors: Annotated[Mapping[Name, HypervisorOutputs], Field(max_length=64)]
    slices: Annotated[Mapping[Name, SliceOutputs], Field(max_length=512)]
    overcommit: Mapping[Resource, Annotated[schema.Ratio, Strict()]]
    version: int = CONTRACT_VERSION
    mirror: MirrorOutputs | None = None  # only a lab with ocplab:mirror has one (an output left out when None)
    cache: CacheOutputs | None = None  # likewise, ocplab:cache

    def as_outputs(self) -> dict[str, Any]:
        """The stack outputs, one key each (what `pulumi stack output` shows)."""
        data = asdict(self)
        data["slices"] = {name: {k: v for k, v in slice_.items() if v is not None}
                          for name, slice_ in data["slices"].items()}
        for optional in _OPTIONAL_IN_2:  # a lab without one exports none (pulumi drops a null output anyway)
            if data[optional] is None:
                del data[optional]
            else:  # the address of its family: IPv4's, or address6 on an IPv6-only lab
                for key in ("address", "address6"):
                    if data[optional][key] is None:
                        del data[optional][key]
        for key in (*_NETWORK6, "gateway6"):
            if data["network"][key] is None:
                del data["network"][key]
        if self.version == IPV6_ONLY_VERSION:  # no IPv4 key at all (ntp: DHCPv6 names dns6)
            for path in _IPV4_ONLY:
                part, name = path.split(".")
                del data[part][name]
        if data["jumphost"]["address6"] is None:
            del data["jumphost"]["address6"]
        for hv in data["hypervisors"].values():
            for key in ("address", "address6"):
                if hv[key] is None:
                    del hv[key]
        return {"kind": "lab", **data}


_READER: TypeAdapter[LabOutputs] = TypeAdapter(LabOutputs)


def hypervisor_outputs(lab: LabConfig, name: str, libvirt_uri: str, network_id: str, pool: str,
                       base_volumes: Mapping[str, str], vcpus: int | None, memory_mib: int | None,
                       ) -> HypervisorOutputs:
    hv = lab.hypervisor(name)
    capacity = Capacity(vcpus=int(vcpus), memory_mib=int(memory_mib)) \
        if vcpus is not None and memory_mib is not None else None
    return HypervisorOutputs(name=hv.name, address=None if lab.network.ipv6_only else hv.ssh.address,
                             user=hv.ssh.user, port=hv.ssh.port,
                             libvirt_uri=libvirt_uri, bridge=hv.bridge, network=hv.network_name,
                             network_id=network_id, pool=pool, base_volumes=dict(base_volumes), capacity=capacity,
                             provisioning_bridge=hv.provisioning_bridge if hv.provisioning_nic else None,
                             address6=hv.address6)


def mirror_outputs(lab: LabConfig, ca_certificate: str) -> MirrorOutputs | None:
    if lab.mirror is None:
        return None
    address, address6 = _service_addresses(lab)
    return MirrorOutputs(host=lab.mirror.host(lab.domain), address=address, port=lab.mirror.port,
                         user=lab.mirror.user, ca_certificate=ca_certificate, address6=address6)


def _service_addresses(lab: LabConfig) -> tuple[str | None, str | None]:
    """(address, address6) of a service on the jumphost: its IPv4 address, or its IPv6 one on an IPv6-only lab."""
    return (None, lab.jumphost.ssh.address) if lab.network.ipv6_only else (lab.jumphost.ssh.address, None)


def cache_outputs(lab: LabConfig) -> CacheOutputs | None:
    cache = lab.cache
    if cache is None:
        return None
    url = cache.url(lab.domain)
    address, address6 = _service_addresses(lab)
    return CacheOutputs(url=url, address=address, address6=address6, port=cache.port,
                        images={name: CachedImage(url=f"{url}/{name}", sha256=image.sha256)
                                for name, image in cache.images.items()})


def lab_outputs(lab: LabConfig, hypervisors: Mapping[str, HypervisorOutputs], key_path: str | None,
                known_hosts: str, dnsmasq: str, mirror: MirrorOutputs | None = None) -> LabOutputs:
    """Everything but secrets: key material stays in config; only where the key file lives. An IPv6-only lab
    exports version 3, without the IPv4 keys."""
    net, only6 = lab.network, lab.network.ipv6_only
    ipv4 = None if only6 else lab.jumphost.ssh.address
    return LabOutputs(
        domain=lab.domain,
        network=NetworkOutputs(cidr=str(net.cidr) if net.cidr else None,
                               gateway=None if only6 else str(net.gateway),
                               prefix=net.cidr.prefixlen if net.cidr else None, dns=ipv4,
                               routing=net.routing, ntp=[ipv4] if ipv4 else [],
                               ntp_upstream=list(net.ntp_upstream),
                               cidr6=str(net.cidr6) if net.cidr6 else None,
                               dns6=lab.jumphost.address6 if net.cidr6 else None,
                               gateway6=str(net.gateway) if only6 and net.gateway else None),
        jumphost=JumphostOutputs(address=ipv4, user=lab.jumphost.ssh.user,
                                 port=lab.jumphost.ssh.port, interface=lab.jumphost.interface,
                                 ssh_key_path=key_path, known_hosts=known_hosts, dnsmasq=dnsmasq,
                                 address6=lab.jumphost.address6 if only6 else None),
        hypervisors=dict(hypervisors),
        slices={s.cluster: SliceOutputs(hypervisor=s.hypervisor, range=str(s.range) if s.range else None,
                                        bmc_ports=str(s.bmc_ports) if s.bmc_ports else None,
                                        bmc=s.bmc if s.bmc_ports else None,
                                        vrrp=vrrp_ids(s.cluster).as_dict(),
                                        range6=str(s.range6) if s.range6 else None) for s in lab.slices},
        overcommit=dict(lab.overcommit),
        mirror=mirror,
        cache=cache_outputs(lab),
        version=IPV6_ONLY_VERSION if only6 else CONTRACT_VERSION,
    )


def planned_lab_outputs(lab: LabConfig, base: Path) -> LabOutputs:
    """The outputs a first `pulumi up` of the lab stack would export, from its config alone: the same
    functions as the stack, with each hypervisor's declared capacity (None where none is declared) in
    place of libvirt's figures and PLANNED for the ids libvirt makes. `base`: the project directory."""
    key, known = lab_files(lab, base)
    uris = hypervisor_uris(lab, base)
    hypervisors = {}
    for hv in lab.hypervisors:
        volumes = {image: f"{hv.pool_path}/{hv.base_volume_name(image)}" for image in sorted(lab.images)}
        declared = hv.capacity
        hypervisors[hv.name] = hypervisor_outputs(lab, hv.name, uris[hv.name], PLANNED, hv.pool_name, volumes,
                                                  declared.vcpus if declared else None,
                                                  declared.memory_mib if declared else None)
    return lab_outputs(lab, hypervisors, key, known, PLANNED)


def parse_lab_outputs(stack: str, raw: Mapping[str, Any] | None) -> LabOutputs:
    """The outputs of lab stack `stack` as the contract says, or ConfigError naming each output and field
    that is off. Libvirt URIs are rebuilt from the checked parts, never taken as given."""
    raw = raw or {}
    if not raw:
        raise ConfigError([f"ocplab:lab: stack {stack!r} has no outputs: name a deployed lab stack "
                           f"(pulumi up -s {stack})"])
    if raw.get("kind") != "lab":
        raise ConfigError([f"ocplab:lab: stack {stack!r} is not a lab stack (its kind is {raw.get('kind')!r})"])
    version = raw.get("version")
    if version not in READABLE_VERSIONS or isinstance(version, bool):
        raise ConfigError([f"ocplab:lab: lab stack {stack!r} exports contract version {version!r}, this ocplab "
                           f"reads versions {', '.join(map(str, READABLE_VERSIONS))}: run pulumi up -s {stack} "
                           "with this ocplab first"])
    body = {key: value for key, value in raw.items() if key != "kind" and key not in SECRET_OUTPUTS}
    where = f"ocplab:lab: lab stack {stack!r} output "
    problems = schema.value_problems(_READER, body, where) + _version_problems(version, body, where)
    if problems:
        raise ConfigError([*problems, f"ocplab:lab: fix lab stack {stack!r} (its config, then pulumi up -s {stack} "
                                      "with this ocplab), or name another lab"])
    lab = _READER.validate_python(body)
    problems = [where + problem for problem in _consistency_problems(lab)]
    if problems:
        raise ConfigError(problems)
    return replace(lab, hypervisors={name: _rebuilt_uri(hv, lab.jumphost) for name, hv in lab.hypervisors.items()})


def _holder(body: Mapping[str, Any], path: str) -> tuple[Mapping[str, Any] | None, str]:
    """The mapping that holds `path`'s last key (None where a parent is not a mapping), and that key."""
    *parents, name = path.split(".")
    holder: Any = body
    for parent in parents:
        holder = holder.get(parent) if isinstance(holder, Mapping) else None
    return (holder if isinstance(holder, Mapping) else None), name


def _version_problems(version: int, body: Mapping[str, Any], where: str) -> list[str]:
    """Version 2 must carry what it added (but what only some labs have); version 1 must not (a field it never
    had is not its own). Versions 1 and 2 carry the IPv4 keys; version 3 (an IPv6-only lab) none of them, but its
    IPv6 ones and every hypervisor's address6."""
    found = []
    for path in _ADDED_IN_2:
        holder, name = _holder(body, path)
        if holder is None:
            continue
        if version == 1 and name in holder:
            found.append(f"{where}{path}: version 1 has no {name}; a version-2 lab exports version 2")
        elif version != 1 and name not in holder and path not in _OPTIONAL_IN_2 and \
                (version, path) != (IPV6_ONLY_VERSION, "network.ntp"):
            found.append(f"{where}{path}: missing (contract version 2 has it)")
    hypervisors = body.get("hypervisors")
    hosts = [f"hypervisors.{name}.address" for name in hypervisors] if isinstance(hypervisors, Mapping) else []
    hosts += [f"{service}.address" for service in _SERVICES]
    for path in (*_IPV4_ONLY, *hosts):
        holder, name = _holder(body, path)
        if holder is None:
            continue
        if version == IPV6_ONLY_VERSION and name in holder:
            found.append(f"{where}{path}: version 3 (an IPv6-only lab) has no {name}")
        elif version != IPV6_ONLY_VERSION and name not in holder and path not in _ADDED_IN_2:
            found.append(f"{where}{path}: missing (contract version {version} has it)")
    if version == IPV6_ONLY_VERSION:
        for path in (*_REQUIRED_IN_3, *(f"{host}6" for host in hosts)):
            holder, name = _holder(body, path)
            if holder is not None and name not in holder:
                found.append(f"{where}{path}: missing (contract version 3, an IPv6-only lab, has it)")
    return found


def _rebuilt_uri(hv: HypervisorOutputs, jumphost: JumphostOutputs) -> HypervisorOutputs:
    target = SshTarget(address=hv.ssh_address, user=hv.user, port=hv.port)
    return replace(hv, libvirt_uri=libvirt_uri(target, jumphost.ssh_key_path or "", jumphost.known_hosts))


def _consistency_problems(lab: LabOutputs) -> list[str]:
    """What spans fields: names match their keys, addresses sit on the lab network, slices on known hosts."""
    found = _consistency4_problems(lab) if lab.network.cidr is not None else _only6_problems(lab)
    for key, hv in lab.hypervisors.items():
        if hv.name != key:
            found.append(f"hypervisors.{key}.name: {hv.name!r} is not its key {key!r}")
    for name, slice_ in lab.slices.items():
        if slice_.hypervisor not in lab.hypervisors:
            found.append(f"slices.{name}.hypervisor: {slice_.hypervisor!r} is not a hypervisor of this lab")
        if slice_.range is None and slice_.range6 is None:
            found.append(f"slices.{name}.range: the slice has neither range nor range6")
        elif slice_.range is not None and (lab.network.cidr is None or
                                           not AddressRange.parse(slice_.range).within(IPNetwork(lab.network.cidr))):
            found.append(f"slices.{name}.range: {slice_.range} is outside {lab.network.cidr or 'the lab (IPv6-only)'}")
    return found + _consistency6_problems(lab)


def _consistency4_problems(lab: LabOutputs) -> list[str]:
    """A lab with IPv4 (versions 1 and 2; _version_problems found each key there)."""
    net = lab.network
    network = IPNetwork(str(net.cidr))  # present: the caller checked
    found = [f"network.{name}: {value} is outside {network}" for name, value in
             (("gateway", net.gateway), ("dns", net.dns)) if value is None or IPAddress(value) not in network]
    found += [f"network.ntp: {value} is outside {network}" for value in net.ntp if IPAddress(value) not in network]
    if net.routing == "nat" and net.gateway != lab.jumphost.address:
        found.append(f"network.gateway: {net.gateway} is not the jumphost ({lab.jumphost.address}), "
                     "which routes this lab (routing nat)")
    if net.prefix != network.prefixlen:
        found.append(f"network.prefix: {net.prefix} is not the prefix of {network}")
    if net.gateway6 is not None or lab.jumphost.address6 is not None:
        found.append("network.gateway6: only an IPv6-only lab (version 3) names its IPv6 router and jumphost")
    return found


def _only6_problems(lab: LabOutputs) -> list[str]:
    """An IPv6-only lab (version 3): the jumphost is dns6, its router in cidr6, nothing routed by NAT."""
    net = lab.network
    found = [] if lab.jumphost.address6 == net.dns6 else [
        f"jumphost.address6: {lab.jumphost.address6} is not network.dns6 ({net.dns6})"]
    if net.routing == "nat":
        found.append("network.routing: nat on an IPv6-only lab (no NAT66)")
    if net.gateway6 is not None and net.cidr6 is not None and IPAddress(net.gateway6) not in IPNetwork(net.cidr6):
        found.append(f"network.gateway6: {net.gateway6} is outside {net.cidr6}")
    return found


def _consistency6_problems(lab: LabOutputs) -> list[str]:
    """The IPv6 fields: both or neither of cidr6 and dns6, and every IPv6 address (dns6, range6, a hypervisor's
    address6) inside cidr6."""
    net = lab.network
    if (net.cidr6 is None) != (net.dns6 is None):
        return ["network.cidr6: a dual-stack lab exports both cidr6 and dns6"]
    ranges = {name: slice_.range6 for name, slice_ in lab.slices.items() if slice_.range6}
    hosts6 = {name: hv.address6 for name, hv in lab.hypervisors.items() if hv.address6}
    if net.cidr6 is None or net.dns6 is None:
        return [f"slices.{name}.range6: the lab network has no cidr6" for name in ranges] + \
            [f"hypervisors.{name}.address6: the lab network has no cidr6" for name in hosts6]
    network6 = IPNetwork(net.cidr6)
    found = [f"network.dns6: {net.dns6} is outside {network6}"] if IPAddress(net.dns6) not in network6 else []
    found += [f"hypervisors.{name}.address6: {address} is outside {network6}" for name, address in hosts6.items()
              if IPAddress(address) not in network6]
    return found + [f"slices.{name}.range6: {text} is outside {network6}" for name, text in ranges.items()
                    if not AddressRange.parse(text, 6).within(network6)]


def slice_bmc_kind(cluster: str, raw: Mapping[str, Any] | None) -> str | None:
    """The BMC kind the lab gives cluster's slice (None: no BMCs). Outputs that fail the contract give None
    here: design_cluster refuses them with the full message."""
    try:
        return bmc_kind_of(parse_lab_outputs("lab", raw), cluster)
    except ConfigError:
        return None


def bmc_kind_of(lab: LabOutputs, cluster: str) -> str | None:
    """The BMC kind of cluster's slice in parsed outputs (None: no BMCs)."""
    slice_ = lab.slices.get(cluster)
    if slice_ is None or not slice_.bmc_ports:
        return None
    return slice_.bmc or "ipmi"
