"""BMC ports and credentials: planned from the slice, refused before anything exists, stable passwords."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from core.bmc_plan import bmc_nodes, bmc_password, plan_bmc_ports
from core.cluster_design import design_cluster
from core.cluster_outputs import cluster_outputs
from core.clusterconfig import parse_cluster_config
from core.errors import ConfigError
from core.lab_contract import lab_outputs
from core.labconfig import parse_lab_config
from core.port_range import PortRange
from core.stack_files import read_stack_values, stack_path

DATA = Path(__file__).resolve().parent.parent / "data"


def simlab() -> dict[str, Any]:
    return read_stack_values(stack_path("simlab"))


def problems_of(values: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        parse_lab_config("test", values)
    return raised.value.problems


def cluster(stack: str, **changes: Any) -> Any:
    return parse_cluster_config(stack, {**read_stack_values(stack_path(stack)), **changes})


def lab() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / "lab-outputs-simlab.json").read_text())
    return data


@pytest.mark.parametrize(("text", "expected"), [("6230-6239", (6230, 6239)), (" 7000 - 7000 ", (7000, 7000)),
                                                ("6230", (6230, 6230)), (6230, (6230, 6230))])
def test_port_ranges_parse(text: Any, expected: tuple[int, int]) -> None:
    parsed = PortRange.parse(text)
    assert (parsed.first, parsed.last) == expected


@pytest.mark.parametrize(("text", "why"), [("6239-6230", "ends before it starts"), ("abc", "not a port range"),
                                           ("623-630", "1024-65535"), ("6230-70000", "1024-65535"),
                                           (["6230"], "not a port range"), (True, "not a port range")])
def test_bad_port_ranges_say_why(text: Any, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        PortRange.parse(text)


def test_simlab_slices_have_bmc_ports_in_config_and_outputs() -> None:
    config = parse_lab_config("simlab", simlab())
    assert {s.cluster: str(s.bmc_ports) for s in config.slices} == {"ipi1": "6230-6239", "sno1": "6240-6249"}
    slices = lab_outputs(config, {}, None, "/lab/known_hosts", "x").as_outputs()["slices"]
    assert slices["ipi1"] == {"hypervisor": "hv1", "range": "192.168.16.32-192.168.16.47", "bmc_ports": "6230-6239",
                              "bmc": "ipmi", "vrrp": {"api": 235, "ingress": 122}}


def test_bmc_ports_are_optional() -> None:
    values = simlab()
    del values["slices"]["sno1"]["bmc_ports"]
    config = parse_lab_config("simlab", values)
    assert config.slice_of("sno1").bmc_ports is None  # type: ignore[union-attr]
    assert "bmc_ports" not in lab_outputs(config, {}, None, "/lab/known_hosts", "x").as_outputs()["slices"]["sno1"]


def test_bad_bmc_ports_syntax_names_the_field() -> None:
    values = simlab()
    values["slices"]["ipi1"]["bmc_ports"] = "6230..6239"
    assert any(p.startswith("ocplab:slices.ipi1.bmc_ports:") and "not a port range" in p for p in problems_of(values))


def test_bmc_port_clash_on_one_hypervisor_is_refused() -> None:
    values = simlab()
    values["slices"]["sno1"]["hypervisor"] = "hv1"
    values["slices"]["sno1"]["bmc_ports"] = "6235-6244"
    found = problems_of(values)
    assert ("ocplab:slices.sno1.bmc_ports: 6235-6244 overlaps slice ipi1's BMC ports (6230-6239) on hypervisor "
            "hv1; give each slice its own ports") in found


def test_same_bmc_ports_on_two_hypervisors_are_fine() -> None:
    values = simlab()
    values["slices"]["sno1"]["bmc_ports"] = "6230-6239"
    assert parse_lab_config("simlab", values).slice_of("sno1") is not None
    telco = parse_lab_config("telco-lab", read_stack_values(stack_path("telco-lab")))
    assert all(s.bmc_ports is not None for s in telco.slices)


def test_ports_follow_node_order_and_skip_the_provisionhost() -> None:
    ipi = cluster("ipi1")
    assert bmc_nodes(ipi) == ["master-0", "master-1", "master-2", "worker-0", "worker-1"]
    assert plan_bmc_ports(ipi, PortRange(6230, 6239)) == {
        "master-0": 6230, "master-1": 6231, "master-2": 6232, "worker-0": 6233, "worker-1": 6234}
    assert plan_bmc_ports(cluster("sno1"), PortRange(6240, 6249)) == {"sno": 6240}


def test_exhausted_range_is_a_config_error_with_numbers() -> None:
    with pytest.raises(ConfigError, match=r"ocplab:slices\.ipi1\.bmc_ports: cluster ipi1 needs 6 BMC ports .* "
                                          r"but its range 6230-6234 has 5"):
        plan_bmc_ports(cluster("ipi1", workers=3), PortRange(6230, 6234))


def test_design_refuses_an_exhausted_range_before_anything() -> None:
    outputs = lab()
    outputs["slices"]["ipi1"]["bmc_ports"] = "6230-6232"
    with pytest.raises(ConfigError, match="needs 5 BMC ports"):
        design_cluster(cluster("ipi1"), outputs, None)


def test_cluster_outputs_carry_the_public_bmc() -> None:
    design = design_cluster(cluster("ipi1"), lab(), None)
    bmc = cluster_outputs(design, {n.name: "uuid" for n in design.cluster.nodes}, {})["bmc"]
    assert bmc == {"kind": "ipmi", "address": "192.168.16.11", "user": "admin",
                   "nodes": {"master-0": {"port": 6230}, "master-1": {"port": 6231}, "master-2": {"port": 6232},
                             "worker-0": {"port": 6233}, "worker-1": {"port": 6234}}}
    assert "password" not in bmc


def test_no_bmc_ports_no_bmc_output() -> None:
    outputs = lab()
    del outputs["slices"]["ipi1"]["bmc_ports"]
    design = design_cluster(cluster("ipi1"), outputs, None)
    assert design.bmc is None
    assert cluster_outputs(design, {n.name: "u" for n in design.cluster.nodes}, {})["bmc"] is None


def test_password_is_stable_per_key_and_cluster_and_fits_ipmi() -> None:
    key = "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n"
    first = bmc_password(key, "ipi1")
    assert first == bmc_password(key, "ipi1")
    assert first != bmc_password(key, "sno1") and first != bmc_password(key + "x", "ipi1")
    assert len(first) == 20 and re.fullmatch(r"[A-Za-z0-9_-]{20}", first)
    assert key.strip() not in first
