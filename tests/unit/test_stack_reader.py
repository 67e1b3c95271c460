"""components/stack_reader.py against a stand-in `pulumi` on PATH: reads started together run side by side,
a missing stack is told apart from a CLI that cannot answer, and the checkpoint race is retried."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from components import stack_reader
from components.stack_reader import StackMissingError, prefetch, read_outputs

FAKE = """#!/bin/sh
# pulumi stack output --json -s STACK: logs start and end, answers by the stack's name
stack="$5"; log="{log}"
echo "start $stack" >> "$log"
case "$stack" in
  */missing) echo "error: no stack named '$stack' found" >&2; exit 255 ;;
  */racing) if [ ! -e "$log.raced" ]; then touch "$log.raced"
              echo "error: failed to load checkpoint: EOF" >&2; exit 255; fi ;;
  */broken) echo "error: something else" >&2; exit 255 ;;
  */lab) i=0; until grep -q "start org/ocplab/ipi1" "$log"; do  # answers only once ipi1's read has started
           i=$((i+1)); [ $i -gt 30 ] && {{ echo "error: no ipi1 read beside" >&2; exit 255; }}; sleep 0.1; done ;;
esac
echo "end $stack" >> "$log"
printf '{{"stack": "%s"}}' "$stack"
"""


@pytest.fixture
def log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir, log = tmp_path / "bin", tmp_path / "calls.log"
    bin_dir.mkdir()
    (bin_dir / "pulumi").write_text(FAKE.format(log=log))
    (bin_dir / "pulumi").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    monkeypatch.delenv("PULUMI_BACKEND_URL", raising=False)  # the CLI answers (no file backend to read)
    monkeypatch.setattr(stack_reader, "_started", {})
    return log


def test_prefetched_reads_run_side_by_side_and_each_answers_its_own_stack(log: Path) -> None:
    prefetch("org/ocplab/lab", "org/ocplab/ipi1")  # the stand-in answers `lab` only while ipi1 is read beside it
    assert read_outputs("org/ocplab/lab") == {"stack": "org/ocplab/lab"}
    assert read_outputs("org/ocplab/ipi1") == {"stack": "org/ocplab/ipi1"}


def test_reads_one_after_the_other_would_not_overlap(log: Path) -> None:
    """The stand-in's check itself: `lab` read alone gets no answer (so the test above can fail)."""
    assert read_outputs("org/ocplab/lab") is None


def test_a_read_not_prefetched_is_started_when_asked(log: Path) -> None:
    assert read_outputs("org/ocplab/sno1") == {"stack": "org/ocplab/sno1"}
    assert log.read_text().split() == ["start", "org/ocplab/sno1", "end", "org/ocplab/sno1"]


def test_a_missing_stack_is_its_own_error(log: Path) -> None:
    prefetch("org/ocplab/missing")
    with pytest.raises(StackMissingError):
        read_outputs("org/ocplab/missing")


def test_the_checkpoint_race_is_read_again(log: Path) -> None:
    assert read_outputs("org/ocplab/racing") == {"stack": "org/ocplab/racing"}
    assert log.read_text().count("start org/ocplab/racing") == 2


def test_a_file_backend_is_read_without_the_cli(log: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stacks = tmp_path / "state" / ".pulumi" / "stacks" / "ocplab"
    stacks.mkdir(parents=True)
    (stacks / "ipi1.json").write_text(json.dumps({"version": 3, "checkpoint": {"latest": {"resources": [
        {"urn": "urn:pulumi:ipi1::ocplab::pulumi:pulumi:Stack::ocplab-ipi1", "type": "pulumi:pulumi:Stack",
         "outputs": {"kind": "cluster"}}]}}}))
    monkeypatch.setenv("PULUMI_BACKEND_URL", f"file://{tmp_path / 'state'}")
    prefetch("organization/ocplab/ipi1")
    assert read_outputs("organization/ocplab/ipi1") == {"kind": "cluster"}
    assert read_outputs("organization/ocplab/sno1") == {"stack": "organization/ocplab/sno1"}  # no file: the CLI
    assert log.read_text().split() == ["start", "organization/ocplab/sno1", "end", "organization/ocplab/sno1"]


def test_any_other_failure_leaves_it_to_a_stack_reference(log: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert read_outputs("org/ocplab/broken") is None
    monkeypatch.setenv("PATH", str(log.parent / "nowhere"))
    assert read_outputs("org/ocplab/ipi1") is None
    assert json.dumps(stack_reader._started) == "{}"
