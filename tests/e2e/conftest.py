"""One simulated lab for the end-to-end tests of this directory, torn down at the end."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.lab_helpers import LabSession, lab_session


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabSession]:
    yield from lab_session(tmp_path_factory)
