"""Bench stack files: cluster shapes, dense slices, a network wide enough, files the lab accepts."""

from __future__ import annotations

from pathlib import Path

import netaddr
import pytest
import yaml

from bench.diskuse import bytes_per_node, node_of
from bench.stacks import ClusterPlan, allocate_slices, network_for, simlab_salt, spread, write_stacks
from core.clusterconfig import parse_cluster_config
from core.labconfig import parse_lab_config
from core.stack_files import read_stack_values


def test_spread_gives_one_cluster_per_hypervisor() -> None:
    sno = spread(10, 10, "s10")
    assert [(c.name.rstrip("abcdefghijklmnopqrstuvwxyz"), c.hypervisor, c.topology, c.domains) for c in sno[:2]] == [
        ("s10-hv1", "hv1", "sno", 1), ("s10-hv2", "hv2", "sno", 1)]
    ipi = spread(250, 10, "s250")
    assert {c.domains for c in ipi} == {25} and {c.addresses for c in ipi} == {28} and ipi[9].hypervisor == "hv10"
    with pytest.raises(ValueError, match="at least 4"):
        spread(20, 10, "x")
    with pytest.raises(ValueError, match="evenly"):
        spread(15, 10, "x")


def test_network_is_the_narrowest_that_holds_the_slices() -> None:
    assert str(network_for(223)) == "192.168.16.0/24"
    assert str(network_for(224)) == "192.168.16.0/23"
    assert str(network_for(270 + 120 + 10)) == "192.168.16.0/23"


def test_slices_are_dense_and_consecutive_from_32() -> None:
    plans = [ClusterPlan("a", "hv1"), ClusterPlan("b", "hv2", "sno", 0)]
    assert allocate_slices(plans, netaddr.IPNetwork("192.168.16.0/24")) == {
        "a": "192.168.16.32-192.168.16.41", "b": "192.168.16.42-192.168.16.42"}
    with pytest.raises(ValueError, match="does not fit"):
        allocate_slices([ClusterPlan("big", "hv1", workers=230)], netaddr.IPNetwork("192.168.16.0/24"))


def test_written_stacks_parse_and_the_250_case_fits(tmp_path: Path) -> None:
    plans = [ClusterPlan("seed7", "hv1"), *spread(10, 10, "s10"), *spread(250, 10, "s250")]
    write_stacks(tmp_path, "benchlab", 10, plans)
    lab = parse_lab_config("benchlab", read_stack_values(tmp_path / "Pulumi.benchlab.yaml"))
    assert str(lab.network.cidr) == "192.168.16.0/23" and len(lab.hypervisors) == 10
    assert lab.hypervisors[9].ssh.address == "192.168.16.20"
    last = plans[-1].name
    assert str(lab.slice_of(last).range) == "192.168.17.48-192.168.17.75"  # type: ignore[union-attr]
    seed = parse_cluster_config(plans[0].name, read_stack_values(tmp_path / f"Pulumi.{plans[0].name}.yaml"))
    assert len(seed.nodes) == 7 and seed.start and seed.domain_type == "qemu" and seed.nodes[0].needs_cloud_init
    third = plans[1 + 10 + 2].name
    big = parse_cluster_config(third, read_stack_values(tmp_path / f"Pulumi.{third}.yaml"))
    assert len(big.nodes) == 25 and not big.start and big.hypervisor == "hv3"


def test_the_bench_lab_and_its_clusters_share_the_simulated_labs_salt(tmp_path: Path) -> None:
    """One passphrase key per command: the cluster's own salt is the lab's, whose StackReference it reads."""
    write_stacks(tmp_path, "benchlab", 2, [ClusterPlan("seed7", "hv1")], simlab_salt())
    salts = {yaml.safe_load(f.read_text())["encryptionsalt"] for f in tmp_path.glob("Pulumi.*.yaml")}
    assert salts == {simlab_salt()} and simlab_salt().startswith("v1:")
    write_stacks(tmp_path, "benchlab", 2, [ClusterPlan("seed7", "hv1")])
    assert all("encryptionsalt" not in yaml.safe_load(f.read_text()) for f in tmp_path.glob("Pulumi.*.yaml"))


def test_bytes_are_grouped_by_node() -> None:
    allocated = {"/var/lib/libvirt/ocplab/c-provisionhost-root.qcow2": 200, "/var/lib/libvirt/ocplab/c-provisionhost-"
                 "cidata.iso": 400, "/etc/libvirt/qemu/c-provisionhost.xml": 8, "/var/lib/libvirt/ocplab/c-worker-0-"
                 "disk2.qcow2": 100, "/var/lib/libvirt/ocplab/c2-master-0-root.qcow2": 5, "/tmp/other": 1}
    assert node_of("/etc/libvirt/qemu/c-master-0.xml", "c") == "master-0"
    assert node_of("/var/lib/libvirt/ocplab/c-x.log", "c") is None
    assert bytes_per_node(allocated, "c", ["provisionhost", "worker-0", "master-0"]) == {
        "provisionhost": 608, "worker-0": 100, "master-0": 0}


def test_cluster_names_avoid_each_others_vrrp_ids() -> None:
    from bench.stacks import vrrp_free
    from core.vrrp import vrrp_ids

    names = [vrrp_free(f"t{i}") for i in range(12)]
    assert vrrp_free("t3") == names[3] and all(n.rstrip("abcdefghijklmnopqrstuvwxyz") == f"t{i}"
                                               for i, n in enumerate(names))
    ids = [i for n in names for i in (vrrp_ids(n).api, vrrp_ids(n).ingress)]
    assert len(ids) == len(set(ids))
