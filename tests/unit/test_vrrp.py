"""Keepalived VRRP ids as OpenShift derives them from a cluster's name, and the refusal of an IPI
cluster whose ids clash with another cluster's on the same lab network, before anything exists."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.cluster_design import design_cluster
from core.clusterconfig import parse_cluster_config
from core.errors import ConfigError
from core.vrrp import fletcher8, vrrp_ids

LAB = json.loads((Path(__file__).parent.parent / "data" / "lab-outputs-simlab.json").read_text())


def test_fletcher8_follows_baremetal_runtimecfg() -> None:
    assert fletcher8("") == 0
    assert fletcher8("a") == (7 << 4) | 7  # 97 % 15 = 7 for both sums
    assert fletcher8("ab") == (((7 + (7 + 98) % 15) % 15) << 4) | ((7 + 98) % 15)
    assert fletcher8("\xff") == fletcher8("\xc3\xbf".encode("latin-1").decode("utf-8"))  # bytes, not characters
    assert max(fletcher8(chr(c) * 20) for c in range(32, 127)) <= 0xEE


def test_ids_are_one_above_the_checksum_and_never_equal() -> None:
    ids = vrrp_ids("ipi1")
    assert (ids.api, ids.ingress) == (fletcher8("ipi1-api") + 1, fletcher8("ipi1-ingress") + 1)
    assert all(vrrp_ids(f"c{i}").api != vrrp_ids(f"c{i}").ingress for i in range(500))


def test_an_ipi_cluster_clashing_with_another_slice_is_refused_naming_both() -> None:
    assert vrrp_ids("cluster07").common(vrrp_ids("cluster08")), "a known clash (the telco-lab example had it)"
    lab = {**LAB, "slices": {**LAB["slices"],
                             "cluster07": {**LAB["slices"]["ipi1"]},
                             "cluster08": {"hypervisor": "hv2", "range": "192.168.16.100-192.168.16.120"}}}
    cluster = parse_cluster_config("cluster07", {"lab": "simlab", "hypervisor": "hv1", "image": "guest",
                                                 "sizes": {r: {"memory": 160, "vcpus": 1, "disk_size": "1G"}
                                                           for r in ("provisionhost", "master", "worker")}})
    with pytest.raises(ConfigError, match=r"cluster cluster07's keepalived VRRP ids .* with cluster cluster08's"):
        design_cluster(cluster, lab, None)


def test_sno_clusters_run_no_keepalived_and_are_not_checked() -> None:
    lab = {**LAB, "slices": {**LAB["slices"], "cluster07": {**LAB["slices"]["sno1"]},
                             "cluster08": {"hypervisor": "hv1", "range": "192.168.16.100-192.168.16.120"}}}
    cluster = parse_cluster_config("cluster07", {"lab": "simlab", "hypervisor": "hv2", "image": "guest",
                                                 "topology": "sno",
                                                 "sizes": {"sno": {"memory": 160, "vcpus": 1, "disk_size": "1G"}}})
    assert design_cluster(cluster, lab, None).vrrp is None
