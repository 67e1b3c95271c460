"""`ocplab:start: false`: domains are defined but not started (benchmarks at scale use it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from core.clusterconfig import parse_cluster_config
from core.errors import ConfigError
from core.stack_files import read_stack_values, stack_path
from tests.unit.pulumi_mocks import use_mocks
from tests.unit.test_cluster_stack_mocks import declare, lab_outputs


def values(**changes: Any) -> dict[str, Any]:
    return {**read_stack_values(stack_path("ipi1")), **changes}


def test_start_defaults_to_true_and_reads_false() -> None:
    assert parse_cluster_config("ipi1", values()).start is True
    assert parse_cluster_config("ipi1", values(start=False)).start is False


def test_start_must_be_a_boolean() -> None:
    with pytest.raises(ConfigError, match="ocplab:start: 'no' is not true or false"):
        parse_cluster_config("ipi1", values(start="no"))


@pytest.mark.parametrize("start", [True, False])
def test_domains_running_follows_start(tmp_path: Path, start: bool) -> None:
    mocks = use_mocks("ipi1", values(start=start), {"simlab": lab_outputs(tmp_path), "ipi1": {}})
    declare()
    domains = mocks.of_type("libvirt:index/domain:Domain")
    assert len(domains) == 6 and {d.inputs["running"] for d in domains} == {start}
