"""Bridged provisioning networks (hub clusters): a second NIC per hypervisor, bridged with no address by the
lab stack; a cluster asking for it puts its provisioning NICs on that bridge instead of a network of its own,
and is refused before anything exists where the hypervisor has no second NIC."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from core.cluster_design import design_cluster
from core.cluster_outputs import cluster_outputs
from core.clusterconfig import parse_cluster_config
from core.errors import ConfigError
from core.lab_audit import expected_cluster
from core.lab_contract import parse_lab_outputs
from core.labconfig import parse_lab_config
from core.stack_files import read_stack_values, stack_path
from tests.unit.pulumi_mocks import use_mocks
from tests.unit.test_cluster_stack_mocks import declare, lab_outputs, run_cluster
from tests.unit.test_lab_stack_mocks import project, run_lab

__all__ = ["project"]
DATA = Path(__file__).resolve().parent.parent / "data"


def simlab(**hv1: Any) -> dict[str, Any]:
    values = read_stack_values(stack_path("simlab"))
    values["hypervisors"][0].update(hv1)
    return values


def problems_of(values: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        parse_lab_config("simlab", values)
    return raised.value.problems


def hub(**changes: Any) -> Any:
    return parse_cluster_config("ipi1", {**read_stack_values(stack_path("ipi1")), "provisioning_network": "bridged",
                                         **changes})


def bridged_lab() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / "lab-outputs-simlab.json").read_text())
    data["hypervisors"]["hv1"]["provisioning_bridge"] = "br1"
    return data


def test_a_hypervisor_names_its_second_nic_and_the_lab_exports_the_bridge() -> None:
    config = parse_lab_config("simlab", simlab(provisioning_nic="eth1"))
    hv1 = config.hypervisor("hv1")
    assert (hv1.provisioning_nic, hv1.provisioning_bridge) == ("eth1", "br1")
    assert config.hypervisor("hv2").provisioning_nic is None


@pytest.mark.parametrize(("change", "field", "why"), [
    ({"provisioning_nic": "eth0"}, "ocplab:hypervisors[0].provisioning_nic", "'eth0' is the lab NIC"),
    ({"provisioning_nic": "eth1", "provisioning_bridge": "br0"}, "ocplab:hypervisors[0].provisioning_bridge",
     "'br0' is the lab bridge"),
])
def test_the_second_nic_and_bridge_must_differ_from_the_lab_ones(change: dict[str, Any], field: str, why: str) -> None:
    found = problems_of(simlab(**change))
    assert any(p.startswith(field) and why in p for p in found), found


def test_bridged_is_for_ipi_and_nothing_else() -> None:
    with pytest.raises(ConfigError, match="ocplab:provisioning_network: 'flat' is not one of isolated, bridged"):
        hub(provisioning_network="flat")
    sno = read_stack_values(stack_path("sno1"))
    with pytest.raises(ConfigError, match="bridged is for IPI clusters"):
        parse_cluster_config("sno1", {**sno, "provisioning_network": "bridged"})


def test_a_hypervisor_without_a_second_nic_refuses_a_bridged_cluster_before_anything() -> None:
    lab = json.loads((DATA / "lab-outputs-simlab.json").read_text())
    with pytest.raises(ConfigError, match="ocplab:provisioning_network: bridged needs a second NIC on hypervisor hv1: "
                                          "give it provisioning_nic"):
        design_cluster(hub(), lab, None)


def test_a_bridged_cluster_exports_where_its_provisioning_nics_are_and_doctor_expects_no_network() -> None:
    design = design_cluster(hub(), parse_lab_outputs("simlab", bridged_lab()), None)
    outputs = cluster_outputs(design, {n.name: "u" for n in design.cluster.nodes}, {})
    assert outputs["provisioning"] == {"mode": "bridged", "bridge": "br1"}
    assert expected_cluster("ipi1", outputs).provisioning is False
    isolated = design_cluster(hub(provisioning_network="isolated"), bridged_lab(), None)
    isolated_out = cluster_outputs(isolated, {n.name: "u" for n in isolated.cluster.nodes}, {})
    assert isolated_out["provisioning"] == {"mode": "isolated", "network": "ipi1-provisioning"}
    assert expected_cluster("ipi1", isolated_out).provisioning is True


def test_the_lab_bridges_the_second_nic_with_no_address(project: Path) -> None:
    mocks = run_lab(simlab(provisioning_nic="eth1"), project)
    commands = {c.name: c.inputs for c in mocks.of_type("command:remote:Command")}
    bridge = commands["hv1-provisioning-bridge"]
    assert "nic='eth1'" in bridge["create"] and "br='br1'" in bridge["create"]
    assert "ipv4.method disabled" in bridge["create"] and "nmcli con delete" in bridge["delete"]
    assert "hv2-provisioning-bridge" not in commands


def test_a_bridged_cluster_has_no_network_of_its_own_and_its_nics_on_the_bridge(tmp_path: Path) -> None:
    lab = lab_outputs(tmp_path)
    lab["hypervisors"]["hv1"]["provisioning_bridge"] = "br1"
    stack = read_stack_values(stack_path("ipi1"))
    mocks = use_mocks("ipi1", {**stack, "provisioning_network": "bridged"}, {"simlab": lab, "ipi1": {}})
    declare()
    assert mocks.of_type("libvirt:index/network:Network") == []
    master = next(d.inputs for d in mocks.of_type("libvirt:index/domain:Domain") if d.inputs["name"] == "ipi1-master-0")
    assert [nic.get("bridge") for nic in master["networkInterfaces"]] == ["br0", "br1"]
    assert "networkId" not in master["networkInterfaces"][1]
    isolated = run_cluster("ipi1", lab)
    assert [n.inputs["name"] for n in isolated.of_type("libvirt:index/network:Network")] == ["ipi1-provisioning"]
