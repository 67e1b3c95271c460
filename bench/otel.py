"""Where a `pulumi up`/`preview` spends its wall time, from its OpenTelemetry traces.

`pulumi --otel-traces file:///x.json` writes OTLP/JSON lines: spans of the CLI (engine, state
writes, the gRPC calls it makes to the language host and to each provider), of the Python language
host, and of our program (the SDK's gRPC calls to the engine). Pure functions over those spans:

- **wall** is the CLI's root span `pulumi`;
- a sweep over that interval gives every instant one owner, first match wins: a **provider** call
  in flight (`pulumirpc.ResourceProvider/*`, the CLI's client side: the provider's own work, its
  libvirt RPCs and SSH round trips included), a **state write** (`gocloud.dev/blob.*`: the file
  backend's checkpoints), the **program** before its first registration (interpreter start and
  imports), **engine + program** while the program runs (registrations, steps, our Python),
  and the **CLI** outside the program run (start-up, plugin loading, plan, summary);
- of the program's start-up, **ours**: from the SDK's first call to the engine (GetDeploymentInfo, made once
  the language host's script has imported pulumi, before it runs __main__.py) to the first registration;
- sums and counts per provider method (CPU-like: calls overlap).

`python -m bench.otel TRACE...` prints those figures for traces a run kept (bench/results/<date>-timings/traces).
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

PROVIDER_CALL = re.compile(r"^/?pulumirpc\.ResourceProvider/(\w+)$")
REGISTER = "pulumirpc.ResourceMonitor/RegisterResource"
RUN = "pulumirpc.LanguageRuntime/Run"
DEPLOYMENT_INFO = "pulumirpc.ResourceMonitor/GetDeploymentInfo"
CATEGORIES = ("provider calls", "state writes", "program start-up", "engine + program", "CLI outside the program")
CLIENT, SERVER = 3, 2  # OTLP span kinds


@dataclass(frozen=True)
class Span:
    service: str
    name: str
    kind: int
    start: int  # ns since the epoch
    end: int

    @property
    def seconds(self) -> float:
        return (self.end - self.start) / 1e9


def read_spans(lines: Iterable[str]) -> list[Span]:
    """Spans of OTLP/JSON lines (one ExportTraceServiceRequest per line); blank lines skipped."""
    found = []
    for line in lines:
        if not line.strip():
            continue
        for resource_spans in json.loads(line).get("resourceSpans", []):
            service = next((a["value"].get("stringValue", "") for a in resource_spans.get("resource", {})
                            .get("attributes", []) if a.get("key") == "service.name"), "")
            for scope in resource_spans.get("scopeSpans", []):
                for span in scope.get("spans", []):
                    found.append(Span(service, span["name"], int(span.get("kind", 0)),
                                      int(span["startTimeUnixNano"]), int(span["endTimeUnixNano"])))
    return found


def read_trace(path: Path) -> list[Span]:
    with path.open() as handle:
        return read_spans(handle)


def _union(intervals: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _subtract(intervals: list[tuple[int, int]], taken: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """`intervals` minus `taken` (both merged and sorted)."""
    out = []
    for start, end in intervals:
        cursor = start
        for t_start, t_end in taken:
            if t_end <= cursor or t_start >= end:
                continue
            if t_start > cursor:
                out.append((cursor, t_start))
            cursor = max(cursor, t_end)
        if cursor < end:
            out.append((cursor, end))
    return out


def _length(intervals: Iterable[tuple[int, int]]) -> float:
    return sum(end - start for start, end in intervals) / 1e9


@dataclass
class Breakdown:
    """One or more runs' wall time split into CATEGORIES (seconds), with provider calls by method."""

    runs: int = 0
    wall: float = 0.0
    resources: int = 0
    categories: dict[str, float] = field(default_factory=lambda: dict.fromkeys(CATEGORIES, 0.0))
    provider_seconds: dict[str, float] = field(default_factory=dict)
    provider_calls: dict[str, int] = field(default_factory=dict)
    state_writes: int = 0
    program_ours: float = 0.0  # the part of "program start-up" after `import pulumi` (module docstring)

    def add(self, other: Breakdown) -> None:
        self.runs += other.runs
        self.program_ours += other.program_ours
        self.wall += other.wall
        self.resources += other.resources
        self.state_writes += other.state_writes
        for key, value in other.categories.items():
            self.categories[key] = self.categories.get(key, 0.0) + value
        for key, value in other.provider_seconds.items():
            self.provider_seconds[key] = self.provider_seconds.get(key, 0.0) + value
            self.provider_calls[key] = self.provider_calls.get(key, 0) + other.provider_calls[key]

    def shares(self) -> str:
        parts = [f"{key} {value / self.wall:.0%} ({value:.1f} s)" for key, value in self.categories.items()
                 if self.wall and value > 0]
        return ", ".join(parts)

    def methods(self, top: int = 5) -> str:
        ranked = sorted(self.provider_seconds.items(), key=lambda item: -item[1])[:top]
        return ", ".join(f"{m} {self.provider_calls[m]}x {s:.1f} s" for m, s in ranked)


def breakdown(spans: Sequence[Span]) -> Breakdown:
    """The wall-time split of one CLI run's trace (see the module's docstring)."""
    roots = [s for s in spans if s.service == "pulumi-cli" and s.name == "pulumi"]
    if not roots:
        raise ValueError("no `pulumi` root span in the trace")
    root = max(roots, key=lambda s: s.seconds)
    window = [(root.start, root.end)]

    def clip(selected: Iterable[Span]) -> list[tuple[int, int]]:
        return _union((max(s.start, root.start), min(s.end, root.end)) for s in selected if s.end > root.start
                      and s.start < root.end)

    provider = [s for s in spans if s.service == "pulumi-cli" and s.kind == CLIENT and PROVIDER_CALL.match(s.name)]
    state = [s for s in spans if s.name.startswith("gocloud.dev/blob.") and s.name != "gocloud.dev/blob.Attributes"]
    run = [s for s in spans if s.service == "pulumi-cli" and s.name == RUN and s.kind == CLIENT]
    registers = sorted((s for s in spans if s.service == "pulumi-cli" and s.name == REGISTER and s.kind == SERVER),
                       key=lambda s: s.start)
    first_register = registers[0].start if registers else (run[0].end if run else root.end)
    program_start = [(s.start, min(first_register, s.end)) for s in run if s.start < first_register]
    program = [(max(s.start, first_register), s.end) for s in run if s.end > first_register]

    remaining = window
    owned: dict[str, float] = {}
    for key, taken in (("provider calls", clip(provider)), ("state writes", clip(state)),
                       ("program start-up", _union(program_start)), ("engine + program", _union(program))):
        inside = _subtract(remaining, _subtract(remaining, taken))
        owned[key] = _length(inside)
        remaining = _subtract(remaining, taken)
    owned["CLI outside the program"] = _length(remaining)

    infos = [s.start for s in spans if s.service == "pulumi-cli" and s.name == DEPLOYMENT_INFO and s.kind == SERVER
             and s.start < first_register]
    result = Breakdown(runs=1, wall=root.seconds, resources=len(registers), categories=owned,
                       state_writes=sum(1 for s in state if s.name == "gocloud.dev/blob.NewWriter"),
                       program_ours=(first_register - min(infos)) / 1e9 if infos and registers else 0.0)
    for span in provider:
        match = PROVIDER_CALL.match(span.name)
        assert match
        method = match.group(1)
        result.provider_seconds[method] = result.provider_seconds.get(method, 0.0) + span.seconds
        result.provider_calls[method] = result.provider_calls.get(method, 0) + 1
    return result


def total(paths: Iterable[Path]) -> Breakdown:
    """The sum of several runs' breakdowns (stacks run at the same time: each its own wall)."""
    summed = Breakdown()
    for path in paths:
        summed.add(breakdown(read_trace(path)))
    return summed


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.otel", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("traces", nargs="+", type=Path)
    for path in parser.parse_args(argv).traces:
        result = breakdown(read_trace(path))
        print(f"{path.name}: {result.wall:.2f} s; program start-up {result.categories['program start-up']:.2f} s, "
              f"ours (after `import pulumi`) {result.program_ours:.2f} s; {result.shares()}")


if __name__ == "__main__":
    main()
