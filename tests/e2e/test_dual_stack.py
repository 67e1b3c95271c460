"""On the simulated lab: a deployed IPv4 lab and SNO cluster become dual-stack through `pulumi up` (issue 27).

The lab stack gets `network.cidr6`, `jumphost.address6` (the simulated jumphost holds fd00:16::1, as a real
dual-stack jumphost would) and a `range6` per slice; the jumphost's dnsmasq then sends router advertisements with
the managed flag, and the running node's DHCPv6 client (dhcpcd in the guest image) takes the IPv6 address the
cluster stack planned for its MAC, while every IPv4 address stays. dnsmasq answers AAAA and IPv6 PTR for the
node, api, api-int and *.apps; a preview after `up` wants no change; destroy + up gives the same addresses.
Then an IPv6-only SNO cluster (sno6, a slice with range6 alone) comes up beside it: its node takes its planned
DHCPv6 lease and no IPv4 one, dnsmasq answers AAAA/PTR and no A, and its destroy + up keeps its address and
leaves sno1's answers alone. Steps build on each other in file order.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
import yaml

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


# --- an IPv6-only SNO cluster beside the dual-stack one ------------------------------------------------------------

HV1 = "192.168.16.11"
DOMAIN6 = "sno6-sno"
NODE6 = "sno.sno6.simlab.test"
RANGE6_ONLY, PLANNED6_ONLY = "fd00:16::40-fd00:16::47", "fd00:16::40"


def node6(lab: LabSession) -> dict[str, Any]:
    found: dict[str, Any] = lab.outputs("sno6")["nodes"][0]
    return found


def leased6_only(lab: LabSession) -> bool:
    lease6 = lab.console(HV1, DOMAIN6).leases6.get("eth0")
    return lease6 is not None and lease6.ip6 == PLANNED6_ONLY


def dhcpv4_leases_of(lab: LabSession, mac: str) -> list[str]:
    """The jumphost's DHCPv4 lease lines for `mac` (`<expiry> <mac> <ip> ...`; DHCPv6 lines name a DUID there)."""
    leases = lab.jumphost(["cat", "/var/lib/ocplab/dnsmasq.leases"], timeout=30).stdout.splitlines()
    return [line for line in leases if line.split()[1:2] == [mac]]


def answers_of_sno1(lab: LabSession) -> list[list[str]]:
    names = (NODE, "api.sno1.simlab.test", "console.apps.sno1.simlab.test")
    return [ask(lab, name) for name in names for ask in (dig, aaaa)]


def test_an_ipv6_only_sno_cluster_takes_its_planned_ipv6_lease_and_no_ipv4_one(lab: LabSession) -> None:
    slices = stack_value(lab, "simlab", "ocplab:slices")
    lab.edit_stack("simlab", {"ocplab:slices": {**slices, "sno6": {"hypervisor": "hv1", "range6": RANGE6_ONLY}}})
    lab.up("simlab")
    sno = yaml.safe_load((lab.project / "stacks" / "Pulumi.sno1.yaml").read_text())
    (lab.project / "stacks" / "Pulumi.sno6.yaml").write_text(yaml.safe_dump(
        {"config": {**sno["config"], "ocplab:hypervisor": "hv1"}, "encryptionsalt": sno["encryptionsalt"]},
        sort_keys=False))
    started = time.monotonic()
    lab.up("sno6")
    lab.note("IPv6-only: pulumi up -s sno6 (s)", time.monotonic() - started)
    out = lab.outputs("sno6")
    assert "ip" not in node6(lab) and node6(lab)["ip6"] == PLANNED6_ONLY
    assert "api_vip" not in out and (out["api_vip6"], out["ingress_vip6"]) == (PLANNED6_ONLY, PLANNED6_ONLY)
    wait_for("the IPv6-only node's DHCPv6 lease", lambda: leased6_only(lab), 300, 1)
    lab.note("IPv6-only: from pulumi up -s sno6 to the node's DHCPv6 lease (s)", time.monotonic() - started)
    report = lab.console(HV1, DOMAIN6)
    assert report.leases6["eth0"].mac == node6(lab)["macs"]["baremetal"] and report.leases6["eth0"].dns == (JUMPHOST6,)
    assert "eth0" not in report.leases, "no DHCPv4 lease: its MAC has no IPv4 reservation"
    assert dhcpv4_leases_of(lab, node6(lab)["macs"]["baremetal"]) == []


def test_dnsmasq_answers_the_ipv6_only_cluster_in_ipv6_alone(lab: LabSession) -> None:
    for name in (NODE6, "api.sno6.simlab.test", "api-int.sno6.simlab.test", "console.apps.sno6.simlab.test"):
        assert aaaa(lab, name) == [PLANNED6_ONLY], name
        assert dig(lab, name) == [], f"{name}: no A answer"
    assert dig(lab, PLANNED6_ONLY, reverse=True) == [f"{NODE6}."]
    for stack in ("simlab", "sno6"):
        lab.pulumi.preview(stack, "--expect-no-changes")


def test_the_ipv6_only_clusters_destroy_and_up_keep_its_address_and_its_neighbours_answers(lab: LabSession) -> None:
    before, neighbour = node6(lab), answers_of_sno1(lab)
    assert all(neighbour), neighbour
    lab.pulumi.destroy("sno6")
    assert aaaa(lab, NODE6) == [] and answers_of_sno1(lab) == neighbour
    lab.ssh(HV1, f"rm -f /var/log/libvirt/qemu/{DOMAIN6}-console.log")
    started = time.monotonic()
    lab.up("sno6")
    after = node6(lab)
    assert (after.get("ip"), after["ip6"], after["macs"]) == (None, before["ip6"], before["macs"])
    wait_for("the DHCPv6 lease after destroy + up", lambda: leased6_only(lab), 300, 1)
    lab.note("IPv6-only: destroy + up, from pulumi up -s sno6 to the DHCPv6 lease (s)", time.monotonic() - started)
    assert aaaa(lab, NODE6) == [PLANNED6_ONLY] and answers_of_sno1(lab) == neighbour
