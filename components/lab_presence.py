"""Is the cluster's lab stack there at all? Asked of the CLI before the StackReference is made.

A StackReference to a stack that does not exist fails inside the engine, which then cancels the
program: the user gets the engine's line buried under two Python tracebacks. One
`pulumi stack output` (about 1 s) first turns that into one line that says what to do.
"""

from __future__ import annotations

import shutil
import subprocess


def missing_lab_problem(lab: str, qualified: str) -> str | None:
    """The problem to report when `qualified` (org/project/stack) is unknown to the backend; None when it
    exists, or when the CLI cannot be asked (then the StackReference reports it)."""
    pulumi = shutil.which("pulumi")
    if pulumi is None:
        return None
    try:
        result = subprocess.run([pulumi, "stack", "output", "--json", "-s", qualified], capture_output=True,
                                text=True, timeout=60, check=False, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if result.returncode != 0 and "no stack named" in result.stderr:
        return (f"ocplab:lab: the lab stack {lab!r} does not exist in this backend: deploy it first "
                f"(pulumi stack init {lab}; pulumi up -s {lab}), or name the right lab")
    return None
