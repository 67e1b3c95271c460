"""Running external commands with bounded time and errors that say which command failed."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Mapping, Sequence

from simlab.errors import SimlabError


def run(
    argv: Sequence[str],
    *,
    check: bool = True,
    timeout: float = 60,
    input: str | None = None,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run argv to completion, capturing text output; raise SimlabError if it fails or hangs."""
    try:
        done = subprocess.run(
            list(argv),
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=dict(env) if env is not None else None,
            stdin=None if input is not None else subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired as e:
        raise SimlabError(f"`{_show(argv)}` did not finish within {timeout:g} s") from e
    except FileNotFoundError as e:
        raise SimlabError(f"`{argv[0]}` not found: {e}") from e
    if check and done.returncode != 0:
        raise SimlabError(f"`{_show(argv)}` failed ({done.returncode}): {_tail(done.stderr)}")
    return done


def wait_for(what: str, ready: Callable[[], bool], timeout: float, hint: str = "") -> None:
    """Poll `ready` until it holds; raise SimlabError naming `what` (and where to look) if not."""
    deadline = time.monotonic() + timeout
    delay = 0.02
    while True:
        if ready():
            return
        if time.monotonic() >= deadline:
            raise SimlabError(f"{what} not ready after {timeout:g} s" + (f"; {hint}" if hint else ""))
        time.sleep(delay)
        delay = min(delay * 1.5, 0.25)


def _show(argv: Sequence[str]) -> str:
    text = " ".join(argv)
    return text if len(text) < 160 else text[:157] + "..."


def _tail(stderr: str) -> str:
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no error output"
