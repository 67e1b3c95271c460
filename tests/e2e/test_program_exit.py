"""Under the real engine: a program that succeeded ends without CPython's teardown, one that failed with it.

A tiny project beside the checkout runs components.program_exit under the engine's own language host script (the
one `make engine` builds), as __main__.py does, and leaves marks of what its exit did.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from components.program_exit import EXEC_SCRIPT
from simlab.paths import REPO
from simlab.pulumi_engine import ENGINE_BIN, Workspace, require_engine
from tests.e2e.lab_helpers import LabSession
from tests.exit_marks import marking_program

pytestmark = pytest.mark.simlab

PROGRAM = """
import pulumi
pulumi.export("installed", installed)
if pulumi.Config().get_bool("fail"):
    raise RuntimeError("the program failed")
"""


def probe(tmp_path: Path, fail: bool) -> tuple[Workspace, int, str, set[str]]:
    project, marks = tmp_path / "project", tmp_path / "marks"
    project.mkdir()
    marks.mkdir()
    runtime = yaml.safe_load((REPO / "Pulumi.yaml").read_text())["runtime"]
    runtime["options"]["virtualenv"] = str(REPO / ".venv")
    (project / "Pulumi.yaml").write_text(yaml.safe_dump({"name": "exitprobe", "runtime": runtime}))
    (project / "uv.lock").symlink_to(REPO / "uv.lock")  # the language host (toolchain uv) lists packages from it
    (project / "__main__.py").write_text(marking_program(marks) + PROGRAM)
    pulumi = Workspace(project=project, backend=tmp_path / "state")
    pulumi.ensure_stack("probe")
    pulumi.run("config", "set", "-s", "probe", "fail", "true" if fail else "false")
    result = pulumi.run("up", "--yes", "--skip-preview", "-s", "probe", check=False)
    return pulumi, result.returncode, result.stdout + result.stderr, {p.name for p in marks.iterdir()}


def test_the_language_hosts_script_ends_a_run_through_sys_exit() -> None:
    """The replacement takes effect only while the script exits with `sys.exit(exit_code)` looked up on the
    module; a release that calls os._exit or imports exit itself fails here first."""
    require_engine()
    script = (ENGINE_BIN / EXEC_SCRIPT).read_text()
    assert "sys.exit(exit_code)" in script
    assert "from sys import" not in script


def test_a_successful_up_skips_the_teardown_and_keeps_atexit(lab: LabSession, tmp_path: Path) -> None:
    pulumi, code, output, marks = probe(tmp_path, fail=False)
    assert code == 0, output
    assert pulumi.outputs("probe") == {"installed": True}
    assert marks == {"atexit"}


def test_a_failed_program_exits_as_cpython_does_and_the_up_fails(lab: LabSession, tmp_path: Path) -> None:
    _, code, output, marks = probe(tmp_path, fail=True)
    assert code != 0
    assert "the program failed" in output
    assert marks == {"atexit", "teardown"}
