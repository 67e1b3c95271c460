"""Does a cluster fit its hypervisor? Checked from the lab's exported capacity, before creation."""

from __future__ import annotations

from collections.abc import Mapping

from core.clusterconfig import ClusterConfig


def capacity_problems(cluster: ClusterConfig, capacity: Mapping[str, int],
                      overcommit: Mapping[str, float]) -> list[str]:
    """Problems naming the numbers when the cluster's memory or vCPUs exceed the host's (with over-commit)."""
    memory = sum(n.memory_mib for n in cluster.nodes)
    vcpus = sum(n.vcpus for n in cluster.nodes)
    widest = max(n.vcpus for n in cluster.nodes)
    host_memory, host_vcpus = int(capacity["memory_mib"]), int(capacity["vcpus"])
    memory_limit = int(host_memory * overcommit.get("memory", 1.0))
    vcpu_limit = int(host_vcpus * overcommit.get("cpu", 1.0))
    found = []
    if memory > memory_limit:
        found.append(f"ocplab:hosts: cluster {cluster.name} needs {memory} MiB of memory but hypervisor "
                     f"{cluster.hypervisor} has {host_memory} MiB (x{overcommit.get('memory', 1.0)} over-commit = "
                     f"{memory_limit} MiB); shrink the nodes, pick another hypervisor or raise "
                     "ocplab:overcommit.memory in the lab stack")
    if vcpus > vcpu_limit:
        found.append(f"ocplab:hosts: cluster {cluster.name} needs {vcpus} vCPUs but hypervisor {cluster.hypervisor} "
                     f"has {host_vcpus} (x{overcommit.get('cpu', 1.0)} over-commit = {vcpu_limit}); shrink the "
                     "nodes, pick another hypervisor or raise ocplab:overcommit.cpu in the lab stack")
    if widest > host_vcpus:
        found.append(f"ocplab:hosts: a node of cluster {cluster.name} has {widest} vCPUs, more than the "
                     f"{host_vcpus} CPUs of hypervisor {cluster.hypervisor}")
    return found
