"""The lab's L2 network: a switch namespace with a bridge, and a veth "cable" to each host.

The host end of each cable is the host's eth0 (its "physical NIC"); the root namespace gets
no lab address and no route into the lab.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from simlab.preflight import Tools
from simlab.run import run
from simlab.topology import (
    PREFIX,
    PROVISIONING_NIC,
    PROVISIONING_SWITCH,
    SWITCH_BRIDGE,
    SWITCH_NETNS,
    HostPlan,
    OutsidePlan,
)

NETNS_DIR = Path("/run/netns")
# Exactly the names `up` makes: other tools (e.g. the guest tests) use other ocplab-* names.
LAB_NETNS = re.compile(rf"{re.escape(PREFIX)}(sw|jh|out|hv[1-9][0-9]*)")


def netns_path(name: str) -> Path:
    return NETNS_DIR / name


def lab_netns() -> list[str]:
    """Network namespaces of a (possibly half-torn-down) lab, found by their names."""
    if not NETNS_DIR.is_dir():
        return []
    return sorted(n for n in os.listdir(NETNS_DIR) if LAB_NETNS.fullmatch(n))


def _ip(tools: Tools, *args: str) -> None:
    run([tools["ip"], *args])


def add_netns(tools: Tools, name: str) -> None:
    _ip(tools, "netns", "add", name)
    _ip(tools, "-n", name, "link", "set", "lo", "up")


def create_switch(tools: Tools) -> None:
    """The switch: a plain learning bridge with no STP delay and no address."""
    add_netns(tools, SWITCH_NETNS)
    _ip(tools, "-n", SWITCH_NETNS, "link", "add", SWITCH_BRIDGE, "type", "bridge",
        "stp_state", "0", "forward_delay", "0", "mcast_snooping", "0")
    _ip(tools, "-n", SWITCH_NETNS, "link", "set", SWITCH_BRIDGE, "up")
    _ip(tools, "-n", SWITCH_NETNS, "link", "add", PROVISIONING_SWITCH, "type", "bridge",
        "stp_state", "0", "forward_delay", "0", "mcast_snooping", "0")
    _ip(tools, "-n", SWITCH_NETNS, "link", "set", PROVISIONING_SWITCH, "up")


def cable_host(tools: Tools, host: HostPlan) -> None:
    """Make the host's netns and plug its NIC into the switch (switch side up, NIC left down).

    The NIC is created inside the host namespace (the root already has an eth0) with a fixed
    MAC, which also keeps udev's MACAddressPolicy=persistent from rewriting it.
    """
    add_netns(tools, host.netns)
    _ip(tools, "-n", host.netns, "link", "add", host.nic, "address", host.mac,
        "type", "veth", "peer", "name", host.switch_port, "netns", SWITCH_NETNS)
    _ip(tools, "-n", SWITCH_NETNS, "link", "set", host.switch_port, "master", SWITCH_BRIDGE, "up")


def cable_provisioning(tools: Tools, host: HostPlan) -> None:
    """A hypervisor's second NIC (eth1, no address, down) on the provisioning switch: what a lab stack
    bridges for clusters whose provisioning network reaches other servers (hub clusters)."""
    _ip(tools, "-n", host.netns, "link", "add", PROVISIONING_NIC, "address", host.provisioning_mac,
        "type", "veth", "peer", "name", host.provisioning_port, "netns", SWITCH_NETNS)
    _ip(tools, "-n", SWITCH_NETNS, "link", "set", host.provisioning_port, "master", PROVISIONING_SWITCH, "up")


def address_host(tools: Tools, host: HostPlan) -> None:
    """Give a host without NetworkManager (the jumphost) its lab addresses directly (nodad: usable at once);
    in an IPv6-only lab its IPv6 address alone."""
    if not host.ipv6_only:
        _ip(tools, "-n", host.netns, "addr", "add", host.cidr, "dev", host.nic)
    _ip(tools, "-n", host.netns, "addr", "add", host.cidr6, "dev", host.nic, "nodad")
    _ip(tools, "-n", host.netns, "link", "set", host.nic, "up")


def cable_outside(tools: Tools, out: OutsidePlan, jumphost: HostPlan) -> None:
    """The outside's netns, joined by one veth to the jumphost (its end is the jumphost's uplink).

    Each end gets only its address on the outside network: no default route on either side, so
    nothing in the outside reaches beyond the jumphost, and the root namespace gets nothing.
    """
    add_netns(tools, out.netns)
    _ip(tools, "-n", jumphost.netns, "link", "add", out.uplink, "type", "veth",
        "peer", "name", out.nic, "netns", out.netns)
    _ip(tools, "-n", jumphost.netns, "addr", "add", str(out.uplink_address), "dev", out.uplink)
    _ip(tools, "-n", out.netns, "addr", "add", str(out.address), "dev", out.nic)
    _ip(tools, "-n", jumphost.netns, "link", "set", out.uplink, "up")
    _ip(tools, "-n", out.netns, "link", "set", out.nic, "up")


def delete_netns(tools: Tools, name: str) -> None:
    run([tools["ip"], "netns", "delete", name], check=False)
