"""Everything a cluster stack decides from plain values: the lab's outputs, its own previous
assignments and its config. Pure, so every refusal happens before a resource is created.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from core.address_plan import AddressPlan, plan_addresses
from core.addresses import AddressRange
from core.bmc_plan import BmcPlan, PortRange, plan_bmc_ports, redfish_plan
from core.capacity import capacity_problems
from core.clusterconfig import ClusterConfig
from core.errors import ConfigError
from core.lab_contract import HypervisorOutputs, JumphostOutputs, LabOutputs, NetworkOutputs, parse_lab_outputs
from core.resource_facts import provisioning_network_name
from core.vrrp import VrrpIds, vrrp_ids, vrrp_problems


@dataclass(frozen=True)
class ClusterDesign:
    cluster: ClusterConfig
    plan: AddressPlan
    domain: str
    slice_range: AddressRange
    hypervisor: HypervisorOutputs
    jumphost: JumphostOutputs
    network: NetworkOutputs
    bmc: BmcPlan | None = None
    vrrp: VrrpIds | None = None

    @property
    def zone(self) -> str:
        return f"{self.cluster.name}.{self.domain}"


def _lab_problems(cluster: ClusterConfig, lab: LabOutputs) -> list[str]:
    found = []
    if cluster.hypervisor not in lab.hypervisors:
        found.append(f"ocplab:hypervisor: {cluster.hypervisor!r} is not a hypervisor of lab {cluster.lab}; known: "
                     f"{', '.join(sorted(lab.hypervisors)) or 'none'}")
    piece = lab.slices.get(cluster.name)
    if piece is None:
        found.append(f"ocplab:cluster: lab {cluster.lab} has no address slice for cluster {cluster.name!r}; add "
                     f"ocplab:slices.{cluster.name} to the lab stack and run pulumi up on it")
    elif piece.hypervisor != cluster.hypervisor:
        found.append(f"ocplab:hypervisor: the lab gives cluster {cluster.name}'s slice to hypervisor "
                     f"{piece.hypervisor}, not {cluster.hypervisor}")
    if not found and cluster.has_provisioning and cluster.provisioning_network == "bridged" \
            and lab.hypervisors[cluster.hypervisor].provisioning_bridge is None:
        found.append(f"ocplab:provisioning_network: bridged needs a second NIC on hypervisor {cluster.hypervisor}: "
                     f"give it provisioning_nic in lab {cluster.lab}'s ocplab:hypervisors and pulumi up the lab "
                     "(or use isolated)")
    if not found:
        images = lab.hypervisors[cluster.hypervisor].base_volumes
        for node in cluster.nodes:
            if node.image not in images:
                found.append(f"ocplab:hosts.{node.name}.image: {node.image!r} is not a base image of lab "
                             f"{cluster.lab}; known: {', '.join(sorted(images)) or 'none'}")
    return found


def design_cluster(cluster: ClusterConfig, lab_outputs: Mapping[str, Any] | LabOutputs | None,
                   previous: Mapping[str, Any] | None) -> ClusterDesign:
    """Check the cluster against its lab and plan its addresses; raise ConfigError."""
    lab = lab_outputs if isinstance(lab_outputs, LabOutputs) else parse_lab_outputs(cluster.lab, lab_outputs)
    problems = _lab_problems(cluster, lab)
    if problems:
        raise ConfigError(problems)
    hypervisor = lab.hypervisors[cluster.hypervisor]
    # A planned view of a hypervisor whose capacity nobody declared cannot check it; pulumi up always can.
    problems = capacity_problems(cluster, asdict(hypervisor.capacity), lab.overcommit) if hypervisor.capacity else []
    ipi = cluster.topology == "ipi"
    if ipi:  # SNO runs no keepalived; an IPI cluster must not share an id with any other cluster of the lab
        problems += vrrp_problems(cluster.name, {name: vrrp_ids(name) for name in lab.slices})
    if problems:
        raise ConfigError(problems)
    piece = lab.slices[cluster.name]
    slice_range = AddressRange.parse(piece.range)
    plan = plan_addresses(cluster, slice_range, previous)
    return ClusterDesign(cluster=cluster, plan=plan, domain=lab.domain, slice_range=slice_range,
                         hypervisor=hypervisor, jumphost=lab.jumphost, network=lab.network,
                         bmc=_bmc_plan(cluster, piece.bmc_ports, piece.bmc or "ipmi", hypervisor),
                         vrrp=vrrp_ids(cluster.name) if ipi else None)


def _bmc_plan(cluster: ClusterConfig, bmc_ports: str | None, kind: str,
              hypervisor: HypervisorOutputs) -> BmcPlan | None:
    """Virtual BMCs when the lab gives the slice BMC ports; an exhausted range raises ConfigError."""
    if not bmc_ports:
        return None
    if kind == "redfish":
        return redfish_plan(cluster, hypervisor.address, PortRange.parse(bmc_ports))
    return BmcPlan(address=hypervisor.address, ports=plan_bmc_ports(cluster, PortRange.parse(bmc_ports)))


def _provisioning(design: ClusterDesign) -> dict[str, str] | None:
    """Where the provisioning NICs are: the cluster's own libvirt network, or the hypervisor's bridge."""
    config = design.cluster
    if not config.has_provisioning:
        return None
    if config.provisioning_network == "bridged":
        return {"mode": "bridged", "bridge": str(design.hypervisor.provisioning_bridge)}
    return {"mode": "isolated", "network": provisioning_network_name(config.name)}


def cluster_outputs(design: ClusterDesign, uuids: dict[str, str], dnsmasq: Mapping[str, str]) -> dict[str, Any]:
    """What DCI and people read: names, roles, MACs, IPs, FQDNs, domain UUIDs, dnsmasq entries, and the
    BMCs without their password (it joins them only as a secret: see core.bmc_plan)."""
    config, plan = design.cluster, design.plan
    return {
        "cluster": config.name, "domain": design.domain, "cluster_domain": design.zone,
        "topology": config.topology, "lab": config.lab,
        "network": asdict(design.network), "jumphost": asdict(design.jumphost),
        "hypervisor": {"name": config.hypervisor, "address": design.hypervisor.address},
        "api_vip": plan.api_vip, "ingress_vip": plan.ingress_vip,
        "provisioning": _provisioning(design),
        "nodes": [{"name": n.name, "role": n.role, "hypervisor": config.hypervisor, "ip": plan.nodes[n.name].ip,
                   "fqdn": f"{n.name}.{design.zone}", "macs": dict(plan.nodes[n.name].macs), "uuid": uuids[n.name],
                   "memory_mib": n.memory_mib, "vcpus": n.vcpus, "disk_bytes": n.disk_bytes} for n in config.nodes],
        "dnsmasq": dict(dnsmasq),
        "assignments": plan.as_dict(),
        "bootstrap": {"ip": plan.bootstrap.ip, "mac": plan.bootstrap.macs["baremetal"],
                      "fqdn": f"bootstrap.{design.zone}"} if plan.bootstrap else None,
        "vrrp": design.vrrp.as_dict() if design.vrrp else None,
        "bmc": design.bmc.public() if design.bmc else None,
        "provisionhost_user": config.first_boot.user if config.first_boot else None,
    }
