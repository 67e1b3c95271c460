"""install-config of a dual-stack IPI cluster: machineNetwork, clusterNetwork and serviceNetwork per family and
the VIPs as [IPv4, IPv6], the installer's order; the check refuses IPv6 first or two of one family; the cluster
outputs of a dual-stack stack carry every node's IPv6 address, all or none."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from core.cluster_outputs import OutputsError, read_cluster
from renderers.install_config import InstallConfigError, check_install_config, render_install_config
from tests.unit.test_dci_inventory import outputs, parse
from tests.unit.test_install_config import PULL_SECRET, SSH_KEY
from tools.dci_inventory import render_ipi_hosts


def dual_stack_outputs() -> dict[str, Any]:
    """The IPI fixture's outputs as a cluster stack on a dual-stack lab writes them."""
    data = outputs("ipi")
    data["network"]["cidr6"], data["network"]["dns6"] = "fd00:16::/64", "fd00:16::1"
    data["api_vip6"], data["ingress_vip6"] = "fd00:16::20", "fd00:16::21"
    for index, node in enumerate(data["nodes"]):
        node["ip6"] = f"fd00:16::{0x22 + index:x}"
    return data


def document(data: dict[str, Any] | None = None) -> dict[str, Any]:
    parsed: dict[str, Any] = yaml.safe_load(render_install_config(data or dual_stack_outputs(), PULL_SECRET, SSH_KEY))
    return parsed


def test_a_dual_stack_cluster_has_each_network_and_vip_in_both_families_ipv4_first() -> None:
    doc = document()
    assert doc["networking"] == {
        "networkType": "OVNKubernetes",
        "machineNetwork": [{"cidr": "192.168.16.0/24"}, {"cidr": "fd00:16::/64"}],
        "clusterNetwork": [{"cidr": "10.128.0.0/14", "hostPrefix": 23}, {"cidr": "fd02::/48", "hostPrefix": 64}],
        "serviceNetwork": ["172.30.0.0/16", "fd03::/112"],
    }
    platform = doc["platform"]["baremetal"]
    assert (platform["apiVIPs"], platform["ingressVIPs"]) == (["192.168.16.32", "fd00:16::20"],
                                                              ["192.168.16.33", "fd00:16::21"])
    assert platform["bootstrapExternalStaticIP"] == "192.168.16.47", "the bootstrap's static address: IPv4 primary"


def test_an_ipv4_cluster_still_has_one_network_and_vip_each() -> None:
    doc = document(outputs("ipi"))
    assert doc["networking"]["machineNetwork"] == [{"cidr": "192.168.16.0/24"}]
    assert doc["platform"]["baremetal"]["apiVIPs"] == ["192.168.16.32"]


@pytest.mark.parametrize(("path", "value", "message"), [
    ("apiVIPs", ["fd00:16::20", "192.168.16.32"], "platform.baremetal.apiVIPs is not one address per family, "
                                                  "IPv4 first"),
    ("ingressVIPs", ["192.168.16.33", "192.168.16.34"], "platform.baremetal.ingressVIPs is not one address per"),
    ("serviceNetwork", ["fd03::/112", "172.30.0.0/16"], "networking serviceNetwork is not one address per family"),
])
def test_the_check_refuses_dual_stack_lists_out_of_the_installers_order(path: str, value: Any, message: str) -> None:
    doc = document()
    (doc["networking"] if path == "serviceNetwork" else doc["platform"]["baremetal"])[path] = value
    with pytest.raises(InstallConfigError) as raised:
        check_install_config(doc)
    assert str(raised.value).startswith(f"install-config: {message}"), raised.value


def test_a_lab_network_overlapping_the_ipv6_service_network_is_refused() -> None:
    data = dual_stack_outputs()
    data["network"]["cidr6"] = "fd03::/64"
    for node in data["nodes"]:
        node["ip6"] = node["ip6"].replace("fd00:16::", "fd03::")
    with pytest.raises(OutputsError, match=r"the lab network fd03::/64 overlaps the installer's service network "
                                           r"fd03::/112"):
        document(data)


def test_dual_stack_outputs_read_back_with_every_node_ipv6_address() -> None:
    cluster = read_cluster(dual_stack_outputs(), "ipi1")
    assert (cluster.cidr6, cluster.api_vip6, cluster.ingress_vip6) == ("fd00:16::/64", "fd00:16::20", "fd00:16::21")
    assert [n.ip6 for n in cluster.nodes][:2] == ["fd00:16::22", "fd00:16::23"]


@pytest.mark.parametrize("change", [
    lambda d: d["nodes"][3].pop("ip6"),
    lambda d: d.pop("api_vip6"),
    lambda d: d["network"].pop("cidr6"),
])
def test_dual_stack_outputs_missing_one_ipv6_field_are_refused(change: Any) -> None:
    data = dual_stack_outputs()
    change(data)
    with pytest.raises(OutputsError, match=r"stack ipi1: outputs network\.cidr6, api_vip6, ingress_vip6 and every "
                                           r"node's ip6 are set together"):
        read_cluster(data, "ipi1")


def test_an_ipv6_output_that_could_become_a_template_is_refused() -> None:
    data = dual_stack_outputs()
    data["nodes"][0]["ip6"] = "fd00:16::22 {{ lookup('pipe','id') }}"
    with pytest.raises(OutputsError, match=r"stack ipi1: output nodes\[0\]\.ip6"):
        read_cluster(data, "ipi1")


def test_the_dci_inventory_of_a_dual_stack_cluster_carries_what_redhatci_ocp_reads(tmp_path: Path) -> None:
    listed = parse(render_ipi_hosts(dual_stack_outputs()), tmp_path)["_meta"]["hostvars"]["provisionhost"]
    assert {key: listed[key] for key in ("ipv6_enabled", "dualstack_baremetal", "dualstack_vips", "ipv4_provisioning",
                                         "extcidrnet", "extcidrnet6", "apivip", "apivip6", "ingressvip6")} == {
        "ipv6_enabled": True, "dualstack_baremetal": True, "dualstack_vips": True, "ipv4_provisioning": True,
        "extcidrnet": "192.168.16.0/24", "extcidrnet6": "fd00:16::/64", "apivip": "192.168.16.32",
        "apivip6": "fd00:16::20", "ingressvip6": "fd00:16::21"}


def test_the_dci_inventory_of_an_ipv4_cluster_has_no_ipv6_variable(tmp_path: Path) -> None:
    listed = parse(render_ipi_hosts(outputs("ipi")), tmp_path)["_meta"]["hostvars"]["provisionhost"]
    assert not {"ipv6_enabled", "dualstack_baremetal", "extcidrnet6", "apivip6"} & set(listed)
