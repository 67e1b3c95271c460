"""The lab's shape as plain data: which hosts exist, their addresses, MACs and namespaces.

No side effects here, so the plan is the single source the other modules and lab.json use.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network

NETWORK = IPv4Network("192.168.16.0/24")
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
    """One simulated server: its name, role, namespace, NIC and lab address."""

    name: str
    role: str  # "jumphost" or "hypervisor"
    netns: str
    ip: IPv4Address
    mac: str
    switch_port: str
    nic: str = NIC
    ssh_user: str = SSH_USER

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


def _mac(ip: IPv4Address) -> str:
    """A fixed, locally administered MAC derived from the IP (stable across runs)."""
    a, b, c, d = ip.packed
    return f"02:00:{a:02x}:{b:02x}:{c:02x}:{d:02x}"


def _host(name: str, role: str, netns: str, host_index: int) -> HostPlan:
    ip = NETWORK.network_address + host_index
    return HostPlan(name=name, role=role, netns=netns, ip=ip, mac=_mac(ip), switch_port=name)


def plan(hypervisors: int) -> list[HostPlan]:
    """The jumphost (.1) then hv1..hvN (.11, .12, ...)."""
    if not 1 <= hypervisors <= MAX_HYPERVISORS:
        raise ValueError(f"hypervisors must be between 1 and {MAX_HYPERVISORS}, not {hypervisors}")
    hosts = [_host(JUMPHOST, "jumphost", JUMPHOST_NETNS, 1)]
    for i in range(1, hypervisors + 1):
        hosts.append(_host(f"hv{i}", "hypervisor", f"{PREFIX}hv{i}", 10 + i))
    return hosts
