"""MAC addresses of VM NICs: derived from the IP so they are stable, or pinned by the user."""

from __future__ import annotations

import re

import netaddr

_MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")
# libvirt's own OUI for KVM guests, as in the seed's 52:54:00:00:02:xx pins.
PREFIX = "52:54:00"


def mac_problem(mac: object) -> str | None:
    """Why `mac` can't be a VM NIC's address (syntax, multicast, all-zero), or None."""
    if not isinstance(mac, str) or not _MAC.match(mac.lower()):
        return f"{mac!r} is not a MAC address like 52:54:00:00:02:00"
    first = int(mac[:2], 16)
    if first & 1:
        return f"{mac} is a multicast address; the first byte must be even (unicast)"
    if mac.lower() == "00:00:00:00:00:00":
        return "00:00:00:00:00:00 is not a usable address"
    return None


def mac_for_ip(ip: netaddr.IPAddress, nic: int = 0) -> str:
    """A unicast, locally unique MAC from an IPv4 address: the lab's IPs are unique, so are these.

    The prefix is libvirt's 52:54:00 for the baremetal NIC; other NICs of the node set the
    locally-administered bit differently (52:54:0<nic>) so they never clash with the first.
    """
    octets = ip.words
    prefix = PREFIX if nic == 0 else f"52:54:{nic:02x}"
    return f"{prefix}:{octets[1]:02x}:{octets[2]:02x}:{octets[3]:02x}"


def mac_for_ip6(ip: netaddr.IPAddress, nic: int = 0) -> str:
    """An IPv6-only cluster's MAC, from its IPv6 address's last three bytes. The second byte is 0x56 (IPv4's are
    0x54), so it never meets a MAC derived from an IPv4 address; the lab's range6 slices differ in their last three
    bytes (core.labconfig checks it), so these are unique in a lab too."""
    low = int(ip) & 0xFFFFFF
    return f"52:56:{nic:02x}:{low >> 16:02x}:{(low >> 8) & 0xFF:02x}:{low & 0xFF:02x}"
