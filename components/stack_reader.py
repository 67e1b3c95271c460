"""Stack outputs read through the `pulumi` CLI from inside a program, before any resource exists.

Two engine behaviours make this the way (both seen with the file backend of v3.259.0):
- a StackReference to a stack that does not exist fails inside the engine, which then cancels
  the program: the user gets the engine's line buried under two Python tracebacks;
- a StackReference of a stack to itself (how a cluster stack reads its previous address
  assignments) intermittently fails with "failed to load checkpoint: EOF" on the first update
  after a destroy, as the engine rewrites that checkpoint while the reference reads it.
`pulumi stack output` (about 1 s) reads the last completed outputs, and is retried on that error.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from typing import Any

RETRIES = 5


class StackMissingError(LookupError):
    """The backend has no such stack."""


def read_outputs(qualified: str) -> dict[str, Any] | None:
    """The outputs of stack `qualified` (org/project/stack); None when the CLI cannot be asked (then a
    StackReference does it); StackMissingError when the backend has no such stack."""
    pulumi = shutil.which("pulumi")
    if pulumi is None:
        return None
    for attempt in range(RETRIES):
        try:
            result = subprocess.run([pulumi, "stack", "output", "--json", "-s", qualified], capture_output=True,
                                    text=True, timeout=120, check=False, stdin=subprocess.DEVNULL)
        except (OSError, subprocess.TimeoutExpired):
            return None
        if result.returncode == 0:
            return dict(json.loads(result.stdout or "{}"))
        if "no stack named" in result.stderr:
            raise StackMissingError(qualified)
        if "failed to load checkpoint" not in result.stderr:
            return None
        time.sleep(0.5 * (attempt + 1))
    return None


def missing_lab_problem(lab: str) -> str:
    return (f"ocplab:lab: the lab stack {lab!r} does not exist in this backend: deploy it first "
            f"(pulumi stack init {lab}; pulumi up -s {lab}), or name the right lab")
