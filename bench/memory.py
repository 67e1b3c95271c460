"""Peak memory of everything a set of `pulumi` commands runs: the memory of the whole process tree
under the benchmark's process (CLI, language host, our program and the `pulumi stack output` it
runs, providers), sampled from /proc at about 10 Hz while the commands run.

Two sums: RSS counts a page once per process that maps it, so ten CLIs of one 115 MB binary count
its text ten times; PSS (smaps_rollup) splits each shared page among its sharers, so its sum is what
the tree takes from the machine's memory."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path


@dataclass(frozen=True)
class Proc:
    pid: int
    ppid: int
    rss: int  # bytes
    name: str
    pss: int = 0  # bytes, from smaps_rollup (0 where it was not read)


def parse_status(pid: int, text: str) -> Proc:
    """Name, PPid and VmRSS of /proc/<pid>/status (kernel threads have no VmRSS: 0)."""
    fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
    rss = fields.get("VmRSS", "0 kB").split()
    return Proc(pid, int(fields.get("PPid", "0").strip()), int(rss[0]) * 1024 if rss else 0,
                fields.get("Name", "").strip())


def parse_pss(text: str) -> int:
    """Pss of /proc/<pid>/smaps_rollup, in bytes (0 when absent: a kernel thread, or the process is gone)."""
    for line in text.splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) * 1024
    return 0


def with_pss(proc: Proc, root: Path = Path("/proc")) -> Proc:
    try:
        return replace(proc, pss=parse_pss((root / str(proc.pid) / "smaps_rollup").read_text()))
    except OSError:
        return proc


def descendants(root: int, table: Mapping[int, Proc]) -> list[Proc]:
    """Every process whose parent chain reaches `root` (root itself left out)."""
    children: dict[int, list[int]] = {}
    for proc in table.values():
        children.setdefault(proc.ppid, []).append(proc.pid)
    found, todo = [], list(children.get(root, []))
    while todo:
        pid = todo.pop()
        found.append(table[pid])
        todo.extend(children.get(pid, []))
    return found


def category(argv0: str, name: str) -> str:
    """What a process is, by its program (status names stop at 15 characters)."""
    base = os.path.basename(argv0) or name
    if base.startswith("pulumi-resource-"):
        return base.removeprefix("pulumi-resource-") + " provider"
    if base.startswith("pulumi-language-"):
        return "language host"
    if base == "pulumi":
        return "pulumi CLI (and `pulumi stack output` children)"
    if base.startswith("python") or name.startswith("python"):
        return "our program (python)"
    return "other (" + (base or name) + ")"


def snapshot(proc: Path = Path("/proc")) -> dict[int, Proc]:
    table = {}
    for entry in proc.iterdir():
        if entry.name.isdigit():
            try:
                table[int(entry.name)] = parse_status(int(entry.name), (entry / "status").read_text())
            except (OSError, ValueError):
                continue
    return table


def _argv0(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().split(b"\0", 1)[0].decode(errors="replace")
    except OSError:
        return ""


@dataclass
class Peak:
    """Highest total RSS of the tree, what made it up at that moment, and each category's own peak."""

    samples: int = 0
    total: int = 0
    processes: int = 0
    at_peak: dict[str, int] = field(default_factory=dict)
    category_peak: dict[str, int] = field(default_factory=dict)
    largest: tuple[str, int] = ("", 0)
    pss_total: int = 0  # the highest PSS sum, and what made it up then
    pss_processes: int = 0
    pss_at_peak: dict[str, int] = field(default_factory=dict)

    def record(self, procs: list[Proc], kind: Callable[[Proc], str]) -> None:
        self.samples += 1
        pss = sum(p.pss for p in procs)
        if pss > self.pss_total:
            self.pss_total, self.pss_processes = pss, len(procs)
            self.pss_at_peak = {}
            for proc in procs:
                self.pss_at_peak[kind(proc)] = self.pss_at_peak.get(kind(proc), 0) + proc.pss
        by_kind: dict[str, int] = {}
        for proc in procs:
            by_kind[kind(proc)] = by_kind.get(kind(proc), 0) + proc.rss
            if proc.rss > self.largest[1]:
                self.largest = (kind(proc), proc.rss)
        for key, value in by_kind.items():
            self.category_peak[key] = max(self.category_peak.get(key, 0), value)
        now = sum(p.rss for p in procs)
        if now > self.total:
            self.total, self.processes, self.at_peak = now, len(procs), by_kind


@contextmanager
def sampled(interval: float = 0.1, root: int | None = None) -> Iterator[Peak]:
    """Sample the tree under `root` (default: this process, minus this sampler) until the block ends."""
    peak, stop = Peak(), threading.Event()
    root = root or os.getpid()
    names: dict[int, str] = {}

    def kind(proc: Proc) -> str:
        if proc.pid not in names:
            names[proc.pid] = category(_argv0(proc.pid), proc.name)
        return names[proc.pid]

    def loop() -> None:
        while not stop.is_set():
            peak.record([with_pss(p) for p in descendants(root, snapshot()) if p.rss], kind)
            stop.wait(interval)

    thread = threading.Thread(target=loop, name="rss-sampler", daemon=True)
    thread.start()
    try:
        yield peak
    finally:
        stop.set()
        thread.join()
