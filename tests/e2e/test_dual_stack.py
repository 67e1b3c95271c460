"""On the simulated lab: a deployed IPv4 lab and SNO cluster become dual-stack through `pulumi up` (issue 27).

The lab stack gets `network.cidr6`, `jumphost.address6` (the simulated jumphost holds fd00:16::1, as a real
dual-stack jumphost would) and a `range6` per slice; the jumphost's dnsmasq then sends router advertisements with
the managed flag, and the running node's DHCPv6 client (dhcpcd in the guest image) takes the IPv6 address the
cluster stack planned for its MAC, while every IPv4 address stays. dnsmasq answers AAAA and IPv6 PTR for the
node, api, api-int and *.apps; a preview after `up` wants no change; destroy + up gives the same addresses.
Steps build on each other in file order.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from simlab.guest.console import GuestReport
from tests.e2e.lab_helpers import JUMPHOST, LabSession, dig, stack_value, wait_for

pytestmark = pytest.mark.simlab

HV2 = "192.168.16.12"
DOMAIN = "sno1-sno"
NODE = "sno.sno1.simlab.test"
CIDR6, JUMPHOST6 = "fd00:16::/64", "fd00:16::1"
RANGES6 = {"ipi1": "fd00:16::20-fd00:16::2f", "sno1": "fd00:16::30-fd00:16::37"}
PLANNED6 = "fd00:16::30"  # the first address of sno1's range6: its node, its API and its ingress


def aaaa(lab: LabSession, name: str, server: str = JUMPHOST) -> list[str]:
    """AAAA answers from the jumphost's dnsmasq, asked from the jumphost namespace (over IPv4 or IPv6)."""
    result = lab.jumphost(["dig", f"@{server}", "+short", "+tries=3", "+time=1", name, "AAAA"], timeout=30)
    return [line for line in result.stdout.split() if line and not line.startswith(";")]


def node(lab: LabSession) -> dict[str, Any]:
    found: dict[str, Any] = lab.outputs("sno1")["nodes"][0]
    return found


def console(lab: LabSession) -> GuestReport:
    return lab.console(HV2, DOMAIN)


def leased6(lab: LabSession) -> bool:
    lease6 = console(lab).leases6.get("eth0")
    return lease6 is not None and lease6.ip6 == PLANNED6


def make_dual_stack(lab: LabSession) -> None:
    network = {**stack_value(lab, "simlab", "ocplab:network"), "cidr6": CIDR6}
    jumphost = {**stack_value(lab, "simlab", "ocplab:jumphost"), "address6": JUMPHOST6}
    slices = stack_value(lab, "simlab", "ocplab:slices")
    for name, range6 in RANGES6.items():
        slices[name]["range6"] = range6
    lab.edit_stack("simlab", {"ocplab:network": network, "ocplab:jumphost": jumphost, "ocplab:slices": slices})


def test_an_ipv4_lab_and_sno_cluster_come_up(lab: LabSession) -> None:
    lab.up("simlab")
    started = time.monotonic()
    lab.up("sno1")
    lab.note("IPv4: pulumi up -s sno1 (s)", time.monotonic() - started)
    ip = node(lab)["ip"]
    wait_for("the IPv4 lease", lambda: (lease := console(lab).leases.get("eth0")) is not None and lease.ip == ip,
             300, 1)
    lab.note("IPv4: from pulumi up -s sno1 to the node's lease (s)", time.monotonic() - started)
    assert "ip6" not in node(lab) and "api_vip6" not in lab.outputs("sno1")
    assert not console(lab).leases6, "an IPv4 lab sends no router advertisement: no DHCPv6 lease"


def test_adding_ipv6_keeps_every_ipv4_address_and_the_running_node_takes_its_planned_ipv6_lease(
        lab: LabSession) -> None:
    before = lab.outputs("sno1")
    make_dual_stack(lab)
    lab.up("simlab")
    started = time.monotonic()
    lab.up("sno1")
    after = lab.outputs("sno1")
    assert [(n["ip"], n["macs"]) for n in after["nodes"]] == [(n["ip"], n["macs"]) for n in before["nodes"]]
    assert (after["api_vip"], after["ingress_vip"]) == (before["api_vip"], before["ingress_vip"])
    assert (node(lab)["ip6"], after["api_vip6"], after["ingress_vip6"]) == (PLANNED6, PLANNED6, PLANNED6)
    assert lab.outputs("simlab")["slices"]["sno1"]["range6"] == RANGES6["sno1"]
    wait_for("the DHCPv6 lease", lambda: leased6(lab), 300, 1)
    lab.note("adding IPv6: from pulumi up -s sno1 to the running node's DHCPv6 lease (s)", time.monotonic() - started)
    lease6 = console(lab).leases6["eth0"]
    assert lease6.mac == node(lab)["macs"]["baremetal"] and lease6.dns == (JUMPHOST6,)
    assert lease6.domain == "simlab.test" and lease6.router.startswith("fe80::"), lease6
    assert console(lab).leases["eth0"].ip == before["nodes"][0]["ip"], "the IPv4 lease is kept"


def test_dnsmasq_answers_aaaa_and_ipv6_ptr_for_the_node_api_and_apps(lab: LabSession) -> None:
    for name in (NODE, "api.sno1.simlab.test", "api-int.sno1.simlab.test", "console.apps.sno1.simlab.test"):
        assert aaaa(lab, name) == [PLANNED6], name
        assert aaaa(lab, name, server=JUMPHOST6) == [PLANNED6], f"{name}, asked over IPv6"
        assert dig(lab, name) == [node(lab)["ip"]], f"{name}: its A answer is kept"
    assert dig(lab, PLANNED6, reverse=True) == [f"{NODE}."]
    assert aaaa(lab, "jumphost.simlab.test") == [JUMPHOST6]
    unknown = lab.jumphost(["dig", f"@{JUMPHOST}", "+tries=3", "+time=1", "-x", "fd00:16::99"], timeout=30).stdout
    assert "status: NXDOMAIN" in unknown, "the lab's ip6.arpa zone is answered here, never upstream"


def test_a_preview_after_up_wants_no_change(lab: LabSession) -> None:
    for stack in ("simlab", "sno1"):
        lab.pulumi.preview(stack, "--expect-no-changes")


def test_destroy_and_up_give_the_same_addresses_in_both_families(lab: LabSession) -> None:
    before = node(lab)
    lab.pulumi.destroy("sno1")
    assert aaaa(lab, NODE) == [], "destroy takes the node's AAAA away"
    lab.ssh(HV2, f"rm -f /var/log/libvirt/qemu/{DOMAIN}-console.log")  # so only the new boot's lines are read
    started = time.monotonic()
    lab.up("sno1")
    lab.note("dual-stack: pulumi up -s sno1 (s)", time.monotonic() - started)
    after = node(lab)
    assert (after["ip"], after["ip6"], after["macs"]) == (before["ip"], before["ip6"], before["macs"])
    wait_for("the IPv4 lease", lambda: "eth0" in console(lab).leases, 300, 1)
    lab.note("dual-stack: from pulumi up -s sno1 to the node's IPv4 lease (s)", time.monotonic() - started)
    wait_for("the DHCPv6 lease", lambda: leased6(lab), 300, 1)
    lab.note("dual-stack: from pulumi up -s sno1 to the node's DHCPv6 lease (s)", time.monotonic() - started)
    assert console(lab).leases["eth0"].ip == before["ip"]
    assert aaaa(lab, NODE) == [PLANNED6]
