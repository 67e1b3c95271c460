"""The lab's base dnsmasq configuration, rendered from the lab config.

Static-only DHCP (a lease only for a known MAC), authoritative for the lab network, bound to
the jumphost's lab interface so it never answers elsewhere. Names that are not the lab's go to the
configured upstream servers; the lab's zone and reverse zones never do.
"""

from __future__ import annotations

import netaddr

from core.labconfig import LabConfig
from renderers import dnsmasq_layout as layout
from renderers import pxe_boot


def render_base_config(lab: LabConfig) -> str:
    """dnsmasq.conf text for the lab's jumphost; an IPv6-only lab's has no DHCPv4 range or option."""
    net = lab.network
    lines = [
        f"# Managed by ocplab (lab stack {lab.name}). Changes are overwritten by `pulumi up`.",
        f"interface={lab.jumphost.interface}",
        "bind-interfaces",
        f"domain={lab.domain}",
        f"local=/{lab.domain}/",
        # The lab's addresses are ours to answer: an unknown one is NXDOMAIN here, never asked upstream.
        *(f"local=/{zone}/" for zone in (reverse_zones(net.cidr) if net.cidr else ())),
        "domain-needed",
        "bogus-priv",
        "no-resolv",
        "no-hosts",
        *(f"server={server}" for server in net.dns_upstream),
        *ipv4_lines(lab),
        "dhcp-authoritative",
        f"dhcp-leasefile={layout.LEASE_FILE}",
        f"dhcp-hostsdir={layout.DHCP_HOSTS_DIR}",
        f"hostsdir={layout.HOSTS_DIR}",
        f"conf-dir={layout.CONF_DIR},*.conf",
        f"pid-file={layout.PID_FILE}",
        f"log-facility={layout.LOG_FILE}",
        "log-dhcp",
        # TFTP for the nodes each cluster offers a UEFI network boot (renderers.pxe_boot), each from its own root.
        *pxe_boot.base_lines(),
        # The lab's own servers by name, forward and reverse.
        # The mirror registry and the image cache (ocplab:mirror, cache) are the jumphost too; the first name
        # keeps the PTR.
        # An IPv6-only lab's hosts have their address6 alone (their SSH address).
        f"host-record={','.join(jumphost_names(lab))},"
        + ",".join(lab_addresses(lab, lab.jumphost.ssh.address, lab.jumphost.address6 if net.cidr6 else None)),
        *(f"host-record={hv.name}.{lab.domain}," + ",".join(lab_addresses(lab, hv.ssh.address, hv.address6))
          for hv in lab.hypervisors),
        *ipv6_lines(lab),
    ]
    return "\n".join(lines) + "\n"


def ipv4_lines(lab: LabConfig) -> list[str]:
    """DHCPv4 for reserved MACs only, with the lab's router, DNS, NTP and search domain; none on an IPv6-only lab."""
    net = lab.network
    if net.cidr is None:
        return []
    return [
        f"dhcp-range={net.cidr.network},static,{net.cidr.netmask},{net.lease_time}",
        f"dhcp-option=option:router,{net.gateway}",
        f"dhcp-option=option:dns-server,{lab.jumphost.ssh.address}",
        # The jumphost's chronyd (renderers/time_scripts.py) is every node's time source.
        f"dhcp-option=option:ntp-server,{lab.jumphost.ssh.address}",
        f"dhcp-option=option:domain-search,{lab.domain}",
    ]


def lab_addresses(lab: LabConfig, address: str, address6: str | None) -> list[str]:
    """A lab host's addresses for its host-record: IPv4 then IPv6; on an IPv6-only lab `address` is address6."""
    return [address] if lab.network.ipv6_only else [address, *([address6] if address6 else [])]


def ipv6_lines(lab: LabConfig) -> list[str]:
    """Dual-stack: DHCPv6 for reserved MACs only, router advertisements telling nodes to take their address from
    DHCPv6 (the managed flag, no SLAAC: dnsmasq's default for a DHCP range), the IPv6 reverse zone ours. The jumphost
    is the nodes' IPv6 default router only where it routes the lab (nat; it forwards no IPv6 out: no NAT66,
    docs/ipv6.md); else the lab's router is, and our advertisements carry no route (router lifetime 0)."""
    net = lab.network
    if net.cidr6 is None:
        return []
    return [
        *(f"local=/{zone}/" for zone in reverse_zones6(net.cidr6)),
        f"dhcp-range={net.cidr6.network},static,{net.cidr6.prefixlen},{net.lease_time}",
        "enable-ra",
        *([] if net.routing == "nat" else [f"ra-param={lab.jumphost.interface},0,0"]),
        f"dhcp-option=option6:dns-server,[{lab.jumphost.address6}]",
        f"dhcp-option=option6:domain-search,{lab.domain}",
        # The lab's NTP server by DHCPv6 too (option 56): an IPv6-only node gets no DHCPv4 option 42.
        f"dhcp-option=option6:ntp-server,[{lab.jumphost.address6}]",
    ]


def jumphost_names(lab: LabConfig) -> list[str]:
    return [f"jumphost.{lab.domain}", *([lab.mirror.host(lab.domain)] if lab.mirror else []),
            *([lab.cache.host(lab.domain)] if lab.cache else [])]


def reverse_zones6(cidr: netaddr.IPNetwork) -> list[str]:
    """The ip6.arpa zones that together cover exactly `cidr`: one per nibble-aligned subnet (a /64 is one zone)."""
    nibbles = -(-cidr.prefixlen // 4)
    zones = []
    for subnet in cidr.subnet(nibbles * 4):
        digits = f"{int(subnet.network):032x}"[:nibbles]
        zones.append(".".join(reversed(digits)) + ".ip6.arpa")
    return zones


def reverse_zones(cidr: netaddr.IPNetwork) -> list[str]:
    """The in-addr.arpa zones that together cover exactly `cidr`.

    Reverse zones split on octets: a /24 is one zone, a /20 sixteen /24 zones, and a network
    smaller than a /24 one name per address (its /24 zone would also hold addresses not in the lab).
    """
    octets = max(1, -(-cidr.prefixlen // 8))
    zones = []
    for subnet in cidr.subnet(octets * 8):
        labels = str(subnet.network).split(".")[:octets]
        zones.append(".".join(reversed(labels)) + ".in-addr.arpa")
    return zones
