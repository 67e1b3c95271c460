"""Bytes a deploy leaves on a hypervisor, per VM: pure grouping of measured allocations."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping

SUFFIXES = ("-root.qcow2", "-disk2.qcow2", "-cidata.iso", ".xml")


def node_of(path: str, cluster: str) -> str | None:
    """The node a cluster file belongs to: <cluster>-<node>-root.qcow2, ..., <cluster>-<node>.xml."""
    name = os.path.basename(path)
    if not name.startswith(f"{cluster}-"):
        return None
    for suffix in SUFFIXES:
        if name.endswith(suffix):
            return name[len(cluster) + 1:-len(suffix)]
    return None


def bytes_per_node(allocated: Mapping[str, int], cluster: str, nodes: Iterable[str]) -> dict[str, int]:
    """Allocated bytes of each node's volumes and domain XML (nodes with no files get 0)."""
    found = dict.fromkeys(nodes, 0)
    for path, size in allocated.items():
        node = node_of(path, cluster)
        if node in found:
            found[node] += size
    return found
