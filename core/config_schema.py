"""The declarative schema of stack config: every `ocplab:*` value's type, range and pattern.

Stack files are written by many hands and config can be set from CI jobs, so each value is checked
here, strictly (no bool taken for an int, no string for a number), with full-match patterns, bounds
and unknown keys refused. Every problem names its exact field, all at once, before any resource is
declared. labconfig/clusterconfig build the core's config from the validated models and check only
what spans fields.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from typing import Annotated, Any, Literal, TypeVar

import netaddr
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    PrivateAttr,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from core import cache_config, mirror_config
from core.addresses import AddressRange
from core.dci_user import DEFAULT_USER
from core.errors import ConfigError
from core.macs import mac_problem
from core.names import DOMAIN, LABEL
from core.port_range import PortRange
from core.seed_media import SeedMedia
from core.sizes import parse_bytes

M = TypeVar("M", bound=BaseModel)


def _pattern(regex: str, what: str) -> AfterValidator:
    compiled = re.compile(regex)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):  # fullmatch: no trailing newline slips through, unlike `$`
            raise ValueError(f"{value[:80]!r} is not {what}")
        return value

    return AfterValidator(check)


def _parses(parse: Callable[[str], object]) -> AfterValidator:
    """The value as the core reads it (ValueError naming what is wrong), so reading it later cannot fail."""
    def check(value: str) -> str:
        parse(value)
        return value

    return AfterValidator(check)


def _no_problem(problem: Callable[[str], str | None]) -> AfterValidator:
    def check(value: str) -> str:
        if found := problem(value):
            raise ValueError(found)
        return value

    return AfterValidator(check)


_IPV4 = r"(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}"
Label = Annotated[str, _pattern(LABEL, "a DNS label (1-63 lowercase letters, digits or '-', not at either end)")]
Domain = Annotated[str, Field(max_length=253), _pattern(DOMAIN, "a DNS domain such as lab.example.com")]
IPv4 = Annotated[str, _pattern(_IPV4, "an IPv4 address such as 192.168.16.1")]
Cidr = Annotated[str, _pattern(_IPV4 + r"/(1[6-9]|2\d|30)", "an IPv4 network from /16 to /30 such as 192.168.16.0/24")]
AddressRangeText = Annotated[str, _pattern(_IPV4 + r"((-" + _IPV4 + r")|/(2[0-9]|3[0-2]))?",
                                           "an address, range or small CIDR like 192.168.16.32-192.168.16.47"),
                            _parses(AddressRange.parse)]
PortRangeText = Annotated[str, _pattern(r"\d{1,5}-\d{1,5}", "a port range like 6230-6239 (UDP)"),
                          _parses(PortRange.parse)]


def _canonical6(value: str) -> str:
    """IPv6 has many spellings of one address: only the short one netaddr writes is taken, so addresses compare as
    text everywhere (dnsmasq lines, sticky state, outputs)."""
    address, _, prefix = value.partition("/")
    try:
        shown = str(netaddr.IPNetwork(value, version=6).cidr) if prefix else str(netaddr.IPAddress(address, 6))
    except (netaddr.AddrFormatError, ValueError) as exc:
        raise ValueError(f"{value[:80]!r} is not an IPv6 address") from exc
    if shown != value:
        raise ValueError(f"{value[:80]!r} is not written as {shown!r}; write IPv6 that way (lowercase, shortest"
                         f"{', the network address' if prefix else ''})")
    return value


_IPV6 = r"[0-9a-f]{0,4}(:[0-9a-f]{0,4}){2,7}"
IPv6 = Annotated[str, _pattern(_IPV6, "an IPv6 address such as fd00:16::1"), AfterValidator(_canonical6)]
# A host either family may name (a BMC's address); not checked to be canonical IPv6.
IPv4or6 = Annotated[str, _pattern(f"({_IPV4})|({_IPV6})", "an IPv4 or IPv6 address such as 192.168.16.11 or "
                                  "fd00:16::11")]
# An address of either family that a cluster pins (a VIP, a node's): IPv6 only as netaddr writes it, so a pin
# and a planned address compare as text (one pattern for both, so a bad value gets one message, not one per family).
PinnedAddress = Annotated[IPv4or6, AfterValidator(lambda value: _canonical6(value) if ":" in value else value)]
# A pinned address, or one per family, IPv4 first (core/ip_families.py checks the order): VIPs and node addresses.
PerFamily = PinnedAddress | Annotated[list[PinnedAddress], Field(min_length=1, max_length=2)]
Cidr6 = Annotated[str, _pattern(_IPV6 + r"/\d{1,3}", "an IPv6 network such as fd00:16::/64"),
                  AfterValidator(_canonical6)]
AddressRange6Text = Annotated[str, _pattern(_IPV6 + r"(-" + _IPV6 + r"|/\d{1,3})?",
                                            "an IPv6 address, range or CIDR like fd00:16::20-fd00:16::2f"),
                              _parses(lambda text: AddressRange.parse(text, 6))]
Interface = Annotated[str, _pattern(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,14}",
                                    "an interface name (1-15 letters, digits, '_', '.' or '-')")]
UserName = Annotated[str, _pattern(r"[a-z_][a-z0-9_-]{0,31}", "a user name (lowercase, digits, '_' or '-', "
                                                              "at most 32)")]
Path = Annotated[str, _pattern(r"(~/)?[A-Za-z0-9_./@%+=:,-][A-Za-z0-9_./@%+=:, -]{0,1023}",
                               "a file path (printable, no newline, `~/` at most; not ~user)")]
AbsolutePath = Annotated[str, _pattern(r"/[A-Za-z0-9_./@%+=:,-]{0,1023}", "an absolute path without blanks")]
ImageSource = Annotated[str, _pattern(r"(https?://[A-Za-z0-9._~:/?#@!$&()*+,;=%-]{1,2000})|(~/)?[A-Za-z0-9_./@%+=:,-]"
                                      r"[A-Za-z0-9_./@%+=:, -]{0,1023}", "a file path or an http(s) URL")]
LeaseTime = Annotated[str, _pattern(r"\d{1,7}[smhdw]?|infinite", "a dnsmasq lease time such as 2m, 1h or infinite")]
# An NTP server as chrony's `server` line takes it: an address or a host name (no port, no options); IPv6 as
# canonical text, for an IPv6-only lab (core.labconfig checks the family against the lab's).
NtpName = Annotated[str, Field(max_length=253),
                    _pattern(rf"{_IPV4}|({LABEL}\.)*(?=[0-9-]*[a-z]){LABEL}",  # a name's last label has a letter
                             "an NTP server's IPv4 address or host name such as ntp.example.com")]
NtpServer = NtpName | IPv6
Mac = Annotated[str, _pattern(r"[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}", "a MAC address like 52:54:00:00:02:00")]
NodeMac = Annotated[Mac, _no_problem(mac_problem)]  # a NIC's own: unicast and not all-zero too


def _at_most_a_pebibyte(value: str) -> str:
    if parse_bytes(value) > 1024**5:
        raise ValueError(f"{value!r} is larger than 1P")
    return value


Size = Annotated[int, Field(ge=0, le=1024 * 1024)] | Annotated[  # a bare number is GiB
    str, _pattern(r"\d{1,7}(\.\d{1,3})?\s?[KMGTkmgt]?(i?B)?", "a size like 42G or 512M"),
    AfterValidator(_at_most_a_pebibyte)]
Port = Annotated[int, Field(ge=1, le=65535)]


def _size_between(least: int, most: int, shown: str) -> AfterValidator:
    def check(value: str) -> str:
        if not least <= parse_bytes(value) <= most:
            raise ValueError(f"{value!r} is not between {shown}")
        return value

    return AfterValidator(check)


_UNIT_SIZE = r"\d{1,7}(\.\d{1,3})?\s?[KMGTkmgt](i?B)?"
# A hypervisor's expected capacity (ocplab plan --planned): memory in MiB or with a unit, disk in GiB or with one.
HostMemory = Annotated[int, Field(ge=1024, le=64 * 1024 * 1024)] | Annotated[
    str, _pattern(_UNIT_SIZE, "a memory size like 512G or 524288M"), _size_between(1024**3, 64 * 1024**4, "1G and 64T")]
HostDisk = Annotated[int, Field(ge=1, le=1024 * 1024)] | Annotated[
    str, _pattern(_UNIT_SIZE, "a disk size like 3.5T or 800G"), _size_between(1024**3, 1024**5, "1G and 1P")]
Text = Annotated[str, Field(max_length=4096), _pattern(r"[^\x00\r\n]*", "one line of text (no newline or NUL)")]
Command = Annotated[str, Field(max_length=4096), _pattern(r"[^\x00]*", "a command without NUL bytes")]
SshKey = Annotated[str, Field(max_length=16384),
                   _pattern(r"(ssh|ecdsa|sk)-[A-Za-z0-9@.-]+ [A-Za-z0-9+/]+=*( [^\x00\r\n]*)?",
                            "an OpenSSH public key line")]
Ratio = Annotated[float, Field(gt=0, le=64, allow_inf_nan=False)]


class _Strict(BaseModel):
    # Each model is built when first used, not at import: a cluster stack never builds the lab's.
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, defer_build=True)


# --- words and defaults the core's dataclasses share with the schema, written once -------------------------

BridgeBackend = Literal["nmcli", "iproute2"]
BmcKind = Literal["ipmi", "redfish"]
Routing = Literal["nat", "none"]  # nat: the jumphost routes the lab out of its uplink; none: the lab has a router
DEFAULT_BMC: BmcKind = "ipmi"
PROVISIONING_BRIDGE = "br1"
Topology = Literal["ipi", "sno"]
Role = Literal["provisionhost", "master", "worker"]
NetworkName = Literal["baremetal", "provisioning"]
DiskCache = Literal["none", "writethrough", "writeback", "directsync", "unsafe", "default"]
DiskBus = Literal["virtio", "virtio_scsi", "scsi", "sata", "ide"]
CpuMode = Literal["host-passthrough", "host-model", "custom", "maximum"]


# --- the lab stack ------------------------------------------------------------------------------

class NetworkSchema(_Strict):
    # One of cidr and cidr6 at least (core.labconfig): cidr6 alone is an IPv6-only lab, whose gateway, upstreams
    # and reserved ranges are IPv6 (the lab's family; IPv4 ones are refused there by field).
    cidr: Cidr | None = None
    cidr6: Cidr6 | None = None  # dual-stack: the lab network's IPv6 prefix (DHCPv6 and router advertisements)
    gateway: IPv4 | IPv6 | None = None  # the lab's router; with routing nat the jumphost, so it may be left out
    routing: Routing = "none"
    dns_upstream: Annotated[list[IPv4 | IPv6], Field(max_length=8)] = []
    ntp_upstream: Annotated[list[NtpServer], Field(max_length=8)] = []
    reserved: Annotated[list[AddressRangeText | AddressRange6Text], Field(max_length=64)] = []
    lease_time: LeaseTime = "1h"


class JumphostSchema(_Strict):
    address: IPv4 | None = None  # required on a lab with network.cidr; absent on an IPv6-only lab (address6 alone)
    address6: IPv6 | None = None  # its IPv6 address on the lab interface: DHCPv6, DNS and RA come from it
    user: UserName = "root"
    port: Port = 22
    interface: Interface
    uplink: Interface | None = None  # the interface toward the outside, where routing nat masquerades
    ssh_key_path: Path | None = None
    known_hosts: Path | None = None


class CapacitySchema(_Strict):
    """What the server is expected to have, before libvirt can say (the deployed lab exports libvirt's)."""

    vcpus: Annotated[int, Field(ge=1, le=4096)]
    memory: HostMemory
    disk: HostDisk | None = None


class HypervisorSchema(_Strict):
    name: Label
    address: IPv4 | None = None  # as the jumphost's: absent on an IPv6-only lab, which names it by address6
    address6: IPv6 | None = None  # dual-stack: its IPv6 address on the lab NIC, kept on br0 as the IPv4 one is
    user: UserName = "root"
    port: Port = 22
    nic: Interface
    bridge: Interface = "br0"
    bridge_backend: BridgeBackend = "nmcli"
    pool_path: AbsolutePath = "/var/lib/libvirt/ocplab"
    capacity: CapacitySchema | None = None
    provisioning_nic: Interface | None = None
    provisioning_bridge: Interface = PROVISIONING_BRIDGE


class SliceSchema(_Strict):
    hypervisor: Label
    range: AddressRangeText | None = None  # None: an IPv6-only cluster (range6 alone; core.labconfig checks one is)
    range6: AddressRange6Text | None = None  # dual-stack: the cluster's IPv6 addresses, in network.cidr6
    bmc_ports: PortRangeText | None = None
    bmc: BmcKind = DEFAULT_BMC


class OvercommitSchema(_Strict):
    cpu: Ratio = 1.0
    memory: Ratio = 1.0


class MirrorSchema(_Strict):
    """The lab's mirror registry on the jumphost (core/mirror_config.py checks the port and path further)."""
    port: Port = mirror_config.DEFAULT_PORT
    storage: AbsolutePath = mirror_config.DEFAULT_STORAGE
    keep_data: bool = True  # false: a lab destroy deletes the mirrored images too
    user: UserName = mirror_config.DEFAULT_USER
    registry: mirror_config.RegistrySource = mirror_config.DEFAULT_REGISTRY


class CacheImageSchema(_Strict):
    source: Annotated[str, _pattern(r"(https?://[A-Za-z0-9._~:/?#@!$&()*+,;=%-]{1,2000})|/[A-Za-z0-9_./@%+=:,-]{0,1023}",
                                    "an http(s) URL or an absolute path on the jumphost (no blanks)")]
    sha256: Annotated[str, _pattern(r"[0-9a-fA-F]{64}", "a sha256 (64 hex digits)")]


CacheFileName = Annotated[str, _pattern(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}", "a file name (letters, digits, '.', "
                                          "'_' or '-', not starting with '.')")]


class CacheSchema(_Strict):
    """The lab's image cache on the jumphost (core/cache_config.py checks the port, path and sources further)."""
    port: Port = cache_config.DEFAULT_PORT
    storage: AbsolutePath = cache_config.DEFAULT_STORAGE
    keep_data: bool = True  # false: a lab destroy deletes the cached images too
    images: Annotated[dict[CacheFileName, CacheImageSchema], Field(max_length=64)] = {}


class LabSchema(_Strict):
    kind: Literal["lab"] = "lab"
    domain: Domain
    network: NetworkSchema
    jumphost: JumphostSchema
    hypervisors: Annotated[list[HypervisorSchema], Field(min_length=1, max_length=64)]
    images: Annotated[dict[Label, ImageSource], Field(max_length=32)] = {}
    slices: Annotated[dict[Label, SliceSchema], Field(max_length=512)] = {}
    overcommit: OvercommitSchema = OvercommitSchema()
    mirror: MirrorSchema | None = None
    cache: CacheSchema | None = None


# --- the cluster stacks -------------------------------------------------------------------------

class UserSchema(_Strict):
    name: UserName
    ssh_authorized_keys: Annotated[list[SshKey], Field(max_length=64)] = []
    gecos: Text | None = None
    groups: Text | None = None
    sudo: Text | None = None
    shell: AbsolutePath | None = None
    lock_passwd: bool | None = None
    _order: tuple[str, ...] = PrivateAttr(default=())

    @model_validator(mode="wrap")
    @classmethod
    def _keep_order(cls, data: Any, handler: ModelWrapValidatorHandler[UserSchema]) -> UserSchema:
        """cloud-init gets a user's fields as written: a reordered seed would rebuild a deployed provisionhost."""
        user = handler(data)
        if isinstance(data, Mapping):  # else a model already made, which keeps its own
            user._order = tuple(data)
        return user

    def written(self) -> dict[str, Any]:
        """The fields the stack writes, in its order, an explicit null included."""
        return {key: getattr(self, key) for key in self._order}


class NicSchema(_Strict):
    name: NetworkName
    mac: NodeMac | None = None
    # baremetal only: the address this node keeps (one the lab already gives it: ocplab import), or one per family
    ip: PerFamily | None = None


class VipsSchema(_Strict):
    api: PerFamily | None = None
    ingress: PerFamily | None = None


class SizeSchema(_Strict):
    memory: Annotated[int, Field(ge=16, le=4 * 1024 * 1024)] | None = None  # MiB
    vcpus: Annotated[int, Field(ge=1, le=1024)] | None = None
    disk_size: Size | None = None
    disk2_size: Size | None = None
    disk_cache: DiskCache | None = None
    disk_bus: DiskBus | None = None
    cpu_mode: CpuMode | None = None
    image: Label | None = None


class ProvisionhostSchema(SizeSchema):
    users: Annotated[list[UserSchema], Field(max_length=64)] = []
    run_commands: Annotated[list[Command], Field(max_length=256)] = []


class HostSchema(ProvisionhostSchema):
    name: Label
    role: Role | None = None
    networks: Annotated[list[NicSchema], Field(min_length=1, max_length=2)] | None = None


class DefaultsSchema(_Strict):
    disk_cache: DiskCache | None = None
    disk_bus: DiskBus | None = None
    cpu_mode: CpuMode | None = None


class SizesSchema(_Strict):
    provisionhost: SizeSchema | None = None
    master: SizeSchema | None = None
    worker: SizeSchema | None = None
    sno: SizeSchema | None = None


class DciSchema(_Strict):
    """The provisionhost user DCI logs in as (null: none) and the controller key it accepts."""
    user: UserName | None = DEFAULT_USER
    controller_key: SshKey | None = None


class UefiSchema(_Strict):
    """OVMF on the hypervisor, for an SNO node (core.firmware); the defaults are RHEL 9's edk2-ovmf."""
    code: AbsolutePath = "/usr/share/edk2/ovmf/OVMF_CODE.fd"
    vars: AbsolutePath = "/usr/share/edk2/ovmf/OVMF_VARS.fd"


class OsImagesSchema(_Strict):
    """Which images of the lab's cache are RHCOS for the installer (core/os_images.py checks them against the lab)."""
    bootstrap: CacheFileName | None = None  # platform.baremetal.bootstrapOSImage: the bootstrap VM's (qemu) image
    cluster: CacheFileName | None = None  # platform.baremetal.clusterOSImage: the hosts' (openstack) image


class ClusterSchema(_Strict):
    kind: Literal["cluster"] = "cluster"
    lab: Label
    cluster: Label | None = None
    topology: Topology = "ipi"
    hypervisor: Label
    image: Label = "rhcos"
    domain_type: Literal["kvm", "qemu"] = "kvm"
    masters: Annotated[int, Field(ge=0, le=9)] = 3
    workers: Annotated[int, Field(ge=0, le=100)] = 2
    sizes: SizesSchema = SizesSchema()
    defaults: DefaultsSchema = DefaultsSchema()
    hosts: Annotated[list[HostSchema], Field(min_length=1, max_length=128)] | None = None
    provisionhost: ProvisionhostSchema = ProvisionhostSchema()
    start: bool = True
    provisioning_network: Literal["isolated", "bridged"] = "isolated"
    vips: VipsSchema | None = None
    dci: DciSchema | None = None
    seed_media: SeedMedia | None = None
    uefi: UefiSchema | None = None  # SNO only: its node boots UEFI
    os_images: OsImagesSchema | None = None  # IPI only: RHCOS from the lab's image cache


# --- problems, each naming its field ------------------------------------------------------------

def _field(loc: tuple[int | str, ...], prefix: str = "ocplab:") -> str:
    path = prefix
    for index, part in enumerate(loc):
        if part == "[key]":
            continue
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += ("." if index else "") + str(part)
    return path


def _model_at(model: type[BaseModel], loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    """The model whose field set an unknown key was checked against (for "did you mean")."""
    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        info = current.model_fields.get(str(part))
        if info is not None:  # otherwise a key of a mapping of models: stay on the model
            current = _inner_model(info.annotation) or current
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        if (found := _inner_model(arg)) is not None:
            return found
    return None


_QUOTED = re.compile(r"'([^']*)'")
_PLAIN = {
    "int_type": "is not a whole number", "int_from_float": "is not a whole number", "string_type": "is not a string",
    "list_type": "is not a list", "dict_type": "is not a mapping", "model_type": "is not a mapping",
    "bool_type": "is not true or false", "float_type": "is not a number", "finite_number": "is not a finite number",
    "dataclass_type": "is not a mapping",
}


def _message(model: type[BaseModel] | None, error: Mapping[str, Any]) -> str:
    loc, kind = tuple(error["loc"]), str(error["type"])
    ctx = {k: int(v) if isinstance(v, float) and v.is_integer() else v for k, v in (error.get("ctx") or {}).items()}
    shown = repr(error.get("input"))[:80]
    if kind == "extra_forbidden":
        known = list(owner.model_fields) if model and (owner := _model_at(model, loc)) else []
        close = difflib.get_close_matches(str(loc[-1]), known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f"; known keys: {', '.join(known)}" if known else ""
        return f"is not a known key{hint}"
    if kind in ("missing", "missing_argument"):
        return "is required"
    if kind == "unexpected_keyword_argument":
        return "is not a known key"
    if kind in _PLAIN:
        return "is required" if error.get("input") is None else f"{shown} {_PLAIN[kind]}"
    if kind == "less_than_equal":
        return f"{shown} is above the limit of {ctx['le']}"
    if kind == "less_than":
        return f"{shown} must be below {ctx['lt']}"
    if kind == "greater_than_equal":
        return f"{shown} is below the minimum of {ctx['ge']}"
    if kind == "greater_than":
        return f"{shown} must be above {ctx['gt']}"
    if kind in ("too_long", "too_short"):
        return f"has {ctx.get('actual_length')} items; allowed: {ctx.get('min_length', 0)} to {ctx.get('max_length')}"
    if kind == "literal_error":
        return f"{shown} is not one of {', '.join(_QUOTED.findall(str(ctx.get('expected'))))}"
    return str(error["msg"]).removeprefix("Value error, ")


def _branch(part: int | str) -> bool:
    """Union members in an error location (`int`, `function-after[...]`), not fields."""
    return isinstance(part, str) and ("[" in part or part.startswith("constrained-")
                                      or part in {"int", "str", "float", "bool"})


def _named_hosts(loc: tuple[int | str, ...], values: Mapping[str, Any]) -> tuple[int | str, ...]:
    """`hosts[1]` is written `hosts.<its name>` when it has a usable one, as the other checks name it."""
    if len(loc) > 1 and loc[0] == "hosts" and isinstance(loc[1], int):
        hosts = values.get("hosts")
        name = hosts[loc[1]].get("name") if isinstance(hosts, list) and isinstance(hosts[loc[1]], Mapping) else None
        if isinstance(name, str) and re.fullmatch(LABEL, name):
            return ("hosts", name, *loc[2:])
    return loc


def _problems(model: type[BaseModel], values: Mapping[str, Any], exc: ValidationError) -> list[str]:
    found: dict[str, list[str]] = {}
    for error in exc.errors(include_url=False):
        loc = tuple(p for p in error["loc"] if not _branch(p))
        found.setdefault(_field(_named_hosts(loc, values)), []).append(_message(model, {**error, "loc": loc}))
    # A union (a size: a number or '42G') fails once per member: say the most telling one; a list's item that
    # fails (ip[0]) says more than that the list is not the union's string.
    return [f"{where}: {next((m for m in messages if not _union_noise(m)), messages[0])}"
            for where, messages in found.items()
            if not (all(map(_union_noise, messages)) and any(f.startswith(f"{where}[") for f in found))]


def _union_noise(message: str) -> bool:
    return "whole number" in message or message.endswith(" is not a string")


def schema_problems(model: type[BaseModel], values: Mapping[str, Any]) -> list[str]:
    """Every problem of `values` (keys without the `ocplab:` prefix) against `model`, one per field."""
    try:
        model.model_validate(dict(values))
    except ValidationError as exc:
        return _problems(model, values, exc)
    return []


def validated(model: type[M], values: Mapping[str, Any]) -> M:
    """`values` (keys without the `ocplab:` prefix) as `model`; else ConfigError naming every field it refuses."""
    try:
        return model.model_validate(dict(values))
    except ValidationError as exc:
        raise ConfigError(_problems(model, values, exc)) from None


def value_problems(adapter: TypeAdapter[Any], values: Any, prefix: str) -> list[str]:
    """Every problem of `values` read from outside ocplab's config (another stack's outputs) against
    `adapter`, each named `<prefix><field>`, with the same wording as the config's."""
    try:
        adapter.validate_python(values)
    except ValidationError as exc:
        found: dict[str, list[str]] = {}
        for error in exc.errors(include_url=False):
            loc = tuple(p for p in error["loc"] if not _branch(p))
            found.setdefault(_field(loc, prefix), []).append(_message(None, {**error, "loc": loc}))
        return [f"{where}: {messages[0]}" for where, messages in found.items()]
    return []
