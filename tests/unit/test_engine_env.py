"""The environment the simulated lab runs `pulumi` in (simlab.pulumi_engine.Workspace): Python bytecode is kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.engine import bytecode_env
from simlab.paths import StatePaths
from simlab.pulumi_engine import Workspace


def test_the_engines_programs_write_their_bytecode_into_the_simlab_cache_even_if_the_caller_says_not_to(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # The cache prefix hides the venv's and the stdlib's .pyc: a program that may not write it compiles every module.
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    env = Workspace(backend=tmp_path).env()
    assert env["PYTHONPYCACHEPREFIX"] == str(StatePaths().cache / "pycache")
    assert "PYTHONDONTWRITEBYTECODE" not in env


def test_the_benchmark_runs_programs_with_bytecode_kept_or_compiled_from_source_every_time(tmp_path: Path) -> None:
    cached = Workspace(backend=tmp_path, extra_env=bytecode_env(tmp_path, "cached")).env()
    assert cached["PYTHONPYCACHEPREFIX"] == str(tmp_path / "pycache") and not cached["PYTHONDONTWRITEBYTECODE"]
    none = Workspace(backend=tmp_path, extra_env=bytecode_env(tmp_path, "none")).env()
    assert none["PYTHONDONTWRITEBYTECODE"] == "1" and none["PYTHONPYCACHEPREFIX"] == ""
