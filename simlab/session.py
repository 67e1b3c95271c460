"""One simulated lab per machine at a time: a lock held for a whole test session or benchmark.

`Simlab.up()` always replaces the running lab, so two sessions (two test runs, a test run and a
benchmark) would tear each other's lab down. Whoever uses the lab holds this lock; the others wait.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator

LOCK = "/run/lock/ocplab-simlab-session.lock"


@contextlib.contextmanager
def exclusive_lab(timeout: float = 3600) -> Iterator[None]:
    """Hold the machine's simlab for the duration of the block (waits up to `timeout` s)."""
    os.makedirs(os.path.dirname(LOCK), exist_ok=True)
    fd = os.open(LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"another session has held {LOCK} for over {timeout:.0f} s") from None
                time.sleep(1)
        yield
    finally:
        os.close(fd)
