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

from simlab.errors import SimlabError

LOCK = "/run/lock/ocplab-simlab-session.lock"
SESSION_ENV = "OCPLAB_SIMLAB_SESSION"
# Another lock file, for specs of the lock itself: they must not wait for a lab another run holds.
LOCK_ENV = "OCPLAB_SIMLAB_LOCK"


class LabBusyError(SimlabError):
    """Another session (a test run, a benchmark, the demo) holds the machine's simulated lab."""


@contextlib.contextmanager
def exclusive_lab(timeout: float = 3600) -> Iterator[None]:
    """Hold the machine's simlab for the duration of the block (waits up to `timeout` s).

    Processes the holder starts (a test's `python -m simlab ...`) belong to its session: they
    inherit OCPLAB_SIMLAB_SESSION and go ahead without waiting for their own parent.
    """
    if os.environ.get(SESSION_ENV):
        yield
        return
    lock = os.environ.get(LOCK_ENV) or LOCK
    os.makedirs(os.path.dirname(lock), exist_ok=True)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise LabBusyError(f"another session (a test run, `make bench` or `make demo`) is using the "
                                       f"simulated lab ({lock}); wait for it to finish", exit_code=2) from None
                time.sleep(1)
        os.environ[SESSION_ENV] = str(os.getpid())
        yield
    finally:
        os.environ.pop(SESSION_ENV, None)
        os.close(fd)
