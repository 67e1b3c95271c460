"""Dual-stack labs: the lab network's IPv6 prefix, each slice's range6, each node's and VIP's IPv6 address
(sticky like IPv4), the lab contract carrying them only where the lab has them, and bad input named."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from core.address_plan import plan_addresses
from core.addresses import AddressRange
from core.cluster_design import design_cluster
from core.clusterconfig import ClusterConfig, parse_cluster_config
from core.errors import ConfigError
from core.lab_contract import parse_lab_outputs, planned_lab_outputs
from core.labconfig import LabConfig, parse_lab_config
from core.stack_files import read_stack_values, stack_path
from core.vrrp import vrrp_ids, vrrp_problems

SLICE = AddressRange.parse("192.168.16.32-192.168.16.47")
SLICE6 = AddressRange.parse("fd00:16::20-fd00:16::2f", 6)


def dual_stack_values() -> dict[str, Any]:
    """The simulated lab's stack with an IPv6 prefix, the jumphost's IPv6 address and a range6 per slice."""
    values = copy.deepcopy(read_stack_values(stack_path("simlab")))
    values["network"]["cidr6"] = "fd00:16::/64"
    values["jumphost"]["address6"] = "fd00:16::1"
    values["slices"]["ipi1"]["range6"] = "fd00:16::20-fd00:16::2f"
    values["slices"]["sno1"]["range6"] = "fd00:16::30/125"
    return values


def lab(values: dict[str, Any] | None = None) -> LabConfig:
    return parse_lab_config("simlab", values or dual_stack_values())


def problems_of(values: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        parse_lab_config("simlab", values)
    return raised.value.problems


def cluster(stack: str = "ipi1", **changes: Any) -> ClusterConfig:
    return parse_cluster_config(stack, {**read_stack_values(stack_path(stack)), **changes})


def test_a_dual_stack_lab_reads_its_prefix_the_jumphost_and_each_slice_range6() -> None:
    config = lab()
    assert (str(config.network.cidr6), config.jumphost.address6) == ("fd00:16::/64", "fd00:16::1")
    assert {s.cluster: str(s.range6) for s in config.slices} == {"ipi1": "fd00:16::20-fd00:16::2f",
                                                                  "sno1": "fd00:16::30-fd00:16::37"}


def test_an_ipv4_lab_has_no_ipv6_anywhere() -> None:
    config = parse_lab_config("simlab", read_stack_values(stack_path("simlab")))
    assert config.network.cidr6 is None and config.jumphost.address6 is None
    assert all(s.range6 is None for s in config.slices)


@pytest.mark.parametrize(("change", "field", "words"), [
    (lambda v: v["slices"]["ipi1"].update(range6="fd00:17::20-fd00:17::2f"), "ocplab:slices.ipi1.range6",
     "is outside the lab's IPv6 network fd00:16::/64"),
    (lambda v: v["slices"]["sno1"].update(range6="fd00:16::2f-fd00:16::33"), "ocplab:slices.sno1.range6",
     "overlaps slice ipi1"),
    (lambda v: v["slices"]["sno1"].update(range6="fd00:16::/116"), "ocplab:slices.sno1.range6",
     "overlaps the subnet-router anycast address"),
    (lambda v: v["slices"]["sno1"].update(range6="fd00:16::1000/112"), "ocplab:slices.sno1.range6",
     "holds 65536 addresses; a slice holds at most 4096"),
    (lambda v: v["network"].update(cidr6="fd00:16::/80"), "ocplab:network.cidr6",
     "fd00:16::/80 is longer than /64: router advertisements announce the /64"),
    (lambda v: v["network"].update(cidr6="fd00:16::/48"), "ocplab:network.cidr6",
     "fd00:16::/48 is shorter than /64: router advertisements announce the /64 the nodes' DHCPv6 addresses are "
     "on-link in, and dnsmasq's DHCPv6 ranges are /64; use a /64, e.g. fd00:16::/64"),
    (lambda v: v["jumphost"].pop("address6"), "ocplab:jumphost.address6", "a dual-stack lab needs the jumphost's"),
    (lambda v: v["jumphost"].update(address6="fd00:99::1"), "ocplab:jumphost.address6",
     "is not a host address of network.cidr6"),
    (lambda v: v["network"].pop("cidr6"), "ocplab:slices.ipi1.range6",
     "the lab network has no IPv6: add network.cidr6"),
    (lambda v: v["network"].update(cidr6="FD00:16::/64"), "ocplab:network.cidr6", "is not an IPv6 network"),
    (lambda v: v["jumphost"].update(address6="fd00:16:0::1"), "ocplab:jumphost.address6",
     "is not written as 'fd00:16::1'"),
])
def test_bad_ipv6_input_is_refused_naming_the_field_and_the_fix(change: Any, field: str, words: str) -> None:
    values = dual_stack_values()
    change(values)
    assert any(p.startswith(field + ":") and words in p for p in problems_of(values)), problems_of(values)


def test_each_node_and_vip_gets_one_address_per_family_ipv4_planned_as_before() -> None:
    ipv4_only = plan_addresses(cluster(), SLICE)
    plan = plan_addresses(cluster(), SLICE, slice_range6=SLICE6)
    assert (plan.api_vip, plan.ingress_vip, plan.api_vip6, plan.ingress_vip6) == (
        "192.168.16.32", "192.168.16.33", "fd00:16::20", "fd00:16::21")
    assert [n.ip6 for n in plan.nodes.values()] == [f"fd00:16::{i:x}" for i in range(0x22, 0x28)]
    assert [(n.ip, n.macs) for n in plan.nodes.values()] == [(n.ip, n.macs) for n in ipv4_only.nodes.values()]
    assert plan.bootstrap is not None and (plan.bootstrap.ip, plan.bootstrap.ip6) == ("192.168.16.47", "fd00:16::2f")


def test_sno_answers_on_its_node_in_both_families() -> None:
    plan = plan_addresses(cluster("sno1"), AddressRange.parse("192.168.16.48-192.168.16.55"),
                          slice_range6=AddressRange.parse("fd00:16::30/125", 6))
    assert plan.api_vip6 == plan.ingress_vip6 == plan.nodes["sno"].ip6 == "fd00:16::30"


def test_adding_ipv6_to_a_deployed_ipv4_cluster_keeps_every_ipv4_address() -> None:
    deployed = plan_addresses(cluster(workers=3), SLICE)
    shrunk = plan_addresses(cluster(workers=1), SLICE, deployed.as_dict())  # worker-1 and -2 gone: holes
    dual = plan_addresses(cluster(workers=1), SLICE, shrunk.as_dict(), SLICE6)
    assert {name: n.ip for name, n in dual.nodes.items()} == {name: n.ip for name, n in shrunk.nodes.items()}
    assert (dual.api_vip, dual.ingress_vip) == (shrunk.api_vip, shrunk.ingress_vip)
    assert dual.bootstrap and shrunk.bootstrap and (dual.bootstrap.ip, dual.bootstrap.macs) == (
        shrunk.bootstrap.ip, shrunk.bootstrap.macs)
    assert dual.nodes["worker-0"].ip6 == "fd00:16::26", "IPv6 is planned afresh, from the bottom of range6"


def test_ipv6_addresses_are_sticky_across_added_nodes_and_kept_in_state() -> None:
    before = plan_addresses(cluster(), SLICE, slice_range6=SLICE6)
    after = plan_addresses(cluster(workers=3), SLICE, before.as_dict(), SLICE6)
    assert {k: v for k, v in after.nodes.items() if k != "worker-2"} == dict(before.nodes)
    assert after.nodes["worker-2"].ip6 == "fd00:16::28"
    assert (after.api_vip6, after.ingress_vip6) == (before.api_vip6, before.ingress_vip6)
    kept = before.as_dict()
    assert (kept["api_vip6"], kept["nodes"]["master-0"]["ip6"], kept["bootstrap"]["ip6"]) == (
        "fd00:16::20", "fd00:16::23", "fd00:16::2f")


def test_an_ipv4_plan_keeps_no_ipv6_key_so_deployed_stacks_see_no_change() -> None:
    kept = plan_addresses(cluster(), SLICE).as_dict()
    assert "api_vip6" not in kept and all("ip6" not in node for node in kept["nodes"].values())


def test_changed_ipv6_state_is_refused_naming_the_field() -> None:
    previous = plan_addresses(cluster(), SLICE, slice_range6=SLICE6).as_dict()
    previous["nodes"]["master-0"]["ip6"] = "192.168.16.9"
    with pytest.raises(ConfigError, match=r"previous output assignments\.nodes\.master-0\.ip6"):
        plan_addresses(cluster(), SLICE, previous, SLICE6)


def test_pinned_dual_stack_vips_are_taken_ipv4_first() -> None:
    config = cluster(vips={"api": ["192.168.16.40", "fd00:16::2a"], "ingress": "192.168.16.41"})
    assert (config.pinned_vips, config.pinned_vips6) == ({"api": "192.168.16.40", "ingress": "192.168.16.41"},
                                                         {"api": "fd00:16::2a"})
    plan = plan_addresses(config, SLICE, slice_range6=SLICE6)
    assert (plan.api_vip, plan.api_vip6, plan.ingress_vip6) == ("192.168.16.40", "fd00:16::2a", "fd00:16::20")


@pytest.mark.parametrize(("vips", "words"), [
    ({"api": ["fd00:16::2a", "192.168.16.40"]}, "ocplab:vips.api: [fd00:16::2a, 192.168.16.40] puts IPv6 first; "
                                                "write [192.168.16.40, fd00:16::2a]"),
    ({"api": ["192.168.16.40", "192.168.16.41"]}, "ocplab:vips.api: 192.168.16.40, 192.168.16.41 gives two IPv4"),
])
def test_vips_in_the_wrong_order_or_family_are_refused(vips: dict[str, Any], words: str) -> None:
    with pytest.raises(ConfigError) as raised:
        cluster(vips=vips)
    assert any(words in p for p in raised.value.problems), raised.value.problems


def test_an_ipv6_vip_on_a_slice_without_range6_or_outside_it_is_refused() -> None:
    config = cluster(vips={"api": ["192.168.16.40", "fd00:16::2a"]})
    with pytest.raises(ConfigError, match=r"ocplab:vips\.api: fd00:16::2a is IPv6, and cluster ipi1's slice has no "
                                          r"range6"):
        plan_addresses(config, SLICE)
    with pytest.raises(ConfigError, match=r"ocplab:vips\.api: fd00:16::2a is outside cluster ipi1's range6"):
        plan_addresses(config, SLICE, slice_range6=AddressRange.parse("fd00:16::30/125", 6))


def test_an_exhausted_range6_names_it() -> None:
    with pytest.raises(ConfigError, match=r"ocplab:slices\.ipi1\.range6: the slice of cluster ipi1 \(fd00:16::20-"
                                          r"fd00:16::23, 4 addresses\) is exhausted"):
        plan_addresses(cluster(), SLICE, slice_range6=AddressRange.parse("fd00:16::20/126", 6))


def outputs(config: LabConfig) -> dict[str, Any]:
    return planned_lab_outputs(config, Path(__file__).parent.parent.parent).as_outputs()


def test_the_contract_carries_ipv6_only_where_the_lab_has_it_and_reads_back() -> None:
    ipv4 = outputs(parse_lab_config("simlab", read_stack_values(stack_path("simlab"))))
    assert "cidr6" not in ipv4["network"] and "dns6" not in ipv4["network"]
    assert all("range6" not in s for s in ipv4["slices"].values())
    dual = outputs(lab())
    assert (dual["version"], dual["network"]["cidr6"], dual["network"]["dns6"]) == (2, "fd00:16::/64", "fd00:16::1")
    assert dual["slices"]["sno1"]["range6"] == "fd00:16::30-fd00:16::37"
    parsed = parse_lab_outputs("simlab", dual)
    assert (parsed.network.cidr6, parsed.slices["ipi1"].range6) == ("fd00:16::/64", "fd00:16::20-fd00:16::2f")


@pytest.mark.parametrize(("change", "words"), [
    (lambda o: o["network"].pop("dns6"), "network.cidr6: a dual-stack lab exports both cidr6 and dns6"),
    (lambda o: o["slices"]["ipi1"].update(range6="fd00:99::1-fd00:99::5"),
     "slices.ipi1.range6: fd00:99::1-fd00:99::5 is outside fd00:16::/64"),
    (lambda o: o["network"].update(dns6="fd00:16::1\naddress=/x/1.2.3.4"), "network.dns6: "),
])
def test_a_dual_stack_lab_whose_ipv6_outputs_are_off_is_refused(change: Any, words: str) -> None:
    raw = outputs(lab())
    change(raw)
    with pytest.raises(ConfigError) as raised:
        parse_lab_outputs("simlab", raw)
    assert any(words in p for p in raised.value.problems), raised.value.problems


def test_a_cluster_on_a_dual_stack_lab_is_designed_in_both_families() -> None:
    design = design_cluster(cluster(), outputs(lab()), None)
    assert design.slice_range6 == SLICE6 and design.plan.nodes["master-0"].ip6 == "fd00:16::23"
    assert design.network.cidr6 == "fd00:16::/64"


def test_vrrp_ids_clash_only_between_clusters_sharing_a_family() -> None:
    clash = {"cluster07": vrrp_ids("cluster07"), "cluster08": vrrp_ids("cluster08")}
    assert vrrp_problems("cluster07", clash), "the seed's pair share an id on IPv4"
    assert vrrp_problems("cluster07", clash, {"cluster07": frozenset({4, 6}), "cluster08": frozenset({4})})
    assert not vrrp_problems("cluster07", clash, {"cluster07": frozenset({6}), "cluster08": frozenset({4})})
