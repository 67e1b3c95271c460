"""How full a lab is, and how many more clusters of a shape fit where: the seed's closing question
("plan in advance your IP addressing ... to really know the number of clusters"), answered from the
lab stack's outputs and config and the cluster stacks' outputs. Pure, so it is tested without a lab.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import netaddr

from core.addresses import AddressRange
from core.clusterconfig import ClusterConfig, parse_cluster_config
from core.lab_contract import LabOutputs
from core.labconfig import LabConfig


@dataclass(frozen=True)
class Shape:
    """What one more cluster needs: per-node memory and vCPUs, addresses (nodes + VIPs), BMC ports."""

    name: str
    memory_mib: int
    vcpus: int
    widest_vcpus: int
    disk_bytes: int
    addresses: int
    bmc_ports: int

    @classmethod
    def of(cls, name: str, cluster: ClusterConfig) -> Shape:
        nodes = cluster.nodes
        vips = 2 if cluster.topology == "ipi" else 0
        bmcs = sum(1 for n in nodes if n.role in ("master", "worker")) if cluster.topology == "ipi" else 0
        return cls(name=name, memory_mib=sum(n.memory_mib for n in nodes), vcpus=sum(n.vcpus for n in nodes),
                   widest_vcpus=max(n.vcpus for n in nodes),
                   disk_bytes=sum(n.disk_bytes + (n.disk2_bytes or 0) for n in nodes),
                   addresses=len(nodes) + vips, bmc_ports=bmcs)


def default_shapes() -> list[Shape]:
    """The seed's SNO and its 3 masters + 3 workers IPI (with provisionhost), at the seed's sizes."""
    sno = parse_cluster_config("sno", {"lab": "lab", "hypervisor": "hv", "topology": "sno"})
    ipi = parse_cluster_config("ipi", {"lab": "lab", "hypervisor": "hv", "topology": "ipi", "workers": 3})
    return [Shape.of("sno (seed sizes)", sno), Shape.of("ipi 3+3 (seed sizes)", ipi)]


@dataclass(frozen=True)
class SliceUse:
    cluster: str
    hypervisor: str
    range: str
    size: int
    used: int
    bmc_ports: int
    bmc_used: int
    deployed: bool

    @property
    def free(self) -> int:
        return self.size - self.used


@dataclass(frozen=True)
class HostUse:
    name: str
    vcpus: int
    memory_mib: int
    cpu_overcommit: float
    memory_overcommit: float
    vcpus_committed: int
    memory_committed: int
    disk_committed: int
    clusters: tuple[str, ...]

    @property
    def vcpu_limit(self) -> int:
        return int(self.vcpus * self.cpu_overcommit)

    @property
    def memory_limit(self) -> int:
        return int(self.memory_mib * self.memory_overcommit)


@dataclass(frozen=True)
class Fit:
    """How many more clusters of `shape` fit on `hypervisor`, and which resource stops the next one."""

    shape: str
    hypervisor: str
    by_vcpus: int
    by_memory: int
    by_slices: int
    count: int
    limited_by: str


@dataclass(frozen=True)
class LabUsage:
    lab: str
    slices: tuple[SliceUse, ...]
    hosts: tuple[HostUse, ...]
    unallocated: tuple[str, ...]  # runs of lab addresses in no slice, reservation or infrastructure
    unallocated_count: int

    def as_dict(self) -> dict[str, Any]:
        return {"lab": self.lab, "slices": [{**s.__dict__, "free": s.free} for s in self.slices],
                "hypervisors": [{**h.__dict__, "clusters": list(h.clusters), "vcpu_limit": h.vcpu_limit,
                                 "memory_limit": h.memory_limit} for h in self.hosts],
                "unallocated": list(self.unallocated), "unallocated_count": self.unallocated_count}


def _unallocated(config: LabConfig) -> list[AddressRange]:
    """Runs of host addresses of the lab network that nothing claims: room for new slices."""
    cidr = config.network.cidr
    taken = netaddr.IPSet([str(config.network.gateway), config.jumphost.ssh.address,
                           *(hv.ssh.address for hv in config.hypervisors)])
    for item in (*config.network.reserved, *(s.range for s in config.slices)):
        taken.add(netaddr.IPRange(item.first, item.last))
    hosts = netaddr.IPSet([netaddr.IPRange(cidr.first + 1, cidr.last - 1)])
    return [AddressRange(netaddr.IPAddress(r.first), netaddr.IPAddress(r.last))
            for r in (hosts - taken).iter_ipranges()]


def lab_usage(config: LabConfig, lab: LabOutputs, clusters: Mapping[str, Mapping[str, Any]]) -> LabUsage:
    """Slices and hypervisors as used by the deployed cluster stacks (their outputs, by stack name)."""
    deployed = {name: out for name, out in clusters.items() if out.get("kind") == "cluster"}
    slices = []
    for name, piece in sorted(lab.slices.items()):
        out = deployed.get(name, {})
        addresses = {n["ip"] for n in out.get("nodes", [])} | {out.get("api_vip"), out.get("ingress_vip")}
        addresses.discard(None)
        bmc_total = 0
        if piece.bmc_ports:
            first, last = (int(p) for p in piece.bmc_ports.split("-"))
            bmc_total = last - first + 1
        bmc_used = len((out.get("bmc") or {}).get("nodes", {})) if isinstance(out.get("bmc"), Mapping) else 0
        slices.append(SliceUse(cluster=name, hypervisor=piece.hypervisor, range=piece.range,
                               size=AddressRange.parse(piece.range).size, used=len(addresses), bmc_ports=bmc_total,
                               bmc_used=bmc_used, deployed=name in deployed))
    hosts = []
    for name, hv in sorted(lab.hypervisors.items()):
        mine = [out for out in deployed.values() if out.get("hypervisor", {}).get("name") == name]
        nodes = [n for out in mine for n in out.get("nodes", [])]
        hosts.append(HostUse(name=name, vcpus=hv.capacity.vcpus, memory_mib=hv.capacity.memory_mib,
                             cpu_overcommit=float(lab.overcommit.get("cpu", 1.0)),
                             memory_overcommit=float(lab.overcommit.get("memory", 1.0)),
                             vcpus_committed=sum(int(n.get("vcpus", 0)) for n in nodes),
                             memory_committed=sum(int(n.get("memory_mib", 0)) for n in nodes),
                             disk_committed=sum(int(n.get("disk_bytes", 0)) for n in nodes),
                             clusters=tuple(sorted(str(out["cluster"]) for out in mine))))
    free_runs = _unallocated(config)
    return LabUsage(lab=config.name, slices=tuple(slices), hosts=tuple(hosts),
                    unallocated=tuple(str(r) for r in free_runs), unallocated_count=sum(r.size for r in free_runs))


def fits(usage: LabUsage, shape: Shape) -> tuple[list[Fit], int, str]:
    """Per hypervisor: how many more `shape` clusters its vCPUs, memory and free slices allow; then the
    lab-wide total, where new slices carved from unallocated addresses can go to any hypervisor."""
    carvable = sum(AddressRange.parse(r).size // shape.addresses for r in usage.unallocated)
    per_host = []
    for host in usage.hosts:
        by_vcpus = max(0, (host.vcpu_limit - host.vcpus_committed) // shape.vcpus) \
            if shape.widest_vcpus <= host.vcpus else 0
        by_memory = max(0, (host.memory_limit - host.memory_committed) // shape.memory_mib)
        by_slices = sum(1 for s in usage.slices if s.hypervisor == host.name and not s.deployed
                        and s.size >= shape.addresses and s.bmc_ports >= shape.bmc_ports)
        count = min(by_vcpus, by_memory, by_slices)
        limits = {"vCPUs": by_vcpus, "memory": by_memory, "free slices on it": by_slices}
        per_host.append(Fit(shape=shape.name, hypervisor=host.name, by_vcpus=by_vcpus, by_memory=by_memory,
                            by_slices=by_slices, count=count, limited_by=min(limits, key=lambda k: limits[k])))
    compute = sum(min(f.by_vcpus, f.by_memory) for f in per_host)
    addresses = sum(f.by_slices for f in per_host) + carvable
    total = min(compute, addresses)
    limited_by = "addresses (free slices + unallocated lab addresses)" if addresses < compute else "vCPUs or memory"
    return per_host, total, limited_by
