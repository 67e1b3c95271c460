"""The `ocplab` command: subcommands with --help, tables and JSON from the stacks, and one-line
errors with exit 2 for an unknown lab, cluster or node (a stand-in `pulumi` answers for the stacks).
Every user error has one root (core.errors.OcplabError), shown in one place (tools.cli.Commands)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from core.cluster_outputs import OutputsError
from core.dci_user import ControllerKeyError
from core.errors import ConfigError, OcplabError
from tests.unit.test_dci_handoff import fake_pulumi
from tools.cli import app, spread
from tools.dci_handoff import HandoffError
from tools.dnsmasq_existing import ExistingDnsError
from tools.lab_collect import CollectError
from tools.lab_view import LabViewError
from tools.seed_import import InventoryError
from tools.stack_outputs import StackError

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


COMMANDS = {"plan": "--shape", "map": "--output", "console": "master-0", "doctor": "--remove-orphans",
            "handoff": "--pool", "install-config": "--pull-secret", "import": "--dnsmasq"}


@pytest.mark.parametrize("command", COMMANDS)
def test_every_subcommand_has_help(command: str) -> None:
    result = runner.invoke(app, [command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0 and "usage" in result.output.lower()
    assert COMMANDS[command] in result.output, "its own options, not a pass-through"


def test_the_command_list_gives_each_a_line_and_hides_none() -> None:
    listed = runner.invoke(app, ["--help"], env={"COLUMNS": "200"}).output
    lines = [line for line in listed.splitlines() if any(f"│ {name} " in line for name in COMMANDS)]
    assert len(lines) == len(COMMANDS) and "seed-import" not in listed


@pytest.mark.parametrize("error", [ConfigError, OutputsError, ControllerKeyError, InventoryError, ExistingDnsError,
                                   CollectError, HandoffError, LabViewError, StackError])
def test_every_user_error_has_the_one_root(error: type[Exception]) -> None:
    assert issubclass(error, OcplabError)


def test_a_config_error_is_one_line_naming_every_field() -> None:
    error = ConfigError(["ocplab:hosts: empty", "ocplab:lab: missing"])
    assert error.one_line() == "invalid ocplab configuration: ocplab:hosts: empty; ocplab:lab: missing"
    assert error.exit_code == 2 and isinstance(error, ValueError)


@pytest.mark.parametrize(("args", "spread_args"), [
    (["inv", "--dnsmasq", "a", "b", "c", "--out", "-"], ["inv", "--dnsmasq", "a", "--dnsmasq", "b", "--dnsmasq", "c",
                                                          "--out", "-"]),
    (["--images-map", "u=x", "v=y", "--dnsmasq", "a"],
     ["--images-map", "u=x", "--images-map", "v=y", "--dnsmasq", "a"]),
    (["inv", "--out", "a", "b"], ["inv", "--out", "a", "b"]),  # other options take one value, as before
    (["--dnsmasq", "a", "--", "b"], ["--dnsmasq", "a", "--", "b"]),
])
def test_an_option_of_many_takes_every_value_up_to_the_next_option(args: list[str], spread_args: list[str]) -> None:
    assert spread(args, ("--dnsmasq", "--images-map")) == spread_args


def test_import_takes_several_image_maps_after_one_option(tmp_path: Path) -> None:
    inventory = {"all": {"vars": {"cluster": "sno7", "hosts": [
        {"name": "sno", "role": "master", "memory": 16384, "vcpus": 8, "disk_size": 120, "image_src": "http://a/1",
         "networks": [{"name": "baremetal"}]}]}}}
    source = tmp_path / "inventory.yml"
    source.write_text(yaml.safe_dump(inventory))
    result = runner.invoke(app, ["import", str(source), "--lab", "telco-lab", "--hypervisor", "hv01",
                                 "--images-map", "http://a/0=centos8", "http://a/1=rhcos", "--out", "-"])
    assert result.exit_code == 0, result.output
    assert yaml.safe_load(result.stdout)["config"]["ocplab:image"] == "rhcos"


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


def test_map_shows_a_dual_stack_clusters_ipv6_addresses(stacks: dict[str, Any], tmp_path: Path) -> None:
    ipi = stacks["ipi1"]
    ipi.update(api_vip6="fd00:16::20", ingress_vip6="fd00:16::21")
    ipi["network"].update(cidr6="fd00:16::/64", dns6="fd00:16::1")
    for index, node in enumerate(ipi["nodes"]):
        node["ip6"] = f"fd00:16::{0x22 + index:x}"
    fake_stacks(tmp_path, stacks)
    tree = runner.invoke(app, ["map", "--lab", "simlab"], env={"COLUMNS": "200"})
    assert tree.exit_code == 0, tree.output
    assert "api 192.168.16.32 fd00:16::20, *.apps 192.168.16.33 fd00:16::21" in tree.output
    assert "fd00:16::23" in next(line for line in tree.output.splitlines() if "master-0" in line)
    svg = tmp_path / "lab.svg"
    assert runner.invoke(app, ["map", "--lab", "simlab", "--output", str(svg)]).exit_code == 0
    assert "192.168.16.35 fd00:16::23" in svg.read_text()


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
    (["handoff", "sno1", "--pool", "simlab"], "ocplab: stack sno1 is not deployed (it has no outputs)"),
    (["import", "none.yml", "--lab", "telco-lab", "--hypervisor", "hv01"], "ocplab: inventory none.yml: no such file"),
])
def test_bad_input_is_one_line_and_exit_2(stacks: dict[str, Any], args: list[str], message: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1, result.stderr
