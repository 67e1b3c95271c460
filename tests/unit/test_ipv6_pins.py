"""A node's IPv6 address pinned as its VIPs are: `networks[].ip` is an address, or one per family IPv4 first
(`[192.168.16.40, fd00:16::2a]`, `[fd00:16::2a]`); taken before anything is planned around it, sticky once
deployed, and refused by field when outside range6, taken, not canonical or of a family the slice lacks."""

from __future__ import annotations

from typing import Any

import pytest

from core.address_plan import plan_addresses
from core.addresses import AddressRange
from core.clusterconfig import ClusterConfig
from core.config_schema import ClusterSchema, schema_problems
from core.errors import ConfigError
from core.stack_files import read_stack_values, stack_path
from tests.unit.test_dual_stack import SLICE, SLICE6, cluster

SNO4 = AddressRange.parse("192.168.16.48-192.168.16.55")
SNO6 = AddressRange.parse("fd00:16::30-fd00:16::37", 6)


def sno(ip: Any) -> ClusterConfig:
    return cluster("sno1", hosts=[{"name": "sno", "role": "master", "networks": [{"name": "baremetal", "ip": ip}]}])


def ipi(pins: dict[str, Any], **changes: Any) -> ClusterConfig:
    """ipi1 written as hosts, the named ones' baremetal NIC pinned."""
    names = ["provisionhost", "master-0", "master-1", "master-2", "worker-0"]
    hosts = [{"name": name, "networks": [{"name": "baremetal", **({"ip": pins[name]} if name in pins else {})},
                                         {"name": "provisioning"}]} for name in names]
    return cluster("ipi1", hosts=hosts, **changes)


def refused(make: Any, *args: Any, plan: tuple[Any, ...] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        config = make(*args)
        if plan is not None:
            plan_addresses(config, *plan)
    return raised.value.problems


def test_a_dual_stack_node_pinned_in_both_families_gets_both_and_others_plan_around_them() -> None:
    config = ipi({"master-1": ["192.168.16.45", "fd00:16::20"]})
    assert (config.nodes[2].pinned_ip, config.nodes[2].pinned_ip6) == ("192.168.16.45", "fd00:16::20")
    plan = plan_addresses(config, SLICE, slice_range6=SLICE6)
    assert (plan.nodes["master-1"].ip, plan.nodes["master-1"].ip6) == ("192.168.16.45", "fd00:16::20")
    assert plan.api_vip6 == "fd00:16::21", "the VIPs take the lowest free address, past the pin"
    assert len({n.ip6 for n in plan.nodes.values()}) == len(plan.nodes)


def test_an_ipv6_pin_alone_leaves_the_ipv4_address_planned() -> None:
    unpinned = plan_addresses(ipi({}), SLICE, slice_range6=SLICE6)
    plan = plan_addresses(ipi({"worker-0": ["fd00:16::2a"]}), SLICE, slice_range6=SLICE6)
    assert plan.nodes["worker-0"].ip6 == "fd00:16::2a"
    assert {n: a.ip for n, a in plan.nodes.items()} == {n: a.ip for n, a in unpinned.nodes.items()}
    assert plan.nodes["worker-0"].macs == unpinned.nodes["worker-0"].macs, "a dual-stack MAC comes from IPv4"


def test_an_ipv6_only_node_pinned_bare_or_listed_takes_the_pin_and_a_mac_from_it() -> None:
    for given in ("fd00:16::33", ["fd00:16::33"]):
        plan = plan_addresses(sno(given), None, slice_range6=SNO6)
        node = plan.nodes["sno"]
        assert (node.ip, node.ip6, plan.api_vip6) == (None, "fd00:16::33", "fd00:16::33")
        assert node.macs["baremetal"] == "52:56:00:00:00:33"


def test_the_pin_is_sticky_once_deployed_and_a_pin_wins_over_another_nodes_kept_address() -> None:
    deployed = plan_addresses(ipi({"worker-0": ["fd00:16::2a"]}), SLICE, slice_range6=SLICE6).as_dict()
    unpinned = plan_addresses(ipi({}), SLICE, deployed, SLICE6)
    assert unpinned.nodes["worker-0"].ip6 == "fd00:16::2a", "removing the pin keeps the deployed address"
    taken = deployed["nodes"]["master-0"]["ip6"]
    moved = plan_addresses(ipi({"worker-0": [taken]}), SLICE, deployed, SLICE6)
    assert moved.nodes["worker-0"].ip6 == taken and moved.nodes["master-0"].ip6 != taken
    assert moved.nodes["master-1"].ip6 == deployed["nodes"]["master-1"]["ip6"], "others stay put"


def test_an_ipv4_clusters_pins_and_plan_are_as_before() -> None:
    plan = plan_addresses(ipi({"master-1": "192.168.16.45"}), SLICE)
    assert plan.nodes["master-1"].ip == "192.168.16.45" and plan.nodes["master-1"].ip6 is None
    assert "ip6" not in plan.as_dict()["nodes"]["master-1"]


def test_an_ipv6_pin_outside_range6_is_refused_naming_the_field() -> None:
    assert refused(ipi, {"master-1": ["192.168.16.45", "fd00:16::99"]}, plan=(SLICE, None, SLICE6)) == [
        "ocplab:hosts.master-1.networks.baremetal.ip: fd00:16::99 is outside cluster ipi1's range6 "
        "fd00:16::20-fd00:16::2f; pin an address of it, or change range6 in the lab stack's ocplab:slices"]


def test_an_ipv6_pin_on_a_slice_without_range6_is_refused_naming_the_field() -> None:
    assert refused(ipi, {"master-1": ["192.168.16.45", "fd00:16::22"]}, plan=(SLICE,)) == [
        "ocplab:hosts.master-1.networks.baremetal.ip: fd00:16::22 is IPv6, and cluster ipi1's slice has no range6; "
        "give ocplab:slices.ipi1.range6 in the lab stack, or pin IPv4 only"]


def test_an_ipv6_address_pinned_twice_is_refused_whoever_holds_it() -> None:
    assert refused(ipi, {"master-0": ["fd00:16::22"], "master-1": ["fd00:16::22"]}) == [
        "ocplab:hosts.master-1.networks.baremetal.ip: fd00:16::22 is already pinned for master-0; each node and VIP "
        "needs its own address"]
    with_vip = {"vips": {"api": ["192.168.16.40", "fd00:16::22"]}}
    assert refused(lambda: ipi({"master-0": ["fd00:16::22"]}, **with_vip)) == [
        "ocplab:hosts.master-0.networks.baremetal.ip: fd00:16::22 is already pinned for the api VIP; each node and "
        "VIP needs its own address"]


@pytest.mark.parametrize(("ip", "words"), [
    (["fd00:16::22", "192.168.16.45"], "puts IPv6 first; write [192.168.16.45, fd00:16::22]"),
    (["fd00:16::22", "fd00:16::23"], "gives two IPv6 addresses"),
])
def test_a_pin_in_the_wrong_order_or_two_of_a_family_is_refused(ip: list[str], words: str) -> None:
    problems = refused(ipi, {"master-1": ip})
    assert len(problems) == 1 and problems[0].startswith("ocplab:hosts.master-1.networks.baremetal.ip: ")
    assert words in problems[0]


@pytest.mark.parametrize(("ip", "field", "words"), [
    ("fd00:16:0::22", "ip", "is not written as 'fd00:16::22'; write IPv6 that way"),
    (["192.168.16.45", "FD00:16::22"], "ip[1]", "is not an IPv4 or IPv6 address"),
    (["192.168.16.45", "fd00:0016::22"], "ip[1]", "is not written as 'fd00:16::22'"),
    (["192.168.16.45", "fd00:16::22", "fd00:16::23"], "ip", "has 3 items"),
])
def test_a_badly_written_pin_is_refused_by_the_schema_naming_its_field(ip: Any, field: str, words: str) -> None:
    values = {**read_stack_values(stack_path("sno1")),
              "hosts": [{"name": "sno", "role": "master", "networks": [{"name": "baremetal", "ip": ip}]}]}
    problems = schema_problems(ClusterSchema, values)
    assert len(problems) == 1 and problems[0].startswith(f"ocplab:hosts.sno.networks[0].{field}: "), problems
    assert words in problems[0]


def test_an_ipv4_pin_on_an_ipv6_only_slice_says_to_pin_its_range6() -> None:
    problems = refused(sno, "192.168.16.50", plan=(None, None, SNO6))
    assert problems[0].startswith("ocplab:hosts.sno.networks.baremetal.ip: 192.168.16.50 is IPv4")
    assert "pin an address of its range6" in problems[0]


def test_an_ipv4_sno_with_a_dual_pin_keeps_its_ipv4_plan() -> None:
    plan = plan_addresses(sno(["192.168.16.50", "fd00:16::34"]), SNO4, slice_range6=SNO6)
    assert (plan.api_vip, plan.api_vip6) == ("192.168.16.50", "fd00:16::34")
