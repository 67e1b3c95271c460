"""One simulated lab per machine: outsiders are refused, the holder's own children go ahead."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from simlab.session import LOCK_ENV, SESSION_ENV, exclusive_lab

TRY = "from simlab.session import exclusive_lab\nwith exclusive_lab(timeout=0):\n    print('got the lab')\n"


def attempt(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", TRY], capture_output=True, text=True, env=env, check=False)


@pytest.fixture(autouse=True)
def own_lock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A lock file of these specs' own (children inherit it), so a lab another run holds never delays them; and no
    session of the run around them (a full test run holds the lab), so these specs take and hold that file."""
    monkeypatch.setenv(LOCK_ENV, str(tmp_path / "simlab.lock"))
    monkeypatch.delenv(SESSION_ENV, raising=False)
    yield


def test_an_outsider_is_refused_while_the_lab_is_held() -> None:
    with exclusive_lab(timeout=120):
        outsider = {k: v for k, v in os.environ.items() if k != SESSION_ENV}
        result = attempt(outsider)
    assert result.returncode != 0
    assert "is using the simulated lab" in result.stderr


def test_a_child_of_the_holder_goes_ahead() -> None:
    with exclusive_lab(timeout=120):
        result = attempt(dict(os.environ))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "got the lab"
