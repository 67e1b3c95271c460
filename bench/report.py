"""The benchmark's table (metric | measured | target | met?), machine facts and results file."""

from __future__ import annotations

import os
import platform
import re
import subprocess
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path


@dataclass(frozen=True)
class Row:
    """One line of the table. `met` is None where there is no target or nothing to compare."""

    metric: str
    measured: str
    target: str = ""
    met: bool | None = None

    @property
    def verdict(self) -> str:
        return {True: "yes", False: "NO", None: "-"}[self.met]


@dataclass
class Section:
    """What a scenario reports: table rows, and notes for the results file."""

    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, metric: str, measured: str, target: str = "", met: bool | None = None) -> None:
        self.rows.append(Row(metric, measured, target, met))


def by_scenario(rows: Iterable[Row]) -> list[Row]:
    """Rows in the issue's scenario order ("3. ..." after "2. ..."), lab set-up rows first; the
    order within a scenario is kept."""
    def number(row: Row) -> int:
        head = row.metric.split(".", 1)[0]
        return int(head) if head.isdigit() else 0
    return sorted(rows, key=number)


def seconds(value: float) -> str:
    return f"{value:.2f} s" if value < 10 else f"{value:.1f} s"


def size(value: float) -> str:
    """Bytes in the largest unit that keeps the number >= 1 (binary units)."""
    for unit, factor in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if abs(value) >= factor:
            return f"{value / factor:.1f} {unit}"
    return f"{value:.0f} B"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def format_table(rows: Sequence[Row]) -> str:
    """A Markdown table, columns padded so it also reads as plain text."""
    header = ("metric", "measured", "target", "met?")
    cells = [header, *[(_cell(r.metric), _cell(r.measured), _cell(r.target), r.verdict) for r in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(4)]
    lines = ["| " + " | ".join(text.ljust(width) for text, width in zip(row, widths, strict=True)) + " |"
             for row in cells]
    lines.insert(1, "|" + "|".join("-" * (width + 2) for width in widths) + "|")
    return "\n".join(lines) + "\n"


def _first_line(argv: list[str]) -> str:
    try:
        result = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=30)
    except OSError as exc:
        return f"unknown ({exc.strerror})"
    lines = (result.stdout or result.stderr).strip().splitlines()
    return lines[0] if lines else "unknown"


def _meminfo_total(text: str) -> int:
    match = re.search(r"^MemTotal:\s+(\d+) kB", text, re.M)
    return int(match.group(1)) * 1024 if match else 0


def _cpu_model(text: str) -> str:
    match = re.search(r"^model name\s*:\s*(.+)$", text, re.M)
    return match.group(1).strip() if match else platform.processor() or "unknown"


def machine_facts(read: Callable[[str], str] = lambda p: Path(p).read_text(),
                  first_line: Callable[[list[str]], str] = _first_line) -> dict[str, str]:
    """What the figures depend on: CPU, cores, memory, kernel, OS, libvirt and QEMU versions."""
    return {
        "CPU model": _cpu_model(read("/proc/cpuinfo")),
        "cores": str(os.cpu_count() or 0),
        "memory": size(_meminfo_total(read("/proc/meminfo"))),
        "kernel": platform.release(),
        "OS": f"Debian {read('/etc/debian_version').strip()}" if Path("/etc/debian_version").exists() else "unknown",
        "libvirt": first_line(["libvirtd", "--version"]),
        "virsh": first_line(["virsh", "--version"]),
        "QEMU": first_line(["qemu-system-x86_64", "--version"]),
        "Python": platform.python_version(),
    }


def results_document(rows: Sequence[Row], facts: dict[str, str], when: datetime, commit: str,
                     notes: Sequence[str], elapsed: float) -> str:
    """The results file: date, machine facts, the table, and notes (breakdowns, what is n/a and why)."""
    lines = [f"# ocplab benchmark, {when.strftime('%Y-%m-%d %H:%M:%S %Z').strip()}", "",
             f"`make bench` on commit {commit}, {elapsed:.0f} s in all, every figure measured in this one run.", "",
             "## Machine", ""]
    lines += [f"- {key}: {value}" for key, value in facts.items()]
    lines += ["", "## Results", "", format_table(rows).rstrip("\n"), "", "## Notes", ""]
    lines += [f"- {note}" for note in notes]
    return "\n".join(lines) + "\n"


def write_results(directory: Path, text: str, when: datetime) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{when.strftime('%Y-%m-%d_%H%M%S')}.md"
    path.write_text(text)
    return path
