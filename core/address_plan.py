"""A cluster's IPs, VIPs and MACs inside its slice, sticky across updates.

`previous` is what the stack exported on its last update (kept in stack state): every node
that still exists keeps its IP and MACs, and only new nodes take the lowest free addresses.
From an empty state the result depends on the config alone, so destroy + up of an unchanged
config gives the same addresses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import netaddr
from pydantic import BaseModel, ConfigDict, Strict, TypeAdapter

from core.addresses import AddressRange
from core.clusterconfig import ClusterConfig
from core.config_schema import IPv4, Label, Mac, value_problems
from core.errors import ConfigError
from core.macs import mac_for_ip

NIC_INDEX = {"baremetal": 0, "provisioning": 1}


@dataclass(frozen=True)
class NodeAddresses:
    ip: str
    macs: Mapping[str, str]


@dataclass(frozen=True)
class AddressPlan:
    api_vip: str
    ingress_vip: str
    nodes: Mapping[str, NodeAddresses]
    # IPI: the installer's bootstrap VM, which boots on the provisionhost with the installer's
    # `bootstrapExternalStaticIP`/`externalMACAddress`; the static-only DHCP range needs its reservation.
    bootstrap: NodeAddresses | None = None

    def as_dict(self) -> dict[str, Any]:
        """The form kept in stack outputs and read back as `previous`."""
        data: dict[str, Any] = {"api_vip": self.api_vip, "ingress_vip": self.ingress_vip,
                                "nodes": {name: {"ip": n.ip, "macs": dict(n.macs)} for name, n in self.nodes.items()}}
        if self.bootstrap:
            data["bootstrap"] = {"ip": self.bootstrap.ip, "macs": dict(self.bootstrap.macs)}
        return data


class _Kept(BaseModel):
    """What `as_dict` writes, read back from the stack's own outputs: checked like any outside value."""

    # Built when a stack's previous assignments are first read: a first `pulumi up` has none.
    model_config = ConfigDict(strict=True, extra="forbid", defer_build=True)


class _NodeKept(_Kept):
    ip: Annotated[IPv4, Strict()]
    macs: dict[Literal["baremetal", "provisioning"], Annotated[Mac, Strict()]]


class _PlanKept(_Kept):
    api_vip: Annotated[IPv4, Strict()] | None = None
    ingress_vip: Annotated[IPv4, Strict()] | None = None
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


def _previous_ip(previous: Mapping[str, Any], name: str) -> str | None:
    node = (previous.get("nodes") or {}).get(name)
    return node.get("ip") if isinstance(node, Mapping) else None


def plan_addresses(cluster: ClusterConfig, slice_range: AddressRange,
                   previous: Mapping[str, Any] | None = None) -> AddressPlan:
    """Assign addresses for `cluster` in `slice_range`; ConfigError when the slice is too small."""
    previous = checked_previous(cluster.name, previous)
    usable = {str(ip) for ip in slice_range.addresses()}
    used: dict[str, str] = {}  # ip -> what uses it

    def keep(ip: object, what: str) -> str | None:
        if isinstance(ip, str) and ip in usable and ip not in used:
            used[ip] = what
            return ip
        return None

    ipi = cluster.topology == "ipi"
    pins = _pins(cluster, slice_range, usable)  # pinned addresses come first, then the previous ones
    used.update({ip: what for what, ip in pins.items()})

    def pinned_or_kept(what: str, before: object) -> str | None:
        return pins.get(what) or keep(before, what)

    api = pinned_or_kept("API VIP", previous.get("api_vip")) if ipi else None
    ingress = pinned_or_kept("ingress VIP", previous.get("ingress_vip")) if ipi else None
    ips = {node.name: pinned_or_kept(node.name, _previous_ip(previous, node.name)) for node in cluster.nodes}
    bootstrap = keep((previous.get("bootstrap") or {}).get("ip"), "bootstrap VM") if ipi else None
    ordered = sorted(usable, key=lambda a: int(netaddr.IPAddress(a)))
    if ipi and bootstrap is None:
        # The slice's highest free address: nodes fill the slice from the bottom, so adding nodes and a
        # destroy + up of the same config give every node the address it had, bootstrap included.
        bootstrap = next((ip for ip in reversed(ordered) if ip not in used), None)
        if bootstrap is not None:
            used[bootstrap] = "bootstrap VM"
    free = (ip for ip in ordered if ip not in used)
    wanted = [("API VIP", api), ("ingress VIP", ingress)] if ipi else []
    wanted += [(name, ip) for name, ip in ips.items()]
    wanted += [("bootstrap VM", bootstrap)] if ipi else []
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
        raise ConfigError([f"ocplab:hosts: the slice of cluster {cluster.name} ({slice_range}, {slice_range.size} "
                           f"addresses) is exhausted, {missing} more needed; it holds: {listing}. Widen "
                           "ocplab:slices in the lab stack or remove nodes"])
    nodes = {node.name: NodeAddresses(ip=assigned[node.name], macs={
        net: node.pinned_macs.get(net) or mac_for_ip(netaddr.IPAddress(assigned[node.name]), NIC_INDEX[net])
        for net in node.networks}) for node in cluster.nodes}
    _check_macs_unique(nodes)
    first_node = assigned[cluster.nodes[0].name]
    boot = None
    if "bootstrap VM" in assigned:
        ip = assigned["bootstrap VM"]
        kept = (previous.get("bootstrap") or {}).get("macs", {}).get("baremetal") \
            if (previous.get("bootstrap") or {}).get("ip") == ip else None
        boot = NodeAddresses(ip=ip, macs={"baremetal": kept or mac_for_ip(netaddr.IPAddress(ip), 0)})
        _check_macs_unique({**nodes, "bootstrap": boot})
    return AddressPlan(api_vip=assigned.get("API VIP", first_node), ingress_vip=assigned.get("ingress VIP", first_node),
                       nodes=nodes, bootstrap=boot)


def _pins(cluster: ClusterConfig, slice_range: AddressRange, usable: set[str]) -> dict[str, str]:
    """What the config pins (ocplab:vips, hosts' baremetal ip), each checked to be inside the slice."""
    vips = {"api": "API VIP", "ingress": "ingress VIP"}
    pins = {vips[key]: ip for key, ip in cluster.pinned_vips.items()}
    pins.update({node.name: node.pinned_ip for node in cluster.nodes if node.pinned_ip})
    fields = {what: f"ocplab:vips.{key}" for key, what in vips.items()}
    outside = [f"{fields.get(what, f'ocplab:hosts.{what}.networks.baremetal.ip')}: {ip} is outside cluster "
               f"{cluster.name}'s slice {slice_range}; pin an address of the slice, or change the slice in the lab "
               "stack's ocplab:slices" for what, ip in pins.items() if ip not in usable]
    if outside:
        raise ConfigError(outside)
    return pins


def _check_macs_unique(nodes: Mapping[str, NodeAddresses]) -> None:
    owners: dict[str, str] = {}
    for name, node in nodes.items():
        for net, mac in node.macs.items():
            if mac in owners:
                raise ConfigError([f"ocplab:hosts.{name}.networks.{net}.mac: {mac} is also the MAC of "
                                   f"{owners[mac]}; pin another MAC"])
            owners[mac] = f"{name}/{net}"
