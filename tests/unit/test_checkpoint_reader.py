"""components/checkpoint_reader.py: a file backend's checkpoint gives what `pulumi stack output --json` prints,
and anything it cannot read for sure is left to the CLI (None). tests/e2e/test_lab_and_clusters.py compares it
with the real CLI on deployed stacks."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path
from typing import Any

from components.checkpoint_reader import SECRET_SIG, backend_directory, checkpoint_outputs

SECRET = {SECRET_SIG: "1b47061264138c4ac30d75fd1eb44270", "ciphertext": "v1:abc"}


def checkpoint(outputs: dict[str, Any] | None) -> bytes:
    resources = [] if outputs is None else [
        {"urn": "urn:pulumi:ipi1::ocplab::pulumi:pulumi:Stack::ocplab-ipi1", "type": "pulumi:pulumi:Stack",
         "outputs": outputs},
        {"urn": "urn:pulumi:ipi1::ocplab::pulumi:providers:libvirt::default", "type": "pulumi:providers:libvirt"}]
    return json.dumps({"version": 3, "checkpoint": {"stack": "organization/ocplab/ipi1",
                                                     "latest": {"resources": resources}}}).encode()


def stacks_dir(tmp_path: Path) -> Path:
    path = tmp_path / ".pulumi" / "stacks" / "ocplab"
    path.mkdir(parents=True)
    return path


def test_outputs_come_back_with_secrets_hidden(tmp_path: Path) -> None:
    (stacks_dir(tmp_path) / "ipi1.json").write_bytes(checkpoint(
        {"cluster": "ipi1", "bmc": SECRET, "nodes": [{"name": "sno", "password": SECRET}]}))
    assert checkpoint_outputs(tmp_path, "ocplab", "ipi1") == {
        "cluster": "ipi1", "bmc": "[secret]", "nodes": [{"name": "sno", "password": "[secret]"}]}


def test_the_newest_of_plain_and_gzip_is_read(tmp_path: Path) -> None:
    directory = stacks_dir(tmp_path)
    (directory / "ipi1.json").write_bytes(checkpoint({"from": "plain"}))
    (directory / "ipi1.json.gz").write_bytes(gzip.compress(checkpoint({"from": "gzip"})))
    os.utime(directory / "ipi1.json", ns=(1, 1))
    assert checkpoint_outputs(tmp_path, "ocplab", "ipi1") == {"from": "gzip"}


def test_a_destroyed_stack_has_no_outputs(tmp_path: Path) -> None:
    (stacks_dir(tmp_path) / "ipi1.json").write_bytes(checkpoint(None))
    assert checkpoint_outputs(tmp_path, "ocplab", "ipi1") == {}


def test_what_cannot_be_read_for_sure_is_left_to_the_cli(tmp_path: Path) -> None:
    directory = stacks_dir(tmp_path)
    assert checkpoint_outputs(tmp_path, "ocplab", "ipi1") is None  # no such file (or the legacy layout)
    (directory / "ipi1.json").write_bytes(checkpoint({"a": 1})[:40])  # cut short
    assert checkpoint_outputs(tmp_path, "ocplab", "ipi1") is None
    (directory / "ipi1.json").write_bytes(checkpoint({"a": 1}))
    (directory / "ipi1.json.zst").write_bytes(b"\x28\xb5\x2f\xfd")  # zstd: not read here
    assert checkpoint_outputs(tmp_path, "ocplab", "ipi1") is None


def test_only_a_file_backend_url_is_read() -> None:
    assert backend_directory({"PULUMI_BACKEND_URL": "file:///var/lib/pulumi"}) == Path("/var/lib/pulumi")
    assert backend_directory({"PULUMI_BACKEND_URL": "file://~/state"}) == Path("~/state").expanduser()
    assert backend_directory({"PULUMI_BACKEND_URL": "postgres://ocplab@192.168.16.1/pulumi"}) is None
    assert backend_directory({}) is None  # `pulumi login` without the variable: the CLI knows where
    assert backend_directory({"PULUMI_BACKEND_URL": "file:///x", "OCPLAB_STACK_OUTPUTS": "cli"}) is None
