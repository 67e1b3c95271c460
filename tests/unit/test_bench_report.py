"""The benchmark's table, units and results file: pure formatting."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bench.report import (
    Row,
    by_scenario,
    format_table,
    machine_facts,
    results_document,
    seconds,
    size,
    write_results,
)


def test_table_has_header_rule_and_verdicts() -> None:
    rows = [Row("deploy", "27.9 s", "reference"), Row("no-op", "4.80 s", "< 10 s", True),
            Row("ratio", "0.71", "<= 0.6", False), Row("pulumi up", "not measured in this run", "<= 1.0")]
    lines = format_table(rows).splitlines()
    assert lines[0].split("|")[1:5] == [" metric    ", " measured                 ", " target    ", " met? "]
    assert set(lines[1]) == {"|", "-"} and len(lines[1]) == len(lines[0])
    assert [line.rsplit("|", 2)[1].strip() for line in lines[2:]] == ["-", "yes", "NO", "-"]
    assert "not measured" in lines[5] and all(len(line) == len(lines[0]) for line in lines)


def test_cells_with_pipes_and_newlines_stay_in_their_column() -> None:
    table = format_table([Row("a|b", "1\n2")])
    assert "a\\|b" in table and "1 2" in table and table.count("\n") == 3


def test_units() -> None:
    assert seconds(4.8123) == "4.81 s" and seconds(147.39) == "147.4 s"
    assert size(512) == "512 B" and size(200 * 1024) == "200.0 KiB" and size(1.5 * 1024**2) == "1.5 MiB"
    assert size(24 * 1024**3) == "24.0 GiB"


def test_machine_facts_read_cpu_and_memory() -> None:
    files = {"/proc/cpuinfo": "processor\t: 0\nmodel name\t: AMD EPYC\n", "/proc/meminfo": "MemTotal: 25165824 kB\n",
             "/etc/debian_version": "12.9\n"}
    facts = machine_facts(read=lambda path: files[path], first_line=lambda argv: f"{argv[0]} 9.0.0")
    assert facts["CPU model"] == "AMD EPYC" and facts["memory"] == "24.0 GiB"
    assert facts["libvirt"] == "libvirtd 9.0.0" and facts["QEMU"] == "qemu-system-x86_64 9.0.0"


def test_results_file_has_date_facts_table_and_notes(tmp_path: Path) -> None:
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    text = results_document([Row("m", "1 s", "< 2 s", True)], {"cores": "2"}, when, "abc123", ["a note"], 600.4)
    assert text.startswith("# ocplab benchmark, 2026-01-02 03:04:05 UTC\n")
    assert "commit abc123, 600 s" in text and "- cores: 2" in text and "| m " in text and "- a note" in text
    path = write_results(tmp_path / "results", text, when)
    assert path.name == "2026-01-02_030405.md" and path.read_text() == text


def test_rows_follow_the_scenario_numbers() -> None:
    rows = [Row("lab up", "1 s"), Row("4. a", ""), Row("3. b", ""), Row("4. c", ""), Row("1. d", ""),
            Row("10 domains", "")]
    assert [r.metric for r in by_scenario(rows)] == ["lab up", "10 domains", "1. d", "3. b", "4. a", "4. c"]
