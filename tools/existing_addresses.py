"""Pin an imported cluster's nodes and VIPs where the lab's existing dnsmasq already has them.

Without this, ocplab would renumber every node of a lab it takes over (it fills a slice from
the bottom, VIPs first), and every bookmark, kubeconfig and firewall rule would break. A node is
found by its baremetal MAC, else by its hostname; the API VIP by `api.<zone>`, the ingress VIP by
what a name under `apps.<zone>` resolves to. Each kept address must sit inside the cluster's own
slice of the lab: one in a neighbour's slice or outside every slice is refused, naming both.
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
    """Add `ip` to each host's baremetal NIC (and the MAC when the inventory had none) and `vips`, in place.

    Returns notes for what was not found; raises ExistingDnsError when a kept address does not fit."""
    cluster = str(values["cluster"])
    zone = f"{cluster}.{lab.get('domain')}"
    notes: list[str] = []
    pinned: dict[str, str] = {}  # what -> ip
    for host in values["hosts"]:
        name = str(host["name"])
        nic = next((n for n in host["networks"] if n["name"] == "baremetal"), None)
        if nic is None:
            continue
        reservation = _reservation_of(existing, name, f"{name}.{zone}", nic.get("mac"))
        if reservation is not None:
            nic["ip"] = reservation.ip
            if "mac" not in nic and reservation.macs:
                nic["mac"] = reservation.macs[0]
        elif (ip := existing.names.get(f"{name}.{zone}")) is not None:
            nic["ip"] = ip
            notes.append(f"{name}: no dhcp-host line, only the name {name}.{zone}; keeping {ip}, the MAC is ocplab's")
        else:
            notes.append(f"{name}: not in the dnsmasq files (no MAC or name match); it gets a free address")
            continue
        pinned[name] = nic["ip"]
    if values.get("topology") == "ipi":
        vips = {key: ip for key, name in (("api", f"api.{zone}"), ("ingress", f"{APPS_PROBE}.{zone}"))
                if (ip := existing.address_of(name)) is not None}
        notes += [f"{key} VIP: no record for {name} in the dnsmasq files; it gets a free address"
                  for key, name in (("api", f"api.{zone}"), ("ingress", f"*.apps.{zone}")) if key not in vips]
        if vips:
            values["vips"] = vips
        pinned.update({f"the {key} VIP": ip for key, ip in vips.items()})
    if problems := _slice_problems(cluster, pinned, lab):
        raise ExistingDnsError("--dnsmasq: " + "; ".join(problems))
    return notes


def _reservation_of(existing: ExistingDns, name: str, fqdn: str, mac: str | None) -> Reservation | None:
    by_mac = next((r for r in existing.reservations if mac and mac.lower() in r.macs), None)
    named = [r for r in existing.reservations if r.hostname in (name, fqdn)]
    by_name = next((r for r in named if r is not by_mac), None) if by_mac else next(iter(named), None)
    if by_mac and by_name:
        raise ExistingDnsError(f"--dnsmasq: {name}'s MAC {mac} is reserved at {by_mac.where} ({by_mac.ip}) but its "
                               f"name at {by_name.where} ({by_name.ip}); remove the stale line")
    return by_mac or by_name


def _lab_slices(lab: Mapping[str, Any]) -> dict[str, AddressRange]:
    """The lab stack file's slice ranges; one it cannot parse is named (the schema checks it at `pulumi up`)."""
    slices: dict[str, AddressRange] = {}
    raw = lab.get("slices")
    for name, slice_ in (raw if isinstance(raw, Mapping) else {}).items():
        if isinstance(slice_, Mapping) and slice_.get("range"):
            try:
                slices[str(name)] = AddressRange.parse(str(slice_["range"])[:200])
            except ValueError as exc:
                raise ExistingDnsError(f"ocplab:slices.{str(name)[:63]}.range of the lab stack: {exc}") from None
    return slices


def _slice_problems(cluster: str, pinned: Mapping[str, str], lab: Mapping[str, Any]) -> list[str]:
    slices = _lab_slices(lab)
    own = slices.get(cluster)
    if own is None:
        return [f"lab {lab.get('domain')} has no slice for cluster {cluster}; add ocplab:slices.{cluster} to the "
                "lab stack around the addresses it uses now"]
    problems = []
    for what, ip in pinned.items():
        address = netaddr.IPAddress(ip)
        if own.contains(address):
            continue
        other = next((name for name, slice_ in slices.items() if slice_.contains(address)), None)
        where = f"inside cluster {other}'s slice ({slices[other]})" if other else "outside every slice of the lab"
        problems.append(f"{what} is at {ip}, {where}, not in cluster {cluster}'s slice ({own}); widen or move "
                        f"ocplab:slices.{cluster} in the lab stack, or drop --dnsmasq to renumber the cluster")
    return problems
