"""The benchmark's side of the real engine: `pulumi up`/`preview`/`destroy` of the bench stacks,
timed as a user waits (process start to exit), from the jumphost namespace, on a copy of the
project with its own stack files and file backend (simlab.pulumi_engine.Workspace)."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.labclient import BenchError
from simlab.pulumi_engine import Workspace, copy_project, failure_summary


@dataclass(frozen=True)
class EngineRun:
    stack: str
    command: str
    wall: float
    returncode: int
    stdout: str
    stderr: str
    trace: Path | None = None


def change_summary(stdout: str) -> dict[str, int] | None:
    """`changeSummary` of `pulumi preview --json` (or `up --json`) output, None when there is none."""
    text = stdout.strip()
    candidates = [text] + [line for line in reversed(text.splitlines()) if line.startswith("{")]
    for candidate in candidates:
        try:
            data = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(data, dict) and isinstance(data.get("changeSummary"), dict):
            return {str(k): int(v) for k, v in data["changeSummary"].items()}
    match = re.search(r'"changeSummary"\s*:\s*(\{[^}]*\})', text)
    return {str(k): int(v) for k, v in json.loads(match.group(1)).items()} if match else None


def changes(summary: dict[str, int]) -> int:
    """Operations other than `same` in a change summary."""
    return sum(count for op, count in summary.items() if op != "same")


def history_changes(stdout: str) -> dict[str, int] | None:
    """resourceChanges of the newest update in `pulumi stack history --json`."""
    try:
        updates = json.loads(stdout or "[]")
    except ValueError:
        return None
    if not updates:
        return None
    newest = max(updates, key=lambda u: u.get("version", 0))
    return {str(k): int(v) for k, v in (newest.get("resourceChanges") or {}).items()}


def bytecode_env(workdir: Path, bytecode: str) -> dict[str, str]:
    """none: nothing written (PYTHONDONTWRITEBYTECODE=1), so a program compiles from source every module without a
    .pyc (ours always; the venv's where `make venv` did not compile it); cached: bytecode written and read in the run's
    scratch directory (never in the shared .venv), as on a jumphost where the program's user may write it."""
    if bytecode == "none":
        return {"PYTHONDONTWRITEBYTECODE": "1", "PYTHONPYCACHEPREFIX": ""}
    if bytecode == "cached":
        return {"PYTHONDONTWRITEBYTECODE": "", "PYTHONPYCACHEPREFIX": str(workdir / "pycache")}
    raise ValueError(f"bytecode: {bytecode!r} is not none or cached")


class EngineClient:
    """pulumi on the bench stacks. The stack files are written into the project copy's stacks/."""

    def __init__(self, workdir: Path, bytecode: str = "cached") -> None:
        self.project = copy_project(workdir / "project", stacks=[])
        self.stacks = self.project / "stacks"
        self.traces = workdir / "timings" / "traces"
        self.traces.mkdir(parents=True, exist_ok=True)
        self.workspace = Workspace(project=self.project, backend=workdir / "pulumi-state",
                                   extra_env=bytecode_env(workdir, bytecode))
        self._serial = 0

    def _run(self, command: str, stack: str, args: Sequence[str], trace: bool, timeout: float) -> EngineRun:
        self.workspace.ensure_stack(stack)
        path = None
        extra: list[str] = []
        if trace:
            self._serial += 1
            path = self.traces / f"{self._serial:03d}-{command}-{stack}.json"
            extra = ["--otel-traces", f"file://{path}"]
        started = time.monotonic()
        result = self.workspace.run(command, "-s", stack, *args, *extra, timeout=timeout, check=False)
        wall = time.monotonic() - started
        return EngineRun(stack, command, wall, result.returncode, result.stdout, result.stderr,
                         path if path and path.exists() else None)

    def up(self, stack: str, *args: str, trace: bool = False, check: bool = True, timeout: float = 1800) -> EngineRun:
        run = self._run("up", stack, ["--yes", "--skip-preview", "--suppress-progress", *args], trace, timeout)
        if check and run.returncode != 0:
            raise BenchError(f"pulumi up -s {stack} failed ({run.returncode}):\n{_tail(run)}")
        return run

    def preview(self, stack: str, *args: str, trace: bool = False, check: bool = True) -> EngineRun:
        run = self._run("preview", stack, ["--suppress-progress", *args], trace, 1800)
        if check and run.returncode != 0:
            raise BenchError(f"pulumi preview -s {stack} failed ({run.returncode}):\n{_tail(run)}")
        return run

    def destroy(self, stack: str, check: bool = True) -> EngineRun:
        run = self._run("destroy", stack, ["--yes", "--skip-preview", "--suppress-progress"], False, 1800)
        if check and run.returncode != 0:
            raise BenchError(f"pulumi destroy -s {stack} failed ({run.returncode}):\n{_tail(run)}")
        return run

    def outputs(self, stack: str) -> dict[str, Any]:
        return self.workspace.outputs(stack, show_secrets=True)

    def last_update_changes(self, stack: str) -> dict[str, int] | None:
        return history_changes(self.workspace.run("stack", "history", "--json", "-s", stack, check=False).stdout)

    @staticmethod
    def together(action: Callable[[str], EngineRun], stacks: Sequence[str]) -> tuple[float, list[EngineRun]]:
        """`action` on every stack at once (one pulumi process each): wall time, runs."""
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=max(1, len(stacks))) as pool:
            runs = list(pool.map(action, stacks))
        return time.monotonic() - started, runs

    @staticmethod
    def in_turn(action: Callable[[str], EngineRun], stacks: Sequence[str]) -> tuple[float, list[EngineRun]]:
        started = time.monotonic()
        runs = [action(stack) for stack in stacks]
        return time.monotonic() - started, runs


def _tail(run: EngineRun) -> str:
    """What failed (the error lines, wherever they are), then the last lines."""
    return failure_summary(run.stdout + run.stderr)
