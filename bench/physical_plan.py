"""The physical-limit deploy (bench/physical.py) of one cluster: its plan, made from the same design,
names, MACs, XML and dnsmasq script as the baseline, then run under /usr/bin/python3 (libvirt's
Python binding) from the jumphost namespace, timed from process start to exit."""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from bench.baseline.cluster import _cidata_iso, access
from bench.baseline.libvirt_xml import domain_xml, isolated_network_xml, node_nics
from core.cluster_design import design_cluster
from core.clusterconfig import ClusterConfig
from core.lab_contract import parse_lab_outputs
from core.resource_facts import node_facts, provisioning_bridge, provisioning_network_name
from renderers.dnsmasq_cluster import apply_script, render_cluster_dns

SCRIPT = Path(__file__).resolve().parent / "physical.py"
SYSTEM_PYTHON = "/usr/bin/python3"


def volume_xml(name: str, size: int, fmt: str, backing: str | None = None) -> str:
    """A pool volume; `backing` is a base image key whose path physical.py puts in for @BASE@."""
    store = ("<backingStore><path>@BASE@</path><format type='qcow2'/></backingStore>" if backing else "")
    return (f"<volume><name>{escape(name)}</name><capacity unit='bytes'>{size}</capacity>"
            f"<target><format type='{fmt}'/></target>{store}</volume>")


def make_plan(cluster: ClusterConfig, lab_outputs: Mapping[str, Any], workdir: str) -> dict[str, Any]:
    """Everything physical.py does for `cluster`, ISO files written under `workdir`."""
    lab = parse_lab_outputs(cluster.lab, lab_outputs)
    design = design_cluster(cluster, lab, None)
    ssh, _ = access(lab, cluster.hypervisor)
    hv = design.hypervisor
    volumes: list[dict[str, Any]] = []
    domains = []
    for spec in cluster.nodes:
        facts = node_facts(cluster, spec)
        volumes.append({"name": facts.root.name, "base": spec.image,
                        "xml": volume_xml(facts.root.name, facts.root.size_bytes, "qcow2", spec.image)})
        disks = [f"@VOL:{facts.root.name}@"]
        if facts.disk2:
            volumes.append({"name": facts.disk2.name,
                            "xml": volume_xml(facts.disk2.name, facts.disk2.size_bytes, "qcow2")})
            disks.append(f"@VOL:{facts.disk2.name}@")
        cidata = None
        if facts.cloud_init_iso:
            iso = _cidata_iso(spec, design, workdir)
            volumes.append({"name": facts.cloud_init_iso, "upload": iso,
                            "xml": volume_xml(facts.cloud_init_iso, Path(iso).stat().st_size, "raw")})
            cidata = f"@VOL:{facts.cloud_init_iso}@"
        nics = node_nics(facts, design.plan.nodes[spec.name].macs, hv.bridge)
        domains.append({"xml": domain_xml(facts, spec, cluster.domain_type, disks, cidata, nics),
                        "start": cluster.start})
    networks = ([isolated_network_xml(provisioning_network_name(cluster.name), provisioning_bridge(cluster.name))]
                if cluster.has_provisioning else [])
    return {
        "jumphost": {"argv": [*ssh.argv(), "sh", "-s"],
                     "script": apply_script(cluster.name, render_cluster_dns(design))},
        "hypervisors": [{"uri": hv.libvirt_uri, "pool": hv.pool, "bases": dict(hv.base_volumes),
                         "networks": networks, "volumes": volumes, "domains": domains}],
    }


@dataclass(frozen=True)
class PhysicalRun:
    wall: float  # plan (design, XML, ISO) + the script's process, start to exit
    plan_seconds: float
    steps: dict[str, float]
    calls: dict[str, int]
    domains: int


def run_physical(cluster: ClusterConfig, lab_outputs: Mapping[str, Any], out_dir: Path) -> PhysicalRun:
    """Plan and run the physical-limit deploy of `cluster` from the jumphost namespace."""
    from simlab.clients import run_in_jumphost  # the lab's namespace: only where a lab runs

    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="ocplab-physical-") as workdir:
        plan = make_plan(cluster, lab_outputs, workdir)
        plan_file, out = out_dir / f"physical-{cluster.name}-plan.json", out_dir / f"physical-{cluster.name}.json"
        plan_file.write_text(json.dumps(plan, indent=2))
        planned = time.monotonic() - started
        result = run_in_jumphost([SYSTEM_PYTHON, str(SCRIPT), str(plan_file), str(out)], timeout=600)
        wall = time.monotonic() - started
    if result.returncode != 0:
        raise RuntimeError(f"physical-limit deploy of {cluster.name} failed ({result.returncode}):\n"
                           f"{result.stdout}\n{result.stderr}")
    data = json.loads(out.read_text())
    return PhysicalRun(wall, planned, dict(data["steps"]), dict(data["calls"]), len(data["uuids"]))
