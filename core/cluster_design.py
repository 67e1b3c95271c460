"""Everything a cluster stack decides from plain values: the lab's outputs, its own previous
assignments and its config. Pure, so every refusal happens before a resource is created.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from core.address_plan import AddressPlan, plan_addresses
from core.addresses import AddressRange
from core.bmc_plan import BmcPlan, plan_bmc_ports, redfish_plan
from core.capacity import capacity_problems
from core.clusterconfig import ClusterConfig
from core.errors import ConfigError
from core.lab_contract import (
    HypervisorOutputs,
    JumphostOutputs,
    LabOutputs,
    NetworkOutputs,
    SliceOutputs,
    parse_lab_outputs,
)
from core.os_images import lab_problems as os_image_problems
from core.os_images import os_image_urls
from core.port_range import PortRange
from core.vrrp import VrrpIds, vrrp_ids, vrrp_problems


@dataclass(frozen=True)
class ClusterDesign:
    cluster: ClusterConfig
    plan: AddressPlan
    domain: str
    slice_range: AddressRange | None  # None: an IPv6-only cluster (slice_range6 alone)
    hypervisor: HypervisorOutputs
    jumphost: JumphostOutputs
    network: NetworkOutputs
    bmc: BmcPlan | None = None
    vrrp: VrrpIds | None = None
    lab_ca: str | None = None  # the lab CA (PEM) where the lab has a mirror: nodes seeded by cloud-init trust it
    os_images: Mapping[str, str] | None = None  # "bootstrap"/"cluster" -> its cache URL with ?sha256= (core.os_images)
    slice_range6: AddressRange | None = None  # dual-stack: the slice's IPv6 addresses

    @property
    def zone(self) -> str:
        return f"{self.cluster.name}.{self.domain}"


def _lab_problems(cluster: ClusterConfig, lab: LabOutputs) -> list[str]:
    found = []
    if cluster.hypervisor not in lab.hypervisors:
        found.append(f"ocplab:hypervisor: {cluster.hypervisor!r} is not a hypervisor of lab {cluster.lab}; known: "
                     f"{', '.join(sorted(lab.hypervisors)) or 'none'}")
    slice_ = lab.slices.get(cluster.name)
    if slice_ is None:
        found.append(f"ocplab:cluster: lab {cluster.lab} has no address slice for cluster {cluster.name!r}; add "
                     f"ocplab:slices.{cluster.name} to the lab stack and run pulumi up on it")
    elif slice_.hypervisor != cluster.hypervisor:
        found.append(f"ocplab:hypervisor: the lab gives cluster {cluster.name}'s slice to hypervisor "
                     f"{slice_.hypervisor}, not {cluster.hypervisor}")
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
    hypervisor = lab.hypervisors.get(cluster.hypervisor)
    if slice_ is not None and slice_.range is None and slice_.bmc_ports and hypervisor is not None \
            and hypervisor.address6 is None:
        # An IPv6-only cluster's nodes reach their BMCs on the hypervisor's IPv6 address, which it must have.
        found.append(f"ocplab:slices.{cluster.name}.bmc_ports: cluster {cluster.name}'s slice is IPv6-only (range6, "
                     f"no range), so its BMCs must listen on hypervisor {cluster.hypervisor}'s IPv6 address, and it "
                     f"has none: give it ocplab:hypervisors[].address6 in lab {cluster.lab} and pulumi up the lab, "
                     f"or give the slice a range too (dual-stack)")
    return found + os_image_problems(cluster.os_images, cluster.lab, lab.cache)


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
        problems += vrrp_problems(cluster.name, {name: vrrp_ids(name) for name in lab.slices},
                                  {name: _families(slice_) for name, slice_ in lab.slices.items()})
    if problems:
        raise ConfigError(problems)
    slice_ = lab.slices[cluster.name]
    slice_range = AddressRange.parse(slice_.range) if slice_.range else None
    slice_range6 = AddressRange.parse(slice_.range6, 6) if slice_.range6 else None
    plan = plan_addresses(cluster, slice_range, previous, slice_range6)
    bmc = _bmc_plan(cluster, slice_.bmc_ports, slice_.bmc or "ipmi", hypervisor, ipv6_only=slice_range is None)
    return ClusterDesign(cluster=cluster, plan=plan, domain=lab.domain, slice_range=slice_range,
                         hypervisor=hypervisor, jumphost=lab.jumphost, network=lab.network,
                         bmc=bmc,
                         vrrp=vrrp_ids(cluster.name) if ipi else None,
                         lab_ca=lab.mirror.ca_certificate if lab.mirror else None,
                         os_images=os_image_urls(cluster.os_images, lab.cache) or None, slice_range6=slice_range6)


def _families(slice_: SliceOutputs) -> frozenset[int]:
    """The address families a slice's cluster has its VIPs in: keepalived runs one VRRP instance per family."""
    return frozenset(({4} if slice_.range else set()) | ({6} if slice_.range6 else set()))


def _bmc_plan(cluster: ClusterConfig, bmc_ports: str | None, kind: str,
              hypervisor: HypervisorOutputs, ipv6_only: bool = False) -> BmcPlan | None:
    """Virtual BMCs when the lab gives the slice BMC ports; an exhausted range raises ConfigError."""
    if not bmc_ports:
        return None
    # An IPv6-only cluster's nodes have no IPv4: its BMCs listen on the hypervisor's IPv6 address (checked present).
    address = hypervisor.address6 if ipv6_only and hypervisor.address6 else hypervisor.ssh_address
    if kind == "redfish":
        return redfish_plan(cluster, address, PortRange.parse(bmc_ports))
    return BmcPlan(address=address, ports=plan_bmc_ports(cluster, PortRange.parse(bmc_ports)))
