"""The cluster stack's outputs: one module (core.cluster_outputs) writes them and parses them back, so what
a cluster stack exports is exactly what the hand-offs, map and doctor read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.bmc_plan import with_password
from core.cluster_design import design_cluster
from core.cluster_outputs import CONTRACT_VERSION, EXPORTED, OutputsError, cluster_outputs, read_cluster
from core.clusterconfig import parse_cluster_config
from core.stack_files import read_stack_values, stack_path
from renderers.dnsmasq_cluster import render_cluster_dns

LAB = json.loads((Path(__file__).parent.parent / "data" / "lab-outputs-simlab.json").read_text())


@pytest.mark.parametrize("stack", ["ipi1", "sno1"])
def test_what_a_cluster_stack_exports_is_what_the_tools_read(stack: str) -> None:
    design = design_cluster(parse_cluster_config(stack, read_stack_values(stack_path(stack))), LAB, None)
    uuids = {n.name: f"0f6c1d2e-0000-4000-8000-{i:012d}" for i, n in enumerate(design.cluster.nodes)}
    written = cluster_outputs(design, uuids, render_cluster_dns(design).as_dict())
    assert set(written) == {*EXPORTED, "bmc"}, "every field the stack exports is written here, and only those"
    exported = json.loads(json.dumps({"kind": "cluster", **written, "bmc": with_password(written["bmc"], "pw_1")}))
    cluster = read_cluster(exported, stack)
    assert [(n.name, n.ip, n.macs["baremetal"], n.uuid) for n in cluster.nodes] == [
        (n.name, design.plan.nodes[n.name].ip, design.plan.nodes[n.name].macs["baremetal"], uuids[n.name])
        for n in design.cluster.nodes]
    assert (cluster.api_vip, cluster.ingress_vip) == (design.plan.api_vip, design.plan.ingress_vip)
    assert cluster.bmc is not None and cluster.bmc.password == "pw_1"


def exported_outputs(stack: str) -> dict[str, object]:
    design = design_cluster(parse_cluster_config(stack, read_stack_values(stack_path(stack))), LAB, None)
    uuids = {n.name: f"0f6c1d2e-0000-4000-8000-{i:012d}" for i, n in enumerate(design.cluster.nodes)}
    written = cluster_outputs(design, uuids, render_cluster_dns(design).as_dict())
    return dict(json.loads(json.dumps({"kind": "cluster", **written, "bmc": with_password(written["bmc"], "pw_1")})))


def test_a_cluster_stack_says_its_contract_version_and_one_deployed_before_reads_as_version_1() -> None:
    outputs = exported_outputs("ipi1")
    assert outputs["version"] == CONTRACT_VERSION == 1
    del outputs["version"]
    assert read_cluster(outputs, "ipi1").api_vip


@pytest.mark.parametrize("version", [2, 0, True, "1", None])
def test_a_cluster_contract_version_this_ocplab_does_not_read_is_refused_by_name(version: object) -> None:
    outputs = {**exported_outputs("ipi1"), "version": version}
    with pytest.raises(OutputsError, match=r"^stack ipi1 exports cluster contract version .* this ocplab reads 1: "
                                           r"run pulumi up -s ipi1 with this ocplab first$"):
        read_cluster(outputs, "ipi1")
