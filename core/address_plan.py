"""A cluster's IPs, VIPs and MACs inside its slice, sticky across updates.

`previous` is what the stack exported on its last update (kept in stack state): every node
that still exists keeps its IP and MACs, and only new nodes take the lowest free addresses.
From an empty state the result depends on the config alone, so destroy + up of an unchanged
config gives the same addresses.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import netaddr
from pydantic import BaseModel, ConfigDict, Strict, TypeAdapter

from core.addresses import AddressRange
from core.clusterconfig import ClusterConfig
from core.config_schema import IPv4, IPv6, Label, Mac, value_problems
from core.errors import ConfigError
from core.macs import mac_for_ip, mac_for_ip6

NIC_INDEX = {"baremetal": 0, "provisioning": 1}


@dataclass(frozen=True)
class NodeAddresses:
    ip: str | None  # None on an IPv6-only cluster
    macs: Mapping[str, str]
    ip6: str | None = None  # dual-stack: its IPv6 address (DHCPv6, by the same MAC)


@dataclass(frozen=True)
class AddressPlan:
    api_vip: str | None  # None on an IPv6-only cluster (its VIPs are api_vip6, ingress_vip6)
    ingress_vip: str | None
    nodes: Mapping[str, NodeAddresses]
    # IPI: the installer's bootstrap VM, which boots on the provisionhost with the installer's
    # `bootstrapExternalStaticIP`/`externalMACAddress`; the static-only DHCP range needs its reservation.
    bootstrap: NodeAddresses | None = None
    api_vip6: str | None = None  # dual-stack: the IPv6 VIPs (SNO: its node's IPv6 address)
    ingress_vip6: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The form kept in stack outputs and read back as `previous`; IPv6 keys only where planned, so an IPv4
        cluster's outputs stay as they were."""
        data: dict[str, Any] = {"api_vip": self.api_vip, "ingress_vip": self.ingress_vip} if self.api_vip else {}
        data["nodes"] = {name: _kept_node(n) for name, n in self.nodes.items()}
        if self.bootstrap:
            data["bootstrap"] = _kept_node(self.bootstrap)
        if self.api_vip6:
            data.update(api_vip6=self.api_vip6, ingress_vip6=self.ingress_vip6)
        return data


def _kept_node(node: NodeAddresses) -> dict[str, Any]:
    return {**({"ip": node.ip} if node.ip else {}), "macs": dict(node.macs), **({"ip6": node.ip6} if node.ip6 else {})}


class _Kept(BaseModel):
    """What `as_dict` writes, read back from the stack's own outputs: checked like any outside value."""

    # Built when a stack's previous assignments are first read: a first `pulumi up` has none.
    model_config = ConfigDict(strict=True, extra="forbid", defer_build=True)


class _NodeKept(_Kept):
    ip: Annotated[IPv4, Strict()] | None = None
    ip6: Annotated[IPv6, Strict()] | None = None
    macs: dict[Literal["baremetal", "provisioning"], Annotated[Mac, Strict()]]


class _PlanKept(_Kept):
    api_vip: Annotated[IPv4, Strict()] | None = None
    ingress_vip: Annotated[IPv4, Strict()] | None = None
    api_vip6: Annotated[IPv6, Strict()] | None = None
    ingress_vip6: Annotated[IPv6, Strict()] | None = None
    nodes: dict[Label, _NodeKept] = {}
    bootstrap: _NodeKept | None = None


_KEPT: TypeAdapter[_PlanKept] = TypeAdapter(_PlanKept)


def checked_previous(cluster: str, previous: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """The previous assignments as `as_dict` wrote them, or ConfigError naming the field that is off."""
    if not previous:
        return {}
    problems = value_problems(_KEPT, dict(previous), f"ocplab: cluster {cluster}'s previous output assignments.")
    if problems:
        raise ConfigError([*problems, f"ocplab: cluster {cluster}: its stack state was changed outside ocplab; "
                                      "`pulumi stack output assignments` shows it, `pulumi destroy` then `pulumi up` "
                                      "plans afresh"])
    return previous


def _previous_ip(previous: Mapping[str, Any], name: str, key: str = "ip") -> str | None:
    node = (previous.get("nodes") or {}).get(name)
    return node.get(key) if isinstance(node, Mapping) else None


API, INGRESS, BOOTSTRAP = "API VIP", "ingress VIP", "bootstrap VM"


@dataclass(frozen=True)
class _Family:
    """What one family's planning reads: its slice range, the pins, what was kept, where its range is named."""

    slice_range: AddressRange
    pins: Mapping[str, str]
    kept: Mapping[str, object]  # what -> the address it had
    field: str  # the config field an exhausted range names


def _assign(cluster: ClusterConfig, family: _Family) -> dict[str, str]:
    """what -> address: pins first, then what each kept, then the lowest free address (the bootstrap VM the highest);
    ConfigError when the range is exhausted."""
    slice_range = family.slice_range
    usable = {str(ip) for ip in slice_range.addresses()}
    used = {ip: what for what, ip in family.pins.items()}  # ip -> what uses it

    def pinned_or_kept(what: str) -> str | None:
        ip = family.kept.get(what)
        if what in family.pins:
            return family.pins[what]
        if isinstance(ip, str) and ip in usable and ip not in used:
            used[ip] = what
            return ip
        return None

    ipi = cluster.topology == "ipi"
    api = pinned_or_kept(API) if ipi else None
    ingress = pinned_or_kept(INGRESS) if ipi else None
    ips = {node.name: pinned_or_kept(node.name) for node in cluster.nodes}
    bootstrap = pinned_or_kept(BOOTSTRAP) if ipi else None
    ordered = sorted(usable, key=lambda a: int(netaddr.IPAddress(a)))
    if ipi and bootstrap is None:
        # The slice's highest free address: nodes fill the slice from the bottom, so adding nodes and a
        # destroy + up of the same config give every node the address it had, bootstrap included.
        bootstrap = next((ip for ip in reversed(ordered) if ip not in used), None)
        if bootstrap is not None:
            used[bootstrap] = BOOTSTRAP
    free = (ip for ip in ordered if ip not in used)
    wanted = [(API, api), (INGRESS, ingress)] if ipi else []
    wanted += [(name, ip) for name, ip in ips.items()]
    wanted += [(BOOTSTRAP, bootstrap)] if ipi else []
    assigned: dict[str, str] = {}
    missing = 0
    for what, ip in wanted:
        if ip is None:
            ip = next(free, None)
            if ip is None:
                missing += 1
                continue
            used[ip] = what
        assigned[what] = ip
    if missing:
        holders = sorted(used.items(), key=lambda item: int(netaddr.IPAddress(item[0])))
        listing = ", ".join(f"{what} {ip}" for ip, what in holders)
        raise ConfigError([f"{family.field}: the slice of cluster {cluster.name} ({slice_range}, {slice_range.size} "
                           f"addresses) is exhausted, {missing} more needed; it holds: {listing}. Widen "
                           "ocplab:slices in the lab stack or remove nodes"])
    return assigned


def _kept(cluster: ClusterConfig, previous: Mapping[str, Any], suffix: str) -> dict[str, object]:
    """What each VIP, node and the bootstrap VM had in one family (`suffix` "" for IPv4, "6" for IPv6)."""
    kept: dict[str, object] = {API: previous.get(f"api_vip{suffix}"), INGRESS: previous.get(f"ingress_vip{suffix}"),
                               BOOTSTRAP: (previous.get("bootstrap") or {}).get(f"ip{suffix}")}
    kept.update({node.name: _previous_ip(previous, node.name, f"ip{suffix}") for node in cluster.nodes})
    return kept


def plan_addresses(cluster: ClusterConfig, slice_range: AddressRange | None,
                   previous: Mapping[str, Any] | None = None, slice_range6: AddressRange | None = None) -> AddressPlan:
    """Assign addresses for `cluster` in `slice_range`, and in `slice_range6` too on a dual-stack slice (in
    `slice_range6` alone on an IPv6-only one); each family is planned on its own, so adding IPv6 to a deployed
    cluster keeps every IPv4 address. ConfigError when a slice is too small or a pin is of a family it lacks."""
    previous = checked_previous(cluster.name, previous)
    if slice_range is None:
        _refuse_ipv4_pins(cluster)
    assigned = _assign(cluster, _Family(slice_range, _pins(cluster, slice_range), _kept(cluster, previous, ""),
                                        "ocplab:hosts")) if slice_range else {}
    assigned6 = _assign(cluster, _Family(slice_range6, _pins6(cluster, slice_range6), _kept(cluster, previous, "6"),
                                         f"ocplab:slices.{cluster.name}.range6")) if slice_range6 else {}
    if slice_range6 is None:
        _refuse_ipv6_pins(cluster)
    nodes = {node.name: NodeAddresses(ip=(ip := assigned.get(node.name)), macs={
        net: node.pinned_macs.get(net) or _derived_mac(ip, assigned6.get(node.name), NIC_INDEX[net])
        for net in node.networks}, ip6=assigned6.get(node.name)) for node in cluster.nodes}
    _check_macs_unique(nodes)
    first = cluster.nodes[0].name
    boot = None
    if BOOTSTRAP in assigned or BOOTSTRAP in assigned6:
        ip, ip6 = assigned.get(BOOTSTRAP), assigned6.get(BOOTSTRAP)
        was = previous.get("bootstrap") or {}
        same = was.get("ip") == ip if ip else was.get("ip6") == ip6  # its MAC is kept with its address
        kept = was.get("macs", {}).get("baremetal") if same else None
        boot = NodeAddresses(ip=ip, macs={"baremetal": kept or _derived_mac(ip, ip6, 0)}, ip6=ip6)
        _check_macs_unique({**nodes, "bootstrap": boot})
    # SNO answers on its node: its VIPs are the node's addresses.
    return AddressPlan(api_vip=assigned.get(API, assigned.get(first)),
                       ingress_vip=assigned.get(INGRESS, assigned.get(first)),
                       nodes=nodes, bootstrap=boot, api_vip6=assigned6.get(API, assigned6.get(first)),
                       ingress_vip6=assigned6.get(INGRESS, assigned6.get(first)))


def _derived_mac(ip: str | None, ip6: str | None, nic: int) -> str:
    """A NIC's MAC from its IPv4 address, or from its IPv6 one on an IPv6-only cluster (core.macs)."""
    if ip:
        return mac_for_ip(netaddr.IPAddress(ip), nic)
    assert ip6 is not None, "every planned node has an address in one family at least"
    return mac_for_ip6(netaddr.IPAddress(ip6), nic)


def _refuse_ipv4_pins(cluster: ClusterConfig) -> None:
    """An IPv6-only cluster (its slice has range6 alone) has no IPv4 address to pin."""
    fix = f"cluster {cluster.name}'s slice is IPv6-only (range6, no range)"
    found = [f"ocplab:vips.{key}: {ip} is IPv4 and {fix}; pin an address of its range6, or give the slice a range "
             "in the lab stack" for key, ip in cluster.pinned_vips.items()]
    found += [f"{_NODE_PIN.format(node.name)}: {node.pinned_ip} is IPv4 and {fix}; pin an address of its range6 "
              "alone, or give the slice a range in the lab stack" for node in cluster.nodes if node.pinned_ip]
    if found:
        raise ConfigError(found)


def _refuse_ipv6_pins(cluster: ClusterConfig) -> None:
    """An IPv4 cluster (its slice has no range6) has no IPv6 address to pin."""
    fix = (f"is IPv6, and cluster {cluster.name}'s slice has no range6; give ocplab:slices.{cluster.name}.range6 in "
           "the lab stack, or pin IPv4 only")
    found = [f"ocplab:vips.{key}: {ip} {fix}" for key, ip in cluster.pinned_vips6.items()]
    found += [f"{_NODE_PIN.format(node.name)}: {node.pinned_ip6} {fix}" for node in cluster.nodes if node.pinned_ip6]
    if found:
        raise ConfigError(found)


VIPS = {"api": API, "ingress": INGRESS}  # ocplab:vips key -> what the plan calls it
_NODE_PIN = "ocplab:hosts.{}.networks.baremetal.ip"
_VIP_FIELDS = {what: f"ocplab:vips.{key}" for key, what in VIPS.items()}


def _pin_field(what: str) -> str:
    """The config field that pins `what` (a VIP, else a node)."""
    return _VIP_FIELDS.get(what) or _NODE_PIN.format(what)


def _pins(cluster: ClusterConfig, slice_range: AddressRange) -> dict[str, str]:
    """What the config pins (ocplab:vips, hosts' baremetal ip), each checked to be inside the slice."""
    pins = {VIPS[key]: ip for key, ip in cluster.pinned_vips.items()}
    pins.update({node.name: node.pinned_ip for node in cluster.nodes if node.pinned_ip})
    _refuse_outside(pins, _pin_field, f"cluster {cluster.name}'s slice {slice_range}", slice_range,
                    "pin an address of the slice, or change the slice in the lab stack's ocplab:slices")
    return pins


def _pins6(cluster: ClusterConfig, slice_range6: AddressRange | None) -> dict[str, str]:
    """The IPv6 VIPs and node addresses the config pins, each checked to be inside the slice's range6."""
    if slice_range6 is None:
        return {}
    pins = {VIPS[key]: ip for key, ip in cluster.pinned_vips6.items()}
    pins.update({node.name: node.pinned_ip6 for node in cluster.nodes if node.pinned_ip6})
    _refuse_outside(pins, _pin_field, f"cluster {cluster.name}'s range6 {slice_range6}", slice_range6,
                    "pin an address of it, or change range6 in the lab stack's ocplab:slices")
    return pins


def _refuse_outside(pins: Mapping[str, str], field: Callable[[str], str], where: str, slice_range: AddressRange,
                    fix: str) -> None:
    """One ConfigError naming every pin outside `slice_range`, by its field."""
    outside = [f"{field(what)}: {ip} is outside {where}; {fix}" for what, ip in pins.items()
               if not slice_range.contains(netaddr.IPAddress(ip))]
    if outside:
        raise ConfigError(outside)


def _check_macs_unique(nodes: Mapping[str, NodeAddresses]) -> None:
    owners: dict[str, str] = {}
    for name, node in nodes.items():
        for net, mac in node.macs.items():
            if mac in owners:
                raise ConfigError([f"ocplab:hosts.{name}.networks.{net}.mac: {mac} is also the MAC of "
                                   f"{owners[mac]}; pin another MAC"])
            owners[mac] = f"{name}/{net}"
