"""IPv6-only clusters on a dual-stack lab (issue 27): a slice with range6 and no range gives its cluster one IPv6
address per node and VIP, sticky like the others, dnsmasq reservations and names in IPv6 only, an IPv6-only
install-config and DCI inventory; what cannot work (IPv4 pins, IPI without IPv6 BMCs, SNO's DHCPv4 PXE hand-off)
is refused naming the field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from rich.console import Console

from core.address_plan import plan_addresses
from core.addresses import AddressRange
from core.cluster_design import _families, design_cluster
from core.cluster_outputs import Bmc, Node, OutputsError, cluster_outputs, read_cluster
from core.errors import ConfigError
from core.lab_contract import parse_lab_outputs, planned_lab_outputs
from core.lab_usage import lab_usage
from core.labconfig import LabConfig, parse_lab_config
from renderers.dnsmasq_base import render_base_config
from renderers.dnsmasq_cluster import render_cluster_dns
from renderers.install_config import bmc_address, render_install_config
from tests.unit.test_dci_inventory import outputs as ipi_outputs
from tests.unit.test_dual_stack import cluster, dual_stack_values, problems_of
from tests.unit.test_install_config import PULL_SECRET, SSH_KEY
from tools.dci_inventory import ipv6_only_vars, render_sno_hosts
from tools.lab_map import lab_graph, lab_tree
from tools.lab_view import LabView

ROOT = Path(__file__).parent.parent.parent
RANGE6 = AddressRange.parse("fd00:16::30-fd00:16::37", 6)
IPI6 = AddressRange.parse("fd00:16::20-fd00:16::2f", 6)


def ipv6_only_values() -> dict[str, Any]:
    """The dual-stack simulated lab with sno1's slice IPv6-only."""
    values = dual_stack_values()
    values["slices"]["sno1"] = {"hypervisor": values["slices"]["sno1"]["hypervisor"], "range6": str(RANGE6)}
    return values


def lab(values: dict[str, Any] | None = None) -> LabConfig:
    return parse_lab_config("simlab", values or ipv6_only_values())


def lab_outputs(config: LabConfig | None = None) -> dict[str, Any]:
    return planned_lab_outputs(config or lab(), ROOT).as_outputs()


def test_a_slice_may_give_range6_alone_and_the_contract_carries_no_range_for_it() -> None:
    config = lab()
    sno1 = config.slice_of("sno1")
    assert sno1 is not None and sno1.range is None and sno1.range6 == RANGE6
    out = lab_outputs(config)
    assert "range" not in out["slices"]["sno1"] and out["slices"]["sno1"]["range6"] == str(RANGE6)
    assert out["slices"]["ipi1"]["range"] == "192.168.16.32-192.168.16.47", "the neighbour keeps its IPv4 range"
    assert parse_lab_outputs("simlab", out).slices["sno1"].range is None


@pytest.mark.parametrize(("change", "field", "words"), [
    (lambda v: v["slices"]["sno1"].pop("range6"), "ocplab:slices.sno1.range", "give range (IPv4), range6"),
    (lambda v: (v["network"].pop("cidr6"), v["jumphost"].pop("address6"), v["slices"]["ipi1"].pop("range6")),
     "ocplab:slices.sno1.range6", "the lab network has no IPv6: add network.cidr6"),
    (lambda v: v["slices"].update(ipi1={"hypervisor": "hv1", "range6": "fd00:16:0:1::30-fd00:16:0:1::31"}),
     "ocplab:slices.sno1.range6", "ending in the same three bytes"),
])
def test_bad_ipv6_only_slices_are_refused_naming_the_field(change: Any, field: str, words: str) -> None:
    values = ipv6_only_values()
    change(values)
    found = [p for p in problems_of(values) if p.startswith(field)]
    assert found and words in found[0], problems_of(values)


def test_an_ipv6_only_sno_node_gets_one_ipv6_address_its_vips_and_a_mac_of_its_own_kind() -> None:
    plan = design_cluster(cluster("sno1"), lab_outputs(), None).plan
    node = plan.nodes["sno"]
    assert (node.ip, node.ip6, node.macs["baremetal"]) == (None, "fd00:16::30", "52:56:00:00:00:30")
    assert (plan.api_vip, plan.ingress_vip, plan.api_vip6, plan.ingress_vip6) == (None, None, "fd00:16::30",
                                                                                  "fd00:16::30")
    assert plan.as_dict() == {"nodes": {"sno": {"macs": {"baremetal": "52:56:00:00:00:30"}, "ip6": "fd00:16::30"}},
                              "api_vip6": "fd00:16::30", "ingress_vip6": "fd00:16::30"}


def test_ipv6_only_addresses_are_sticky_in_state_and_the_same_after_destroy_and_up() -> None:
    ipi = cluster("ipi1")
    first = plan_addresses(ipi, None, None, IPI6)
    assert (first.api_vip6, first.ingress_vip6, first.nodes["provisionhost"].ip6) == \
        ("fd00:16::20", "fd00:16::21", "fd00:16::22")
    assert first.bootstrap is not None and (first.bootstrap.ip, first.bootstrap.ip6) == (None, "fd00:16::2f")
    again = plan_addresses(ipi, None, first.as_dict(), IPI6)
    assert again == first and plan_addresses(ipi, None, None, IPI6) == first
    kept = first.as_dict()
    kept["nodes"]["provisionhost"]["ip6"] = "fd00:16::2e"  # a node planned elsewhere before keeps its address
    assert plan_addresses(ipi, None, kept, IPI6).nodes["provisionhost"].ip6 == "fd00:16::2e"


@pytest.mark.parametrize(("stack", "changes", "field"), [
    ("ipi1", {"vips": {"api": "192.168.16.40"}}, "ocplab:vips.api: 192.168.16.40 is IPv4"),
    ("sno1", {"hosts": [{"name": "sno", "role": "master", "networks": [
        {"name": "baremetal", "ip": "192.168.16.50"}]}]}, "ocplab:hosts.sno.networks.baremetal.ip: 192.168.16.50"),
])
def test_ipv4_pins_on_an_ipv6_only_cluster_are_refused_naming_the_field(stack: str, changes: dict[str, Any],
                                                                       field: str) -> None:
    with pytest.raises(ConfigError) as raised:
        plan_addresses(cluster(stack, **changes), None, None, IPI6)
    assert raised.value.problems[0].startswith(field) and "IPv6-only" in raised.value.problems[0]


def test_ipv6_vips_pinned_on_an_ipv6_only_cluster_are_taken() -> None:
    plan = plan_addresses(cluster("ipi1", vips={"api": ["fd00:16::25"]}), None, None, IPI6)
    assert plan.api_vip6 == "fd00:16::25" and plan.api_vip is None


def ipv6_only_ipi_values(bmc: str = "ipmi", address6: str | None = "fd00:16::b") -> dict[str, Any]:
    """ipi1's slice IPv6-only with BMC ports on hv1, which has (or lacks) an IPv6 address on its bridge."""
    values = ipv6_only_values()
    values["slices"]["ipi1"] = {"hypervisor": "hv1", "range6": str(IPI6), "bmc_ports": "6230-6239", "bmc": bmc}
    hv1 = next(hv for hv in values["hypervisors"] if hv["name"] == "hv1")
    if address6:
        hv1["address6"] = address6
    return values


def test_an_ipv6_only_ipi_cluster_on_a_hypervisor_without_ipv6_is_refused_naming_the_field() -> None:
    with pytest.raises(ConfigError) as raised:
        design_cluster(cluster("ipi1"), lab_outputs(lab(ipv6_only_ipi_values(address6=None))), None)
    assert raised.value.problems[0].startswith("ocplab:slices.ipi1.bmc_ports: cluster ipi1's slice is IPv6-only")
    assert "give it ocplab:hypervisors[].address6 in lab simlab" in raised.value.problems[0]


@pytest.mark.parametrize("kind", ["ipmi", "redfish"])
def test_an_ipv6_only_ipi_clusters_bmcs_listen_on_its_hypervisors_ipv6_address(kind: str) -> None:
    design = design_cluster(cluster("ipi1"), lab_outputs(lab(ipv6_only_ipi_values(kind))), None)
    assert design.bmc is not None and design.bmc.address == "fd00:16::b" and design.bmc.kind == kind


def test_a_dual_stack_clusters_bmcs_stay_on_the_hypervisors_ipv4_address() -> None:
    values = dual_stack_values()
    values["slices"]["ipi1"]["bmc_ports"] = "6230-6239"
    next(hv for hv in values["hypervisors"] if hv["name"] == "hv1")["address6"] = "fd00:16::b"
    design = design_cluster(cluster("ipi1"), lab_outputs(lab(values)), None)
    assert design.bmc is not None and design.bmc.address == "192.168.16.11"


def test_an_ipv6_only_cluster_runs_vrrp_in_ipv6_alone() -> None:
    slices = parse_lab_outputs("simlab", lab_outputs()).slices
    assert (_families(slices["sno1"]), _families(slices["ipi1"])) == (frozenset({6}), frozenset({4, 6}))


def test_dnsmasq_reserves_and_names_an_ipv6_only_node_in_ipv6_alone() -> None:
    dns = render_cluster_dns(design_cluster(cluster("sno1"), lab_outputs(), None))
    assert dns.dhcp_hosts.splitlines()[1:] == ["52:56:00:00:00:30,[fd00:16::30],sno.sno1.simlab.test"]
    assert dns.hosts.splitlines()[1:] == ["fd00:16::30 sno.sno1.simlab.test api.sno1.simlab.test "
                                          "api-int.sno1.simlab.test"]
    assert dns.wildcards.splitlines()[1:] == ["address=/apps.sno1.simlab.test/fd00:16::30",
                                              "domain=sno1.simlab.test,fd00:16::30,fd00:16::37"]
    assert dns.tftp_dirs == (), "no UEFI PXE boot: it is offered by DHCPv4, which this node gets no lease from"


def test_dhcpv6_names_the_labs_ntp_server_on_a_dual_stack_lab_only() -> None:
    assert "dhcp-option=option6:ntp-server,[fd00:16::1]" in render_base_config(lab()).splitlines()
    ipv4 = render_base_config(parse_lab_config("simlab", {**dual_stack_values(), "network": {
        k: v for k, v in dual_stack_values()["network"].items() if k != "cidr6"}, "jumphost": {
        k: v for k, v in dual_stack_values()["jumphost"].items() if k != "address6"}, "slices": {
        name: {k: v for k, v in s.items() if k != "range6"} for name, s in dual_stack_values()["slices"].items()}}))
    assert "option6" not in ipv4


def sno_outputs() -> dict[str, Any]:
    design = design_cluster(cluster("sno1"), lab_outputs(), None)
    return cluster_outputs(design, {"sno": "6f1c1f4e-8a43-4a77-9a43-d7c2f1c0a001"}, {"dhcp": "", "hosts": "",
                                                                                    "wildcards": ""})


def test_an_ipv6_only_clusters_outputs_read_back_with_no_ipv4_and_sno_is_not_handed_to_dci_pxe() -> None:
    data = sno_outputs()
    read = read_cluster(data, "sno1")
    assert (read.api_vip, read.api_vip6, read.nodes[0].ip, read.nodes[0].address) == \
        (None, "fd00:16::30", None, "fd00:16::30")
    with pytest.raises(OutputsError, match=r"IPv6-only SNO cluster: .* give ocplab:slices.sno1 a range too"):
        render_sno_hosts(data)


def ipv6_only_ipi_outputs() -> dict[str, Any]:
    """The IPI fixture's outputs as an IPv6-only cluster would write them once its hypervisor has an IPv6 address
    for the BMCs (branch hyper6)."""
    data = ipi_outputs("ipi")
    data["network"]["cidr6"], data["network"]["dns6"] = "fd00:16::/64", "fd00:16::1"
    data["api_vip6"], data["ingress_vip6"] = "fd00:16::20", "fd00:16::21"
    del data["api_vip"], data["ingress_vip"]
    for index, node in enumerate(data["nodes"]):
        node["ip6"] = f"fd00:16::{0x22 + index:x}"
        del node["ip"]
    data["bootstrap"] = {"ip6": "fd00:16::2f", "mac": data["bootstrap"]["mac"], "fqdn": data["bootstrap"]["fqdn"]}
    data["bmc"]["address"] = "fd00:16::11"
    return data


def test_an_ipv6_only_install_config_has_ipv6_networks_vips_and_bracketed_bmcs() -> None:
    doc = yaml.safe_load(render_install_config(ipv6_only_ipi_outputs(), PULL_SECRET, SSH_KEY))
    assert doc["networking"] == {"networkType": "OVNKubernetes", "machineNetwork": [{"cidr": "fd00:16::/64"}],
                                 "clusterNetwork": [{"cidr": "fd02::/48", "hostPrefix": 64}],
                                 "serviceNetwork": ["fd03::/112"]}
    platform = doc["platform"]["baremetal"]
    assert (platform["apiVIPs"], platform["ingressVIPs"]) == (["fd00:16::20"], ["fd00:16::21"])
    assert "bootstrapExternalStaticIP" not in platform and platform["externalMACAddress"]
    assert platform["hosts"][0]["bmc"]["address"].startswith("redfish-virtualmedia://[fd00:16::11]:")


@pytest.mark.parametrize(("kind", "address", "url"), [
    ("ipmi", "fd00:16::11", "ipmi://[fd00:16::11]:6230"),
    ("redfish", "fd00:16::11", "redfish-virtualmedia://[fd00:16::11]:8000/redfish/v1/Systems/u-1"),
    ("ipmi", "192.168.16.11", "ipmi://192.168.16.11:6230"),
])
def test_bmc_addresses_bracket_ipv6_hosts(kind: str, address: str, url: str) -> None:
    bmc = Bmc(kind=kind, address=address, port=8000 if kind == "redfish" else None, user="admin", password="pw",
              node_ports={"m": 6230}, stack="s")
    node = Node(name="m", role="master", hypervisor="hv1", ip=None, fqdn="m.c.lab", macs={}, uuid="u-1",
                ip6="fd00:16::22")
    assert bmc_address(bmc, node) == url


def test_the_dci_inventory_of_an_ipv6_only_cluster_says_ipv6_without_dual_stack() -> None:
    read = read_cluster(ipv6_only_ipi_outputs(), "ipi1")
    assert ipv6_only_vars(read) == {
        "ipv6_enabled": True, "ipv4_baremetal": False, "dualstack_baremetal": False, "ipv4_provisioning": True,
        "extcidrnet": "fd00:16::/64", "extcidrnet6": "fd00:16::/64", "apivip": "fd00:16::20",
        "ingressvip": "fd00:16::21"}
    assert ipv6_only_vars(read_cluster(ipi_outputs("ipi"), "ipi1")) == {}


def test_ocplab_plan_counts_an_ipv6_only_slice_by_its_ipv6_addresses() -> None:
    config = lab()
    deployed = {"sno1": {**sno_outputs(), "kind": "cluster"}}
    usage = lab_usage(config, parse_lab_outputs("simlab", lab_outputs(config)), deployed)
    sno1 = next(s for s in usage.slices if s.cluster == "sno1")
    assert (sno1.range, sno1.size, sno1.used, sno1.deployed) == (str(RANGE6), 8, 1, True)


def test_outputs_with_ipv4_on_some_parts_only_are_refused() -> None:
    data = ipv6_only_ipi_outputs()
    data["nodes"][0]["ip"] = "192.168.16.34"
    with pytest.raises(OutputsError, match="api_vip, ingress_vip and every node's ip are set together"):
        read_cluster(data, "ipi1")


def test_ocplab_map_draws_an_ipv6_only_cluster_by_its_ipv6_addresses() -> None:
    config = lab()
    outputs = parse_lab_outputs("simlab", lab_outputs(config))
    deployed = {"sno1": {**sno_outputs(), "kind": "cluster"}}
    view = LabView(config=config, outputs=outputs, clusters=deployed)
    usage = lab_usage(config, outputs, deployed)
    console = Console(width=200, record=True)
    console.print(lab_tree(view, usage))
    text = console.export_text()
    assert "fd00:16::30-fd00:16::37: api fd00:16::30, *.apps fd00:16::30" in text and "None" not in text
    assert "fd00:16::30" in lab_graph(view, usage).source
