"""The keepalived VRRP ids OpenShift derives from a cluster's name, and their clashes on one L2.

On baremetal IPI, keepalived holds the API and ingress VIPs; their virtual_router_id comes from the
cluster name alone: openshift/baremetal-runtimecfg `pkg/config/node.go` (Cluster.PopulateVRIDs):
api = FletcherChecksum8(name + "-api") + 1, ingress = FletcherChecksum8(name + "-ingress") + 1,
ingress bumped by one while it equals api; `pkg/utils/utils.go` FletcherChecksum8 sums the bytes
modulo 15 in uint8 arithmetic. Two clusters on one L2 with a common id make their VIPs flap, and
with 8-bit ids a clash among tens of clusters is likely.

Dual-stack: `pkg/config/node.go` GetConfig makes one node config per VIP of `apiVIPs`/`ingressVIPs` and each
calls PopulateVRIDs with the same name, so a cluster's IPv6 instances carry its IPv4 ids. VRRP for IPv4 and for
IPv6 are separate (VRRPv3, RFC 5798: other multicast groups and protocol), so two clusters clash only on an id
they share in a family both have.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


def fletcher8(text: str) -> int:
    """baremetal-runtimecfg's FletcherChecksum8, uint8 overflow included (0..238)."""
    first = second = 0
    for byte in text.encode():
        first = ((first + byte) & 0xFF) % 15
        second = ((second + first) & 0xFF) % 15
    return (second << 4) | first


@dataclass(frozen=True)
class VrrpIds:
    api: int
    ingress: int

    def as_dict(self) -> dict[str, int]:
        return {"api": self.api, "ingress": self.ingress}

    def common(self, other: VrrpIds) -> set[int]:
        return {self.api, self.ingress} & {other.api, other.ingress}


def vrrp_ids(cluster: str) -> VrrpIds:
    api = fletcher8(f"{cluster}-api") + 1
    ingress = fletcher8(f"{cluster}-ingress") + 1
    while ingress == api:
        ingress += 1
    return VrrpIds(api=api, ingress=ingress)


def vrrp_problems(cluster: str, neighbours: Mapping[str, VrrpIds],
                  families: Mapping[str, frozenset[int]] | None = None) -> list[str]:
    """Clashes of `cluster`'s ids with the other clusters of its lab (same L2), naming both; with `families`
    (each cluster's address families; IPv4 only where not given), only clusters sharing a family clash."""
    mine = vrrp_ids(cluster)
    families = families or {}
    found = []
    for other, ids in sorted(neighbours.items()):
        shared = families.get(cluster, frozenset({4})) & families.get(other, frozenset({4}))
        if other != cluster and shared and (common := mine.common(ids)):
            found.append(f"ocplab:cluster: cluster {cluster}'s keepalived VRRP ids (api {mine.api}, ingress "
                         f"{mine.ingress}, which OpenShift derives from the name) share {sorted(common)} with "
                         f"cluster {other}'s (api {ids.api}, ingress {ids.ingress}) on the same lab network: their "
                         "VIPs would flap; give one of them another name (its slice too)")
    return found
