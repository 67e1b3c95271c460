"""The lab's shape as plain data: which hosts exist, their addresses, MACs and namespaces.

No side effects here, so the plan is the single source the other modules and lab.json use.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Interface, IPv4Network, IPv6Address, IPv6Network

NETWORK = IPv4Network("192.168.16.0/24")
# The lab network's IPv6 /64: the jumphost holds its first address as a dual-stack lab's would, so a lab stack
# with network.cidr6 (docs/ipv6.md) can serve DHCPv6 from it; an IPv4 lab never uses it.
NETWORK6 = IPv6Network("fd00:16::/64")
# An IPv6-only lab's router, as its hosts' profiles and the lab stack name it: the jumphost routes no IPv6 (no NAT66,
# docs/ipv6.md) and nothing answers here, so no test traffic leaves the lab.
ROUTER6 = NETWORK6.network_address + 0xFE
PREFIX = "ocplab-"
SWITCH_NETNS = f"{PREFIX}sw"
SWITCH_BRIDGE = "lab"
# A second switch for bridged provisioning networks (hub clusters): every hypervisor's second NIC.
PROVISIONING_SWITCH = "prov"
PROVISIONING_NIC = "eth1"
JUMPHOST = "jumphost"
JUMPHOST_NETNS = f"{PREFIX}jh"
NIC = "eth0"
SSH_USER = "root"
# hv<i> sits at .(10+i); .32 and up are where lab stacks put cluster slices.
MAX_HYPERVISORS = 20


@dataclass(frozen=True)
class HostPlan:
    """One simulated server: its name, role, namespace, NIC and lab address (in an IPv6-only lab, `ip` only sets
    the host index and MAC: the host holds its IPv6 address alone)."""

    name: str
    role: str  # "jumphost" or "hypervisor"
    netns: str
    ip: IPv4Address
    mac: str
    switch_port: str
    nic: str = NIC
    ssh_user: str = SSH_USER
    ipv6_only: bool = False

    @property
    def provisioning_port(self) -> str:
        """The provisioning switch's end of a hypervisor's second NIC."""
        return f"{self.name}-prov"

    @property
    def provisioning_mac(self) -> str:
        return "02:01:" + self.mac[6:]

    @property
    def prefixlen(self) -> int:
        return NETWORK.prefixlen

    @property
    def cidr(self) -> str:
        return f"{self.ip}/{self.prefixlen}"

    @property
    def ip6(self) -> IPv6Address:
        """Its IPv6 address on the lab network: the same host index as its IPv4 one (the jumphost: fd00:16::1)."""
        return NETWORK6.network_address + (int(self.ip) - int(NETWORK.network_address))

    @property
    def cidr6(self) -> str:
        return f"{self.ip6}/{NETWORK6.prefixlen}"

    @property
    def address(self) -> str:
        """Where clients reach it (sshd, libvirt, known_hosts, lab.json): its IPv6 address in an IPv6-only lab."""
        return str(self.ip6 if self.ipv6_only else self.ip)

    @property
    def network(self) -> IPv4Network | IPv6Network:
        return NETWORK6 if self.ipv6_only else NETWORK


def _mac(ip: IPv4Address) -> str:
    """A fixed, locally administered MAC derived from the IP (stable across runs)."""
    a, b, c, d = ip.packed
    return f"02:00:{a:02x}:{b:02x}:{c:02x}:{d:02x}"


def _host(name: str, role: str, netns: str, host_index: int, ipv6_only: bool) -> HostPlan:
    ip = NETWORK.network_address + host_index
    return HostPlan(name=name, role=role, netns=netns, ip=ip, mac=_mac(ip), switch_port=name, ipv6_only=ipv6_only)


def plan(hypervisors: int, ipv6_only: bool = False) -> list[HostPlan]:
    """The jumphost (.1) then hv1..hvN (.11, .12, ...); IPv6-only: fd00:16::1, then ::b, ::c, ... (the same MACs)."""
    if not 1 <= hypervisors <= MAX_HYPERVISORS:
        raise ValueError(f"hypervisors must be between 1 and {MAX_HYPERVISORS}, not {hypervisors}")
    hosts = [_host(JUMPHOST, "jumphost", JUMPHOST_NETNS, 1, ipv6_only)]
    for i in range(1, hypervisors + 1):
        hosts.append(_host(f"hv{i}", "hypervisor", f"{PREFIX}hv{i}", 10 + i, ipv6_only))
    return hosts


# The outside: a namespace standing for the internet, cabled only to the jumphost's uplink. Its
# network is a documentation range (RFC 5737), so nothing it answers can be mistaken for a real host.
OUTSIDE_NETNS = f"{PREFIX}out"
OUTSIDE_NETWORK = IPv4Network("198.51.100.0/24")
UPLINK = "uplink0"
OUTSIDE_NIC = "eth0"
OUTSIDE_NAME = "www.outside.test"
OUTSIDE_FILE = "hello.txt"


@dataclass(frozen=True)
class OutsidePlan:
    """The outside's cable (jumphost end `uplink`, outside end `nic`) and the servers it runs."""

    netns: str
    nic: str
    address: IPv4Interface
    uplink: str
    uplink_address: IPv4Interface
    name: str  # the one name its DNS server answers, with its own address
    http_file: str  # served at http://<address>/<http_file>

    @property
    def ip(self) -> IPv4Address:
        return self.address.ip

    @property
    def uplink_ip(self) -> IPv4Address:
        return self.uplink_address.ip


def outside() -> OutsidePlan:
    """The jumphost's uplink is .1 of the outside network, the outside's servers are .2."""
    prefix = OUTSIDE_NETWORK.prefixlen
    return OutsidePlan(
        netns=OUTSIDE_NETNS, nic=OUTSIDE_NIC,
        address=IPv4Interface(f"{OUTSIDE_NETWORK.network_address + 2}/{prefix}"),
        uplink=UPLINK, uplink_address=IPv4Interface(f"{OUTSIDE_NETWORK.network_address + 1}/{prefix}"),
        name=OUTSIDE_NAME, http_file=OUTSIDE_FILE,
    )
