"""Hypervisors in IPv6: a hypervisor's address6 on a dual-stack lab, checked before any resource, exported in the lab
contract only where set (an IPv4 lab's outputs stay as they were), and bad input named by field."""

from __future__ import annotations

from typing import Any

import pytest

from core.cluster_outputs import Bmc, Node
from core.errors import ConfigError
from core.ip_families import url_host
from core.lab_contract import parse_lab_outputs
from core.labconfig import LabConfig, parse_lab_config
from core.stack_files import read_stack_values, stack_path
from renderers.install_config import bmc_address
from tests.unit.test_dual_stack import dual_stack_values, outputs, problems_of


def hyper6_values() -> dict[str, Any]:
    """The dual-stack simulated lab whose hypervisors have their IPv6 addresses (simlab/topology.py gives them)."""
    values = dual_stack_values()
    values["hypervisors"][0]["address6"] = "fd00:16::b"
    values["hypervisors"][1]["address6"] = "fd00:16::c"
    return values


def lab(values: dict[str, Any] | None = None) -> LabConfig:
    return parse_lab_config("simlab", values or hyper6_values())


def test_a_hypervisor_reads_its_ipv6_address_and_one_without_has_none() -> None:
    assert [hv.address6 for hv in lab().hypervisors] == ["fd00:16::b", "fd00:16::c"]
    assert [hv.address6 for hv in lab(dual_stack_values()).hypervisors] == [None, None]


@pytest.mark.parametrize(("change", "field", "words"), [
    (lambda v: v["hypervisors"][1].update(address6="fd00:17::c"), "ocplab:hypervisors[1].address6",
     "fd00:17::c is not a host address of network.cidr6 fd00:16::/64: give the address the hypervisor's NIC has"),
    (lambda v: v["hypervisors"][0].update(address6="fd00:16::"), "ocplab:hypervisors[0].address6",
     "is not a host address of network.cidr6"),
    (lambda v: v["hypervisors"][1].update(address6="fd00:16::b"), "ocplab:hypervisors[1].address6",
     "fd00:16::b is hypervisor hv1's address; give hypervisor hv2 its own"),
    (lambda v: v["hypervisors"][0].update(address6="fd00:16::1"), "ocplab:hypervisors[0].address6",
     "fd00:16::1 is the jumphost's address; give hypervisor hv1 its own"),
    (lambda v: v["hypervisors"][0].update(address6="fd00:16:0::b"), "ocplab:hypervisors[0].address6",
     "is not written as 'fd00:16::b'"),
    (lambda v: v["hypervisors"][0].update(address6="FD00:16::B"), "ocplab:hypervisors[0].address6",
     "is not an IPv6 address such as fd00:16::1"),
    (lambda v: v["hypervisors"][0].update(address6="192.168.16.11"), "ocplab:hypervisors[0].address6",
     "is not an IPv6 address"),
    (lambda v: v["slices"]["ipi1"].update(range6="fd00:16::8-fd00:16::f"), "ocplab:slices.ipi1.range6",
     "overlaps hypervisor hv1 (fd00:16::b)"),
])
def test_a_bad_hypervisor_address6_is_refused_naming_the_field_and_the_fix(change: Any, field: str,
                                                                          words: str) -> None:
    values = hyper6_values()
    change(values)
    found = problems_of(values)
    assert any(p.startswith(field + ":") and words in p for p in found), found


def test_a_hypervisor_address6_on_a_lab_without_ipv6_is_refused_naming_the_fix() -> None:
    values = read_stack_values(stack_path("simlab"))
    values["hypervisors"][1]["address6"] = "fd00:16::c"
    assert problems_of(values) == ["ocplab:hypervisors[1].address6: the lab network has no IPv6: add network.cidr6 "
                                   "(e.g. fd00:16::/64) and jumphost.address6, or remove address6"]


def test_the_contract_carries_a_hypervisor_address6_only_where_set_and_reads_it_back() -> None:
    ipv4 = outputs(parse_lab_config("simlab", read_stack_values(stack_path("simlab"))))
    assert all("address6" not in hv for hv in ipv4["hypervisors"].values())
    assert all("address6" not in hv for hv in outputs(lab(dual_stack_values()))["hypervisors"].values())
    values = hyper6_values()
    del values["hypervisors"][1]["address6"]
    raw = outputs(lab(values))
    assert raw["version"] == 2
    assert raw["hypervisors"]["hv1"]["address6"] == "fd00:16::b" and "address6" not in raw["hypervisors"]["hv2"]
    parsed = parse_lab_outputs("simlab", raw)
    assert (parsed.hypervisors["hv1"].address6, parsed.hypervisors["hv2"].address6) == ("fd00:16::b", None)


@pytest.mark.parametrize(("change", "words"), [
    (lambda o: o["hypervisors"]["hv1"].update(address6="fd00:99::b"),
     "hypervisors.hv1.address6: fd00:99::b is outside fd00:16::/64"),
    (lambda o: [o["network"].pop(key) for key in ("cidr6", "dns6")] and o["slices"]["ipi1"].pop("range6")
     and o["slices"]["sno1"].pop("range6"), "hypervisors.hv2.address6: the lab network has no cidr6"),
    (lambda o: o["hypervisors"]["hv1"].update(address6="fd00:16::b\nhost-record=x,1.2.3.4"),
     "hypervisors.hv1.address6: "),
])
def test_a_lab_whose_hypervisor_address6_output_is_off_is_refused(change: Any, words: str) -> None:
    raw = outputs(lab())
    change(raw)
    with pytest.raises(ConfigError) as raised:
        parse_lab_outputs("simlab", raw)
    assert any(words in p for p in raised.value.problems), raised.value.problems


@pytest.mark.parametrize(("address", "host"), [
    ("fd00:16::b", "[fd00:16::b]"), ("192.168.16.11", "192.168.16.11"), ("::1", "[::1]"),
])
def test_a_url_writes_an_ipv6_host_in_brackets_and_an_ipv4_one_bare(address: str, host: str) -> None:
    assert url_host(address) == host


NODE = Node(name="master-0", role="master", hypervisor="hv1", ip="192.168.16.34", fqdn="master-0.ipi1.simlab.test",
            macs={}, uuid="5b1f3a3e-8f1e-4d5c-9a51-0e0f6c1d2a11")


@pytest.mark.parametrize(("kind", "address", "url"), [
    ("ipmi", "fd00:16::b", "ipmi://[fd00:16::b]:6230"),
    ("ipmi", "192.168.16.11", "ipmi://192.168.16.11:6230"),
    ("redfish", "fd00:16::b", f"redfish-virtualmedia://[fd00:16::b]:6230/redfish/v1/Systems/{NODE.uuid}"),
    ("redfish", "192.168.16.11", f"redfish-virtualmedia://192.168.16.11:6230/redfish/v1/Systems/{NODE.uuid}"),
])
def test_a_bmc_on_an_ipv6_address_is_addressed_in_brackets_in_install_config(kind: str, address: str,
                                                                            url: str) -> None:
    bmc = Bmc(kind=kind, address=address, port=6230, user="admin", password="x", node_ports={"master-0": 6230})
    assert bmc_address(bmc, NODE) == url
