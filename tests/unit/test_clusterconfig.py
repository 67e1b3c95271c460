"""Cluster descriptions: example stacks expand as expected, and mistakes are named up front."""

from __future__ import annotations

from typing import Any

import pytest

from core.clusterconfig import parse_cluster_config
from core.errors import ConfigError
from core.stack_files import read_stack_values, stack_path


def values(stack: str) -> dict[str, Any]:
    return read_stack_values(stack_path(stack))


def problems_of(stack: str, changes: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        parse_cluster_config(stack, {**values(stack), **changes})
    return raised.value.problems


def test_ipi_example_expands_roles_with_tiny_sizes() -> None:
    cluster = parse_cluster_config("ipi1", values("ipi1"))
    assert [n.name for n in cluster.nodes] == [
        "provisionhost", "master-0", "master-1", "master-2", "worker-0", "worker-1"]
    assert cluster.topology == "ipi" and cluster.domain_type == "qemu" and cluster.has_provisioning
    provisionhost = cluster.nodes[0]
    assert provisionhost.needs_cloud_init and provisionhost.users[0].name == "dci"
    assert cluster.by_role("worker")[0].disk2_bytes == 64 * 1024**2
    assert cluster.by_role("master")[0].memory_mib == 160
    assert cluster.nodes[1].networks == ("baremetal", "provisioning")


def test_sno_example_is_one_node_on_baremetal_only() -> None:
    cluster = parse_cluster_config("sno1", values("sno1"))
    assert [(n.name, n.role, n.networks) for n in cluster.nodes] == [("sno", "master", ("baremetal",))]


def test_seed_cluster_keeps_seed_sizes_and_macs() -> None:
    cluster = parse_cluster_config("server", values("server"))
    assert cluster.name == "server" and len(cluster.nodes) == 7
    worker = cluster.by_role("worker")[2]
    assert (worker.name, worker.memory_mib, worker.vcpus) == ("dciokd-worker-2", 32768, 16)
    assert worker.disk2_bytes == 150 * 1024**3
    assert worker.pinned_macs == {"baremetal": "52:54:00:00:02:06"}
    assert worker.disk_bus == "virtio_scsi" and worker.disk_cache == "unsafe"


def test_ipi_needs_three_masters() -> None:
    assert "ocplab:masters: an IPI cluster needs 3 masters, not 2" in problems_of("ipi1", {"masters": 2})


def test_sno_has_exactly_one_node() -> None:
    hosts = [{"name": "a", "role": "master"}, {"name": "b", "role": "master"}]
    assert "ocplab:hosts: an SNO cluster has exactly one node, not 2" in problems_of("sno1", {"hosts": hosts})


def test_duplicate_node_names_and_pinned_macs() -> None:
    hosts = values("server")["hosts"]
    hosts[2]["name"] = hosts[1]["name"]
    hosts[3]["networks"][1]["mac"] = hosts[4]["networks"][1]["mac"]
    found = problems_of("server", {"hosts": hosts})
    assert "ocplab:hosts.dciokd-master-0: node name used twice; names must be unique" in found
    assert any("52:54:00:00:02:04 is already pinned on dciokd-master-2/baremetal" in p for p in found)


@pytest.mark.parametrize(("mac", "why"), [("53:54:00:00:02:00", "multicast"), ("52:54:00:00:02", "not a MAC")])
def test_pinned_mac_must_be_unicast_mac(mac: str, why: str) -> None:
    hosts = values("server")["hosts"]
    hosts[0]["networks"][1]["mac"] = mac
    assert any(p.startswith("ocplab:hosts.provisionhost.networks[1].mac") and why in p
               for p in problems_of("server", {"hosts": hosts}))


@pytest.mark.parametrize(("field", "value"), [("memory", "lots"), ("vcpus", 2.5), ("disk_size", "big"), ("memory", 0)])
def test_sizes_must_be_numbers(field: str, value: Any) -> None:
    hosts = values("server")["hosts"]
    hosts[1][field] = value
    assert any(p.startswith(f"ocplab:hosts.dciokd-master-0.{field}") for p in problems_of("server", {"hosts": hosts}))


def test_missing_lab_and_bad_topology_and_hypervisor() -> None:
    found = problems_of("ipi1", {"lab": None, "topology": "upi", "hypervisor": "HV 1"})
    assert any(p.startswith("ocplab:lab: is required") for p in found)
    assert "ocplab:topology: 'upi' is not one of ipi, sno" in found
    assert any(p.startswith("ocplab:hypervisor:") for p in found)


@pytest.mark.parametrize("key", ["disk_cache", "disk_bus", "cpu_mode"])
def test_an_explicit_null_default_is_taken_as_not_given(key: str) -> None:
    """The schema takes `defaults: {disk_cache: null}` as unset; no node may then be refused for it."""
    others = {k: v for k, v in (values("ipi1").get("defaults") or {}).items() if k != key}
    given = parse_cluster_config("ipi1", {**values("ipi1"), "defaults": {**others, key: None}})
    plain = parse_cluster_config("ipi1", {**values("ipi1"), "defaults": others})
    assert [getattr(n, key) for n in given.nodes] == [getattr(n, key) for n in plain.nodes]


def test_an_explicit_null_size_is_taken_as_not_given_but_a_null_disk_is_no_disk() -> None:
    """As for defaults; a null disk2_size has always dropped a worker's second disk, and still does."""
    nulls = {"memory": None, "vcpus": None, "disk_cache": None, "image": None, "disk2_size": None}
    cluster = parse_cluster_config("ipi1", {**values("ipi1"), "sizes": {**values("ipi1")["sizes"], "worker": nulls}})
    plain = parse_cluster_config("ipi1", {**values("ipi1"), "sizes": {**values("ipi1")["sizes"], "worker": {}}})
    worker, default = cluster.by_role("worker")[0], plain.by_role("worker")[0]
    assert (worker.memory_mib, worker.vcpus, worker.disk_cache, worker.image) == (
        default.memory_mib, default.vcpus, default.disk_cache, default.image)
    assert default.disk2_bytes and worker.disk2_bytes is None


def test_a_users_fields_reach_cloud_init_in_the_order_written() -> None:
    """A reordered seed is a new ISO: the deployed provisionhost would be rebuilt."""
    user = {"name": "ops", "sudo": "ALL=(ALL) ALL", "lock_passwd": False, "gecos": None, "groups": "wheel"}
    stack = {**values("ipi1"), "provisionhost": {"users": [user]}, "dci": {"user": None}}
    cluster = parse_cluster_config("ipi1", stack)
    assert list(cluster.by_role("provisionhost")[0].users[0].extra.items()) == [
        ("sudo", "ALL=(ALL) ALL"), ("lock_passwd", False), ("gecos", None), ("groups", "wheel")]
