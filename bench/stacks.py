"""Stack files for the benchmarks: one lab stack over N simulated hypervisors, and cluster stacks.

Every cluster gets a dense slice (exactly its addresses: nodes, plus the API and ingress VIPs
and the bootstrap VM's reservation for IPI), handed out in order from .32 of the lab network.
The simulated lab's wire network is 192.168.16.0/24 and cannot be changed
(simlab.topology.NETWORK), and after the jumphost (.1) and ten hypervisors (.11-.20) it has 243
free addresses: fewer than 250 domains need even as SNO clusters (no VIPs), and 250 IPI domains
on ten hypervisors need 280. So when the clusters need more than the /24 holds, the lab stack
declares the smallest wider network that starts at the same address (a /23): every simulated
host keeps its /24 address inside it, dnsmasq gets the wider static range, and only domains that
are defined but never started take addresses above the /24. Pure functions: the files are written by `write_stacks`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import netaddr
import yaml

from core.stack_files import DEFAULT_STACKS_DIR
from core.vrrp import vrrp_ids

LAB_BASE = netaddr.IPAddress("192.168.16.0")
JUMPHOST = "192.168.16.1"
FIRST_SLICE_OFFSET = 32  # .32 and up: clear of the jumphost (.1) and hv1..hv20 (.11-.30)
IMAGE = ".simlab/cache/guest.qcow2"

# The seed's cluster shape at tiny sizes (as stacks/Pulumi.ipi1.yaml): TCG guests of the simlab image.
SIZES: dict[str, dict[str, Any]] = {
    "provisionhost": {"memory": 192, "vcpus": 1, "disk_size": "1G"},
    "master": {"memory": 160, "vcpus": 1, "disk_size": "1G"},
    "worker": {"memory": 160, "vcpus": 1, "disk_size": "1G", "disk2_size": "64M"},
    "sno": {"memory": 192, "vcpus": 1, "disk_size": "1G"},
}
PROVISIONHOST = {
    "users": [{"name": "dci", "gecos": "Admin User", "groups": "wheel", "sudo": "ALL=(ALL) NOPASSWD:ALL"}],
    "run_commands": ["mkdir -p /home/dci/.ssh", "echo provisioned > /tmp/ocplab-provisioned"],
}


@dataclass(frozen=True)
class ClusterPlan:
    """One benchmark cluster: IPI (provisionhost + 3 masters + `workers`) or SNO, on one hypervisor."""

    name: str
    hypervisor: str
    topology: str = "ipi"
    workers: int = 3
    start: bool = True

    @property
    def domains(self) -> int:
        return 1 if self.topology == "sno" else 4 + self.workers

    @property
    def addresses(self) -> int:
        """Addresses its slice needs: one per node, and for IPI two VIPs and the installer's bootstrap VM
        (core/cluster_design.py reserves one address of the slice for it)."""
        return self.domains + (3 if self.topology == "ipi" else 0)


_NAMES: dict[str, str] = {}  # wanted name -> the name given (this process)
_VRRP_TAKEN: set[int] = set()
SUFFIXES: tuple[str, ...] = ("", *"abcdefghijklmnopqrstuvwxyz")


def vrrp_free(wanted: str) -> str:
    """`wanted`, or `wanted` plus a letter, so that its keepalived VRRP ids (which OpenShift derives from
    the name, core/vrrp.py) clash with no other bench cluster's: an IPI cluster whose ids meet another
    slice's is refused at plan time. The same wanted name always gets the same answer in a process."""
    if wanted in _NAMES:
        return _NAMES[wanted]
    for suffix in SUFFIXES:
        ids = vrrp_ids(wanted + suffix)
        mine = {ids.api, ids.ingress}
        if len(mine) == 2 and not mine & _VRRP_TAKEN:
            _VRRP_TAKEN.update(mine)
            _NAMES[wanted] = wanted + suffix
            return wanted + suffix
    raise ValueError(f"no VRRP-clash-free name for {wanted}")


def hypervisor_names(count: int) -> list[str]:
    return [f"hv{i}" for i in range(1, count + 1)]


def spread(total: int, hypervisors: int, prefix: str, start: bool = False) -> list[ClusterPlan]:
    """`total` domains as one cluster per hypervisor: SNO when there is one domain per hypervisor,
    else IPI clusters (at least provisionhost + 3 masters) with the workers shared out."""
    if total % hypervisors:
        raise ValueError(f"{total} domains do not split evenly over {hypervisors} hypervisors")
    each = total // hypervisors
    if each == 1:
        return [ClusterPlan(vrrp_free(f"{prefix}-{hv}"), hv, "sno", 0, start) for hv in hypervisor_names(hypervisors)]
    if each < 4:
        raise ValueError(f"an IPI cluster has at least 4 domains, not {each}")
    return [ClusterPlan(vrrp_free(f"{prefix}-{hv}"), hv, "ipi", each - 4, start)
            for hv in hypervisor_names(hypervisors)]


def network_for(addresses_needed: int) -> netaddr.IPNetwork:
    """The narrowest network from 192.168.16.0 (a /24 at least) whose slices area holds them."""
    for prefix in range(24, 15, -1):
        network = netaddr.IPNetwork(f"{LAB_BASE}/{prefix}")
        if network.size - 1 - FIRST_SLICE_OFFSET >= addresses_needed:  # minus the broadcast address
            return network
    raise ValueError(f"{addresses_needed} addresses do not fit a /16")


def allocate_slices(clusters: Sequence[ClusterPlan], network: netaddr.IPNetwork) -> dict[str, str]:
    """Dense, consecutive slices from .32: cluster name -> 'first-last'."""
    slices: dict[str, str] = {}
    cursor = int(network.network) + FIRST_SLICE_OFFSET
    for cluster in clusters:
        last = cursor + cluster.addresses - 1
        if last >= int(network.last):  # the broadcast address
            raise ValueError(f"cluster {cluster.name} does not fit {network}")
        slices[cluster.name] = f"{netaddr.IPAddress(cursor)}-{netaddr.IPAddress(last)}"
        cursor = last + 1
    return slices


def lab_values(hypervisors: int, clusters: Sequence[ClusterPlan], domain: str = "bench.test") -> dict[str, Any]:
    """The `ocplab:*` values of the bench lab stack (keys without the prefix)."""
    network = network_for(sum(c.addresses for c in clusters))
    hypervisor_of = {c.name: c.hypervisor for c in clusters}
    return {
        "kind": "lab",
        "domain": domain,
        "network": {"cidr": str(network), "gateway": JUMPHOST, "dns_upstream": [], "reserved": [],
                    "lease_time": "2m"},
        "jumphost": {"address": JUMPHOST, "user": "root", "interface": "eth0",
                     "ssh_key_path": ".simlab/ssh/id_ed25519", "known_hosts": ".simlab/ssh/known_hosts"},
        "hypervisors": [{"name": hv, "address": str(LAB_BASE + 10 + index), "user": "root", "nic": "eth0",
                         "bridge": "br0", "bridge_backend": "nmcli"}
                        for index, hv in enumerate(hypervisor_names(hypervisors), start=1)],
        # Each simulated hypervisor reports this machine's 2 CPUs; defined-only domains use none.
        "overcommit": {"cpu": 16.0, "memory": 1.0},
        "images": {"guest": IMAGE},
        "slices": {name: {"hypervisor": hypervisor_of[name], "range": text}
                   for name, text in allocate_slices(clusters, network).items()},
    }


def cluster_values(cluster: ClusterPlan, lab: str) -> dict[str, Any]:
    values: dict[str, Any] = {
        "kind": "cluster", "lab": lab, "topology": cluster.topology, "hypervisor": cluster.hypervisor,
        "image": "guest", "domain_type": "qemu", "defaults": {"cpu_mode": "maximum", "disk_bus": "virtio"},
        "sizes": SIZES,
    }
    if cluster.topology == "ipi":
        values.update(masters=3, workers=cluster.workers, provisionhost=PROVISIONHOST)
    if not cluster.start:
        values["start"] = False
    return values


def stack_document(values: dict[str, Any], salt: str | None = None) -> str:
    document: dict[str, Any] = {"config": {f"ocplab:{key}": value for key, value in values.items()}}
    if salt is not None:
        document["encryptionsalt"] = salt
    return yaml.safe_dump(document, sort_keys=False)


def simlab_salt() -> str:
    """The committed simlab stack's `encryptionsalt` (of the empty passphrase the simulated lab's engine uses). The
    bench lab and its clusters share it, as docs/operations.md has a lab's clusters share their lab's: the CLI
    then derives the passphrase's key once per command, not again for the lab's StackReference."""
    return str(yaml.safe_load((DEFAULT_STACKS_DIR / "Pulumi.simlab.yaml").read_text())["encryptionsalt"])


def write_stacks(directory: Path, lab: str, hypervisors: int, clusters: Iterable[ClusterPlan],
                 salt: str | None = None) -> None:
    """Pulumi.<lab>.yaml and Pulumi.<cluster>.yaml for each cluster, in `directory`, all with `salt` if given
    (else `pulumi stack init` gives each its own)."""
    clusters = list(clusters)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"Pulumi.{lab}.yaml").write_text(stack_document(lab_values(hypervisors, clusters), salt))
    for cluster in clusters:
        (directory / f"Pulumi.{cluster.name}.yaml").write_text(stack_document(cluster_values(cluster, lab), salt))
