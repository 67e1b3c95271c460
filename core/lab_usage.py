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
    redfish: bool = False  # one emulator on the first port serves every node: any shape's BMCs fit in one port
    # A dual-stack slice's IPv6 side, counted as the IPv4 one is (an IPv6-only slice is counted in range/size/used)
    range6: str | None = None
    size6: int = 0
    used6: int = 0

    def fits_bmcs(self, needed: int) -> bool:
        return self.bmc_ports >= (min(needed, 1) if self.redfish else needed)

    def fits_addresses(self, needed: int) -> bool:
        """A cluster takes `needed` addresses in each family its slice has."""
        return self.size >= needed and (self.range6 is None or self.size6 >= needed)

    @property
    def free(self) -> int:
        return self.size - self.used

    @property
    def free6(self) -> int:
        return self.size6 - self.used6

    def as_dict(self) -> dict[str, Any]:
        """The IPv6 keys only on a dual-stack slice, so an IPv4 lab's `ocplab plan --json` reads as before."""
        shown = {k: v for k, v in self.__dict__.items() if self.range6 or k not in ("range6", "size6", "used6")}
        return {**shown, "free": self.free, **({"free6": self.free6} if self.range6 else {})}


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
    disk_bytes: int | None = None  # the declared disk (ocplab:hypervisors[i].capacity.disk); libvirt gives none
    capacity_known: bool = True  # False: a planned view of a hypervisor without a declared capacity

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
    by_disk: int | None  # None: no disk capacity declared, so disk does not limit
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
        return {"lab": self.lab, "slices": [s.as_dict() for s in self.slices],
                "hypervisors": [{**h.__dict__, "clusters": list(h.clusters), "vcpu_limit": h.vcpu_limit,
                                 "memory_limit": h.memory_limit} for h in self.hosts],
                "unallocated": list(self.unallocated), "unallocated_count": self.unallocated_count}


def _unallocated(config: LabConfig) -> list[AddressRange]:
    """Runs of host addresses of the lab network that nothing claims: room for new slices. An IPv6-only lab's
    /64 is not counted (its room is the /64 itself)."""
    cidr = config.network.cidr
    if cidr is None:
        return []
    taken = netaddr.IPSet([str(config.network.gateway), config.jumphost.ssh.address,
                           *(hv.ssh.address for hv in config.hypervisors)])
    for item in (*config.network.reserved, *(s.range for s in config.slices if s.range)):
        taken.add(netaddr.IPRange(item.first, item.last))
    hosts = netaddr.IPSet([netaddr.IPRange(cidr.first + 1, cidr.last - 1)])
    return [AddressRange(netaddr.IPAddress(r.first), netaddr.IPAddress(r.last))
            for r in (hosts - taken).iter_ipranges()]


def lab_usage(config: LabConfig, lab: LabOutputs, clusters: Mapping[str, Mapping[str, Any]]) -> LabUsage:
    """Slices and hypervisors as used by the deployed cluster stacks (their outputs, by stack name)."""
    deployed = {name: out for name, out in clusters.items() if out.get("kind") == "cluster"}
    slices = []
    for name, slice_ in sorted(lab.slices.items()):
        out = deployed.get(name, {})
        # IPv4 counted (an IPv6-only cluster's IPv6 addresses); a dual-stack slice's IPv6 ones beside them
        addresses = {n.get("ip") or n.get("ip6") for n in out.get("nodes", [])} | \
            {out.get("api_vip") or out.get("api_vip6"), out.get("ingress_vip") or out.get("ingress_vip6")}
        addresses.discard(None)
        dual = slice_.range is not None and slice_.range6 is not None
        addresses6 = {n.get("ip6") for n in out.get("nodes", [])} | {out.get("api_vip6"), out.get("ingress_vip6")}
        addresses6.discard(None)
        bmc_total = 0
        if slice_.bmc_ports:
            first, last = (int(p) for p in slice_.bmc_ports.split("-"))
            bmc_total = last - first + 1
        raw = out.get("bmc")
        bmc: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
        redfish = slice_.bmc == "redfish"
        bmc_used = (1 if bmc else 0) if redfish else len(bmc.get("nodes", {}))
        slices.append(SliceUse(cluster=name, hypervisor=slice_.hypervisor, range=slice_.shown_range,
                               size=slice_.shown_size, used=len(addresses), bmc_ports=bmc_total,
                               bmc_used=bmc_used, deployed=name in deployed, redfish=redfish,
                               range6=slice_.range6 if dual else None,
                               size6=AddressRange.parse(slice_.range6 or "", 6).size if dual else 0,
                               used6=len(addresses6) if dual else 0))
    hosts = []
    for name, hv in sorted(lab.hypervisors.items()):
        mine = [out for out in deployed.values() if out.get("hypervisor", {}).get("name") == name]
        nodes = [n for out in mine for n in out.get("nodes", [])]
        declared = config.hypervisor(name).capacity
        hosts.append(HostUse(name=name, vcpus=hv.capacity.vcpus if hv.capacity else 0,
                             memory_mib=hv.capacity.memory_mib if hv.capacity else 0,
                             cpu_overcommit=float(lab.overcommit.get("cpu", 1.0)),
                             memory_overcommit=float(lab.overcommit.get("memory", 1.0)),
                             vcpus_committed=sum(int(n.get("vcpus", 0)) for n in nodes),
                             memory_committed=sum(int(n.get("memory_mib", 0)) for n in nodes),
                             disk_committed=sum(int(n.get("disk_bytes", 0)) for n in nodes),
                             clusters=tuple(sorted(str(out["cluster"]) for out in mine)),
                             disk_bytes=declared.disk_bytes if declared else None,
                             capacity_known=hv.capacity is not None))
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
        # Disk is not over-committed: qcow2 overlays grow up to their size.
        by_disk = None if host.disk_bytes is None else \
            max(0, (host.disk_bytes - host.disk_committed) // max(1, shape.disk_bytes))
        by_slices = sum(1 for s in usage.slices if s.hypervisor == host.name and not s.deployed
                        and s.fits_addresses(shape.addresses) and s.fits_bmcs(shape.bmc_ports))
        limits = {"vCPUs": by_vcpus, "memory": by_memory, "disk": by_disk, "free slices on it": by_slices}
        known = {k: v for k, v in limits.items() if v is not None}
        per_host.append(Fit(shape=shape.name, hypervisor=host.name, by_vcpus=by_vcpus, by_memory=by_memory,
                            by_disk=by_disk, by_slices=by_slices, count=min(known.values()),
                            limited_by=min(known, key=lambda k: known[k])))
    compute, binding = 0, set()
    for f in per_host:
        room = {k: v for k, v in (("vCPUs", f.by_vcpus), ("memory", f.by_memory), ("disk", f.by_disk)) if v is not None}
        compute += min(room.values())
        binding |= {k for k, v in room.items() if v == min(room.values())}
    addresses = sum(f.by_slices for f in per_host) + carvable
    total = min(compute, addresses)
    limited_by = "addresses (free slices + unallocated lab addresses)" if addresses < compute else \
        " or ".join(k for k in ("vCPUs", "memory", "disk") if k in binding)
    return per_host, total, limited_by
