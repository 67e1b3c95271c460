"""Everything a cluster stack decides from plain values: the lab's outputs, its own previous
assignments and its config. Pure, so every refusal happens before a resource is created.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from components.address_plan import AddressPlan, plan_addresses
from components.addresses import AddressRange
from components.bmc_plan import BmcPlan, PortRange, plan_bmc_ports
from components.capacity import capacity_problems
from components.clusterconfig import ClusterConfig
from components.dnsmasq_cluster import ClusterDns, render_cluster_dns
from components.errors import ConfigError


@dataclass(frozen=True)
class ClusterDesign:
    cluster: ClusterConfig
    plan: AddressPlan
    dns: ClusterDns
    domain: str
    slice_range: AddressRange
    hypervisor: Mapping[str, Any]
    jumphost: Mapping[str, Any]
    network: Mapping[str, Any]
    bmc: BmcPlan | None = None

    @property
    def zone(self) -> str:
        return f"{self.cluster.name}.{self.domain}"


def _lab_problems(cluster: ClusterConfig, lab: Mapping[str, Any]) -> list[str]:
    if not lab:
        return [f"ocplab:lab: stack {cluster.lab!r} has no outputs: name a deployed lab stack "
                f"(pulumi up -s {cluster.lab})"]
    if lab.get("kind") != "lab":
        return [f"ocplab:lab: stack {cluster.lab!r} is not a lab stack (its kind is {lab.get('kind')!r})"]
    found = []
    hypervisors = lab.get("hypervisors", {})
    if cluster.hypervisor not in hypervisors:
        found.append(f"ocplab:hypervisor: {cluster.hypervisor!r} is not a hypervisor of lab {cluster.lab}; known: "
                     f"{', '.join(sorted(hypervisors)) or 'none'}")
    piece = lab.get("slices", {}).get(cluster.name)
    if piece is None:
        found.append(f"ocplab:cluster: lab {cluster.lab} has no address slice for cluster {cluster.name!r}; add "
                     f"ocplab:slices.{cluster.name} to the lab stack and run pulumi up on it")
    elif piece["hypervisor"] != cluster.hypervisor:
        found.append(f"ocplab:hypervisor: the lab gives cluster {cluster.name}'s slice to hypervisor "
                     f"{piece['hypervisor']}, not {cluster.hypervisor}")
    if not found:
        images = hypervisors[cluster.hypervisor].get("base_volumes", {})
        for node in cluster.nodes:
            if node.image not in images:
                found.append(f"ocplab:hosts.{node.name}.image: {node.image!r} is not a base image of lab "
                             f"{cluster.lab}; known: {', '.join(sorted(images)) or 'none'}")
    return found


def design_cluster(cluster: ClusterConfig, lab: Mapping[str, Any] | None,
                   previous: Mapping[str, Any] | None) -> ClusterDesign:
    """Check the cluster against its lab and plan its addresses and DNS; raise ConfigError."""
    lab = lab or {}
    problems = _lab_problems(cluster, lab)
    if problems:
        raise ConfigError(problems)
    hypervisor = lab["hypervisors"][cluster.hypervisor]
    problems = capacity_problems(cluster, hypervisor["capacity"], lab.get("overcommit", {}))
    if problems:
        raise ConfigError(problems)
    piece = lab["slices"][cluster.name]
    slice_range = AddressRange.parse(piece["range"])
    plan = plan_addresses(cluster, slice_range, previous)
    return ClusterDesign(cluster=cluster, plan=plan, dns=render_cluster_dns(cluster, plan, lab["domain"], slice_range),
                         domain=lab["domain"], slice_range=slice_range, hypervisor=hypervisor,
                         jumphost=lab["jumphost"], network=lab["network"], bmc=_bmc_plan(cluster, piece, hypervisor))


def _bmc_plan(cluster: ClusterConfig, piece: Mapping[str, Any], hypervisor: Mapping[str, Any]) -> BmcPlan | None:
    """Virtual BMCs when the lab gives the slice BMC ports; an exhausted range raises ConfigError."""
    if not piece.get("bmc_ports"):
        return None
    ports = plan_bmc_ports(cluster, PortRange.parse(piece["bmc_ports"]))
    return BmcPlan(address=str(hypervisor["address"]), ports=ports)


def cluster_outputs(design: ClusterDesign, uuids: dict[str, str]) -> dict[str, Any]:
    """What DCI and people read: names, roles, MACs, IPs, FQDNs, domain UUIDs, dnsmasq entries, and the
    BMCs without their password (it joins them only as a secret: see components.bmc_plan)."""
    config, plan = design.cluster, design.plan
    return {
        "cluster": config.name, "domain": design.domain, "cluster_domain": design.zone,
        "topology": config.topology, "lab": config.lab,
        "network": dict(design.network), "jumphost": dict(design.jumphost),
        "hypervisor": {"name": config.hypervisor, "address": design.hypervisor["address"]},
        "api_vip": plan.api_vip, "ingress_vip": plan.ingress_vip,
        "nodes": [{"name": n.name, "role": n.role, "hypervisor": config.hypervisor, "ip": plan.nodes[n.name].ip,
                   "fqdn": f"{n.name}.{design.zone}", "macs": dict(plan.nodes[n.name].macs), "uuid": uuids[n.name],
                   "memory_mib": n.memory_mib, "vcpus": n.vcpus, "disk_bytes": n.disk_bytes} for n in config.nodes],
        "dnsmasq": design.dns.as_dict(),
        "assignments": plan.as_dict(),
        "bmc": design.bmc.public() if design.bmc else None,
    }
