"""How full the lab is and how many more clusters fit: from the lab's config and outputs and the
deployed clusters' outputs (the simulated lab's, as tests/data holds them)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from core.lab_contract import parse_lab_outputs, planned_lab_outputs
from core.lab_usage import default_shapes, fits, lab_usage
from core.labconfig import parse_lab_config
from core.stack_files import read_stack_values, stack_path
from tests.unit.test_dual_stack import dual_stack_values

DATA = Path(__file__).parent.parent / "data"


def simlab() -> tuple[Any, Any, dict[str, dict[str, Any]]]:
    config = parse_lab_config("simlab", read_stack_values(stack_path("simlab")))
    outputs = parse_lab_outputs("simlab", json.loads((DATA / "lab-outputs-simlab.json").read_text()))
    ipi = json.loads((DATA / "cluster-outputs-ipi.json").read_text())
    return config, outputs, {"ipi1": ipi}


def test_slices_count_vips_and_nodes_and_bmc_ports() -> None:
    config, outputs, clusters = simlab()
    usage = lab_usage(config, outputs, clusters)
    ipi = next(s for s in usage.slices if s.cluster == "ipi1")
    nodes = len(clusters["ipi1"]["nodes"])
    assert (ipi.size, ipi.used, ipi.free, ipi.deployed) == (16, nodes + 2, 16 - nodes - 2, True)
    assert (ipi.bmc_ports, ipi.bmc_used) == (10, len(clusters["ipi1"]["bmc"]["nodes"]))
    sno = next(s for s in usage.slices if s.cluster == "sno1")
    assert (sno.used, sno.deployed) == (0, False)


def test_a_redfish_slice_uses_one_port_and_takes_an_ipi_cluster_with_one() -> None:
    config, _, clusters = simlab()
    raw = json.loads((DATA / "lab-outputs-simlab.json").read_text())
    raw["slices"]["ipi1"].update({"bmc": "redfish", "bmc_ports": "8100-8100"})
    raw["slices"]["sno1"].update({"bmc": "redfish", "bmc_ports": "8101-8101", "hypervisor": "hv1"})
    usage = lab_usage(config, parse_lab_outputs("simlab", raw), clusters)
    ipi = next(s for s in usage.slices if s.cluster == "ipi1")
    assert (ipi.bmc_ports, ipi.bmc_used, ipi.redfish) == (1, 1, True)
    free = next(s for s in usage.slices if s.cluster == "sno1")
    ipi_shape = default_shapes()[1]
    assert ipi_shape.bmc_ports == 6 and free.fits_bmcs(ipi_shape.bmc_ports)


def test_hypervisors_sum_what_their_clusters_commit() -> None:
    config, outputs, clusters = simlab()
    hv1 = next(h for h in lab_usage(config, outputs, clusters).hosts if h.name == "hv1")
    assert hv1.vcpus_committed == sum(n["vcpus"] for n in clusters["ipi1"]["nodes"])
    assert hv1.memory_committed == sum(n["memory_mib"] for n in clusters["ipi1"]["nodes"])
    assert (hv1.vcpu_limit, hv1.clusters) == (int(2 * outputs.overcommit["cpu"]), ("ipi1",))


def test_unallocated_addresses_leave_out_infrastructure_reservations_and_slices() -> None:
    config, outputs, clusters = simlab()
    usage = lab_usage(config, outputs, clusters)
    # .1 jumphost/gateway, .11/.12 hypervisors, .32-.55 slices, .200-.254 reserved, .0/.255 not hosts
    assert usage.unallocated == ("192.168.16.2-192.168.16.10", "192.168.16.13-192.168.16.31",
                                 "192.168.16.56-192.168.16.199")
    assert usage.unallocated_count == 9 + 19 + 144


def test_seed_sized_clusters_do_not_fit_a_small_host_and_the_limit_is_named() -> None:
    config, outputs, clusters = simlab()
    usage = lab_usage(config, outputs, clusters)
    sno, ipi = default_shapes()
    per_host, total, limited_by = fits(usage, sno)
    assert total == 0 and limited_by == "vCPUs or memory"
    assert all(f.count == 0 for f in per_host)
    hv2 = next(f for f in per_host if f.hypervisor == "hv2")
    # sno1's slice is free, but a seed SNO node has 8 vCPUs and the host 2 CPUs (its 4 GiB also fall short)
    assert (hv2.by_slices, hv2.by_vcpus, hv2.by_memory, hv2.limited_by) == (1, 0, 0, "vCPUs")
    assert (ipi.addresses, ipi.bmc_ports) == (9, 6)


def test_a_roomy_host_is_limited_by_addresses() -> None:
    config, _outputs, clusters = simlab()
    roomy = json.loads((DATA / "lab-outputs-simlab.json").read_text())
    for hv in roomy["hypervisors"].values():
        hv["capacity"] = {"vcpus": 1024, "memory_mib": 16 * 1024 * 1024}
    usage = lab_usage(config, parse_lab_outputs("simlab", roomy), clusters)
    _sno, ipi = default_shapes()
    per_host, total, limited_by = fits(usage, ipi)
    assert limited_by.startswith("addresses") and total == 172 // 9 + sum(f.by_slices for f in per_host)
    assert {f.hypervisor: f.limited_by for f in per_host} == {"hv1": "free slices on it", "hv2": "free slices on it"}


def test_a_dual_stack_slice_counts_its_ipv6_addresses_beside_the_ipv4_ones() -> None:
    config = parse_lab_config("simlab", dual_stack_values())
    outputs = parse_lab_outputs("simlab", planned_lab_outputs(config, DATA.parent.parent).as_outputs())
    ipi = json.loads((DATA / "cluster-outputs-ipi.json").read_text())
    for index, node in enumerate(ipi["nodes"]):
        node["ip6"] = f"fd00:16::{0x22 + index:x}"
    ipi.update(api_vip6="fd00:16::20", ingress_vip6="fd00:16::21")
    usage = lab_usage(config, outputs, {"ipi1": ipi})
    slice_ = next(s for s in usage.slices if s.cluster == "ipi1")
    nodes = len(ipi["nodes"])
    assert (slice_.used, slice_.size, slice_.range6, slice_.used6, slice_.size6, slice_.free6) == (
        nodes + 2, 16, "fd00:16::20-fd00:16::2f", nodes + 2, 16, 16 - nodes - 2)
    assert usage.as_dict()["slices"][0]["free6"] == 16 - nodes - 2


def test_an_ipv4_labs_plan_has_no_ipv6_keys() -> None:
    config, outputs, clusters = simlab()
    assert all("range6" not in s and "free6" not in s for s in lab_usage(config, outputs, clusters).as_dict()["slices"])
