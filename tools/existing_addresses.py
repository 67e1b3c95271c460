"""Pin an imported cluster's nodes and VIPs where the lab's existing dnsmasq already has them.

Without this, ocplab would renumber every node of a lab it takes over (it fills a slice from
the bottom, VIPs first), and every bookmark, kubeconfig and firewall rule would break. A node is
found by its baremetal MAC, else by its hostname; the API VIP by `api.<zone>`, the ingress VIP by
what a name under `apps.<zone>` resolves to; in each family the lab's dnsmasq gives (a dual-stack reservation
`<mac>,<ipv4>,[<ipv6>],<name>` gives the node both, as `ip: [<ipv4>, <ipv6>]`). Each kept address must sit inside
the cluster's own slice of the lab (its range6 for IPv6): one in a neighbour's slice or outside every slice is
refused, naming both.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import netaddr

from core.addresses import AddressRange
from tools.dnsmasq_existing import ExistingDns, ExistingDnsError, Reservation

# A name every OpenShift ingress answers (the console route), to ask for the `*.apps` wildcard.
APPS_PROBE = "console-openshift-console.apps"


def keep_existing_addresses(values: dict[str, Any], existing: ExistingDns, lab: Mapping[str, Any]) -> list[str]:
    """Add `ip` to each host's baremetal NIC (and the MAC when the inventory had none) and `vips`, in place: one
    address, or one per family IPv4 first, as ocplab's config takes them.

    Returns notes for what was not found; raises ExistingDnsError when a kept address does not fit."""
    cluster = str(values["cluster"])
    zone = f"{cluster}.{lab.get('domain')}"
    notes: list[str] = []
    pinned: dict[str, str] = {}  # what -> ip, both families
    for host in values["hosts"]:
        name = str(host["name"])
        nic = next((n for n in host["networks"] if n["name"] == "baremetal"), None)
        if nic is None:
            continue
        kept: list[str] = []
        for family in FAMILIES:
            reservation = _reservation_of(existing, name, f"{name}.{zone}", nic.get("mac"), family)
            if reservation is not None:
                kept.append(str(reservation.address(family)))
                if "mac" not in nic and reservation.macs:
                    nic["mac"] = reservation.macs[0]
            elif (ip := (existing.names if family == 4 else existing.names6).get(f"{name}.{zone}")) is not None:
                kept.append(ip)
                notes.append(f"{name}: no dhcp-host line, only the name {name}.{zone}; keeping {ip}, the MAC is "
                             "ocplab's" if family == 4 else f"{name}: no dhcp-host line gives it an IPv6 address, "
                             f"only the name {name}.{zone}; keeping {ip}")
        if not kept:
            notes.append(f"{name}: not in the dnsmasq files (no MAC or name match); it gets a free address")
            continue
        nic["ip"] = _pin(kept)
        pinned.update({f"{name}{_suffix(ip)}": ip for ip in kept})
    if values.get("topology") == "ipi":
        vips: dict[str, list[str]] = {}
        for key, name in (("api", f"api.{zone}"), ("ingress", f"{APPS_PROBE}.{zone}")):
            for family in FAMILIES:
                if (ip := existing.address_of(name, family)) is not None:
                    vips.setdefault(key, []).append(ip)
                    pinned[f"the {key} VIP{_suffix(ip)}"] = ip
        notes += [f"{key} VIP: no record for {name} in the dnsmasq files; it gets a free address"
                  for key, name in (("api", f"api.{zone}"), ("ingress", f"*.apps.{zone}")) if key not in vips]
        if vips:
            values["vips"] = {key: _pin(ips) for key, ips in vips.items()}
    if problems := _slice_problems(cluster, pinned, lab):
        raise ExistingDnsError("--dnsmasq: " + "; ".join(problems))
    return notes


FAMILIES = (4, 6)


def _pin(addresses: list[str]) -> str | list[str]:
    """One address as it is (an IPv4 cluster's stack file reads as before), two as a list, IPv4 first."""
    return addresses[0] if len(addresses) == 1 else addresses


def _suffix(ip: str) -> str:
    return " (IPv6)" if ":" in ip else ""


def _reservation_of(existing: ExistingDns, name: str, fqdn: str, mac: str | None,
                    family: int) -> Reservation | None:
    """The reservation giving `name` its address in `family`, by its MAC, else by its hostname."""
    giving = [r for r in existing.reservations if r.address(family)]
    by_mac = next((r for r in giving if mac and mac.lower() in r.macs), None)
    named = [r for r in giving if r.hostname in (name, fqdn)]
    by_name = next((r for r in named if r is not by_mac), None) if by_mac else next(iter(named), None)
    if by_mac and by_name:
        raise ExistingDnsError(f"--dnsmasq: {name}'s MAC {mac} is reserved at {by_mac.where} "
                               f"({by_mac.address(family)}) but its name at {by_name.where} "
                               f"({by_name.address(family)}); remove the stale line")
    return by_mac or by_name


def _lab_slices(lab: Mapping[str, Any], family: int) -> dict[str, AddressRange]:
    """The lab stack file's slice ranges of `family` (range, range6); one it cannot parse is named (the schema
    checks it at `pulumi up`)."""
    key = "range" if family == 4 else "range6"
    slices: dict[str, AddressRange] = {}
    raw = lab.get("slices")
    for name, slice_ in (raw if isinstance(raw, Mapping) else {}).items():
        if isinstance(slice_, Mapping) and slice_.get(key):
            try:
                slices[str(name)] = AddressRange.parse(str(slice_[key])[:200], 6 if family == 6 else 4)
            except ValueError as exc:
                raise ExistingDnsError(f"ocplab:slices.{str(name)[:63]}.{key} of the lab stack: {exc}") from None
    return slices


def _slice_problems(cluster: str, pinned: Mapping[str, str], lab: Mapping[str, Any]) -> list[str]:
    """Each kept address outside the cluster's own range of its family, named with the slice it is in."""
    raw = lab.get("slices")
    if not isinstance(raw, Mapping) or cluster not in raw:
        return [f"lab {lab.get('domain')} has no slice for cluster {cluster}; add ocplab:slices.{cluster} to the "
                "lab stack around the addresses it uses now"]
    problems = []
    for family, (key, named) in {4: ("range", "slice"), 6: ("range6", "range6")}.items():
        slices = _lab_slices(lab, family)
        own = slices.get(cluster)
        for what, ip in pinned.items():
            address = netaddr.IPAddress(ip)
            if address.version != family or (own is not None and own.contains(address)):
                continue
            if own is None:
                problems.append(f"{what} is at {ip} and cluster {cluster}'s slice has no {key}; add ocplab:slices."
                                f"{cluster}.{key} to the lab stack around the addresses it uses now")
                continue
            other = next((name for name, slice_ in slices.items() if slice_.contains(address)), None)
            where = f"inside cluster {other}'s {named} ({slices[other]})" if other else "outside every slice of the lab"
            problems.append(f"{what} is at {ip}, {where}, not in cluster {cluster}'s {named} ({own}); widen or move "
                            f"ocplab:slices.{cluster} in the lab stack, or drop --dnsmasq to renumber the cluster")
    return problems
