"""The `ocplab` command: subcommands with --help, tables and JSON from the stacks, and one-line
errors with exit 2 for an unknown lab, cluster or node (a stand-in `pulumi` answers for the stacks)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.unit.test_dci_handoff import fake_pulumi
from tools.cli import app

DATA = Path(__file__).parent.parent / "data"
runner = CliRunner()


@pytest.fixture
def stacks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """simlab deployed with ipi1 on it (sno1 not deployed), as `pulumi stack output` gives them."""
    outputs = {"simlab": json.loads((DATA / "lab-outputs-simlab.json").read_text()),
               "ipi1": json.loads((DATA / "cluster-outputs-ipi.json").read_text()), "sno1": {}}
    fake_stacks(tmp_path, outputs)
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    return outputs


def fake_stacks(directory: Path, outputs: dict[str, Any]) -> None:
    """A `pulumi` that answers `stack output` for each stack and `stack ls` with them all."""
    fake_pulumi(directory, outputs)
    script = directory / "pulumi"
    script.write_text(script.read_text().replace('args = sys.argv[1:]', 'args = sys.argv[1:]\n'
                                                 'if args[:2] == ["stack", "ls"]:\n'
                                                 '    sys.exit(print(json.dumps([{"name": n} for n in '
                                                 f'{sorted(outputs)!r}])))'))


@pytest.mark.parametrize("command", ["plan", "map", "console", "doctor", "handoff", "install-config", "import"])
def test_every_subcommand_has_help(command: str) -> None:
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0 and "usage" in result.output.lower()


def test_plan_json_answers_how_many_more_fit(stacks: dict[str, Any]) -> None:
    result = runner.invoke(app, ["plan", "--lab", "simlab", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert {s["cluster"]: s["deployed"] for s in data["slices"]} == {"ipi1": True, "sno1": False}
    assert set(data["fits"]) == {"sno (seed sizes)", "ipi 3+3 (seed sizes)"}
    assert data["fits"]["sno (seed sizes)"]["total"] == 0  # 2-CPU simulated hosts


def test_plan_with_a_cluster_stack_file_as_shape(stacks: dict[str, Any]) -> None:
    result = runner.invoke(app, ["plan", "--lab", "simlab", "--shape", "sno1"])
    assert result.exit_code == 0, result.output
    assert "more clusters of shape Pulumi.sno1.yaml: 1" in result.output


def test_map_draws_the_tree_and_an_svg(stacks: dict[str, Any], tmp_path: Path) -> None:
    tree = runner.invoke(app, ["map", "--lab", "simlab"])
    assert tree.exit_code == 0 and "ipi1 (ipi)" in tree.output and "sno1: free slice" in tree.output
    svg = tmp_path / "lab.svg"
    result = runner.invoke(app, ["map", "--lab", "simlab", "--output", str(svg)])
    assert result.exit_code == 0, result.output
    text = svg.read_text()
    assert text.startswith("<?xml") and "<svg" in text and "master&#45;0 (master)" in text and "free slice" in text


def test_map_draws_where_provisioning_networks_are(stacks: dict[str, Any], tmp_path: Path) -> None:
    isolated = runner.invoke(app, ["map", "--lab", "simlab"], env={"COLUMNS": "200"})
    assert "ipi1-provisioning (isolated)" in isolated.output
    stacks["simlab"]["hypervisors"]["hv1"]["provisioning_bridge"] = "br1"
    stacks["ipi1"]["provisioning"] = {"mode": "bridged", "bridge": "br1"}
    fake_stacks(tmp_path, stacks)
    bridged = runner.invoke(app, ["map", "--lab", "simlab"], env={"COLUMNS": "200"})
    assert bridged.exit_code == 0, bridged.output
    assert "provisioning on br1 (bridged to the second NIC)" in bridged.output and "(isolated)" not in bridged.output
    assert "br1 (provisioning)" in bridged.output
    svg = tmp_path / "lab.svg"
    assert runner.invoke(app, ["map", "--lab", "simlab", "--output", str(svg)]).exit_code == 0
    assert "provisioning on br1 (bridged to the second NIC)" in svg.read_text()


@pytest.mark.parametrize(("args", "message"), [
    (["plan", "--lab", "nolab"], "ocplab: no stack file"),
    (["plan", "--shape", "okd"], "ocplab: --shape 'okd': not sno, ipi, a cluster stack or a stack file"),
    (["console", "sno1", "sno"], "ocplab: stack sno1 is not a deployed cluster stack"),
    (["console", "ipi1", "master-9"], "ocplab: cluster ipi1 has no node 'master-9'; its nodes: provisionhost"),
    (["map", "--output", "lab.txt"], "ocplab: --output lab.txt: name a .svg or .png file"),
])
def test_bad_input_is_one_line_and_exit_2(stacks: dict[str, Any], args: list[str], message: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1, result.stderr
