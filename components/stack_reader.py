"""Stack outputs read through the `pulumi` CLI from inside a program, before any resource exists.

A StackReference does not serve here: to a stack that does not exist it makes the engine cancel the program
under two Python tracebacks, and to the stack itself (a cluster's previous assignments) it now and then fails
with "failed to load checkpoint: EOF" right after a destroy (docs/engine-findings.md, "A cluster on a missing or
destroyed lab" and "A StackReference to itself"). `pulumi stack output` reads the last completed outputs and
is retried on that error. Each read is a CLI child, so `prefetch` starts the reads a program needs before it
imports the providers' SDKs, all at once, and `read_outputs` takes their results. On a file backend the same
outputs are read from the checkpoint file instead (components.checkpoint_reader), with no CLI at all.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from typing import Any

from components.checkpoint_reader import backend_directory, checkpoint_outputs

RETRIES = 5


class StackMissingError(LookupError):
    """The backend has no such stack."""


def qualified_name(organization: str, project: str, stack: str) -> str:
    """org/project/stack, as the self-managed (file, PostgreSQL) backends and Pulumi Cloud all accept."""
    return f"{organization}/{project}/{stack}"


class OutputsRead:
    """The stack's checkpoint read now, or else one `pulumi stack output --json` child, started now and
    awaited in `result`."""

    def __init__(self, qualified: str) -> None:
        self.qualified = qualified
        self.read = _from_checkpoint(qualified)
        self.child = self._start() if self.read is None else None

    def _start(self) -> subprocess.Popen[str] | None:
        pulumi = shutil.which("pulumi")
        if pulumi is None:
            return None
        try:
            return subprocess.Popen([pulumi, "stack", "output", "--json", "-s", self.qualified], text=True,
                                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        except OSError:
            return None

    def result(self) -> dict[str, Any] | None:
        """The outputs; None when the CLI cannot be asked (the program then stops naming the command to run);
        StackMissingError when the backend has no such stack."""
        if self.read is not None:
            return self.read
        for attempt in range(RETRIES):
            if self.child is None:
                return None
            try:
                stdout, stderr = self.child.communicate(timeout=120)
            except subprocess.TimeoutExpired:
                self.child.kill()
                self.child.communicate()
                return None
            if self.child.returncode == 0:
                return dict(json.loads(stdout or "{}"))
            if "no stack named" in stderr:
                raise StackMissingError(self.qualified)
            if "failed to load checkpoint" not in stderr:
                return None
            time.sleep(0.5 * (attempt + 1))
            self.child = self._start()
        return None


def _from_checkpoint(qualified: str) -> dict[str, Any] | None:
    backend = backend_directory()
    _organization, project, stack = qualified.split("/", 2)
    return checkpoint_outputs(backend, project, stack) if backend is not None else None


_started: dict[str, OutputsRead] = {}


def prefetch(*qualified: str) -> None:
    """Start reading these stacks' outputs now, side by side."""
    for name in qualified:
        _started.setdefault(name, OutputsRead(name))


def read_outputs(qualified: str) -> dict[str, Any] | None:
    """The outputs of stack `qualified` (org/project/stack), from its prefetched read if there is one."""
    return (_started.pop(qualified, None) or OutputsRead(qualified)).result()


def missing_lab_problem(lab: str) -> str:
    return (f"ocplab:lab: the lab stack {lab!r} does not exist in this backend: deploy it first "
            f"(pulumi stack init {lab}; pulumi up -s {lab}), or name the right lab")
