"""Test-session rules shared by every directory."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from simlab.session import exclusive_lab


@pytest.fixture(scope="session", autouse=True)
def one_simlab_per_machine(request: pytest.FixtureRequest) -> Iterator[None]:
    """A session that runs simlab tests holds the machine's lab until it ends; others wait."""
    if any(item.get_closest_marker("simlab") for item in request.session.items):
        with exclusive_lab():
            yield
    else:
        yield


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Programs refused under Pulumi's mocks leave their resources' failed registrations behind;
    asyncio would print each one at interpreter exit, long after the results were reported."""
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)
