"""The hand-off (`ocplab handoff`): a cluster stack's inventory written where a dci-pipeline job reads it,
private and whole; undeployed and lab stacks refused in one line; the outputs read from `pulumi stack output`."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from core.bmc_plan import bmc_password
from tests.unit.test_dci_inventory import JINJA2_HEADER, ansible_inventory, hostvars, outputs, parse, put
from tools import dci_handoff, stack_outputs
from tools.cli import app
from tools.dci_inventory import inventory_for

ROOT = Path(__file__).resolve().parents[2]

BMC_PUBLIC: dict[str, Any] = {
    "kind": "ipmi", "address": "192.168.16.11", "user": "admin",
    "nodes": {"master-0": {"port": 6230}, "master-1": {"port": 6231}, "master-2": {"port": 6232},
              "worker-0": {"port": 6233}, "worker-1": {"port": 6234}}}


PASSWORD = bmc_password("-----BEGIN OPENSSH PRIVATE KEY-----\nkey\n", "ipi1")


def ocplab_handoff(*args: str | Path) -> Result:
    return CliRunner().invoke(app, ["handoff", *map(str, args)])


def fake_pulumi(directory: Path, outputs_by_stack: dict[str, dict[str, Any]]) -> None:
    """A `pulumi` on PATH that answers `stack output --json --show-secrets -s STACK` as the CLI does."""
    data = directory / "outputs.json"
    data.write_text(json.dumps(outputs_by_stack))
    script = directory / "pulumi"
    script.write_text(f"""#!/usr/bin/env python3
import json, sys
args = sys.argv[1:]
stack = args[args.index("-s") + 1]
outputs = json.load(open({str(data)!r}))
if stack not in outputs:
    sys.exit(print(f"error: no stack named '{{stack}}' found", file=sys.stderr) or 255)
print(json.dumps(outputs[stack]))
""")
    script.chmod(0o755)


@pytest.fixture
def deployed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """ipi1 deployed (bmc with its password, as --show-secrets shows it), sno1 never up, and the lab."""
    data = outputs("ipi")
    data["bmc"] = {**BMC_PUBLIC, "password": PASSWORD}
    fake_pulumi(tmp_path, {"ipi1": data, "sno1": {}, "simlab": {"kind": "lab", "domain": "simlab.test"}})
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    return data


def test_ipi_handoff_writes_a_private_inventory_with_the_bmc_password(deployed: dict[str, Any],
                                                                       tmp_path: Path) -> None:
    root = tmp_path / "inventories"
    result = ocplab_handoff("ipi1", "--pool", "simlab", "--root", root)
    assert result.exit_code == 0, result.output
    path = root / "simlab" / "ipi1"
    assert result.stdout == f"ocplab: {path} written (pool simlab, resource ipi1)\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["ipi1"], "no temp file left behind"
    (tmp_path / "parsed").mkdir()
    listed = parse(path.read_text(), tmp_path / "parsed")
    for name, entry in BMC_PUBLIC["nodes"].items():
        got = hostvars(listed, name)
        assert (got["ipmi_address"], got["ipmi_port"], got["ipmi_user"], got["ipmi_password"]) == (
            "192.168.16.11", entry["port"], "admin", PASSWORD)


def test_handoff_replaces_an_existing_inventory_atomically(deployed: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "simlab" / "ipi1"
    path.parent.mkdir()
    path.write_text("old\n")
    path.chmod(0o644)
    dci_handoff.handoff("ipi1", "simlab", tmp_path, deployed)
    assert path.read_text().startswith("# dci-openshift-agent IPI inventory")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.parametrize(("stack", "message"), [
    ("sno1", "ocplab: stack sno1 is not deployed (it has no outputs): run pulumi up -s sno1 first"),
    ("sno9", "ocplab: stack sno9: pulumi stack output failed: error: no stack named 'sno9' found"),
    ("simlab", "ocplab: stack simlab is a lab stack; name a cluster stack"),
])
def test_undeployed_unknown_and_lab_stacks_are_one_line_errors(deployed: dict[str, Any], tmp_path: Path, stack: str,
                                                                message: str) -> None:
    root = tmp_path / "inventories"
    result = ocplab_handoff(stack, "--pool", "simlab", "--root", root)
    assert result.exit_code == 2
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1, result.stderr
    assert not root.exists()


def test_python_m_tools_dci_handoff_is_the_same_command_under_its_own_name(deployed: dict[str, Any],
                                                                          tmp_path: Path) -> None:
    """The name dci-pipeline hosts call (examples/dci-pipeline) and the simulated lab's tests check."""
    argv = [sys.executable, "-m", "tools.dci_handoff", "simlab", "--pool", "simlab", "--root", str(tmp_path / "inv")]
    refused = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    said = "dci_handoff: stack simlab is a lab stack; name a cluster stack\n"
    assert (refused.returncode, refused.stderr) == (2, said)
    written = subprocess.run([*argv[:3], "ipi1", *argv[4:]], cwd=ROOT, capture_output=True, text=True, timeout=60,
                             check=False)
    path = tmp_path / "inv" / "simlab" / "ipi1"
    assert written.stdout == f"dci_handoff: {path} written (pool simlab, resource ipi1)\n", written.stderr


def test_a_root_that_cannot_be_written_is_a_one_line_error(deployed: dict[str, Any], tmp_path: Path) -> None:
    root = tmp_path / "inventories"
    root.write_text("a file, not a directory\n")
    result = ocplab_handoff("ipi1", "--pool", "simlab", "--root", root)
    assert result.exit_code == 2
    assert result.stderr == f"ocplab: --root {root}: cannot write {root / 'simlab' / 'ipi1'} (Not a directory)\n"


def test_empty_outputs_say_deploy_first(tmp_path: Path) -> None:
    with pytest.raises(dci_handoff.HandoffError, match=r"stack ipi2 is not deployed .* run pulumi up -s ipi2"):
        dci_handoff.handoff("ipi2", "pool", tmp_path, {})


def test_pool_and_stack_must_be_path_safe(deployed: dict[str, Any], tmp_path: Path) -> None:
    with pytest.raises(dci_handoff.HandoffError, match=r"pool name '\.\./x'"):
        dci_handoff.handoff("ipi1", "../x", tmp_path, deployed)


def test_pulumi_source_without_pulumi_names_what_to_do(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(stack_outputs, "PROJECT", tmp_path)
    result = ocplab_handoff("ipi1", "--pool", "p", "--root", tmp_path)
    assert (result.exit_code, result.stderr) == (
        2, "ocplab: stack ipi1: pulumi not found: put the Pulumi CLI on PATH (make engine)\n")


def test_pulumi_source_reads_show_secrets_json(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake = tmp_path / "pulumi"
    fake.write_text(f"#!/bin/sh\necho \"$@\" > {tmp_path}/args\necho '{{\"kind\": \"cluster\"}}'\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert dci_handoff.pulumi_outputs("ipi1") == {"kind": "cluster"}
    assert (tmp_path / "args").read_text().split() == ["stack", "output", "--json", "-s", "ipi1", "--show-secrets",
                                                       "--non-interactive"]


def test_ipmi_bmc_needs_no_shared_port(deployed: dict[str, Any], tmp_path: Path) -> None:
    text = dci_handoff.handoff("ipi1", "p", tmp_path, deployed).read_text()
    assert "ipmi_port=6234" in text
    assert not any(field in text for field in ("redfish_port", "kvm_uuid", "kvm_hosts_redfish", "enable_redfish"))


@pytest.mark.parametrize("topology", ["ipi", "sno"])
def test_the_password_is_on_no_host_line_so_ansible_warnings_never_show_it(topology: str, tmp_path: Path) -> None:
    """ansible-core quotes host lines in warnings (`name` is a reserved variable): the password must not be there."""
    data = outputs(topology)
    data["bmc"] = {**data["bmc"], "password": "Sec-ret_0123456789ab"}
    text = inventory_for(data)[1]
    host_lines = [line for line in text.splitlines() if line and not line.startswith(("#", "[")) and
                  not re.match(r"^\w+=", line)]
    assert host_lines and all("Sec-ret" not in line for line in host_lines)
    path = tmp_path / "hosts"
    path.write_text(text)
    env = {**os.environ, "ANSIBLE_HOME": str(tmp_path / "h"), "ANSIBLE_LOCAL_TEMP": str(tmp_path / "t")}
    done = subprocess.run([ansible_inventory(), "-i", str(path), "--list"], capture_output=True, text=True, env=env,
                          cwd=tmp_path, check=False)
    assert done.returncode == 0, done.stderr
    assert "reserved name" in done.stderr, "the warning this guards against is still emitted"
    assert "Sec-ret" not in done.stderr
    master = "master-0" if topology == "ipi" else "sno.sno1.simlab.test"
    assert json.loads(done.stdout)["_meta"]["hostvars"][master]["ipmi_password"] == "Sec-ret_0123456789ab"


@pytest.mark.parametrize("where", ["bmc.password", "cluster", "network.gateway"])
def test_hostile_outputs_are_one_line_and_nothing_is_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             where: str) -> None:
    """The `#jinja2:` payload that ran a pipe lookup on the DCI controller, in outputs `pulumi stack output` gives."""
    data = put(outputs("ipi"), where, JINJA2_HEADER)
    fake_pulumi(tmp_path, {"ipi1": data})
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    root = tmp_path / "inventories"
    err = ocplab_handoff("ipi1", "--pool", "simlab", "--root", root).stderr
    assert err.startswith(f"ocplab: stack ipi1: output {where} ") and err.count("\n") == 1, err
    if where.startswith("bmc."):
        assert "jinja2" not in err and "lookup" not in err, "a value under bmc is never shown"
    assert not root.exists()
