"""Addresses: VIPs then nodes from the slice, sticky across added and removed nodes."""

from __future__ import annotations

from typing import Any

import pytest

from core.address_plan import plan_addresses
from core.addresses import AddressRange
from core.clusterconfig import ClusterConfig, parse_cluster_config
from core.errors import ConfigError
from core.stack_files import read_stack_values, stack_path

SLICE = AddressRange.parse("192.168.16.32-192.168.16.47")


def cluster(stack: str = "ipi1", **changes: Any) -> ClusterConfig:
    return parse_cluster_config(stack, {**read_stack_values(stack_path(stack)), **changes})


def test_first_plan_puts_vips_first_then_nodes_in_order() -> None:
    plan = plan_addresses(cluster(), SLICE)
    assert (plan.api_vip, plan.ingress_vip) == ("192.168.16.32", "192.168.16.33")
    assert [n.ip for n in plan.nodes.values()] == [f"192.168.16.{i}" for i in range(34, 40)]
    assert plan.nodes["provisionhost"].macs == {"baremetal": "52:54:00:a8:10:22", "provisioning": "52:54:01:a8:10:22"}


def test_sno_uses_node_ip_for_both_vips() -> None:
    plan = plan_addresses(cluster("sno1"), AddressRange.parse("192.168.16.48-192.168.16.55"))
    assert plan.api_vip == plan.ingress_vip == plan.nodes["sno"].ip == "192.168.16.48"


def test_adding_a_worker_keeps_every_other_address() -> None:
    before = plan_addresses(cluster(), SLICE)
    after = plan_addresses(cluster(workers=3), SLICE, before.as_dict())
    assert {k: v for k, v in after.nodes.items() if k != "worker-2"} == dict(before.nodes)
    assert before.bootstrap is not None and after.bootstrap == before.bootstrap, "the bootstrap keeps its address"
    assert (before.bootstrap.ip, after.nodes["worker-2"].ip) == ("192.168.16.47", "192.168.16.40")
    assert plan_addresses(cluster(workers=3), SLICE) == after, "destroy + up of the new config: the same plan"
    assert (after.api_vip, after.ingress_vip) == (before.api_vip, before.ingress_vip)


def test_removed_node_frees_its_address_without_moving_others() -> None:
    before = plan_addresses(cluster(workers=3), SLICE)
    shrunk = plan_addresses(cluster(workers=1), SLICE, before.as_dict())
    assert shrunk.nodes["worker-0"] == before.nodes["worker-0"]
    regrown = plan_addresses(cluster(workers=2), SLICE, shrunk.as_dict())
    assert regrown.nodes["worker-1"].ip == before.nodes["worker-1"].ip


def test_same_config_from_empty_state_gives_same_addresses() -> None:
    assert plan_addresses(cluster(), SLICE) == plan_addresses(cluster(), SLICE, {})


def test_previous_address_outside_the_slice_is_replaced() -> None:
    previous = plan_addresses(cluster(), SLICE).as_dict()
    previous["nodes"]["master-0"]["ip"] = "192.168.16.99"
    assert plan_addresses(cluster(), SLICE, previous).nodes["master-0"].ip == "192.168.16.35"


def test_pinned_mac_wins_over_derived() -> None:
    plan = plan_addresses(cluster("server"), AddressRange.parse("192.168.16.20-192.168.16.31"))
    assert plan.nodes["provisionhost"].macs["baremetal"] == "52:54:00:00:02:00"
    assert plan.nodes["provisionhost"].ip == "192.168.16.22"


def test_exhausted_slice_lists_what_uses_it() -> None:
    with pytest.raises(ConfigError) as raised:
        plan_addresses(cluster(), AddressRange.parse("192.168.16.32-192.168.16.36"))
    message = raised.value.problems[0]
    assert message.startswith("ocplab:hosts: the slice of cluster ipi1 (192.168.16.32-192.168.16.36, 5 addresses)")
    assert "4 more needed" in message and "API VIP 192.168.16.32" in message and "master-0 192.168.16.35" in message
    assert "bootstrap VM 192.168.16.36" in message


SERVER_SLICE = AddressRange.parse("192.168.16.20-192.168.16.31")


def pinned_server(ips: dict[str, str], vips: dict[str, str] | None = None) -> ClusterConfig:
    """The seed's server cluster with some nodes' baremetal addresses (and the VIPs) pinned."""
    values = read_stack_values(stack_path("server"))
    hosts = []
    for host in values["hosts"]:
        nets = [{**net, "ip": ips[host["name"]]} if net["name"] == "baremetal" and host["name"] in ips else net
                for net in host["networks"]]
        hosts.append({**host, "networks": nets})
    return parse_cluster_config("server", {**values, "hosts": hosts, **({"vips": vips} if vips else {})})


def test_pinned_addresses_are_kept_and_the_rest_fill_the_lowest_free() -> None:
    config = pinned_server({"provisionhost": "192.168.16.20", "dciokd-master-0": "192.168.16.21"},
                           {"api": "192.168.16.30"})
    plan = plan_addresses(config, SERVER_SLICE)
    assert (plan.nodes["provisionhost"].ip, plan.nodes["dciokd-master-0"].ip) == ("192.168.16.20", "192.168.16.21")
    assert plan.api_vip == "192.168.16.30" and plan.ingress_vip == "192.168.16.22"
    assert plan.nodes["dciokd-master-1"].ip == "192.168.16.23"
    assert plan.bootstrap is not None and plan.bootstrap.ip == "192.168.16.31"


def test_a_pin_wins_over_another_nodes_previous_address() -> None:
    previous = plan_addresses(pinned_server({}), SERVER_SLICE).as_dict()
    taken = previous["nodes"]["dciokd-worker-2"]["ip"]
    plan = plan_addresses(pinned_server({"provisionhost": taken}), SERVER_SLICE, previous)
    assert plan.nodes["provisionhost"].ip == taken
    assert plan.nodes["dciokd-worker-2"].ip != taken
    assert plan.nodes["dciokd-master-0"].ip == previous["nodes"]["dciokd-master-0"]["ip"], "others stay put"


def test_a_pin_outside_the_slice_is_refused_naming_the_field() -> None:
    with pytest.raises(ConfigError) as raised:
        plan_addresses(pinned_server({"dciokd-master-1": "192.168.16.40"}, {"ingress": "192.168.16.2"}), SERVER_SLICE)
    assert raised.value.problems == [
        "ocplab:vips.ingress: 192.168.16.2 is outside cluster server's slice 192.168.16.20-192.168.16.31; pin an "
        "address of the slice, or change the slice in the lab stack's ocplab:slices",
        "ocplab:hosts.dciokd-master-1.networks.baremetal.ip: 192.168.16.40 is outside cluster server's slice "
        "192.168.16.20-192.168.16.31; pin an address of the slice, or change the slice in the lab stack's "
        "ocplab:slices"]


def test_one_address_pinned_twice_is_refused() -> None:
    with pytest.raises(ConfigError) as raised:
        pinned_server({"provisionhost": "192.168.16.20"}, {"api": "192.168.16.20"})
    assert raised.value.problems == ["ocplab:hosts.provisionhost.networks.baremetal.ip: 192.168.16.20 is already "
                                     "pinned for the api VIP; each node and VIP needs its own address"]


def test_pins_only_where_they_mean_something() -> None:
    with pytest.raises(ConfigError) as raised:
        cluster("sno1", vips={"api": "192.168.16.50"})
    assert raised.value.problems[0].startswith("ocplab:vips: only an IPI cluster has API and ingress VIPs")
    values = read_stack_values(stack_path("server"))
    host = {**values["hosts"][0], "networks": [{"name": "provisioning", "ip": "192.168.16.20"}, {"name": "baremetal"}]}
    with pytest.raises(ConfigError) as raised:
        parse_cluster_config("server", {**values, "hosts": [host, *values["hosts"][1:]]})
    assert raised.value.problems == ["ocplab:hosts.provisionhost.networks[0].ip: only the baremetal NIC has a lab "
                                     "address; remove ip from the provisioning NIC"]
