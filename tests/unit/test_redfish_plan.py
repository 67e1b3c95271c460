"""Redfish BMCs (sushy-tools): chosen per slice, refused when they cannot work, one emulator and port per
cluster, and exported in the form the install-config and the DCI inventories read."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from core.bmc_plan import with_password
from core.cluster_design import design_cluster
from core.cluster_outputs import cluster_outputs, read_cluster
from core.clusterconfig import parse_cluster_config
from core.errors import ConfigError
from core.lab_contract import lab_outputs, slice_bmc_kind
from core.labconfig import parse_lab_config
from core.port_range import PortRange
from core.stack_files import read_stack_values, stack_path
from renderers.install_config import bmc_address
from renderers.sushy_scripts import sushy_install_script, sushy_remove_script, sushy_sync_script
from renderers.vbmc_scripts import vbmc_remove_script, vbmc_sync_script

DATA = Path(__file__).resolve().parent.parent / "data"
UUIDS = {"master-0": "0b5f4a52-9c1e-4b7a-8f0e-1d2c3b4a5f60", "master-1": "1b5f4a52-9c1e-4b7a-8f0e-1d2c3b4a5f61",
         "master-2": "2b5f4a52-9c1e-4b7a-8f0e-1d2c3b4a5f62", "worker-0": "3b5f4a52-9c1e-4b7a-8f0e-1d2c3b4a5f63",
         "worker-1": "4b5f4a52-9c1e-4b7a-8f0e-1d2c3b4a5f64", "provisionhost": "5b5f4a52-9c1e-4b7a-8f0e-1d2c3b4a5f65"}


def simlab(**ipi1: Any) -> dict[str, Any]:
    values = read_stack_values(stack_path("simlab"))
    values["slices"]["ipi1"].update(ipi1)
    return values


def problems_of(values: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        parse_lab_config("simlab", values)
    return raised.value.problems


def redfish_lab() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / "lab-outputs-simlab.json").read_text())
    data["slices"]["ipi1"].update({"bmc_ports": "8100-8101", "bmc": "redfish"})
    return data


def test_a_slice_says_ipmi_or_redfish_and_the_lab_exports_it() -> None:
    config = parse_lab_config("simlab", simlab(bmc="redfish", bmc_ports="8100-8100"))
    assert config.slice_of("ipi1").bmc == "redfish"  # type: ignore[union-attr]
    assert config.slice_of("sno1").bmc == "ipmi"  # type: ignore[union-attr]
    slices = lab_outputs(config, {}, None, "/lab/known_hosts", "x").as_outputs()["slices"]
    assert (slices["ipi1"]["bmc"], slices["sno1"]["bmc"]) == ("redfish", "ipmi")
    assert slice_bmc_kind("ipi1", redfish_lab()) == "redfish"
    assert slice_bmc_kind("sno1", redfish_lab()) == "ipmi"  # outputs from before the field: ipmi
    assert slice_bmc_kind("ipi1", {}) is None


@pytest.mark.parametrize(("change", "field", "why"), [
    ({"bmc": "idrac"}, "ocplab:slices.ipi1.bmc", "'idrac'"),
    ({"bmc": "redfish", "bmc_ports": None}, "ocplab:slices.ipi1.bmc", "a redfish slice needs bmc_ports"),
])
def test_an_unknown_kind_or_a_redfish_slice_without_ports_is_refused(change: dict[str, Any], field: str,
                                                                     why: str) -> None:
    values = simlab(**change)
    if change.get("bmc_ports", "") is None:
        del values["slices"]["ipi1"]["bmc_ports"]
    assert any(p.startswith(field) and why in p for p in problems_of(values)), problems_of(values)


def test_overlapping_ports_are_refused_whatever_the_kinds() -> None:
    values = simlab(bmc="redfish", bmc_ports="8100-8100")
    values["slices"]["sno1"].update({"hypervisor": "hv1", "bmc_ports": "8100-8109"})
    found = problems_of(values)
    assert any(p.startswith("ocplab:slices.sno1.bmc_ports: 8100-8109 overlaps slice ipi1's") for p in found)


def test_one_emulator_on_the_first_port_serves_every_master_and_worker() -> None:
    cluster = parse_cluster_config("ipi1", read_stack_values(stack_path("ipi1")))
    design = design_cluster(cluster, redfish_lab(), None)
    public = cluster_outputs(design, UUIDS, {})["bmc"]
    assert public == {"kind": "redfish", "address": "192.168.16.11", "user": "admin", "port": 8100,
                      "nodes": {n: {} for n in ("master-0", "master-1", "master-2", "worker-0", "worker-1")}}
    outputs = {**cluster_outputs(design, UUIDS, {}), "bmc": with_password(public, "s3cret")}
    read = read_cluster(outputs, "ipi1")
    assert read.bmc is not None and read.bmc.redfish_port == 8100
    master = read.by_role("master")[0]
    assert bmc_address(read.bmc, master) == f"redfish-virtualmedia://192.168.16.11:8100/redfish/v1/Systems/{UUIDS['master-0']}"


def test_scripts_carry_no_password_and_switch_kinds_cleanly() -> None:
    cluster = parse_cluster_config("ipi1", read_stack_values(stack_path("ipi1")))
    design = design_cluster(cluster, redfish_lab(), None)
    assert design.bmc is not None
    sync = sushy_sync_script("ipi1", design.bmc, [UUIDS["master-0"]])
    assert "sync \"$cluster\" \"$address\" \"$port\"" in sync and f"uuids='{UUIDS['master-0']}'" in sync
    assert "s3cret" not in sync and "password" not in sync.split("sushy-sync")[0]
    # The IPMI entries of a cluster that moved to Redfish are removed by its vbmc command's update.
    assert vbmc_sync_script("ipi1", design.bmc) == vbmc_remove_script("ipi1")
    assert "helper remove \"$cluster\"" in sushy_remove_script("ipi1")
    install = sushy_install_script("192.168.16.11", [PortRange.parse("8100-8101")])
    assert "version='2.2.0'" in install and "port_ranges='8100-8101'" in install and "helper check" in install
