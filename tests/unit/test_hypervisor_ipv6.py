"""Hypervisors in IPv6: a hypervisor's address6 on a dual-stack lab, checked before any resource, exported in the lab
contract only where set (an IPv4 lab's outputs stay as they were), and bad input named by field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from core.cluster_outputs import Bmc, Node
from core.errors import ConfigError
from core.ip_families import url_host
from core.lab_contract import parse_lab_outputs
from core.labconfig import LabConfig, parse_lab_config
from core.port_range import PortRange
from core.stack_files import read_stack_values, stack_path
from renderers.bridge_scripts import bridge_create_script, bridge_delete_script, bridge_update_script
from renderers.dnsmasq_base import render_base_config
from renderers.install_config import bmc_address
from renderers.shell import script, script_file
from renderers.sushy_scripts import sushy_install_script
from tests.unit.test_dual_stack import dual_stack_values, outputs, problems_of
from tests.unit.test_lab_stack_mocks import project, run_lab  # noqa: F401 # project: the fixture


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


@pytest.mark.parametrize("backend", ["nmcli", "iproute2"])
def test_a_hypervisor_without_address6_renders_its_bridge_scripts_as_before(backend: str) -> None:
    inputs = {"nic": "eth0", "br": "br0", "state_dir": "/etc/ocplab"}
    for action, render in (("create", bridge_create_script), ("delete", bridge_delete_script)):
        nmcli_create = (backend, action) == ("nmcli", "create")
        parts = ["bridge-nmcli-orig", "bridge-nmcli-create", "bridge-nmcli-enslave"] if nmcli_create else \
            [f"bridge-{backend}-{action}"]
        assert render(backend, "eth0", "br0") == script("bridge-common", *parts, **inputs)
        assert render(backend, "eth0", "br0", None) == render(backend, "eth0", "br0")


@pytest.mark.parametrize("backend", ["nmcli", "iproute2"])
def test_with_address6_the_bridge_keeps_the_ipv6_address_on_create_and_on_update(backend: str) -> None:
    create = bridge_create_script(backend, "eth0", "br0", "fd00:16::b")
    update = bridge_update_script(backend, "eth0", "br0", "fd00:16::b")
    assert "addr6='fd00:16::b/64'" in create and "addr6='fd00:16::b/64'" in update
    lines = script_file(f"bridge-{backend}-ipv6").splitlines(keepends=True)
    ipv6_part = "".join(lines[next(i for i, line in enumerate(lines) if not line.startswith("#")):])
    assert create.endswith(ipv6_part) and update.endswith(ipv6_part), "both end with the IPv6 part"
    assert ("ipv6.method manual" if backend == "nmcli" else "ip -6 addr replace") in update
    ipv4_part = bridge_create_script(backend, "eth0", "br0").split("state_dir='/etc/ocplab'\n", 1)[1]
    assert ipv4_part in create, "the IPv4 part first, as an IPv4 hypervisor has it"


def test_the_iproute2_removal_gives_the_ipv6_addresses_back_and_nmcli_the_original_profile() -> None:
    assert "ip -6 addr replace \"$a\" dev \"$nic\"" in bridge_delete_script("iproute2", "eth0", "br0", "fd00:16::b")
    assert "ip -6" not in bridge_delete_script("iproute2", "eth0", "br0")
    assert bridge_delete_script("nmcli", "eth0", "br0", "fd00:16::b") == bridge_delete_script("nmcli", "eth0", "br0")


def test_dnsmasq_names_a_hypervisor_in_both_families_only_where_it_has_address6() -> None:
    values = hyper6_values()
    del values["hypervisors"][1]["address6"]
    text = render_base_config(lab(values))
    assert "host-record=hv1.simlab.test,192.168.16.11,fd00:16::b\n" in text
    assert "host-record=hv2.simlab.test,192.168.16.12\n" in text


def test_a_redfish_hypervisor_with_address6_gets_a_certificate_for_both_addresses() -> None:
    ports = [PortRange(8100, 8100)]
    plain, dual = (sushy_install_script("192.168.16.12", ports, *six) for six in ((), ("fd00:16::c",)))
    assert "subjectAltName=IP:$address,IP:$address6" in dual and "address6='fd00:16::c'" in dual
    assert "address6" not in plain and dual.startswith(plain.split("address='192.168.16.12'")[0])


def test_the_lab_program_gives_a_bridge_an_update_script_only_for_a_hypervisor_with_address6(
        project: Path) -> None:  # noqa: F811 # the fixture, imported
    values = hyper6_values()
    del values["hypervisors"][1]["address6"]
    commands = {c.name: c.inputs for c in run_lab(values, project).of_type("command:remote:Command")}
    assert "fd00:16::b/64" in commands["hv1-bridge"]["update"] and "fd00:16::b/64" in commands["hv1-bridge"]["create"]
    assert "update" not in commands["hv2-bridge"]
    assert commands["hv2-bridge"]["create"] == bridge_create_script("nmcli", "eth0", "br0")
