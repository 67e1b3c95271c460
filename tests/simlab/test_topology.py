"""The outside's plan as plain data: a documentation network, cabled only to the jumphost, named so
that `simlab down` finds it (no lab needed)."""

from __future__ import annotations

from ipaddress import IPv4Interface, IPv4Network

from simlab.netns import LAB_NETNS
from simlab.topology import NETWORK, OUTSIDE_NETWORK, outside, plan


def test_the_outside_is_a_documentation_network_joined_to_the_jumphost_uplink() -> None:
    out = outside()
    assert (out.netns, out.nic, out.uplink) == ("ocplab-out", "eth0", "uplink0")
    assert (out.address, out.uplink_address) == (IPv4Interface("198.51.100.2/24"), IPv4Interface("198.51.100.1/24"))
    assert out.address.network == out.uplink_address.network == OUTSIDE_NETWORK == IPv4Network("198.51.100.0/24")
    assert (out.name, out.http_file) == ("www.outside.test", "hello.txt")
    assert not OUTSIDE_NETWORK.overlaps(NETWORK)


def test_teardown_matches_the_outside_and_every_lab_namespace_but_no_other() -> None:
    names = [h.netns for h in plan(3)] + ["ocplab-sw", outside().netns]
    assert all(LAB_NETNS.fullmatch(n) for n in names)
    assert not any(LAB_NETNS.fullmatch(n) for n in ("ocplab-outx", "ocplab-dhcpc", "ocplab-simlabtest-1"))
