"""One simulated lab for the end-to-end tests of this directory, torn down at the end."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from simlab.guest.build import build_image
from simlab.lab import Simlab
from tests.e2e.lab_helpers import LabSession, require_root_and_engine


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabSession]:
    require_root_and_engine()
    build_image()
    lab = Simlab(hypervisors=2)
    lab.up()
    session = LabSession(Path(tmp_path_factory.mktemp("e2e")))
    try:
        yield session
    finally:
        lab.down()
        for what, value in session.figures.items():
            print(f"\nfigure: {what}: {value:.1f}")
