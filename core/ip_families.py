"""Which family an address is, how a URL writes it, and a cluster's pinned VIPs split by family in the
installer's order.

A dual-stack cluster has one API and one ingress VIP per family. ocplab's dual-stack clusters are IPv4-primary
(machineNetwork, clusterNetwork and serviceNetwork list IPv4 first), and the installer wants apiVIPs and
ingressVIPs in the same order as those networks, so a pinned pair must be written IPv4 first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import netaddr

from core.errors import Problems

FAMILIES = {4: "IPv4", 6: "IPv6"}


def family_of(address: str) -> int:
    """4 or 6; the address was checked by the schema."""
    return int(netaddr.IPAddress(address).version)


def url_host(address: str) -> str:
    """An address as a URL's, a listen address's or curl's --resolve host part: IPv6 in brackets (RFC 3986), so
    `ipmi://[fd00:16::b]:6230` keeps its port apart; IPv4 (or a name) as it is."""
    return f"[{address}]" if netaddr.valid_ipv6(address) else address


def per_family(given: str | Sequence[str], where: str, problems: Problems) -> dict[int, str]:
    """A pin (a VIP, a node's address: an address, or a list of one per family, IPv4 first) by family; {} and a
    problem naming `where` when it gives two of one family or puts IPv6 first."""
    listed = [given] if isinstance(given, str) else list(given)
    families = [family_of(ip) for ip in listed]
    if len(set(families)) < len(families):
        problems.add(where, f"{', '.join(listed)} gives two {FAMILIES[families[0]]} addresses; give one address "
                     "per family, IPv4 first (e.g. [192.168.16.20, fd00:16::20])")
    elif families == [6, 4]:
        problems.add(where, f"[{', '.join(listed)}] puts IPv6 first; write [{listed[1]}, {listed[0]}]: a "
                     "dual-stack cluster is IPv4-primary and the installer takes its addresses in that order")
    else:
        return dict(zip(families, listed, strict=True))
    return {}


def split_vips(vips: Mapping[str, str | Sequence[str]],
               problems: Problems) -> tuple[dict[str, str], dict[str, str]]:
    """`ocplab:vips` (each an address, or a list of one per family, IPv4 first) as the IPv4 and the IPv6 pins."""
    pins: dict[int, dict[str, str]] = {4: {}, 6: {}}
    for key, given in vips.items():
        for family, ip in per_family(given, f"ocplab:vips.{key}", problems).items():
            pins[family][key] = ip
    return pins[4], pins[6]
