"""The cluster program on a Redfish slice (Pulumi's mocks): its own emulator after the nodes, the password
on stdin as a secret, no vbmc entries, and its BMC nodes' disk lists left to the BMC's virtual media."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from core.bmc_plan import bmc_password
from tests.unit.test_cluster_stack_mocks import SECRET_SIG, SECRET_VALUE, lab_outputs, run_cluster
from tests.unit.test_fixed_names import declared

__all__ = ["declared"]  # the fixture, used below


@pytest.fixture
def redfish_lab(tmp_path: Path) -> dict[str, Any]:
    """The lab's outputs with ipi1's slice on Redfish."""
    lab = lab_outputs(tmp_path)
    lab["slices"]["ipi1"].update({"bmc": "redfish", "bmc_ports": "8100-8101"})
    return lab


def test_a_redfish_cluster_runs_its_own_emulator_after_its_nodes(redfish_lab: dict[str, Any], tmp_path: Path,
                                                                  declared: list[Any]) -> None:
    mocks = run_cluster("ipi1", redfish_lab)
    commands = {c.name: c.inputs for c in mocks.of_type("command:remote:Command")}
    redfish = commands["ipi1-redfish"]
    assert "port='8100'" in redfish["create"] and "address='192.168.16.11'" in redfish["create"]
    assert redfish["create"].count("uuids='") == 1 and redfish["update"] == redfish["create"]
    assert 'helper remove "$cluster"' in redfish["delete"] and "cluster='ipi1'" in redfish["delete"]
    password = bmc_password((tmp_path / "key").read_text(), "ipi1")
    assert redfish["stdin"] == {SECRET_SIG: SECRET_VALUE, "value": password}
    assert all(password not in str(c.get(k)) for c in commands.values() for k in ("create", "update", "delete"))
    assert "entries=" not in commands["ipi1-bmc"]["create"], "no vbmc entries on a Redfish slice"
    order = [r.name for r in mocks.resources]
    assert max(order.index(d.name) for d in mocks.of_type("libvirt:index/domain:Domain")) < order.index("ipi1-redfish")
    ignored = {name: (opts.ignore_changes if opts else None) for t, name, opts in declared
               if t == "libvirt:index/domain:Domain"}
    assert ignored["ipi1-master-0-domain"] == ["disks"] and ignored["ipi1-worker-1-domain"] == ["disks"]
    assert not ignored["ipi1-provisionhost-domain"], "the provisionhost has no BMC: its disks are diffed"


def test_an_ipmi_cluster_has_no_emulator_and_diffs_every_disk(tmp_path: Path, declared: list[Any]) -> None:
    mocks = run_cluster("ipi1", lab_outputs(tmp_path))
    assert "ipi1-redfish" not in {c.name for c in mocks.of_type("command:remote:Command")}
    assert all(not (opts and opts.ignore_changes) for t, _, opts in declared
               if t == "libvirt:index/domain:Domain")
