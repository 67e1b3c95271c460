"""Our Pulumi program under Pulumi's mocks, in a child process: the Python side of preview/up."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bench.labclient import PROJECT, BenchError, LabClient


@dataclass(frozen=True)
class ProgramRun:
    """One child process: its import time, each stack's declare time and resource count, peak RSS."""

    import_seconds: float
    stacks: tuple[tuple[str, float, int], ...]
    peak_rss_bytes: int

    @property
    def declare_seconds(self) -> float:
        return sum(seconds for _, seconds, _ in self.stacks)

    @property
    def resources(self) -> int:
        return sum(count for _, _, count in self.stacks)


def run_program(client: LabClient, stacks: Sequence[str], refs: Mapping[str, Any], tag: str) -> ProgramRun:
    """Declare `stacks` one after the other in one fresh process; `refs` are the outputs their
    StackReferences see (stack name -> outputs)."""
    refs_file = client.timings / f"refs-{tag}.json"
    out = client.timings / f"program-{tag}.json"
    refs_file.write_text(json.dumps(refs))
    env = client.env()
    result = subprocess.run([sys.executable, "-m", "bench.mockrun", str(out), str(refs_file), *stacks],
                            cwd=PROJECT, env=env, capture_output=True, text=True, timeout=900, check=False)
    if result.returncode != 0:
        raise BenchError(f"the program under mocks failed for {', '.join(stacks)}:\n{result.stderr[-4000:]}")
    data = json.loads(out.read_text())
    return ProgramRun(float(data["import_seconds"]),
                      tuple((s["stack"], float(s["seconds"]), int(s["resources"])) for s in data["stacks"]),
                      int(data["peak_rss_bytes"]))
