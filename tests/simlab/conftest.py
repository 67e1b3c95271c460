"""Fixtures for the simlab's own tests: one real 2-hypervisor lab shared per module."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from simlab.lab import Simlab
from simlab.state import LabState

REPO = Path(__file__).resolve().parents[2]


def simlab_cli(*args: str, env: dict[str, str] | None = None,
               prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    """`python -m simlab ...` as a separate process, as a person would run it."""
    return subprocess.run([*prefix, sys.executable, "-m", "simlab", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=300, check=False,
                          env=env if env is not None else dict(os.environ))


@pytest.fixture(scope="module")
def lab() -> Iterator[LabState]:
    """A running lab of a jumphost and two hypervisors, taken down after the module."""
    assert os.geteuid() == 0, "the simlab tests need root: run pytest as root"
    simlab = Simlab(hypervisors=2)
    state = simlab.up()
    try:
        yield state
    finally:
        simlab.down()
