"""Test-session rules shared by every directory."""

from __future__ import annotations

import logging
import os
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


def _hypothesis_profiles() -> None:
    """`make test` runs the fuzz tests at full size (OCPLAB_FUZZ=full); `make check` and plain pytest
    keep them short. Each example must finish within a second (Hypothesis' deadline)."""
    from hypothesis import HealthCheck, settings

    common = settings(deadline=1000, suppress_health_check=[HealthCheck.too_slow], database=None)
    settings.register_profile("full", common, max_examples=1200)
    settings.register_profile("short", common, max_examples=150)
    settings.load_profile("full" if os.environ.get("OCPLAB_FUZZ") == "full" else "short")


_hypothesis_profiles()
