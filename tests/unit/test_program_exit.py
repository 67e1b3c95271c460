"""A program that succeeded ends without CPython's teardown, under the language host's script only."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from components.program_exit import EXEC_SCRIPT, KEEP, exit_without_teardown
from tests.exit_marks import marking_program

# Run as a script named like the language host's; a non-daemon thread too, which an exit waits for.
CHILD = """
import threading, time
print("installed", installed)

def late():
    time.sleep(0.2)
    open(marks + "/thread", "w").close()

threading.Thread(target=late).start()
sys.stdout.write("unflushed")
{ending}
"""


def run_child(tmp_path: Path, ending: str, name: str = EXEC_SCRIPT,
              env: dict[str, str] | None = None) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    marks = tmp_path / "marks"
    marks.mkdir()
    script = tmp_path / name
    script.write_text(marking_program(marks) + CHILD.format(ending=ending))
    environ = {k: v for k, v in os.environ.items() if k != KEEP} | (env or {})
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60, check=False,
                          env=environ)
    return done, {p.name for p in marks.iterdir()}


@pytest.mark.parametrize("ending", ["sys.exit(0)", "sys.exit()", "sys.exit(None)"])
def test_a_successful_exit_skips_the_teardown_but_not_what_an_exit_must_do(tmp_path: Path, ending: str) -> None:
    done, marks = run_child(tmp_path, ending)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "installed True\nunflushed"
    assert marks == {"atexit", "thread"}, "threads joined and atexit run; no object freed one by one"


@pytest.mark.parametrize(("ending", "code"), [("sys.exit(32)", 32), ("sys.exit(False)", 0),
                                              ("raise RuntimeError('program failed')", 1)])
def test_any_other_ending_keeps_cpythons_whole_exit(tmp_path: Path, ending: str, code: int) -> None:
    done, marks = run_child(tmp_path, ending)
    assert done.returncode == code, done.stderr
    assert marks == {"atexit", "thread", "teardown"}


def test_a_program_run_by_anything_else_keeps_sys_exit(tmp_path: Path) -> None:
    done, marks = run_child(tmp_path, "sys.exit(0)", name="program.py")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("installed False")
    assert marks == {"atexit", "thread", "teardown"}


def test_the_keep_variable_keeps_the_teardown(tmp_path: Path) -> None:
    done, marks = run_child(tmp_path, "sys.exit(0)", env={KEEP: "1"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("installed False")
    assert marks == {"atexit", "thread", "teardown"}


def test_pytest_and_tools_importing_the_program_are_left_alone() -> None:
    before = sys.exit
    assert exit_without_teardown() is False
    assert sys.exit is before
