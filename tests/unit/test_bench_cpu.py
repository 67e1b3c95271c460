"""Reading where the CPU went: /proc/stat totals and per-process ticks."""

from __future__ import annotations

import time

import pytest

from bench.cpu import TICKS, CpuUse, GuestSampler, busy_ticks, guests_settled, measured, process_ticks


def test_busy_ticks_leave_out_idle_and_iowait() -> None:
    assert busy_ticks("cpu  100 5 50 1000 40 3 2 1 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\n") == 100 + 5 + 50 + 3 + 2 + 1
    with pytest.raises(ValueError, match="cpu"):
        busy_ticks("intr 1 2 3\n")


def test_process_ticks_handle_odd_command_names() -> None:
    line = "4242 (qemu-system-x86) S 1 2 3 0 -1 4194560 100 0 0 0 700 80 0 0 20 0 3 0 5 0 0"
    assert process_ticks(line) == ("qemu-system-x86", 780)
    assert process_ticks("7 (a b) c)) R 1 2 3 0 -1 0 0 0 0 0 11 12 0 0 20 0 1 0 5 0 0")[0] == "a b) c)"


def test_busy_fraction_is_of_all_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    use = CpuUse(wall=10.0, busy=15.0, guests=4.0, guest_starts=3)
    assert use.busy_fraction == 0.75
    assert use.describe() == "cores 75% busy: 15 CPU-s, 4 of them in TCG guests (3 QEMU processes started)"


def test_a_guest_that_starts_and_stops_inside_the_block_still_counts() -> None:
    """The provider starts each defined-only domain it creates and destroys it before the create returns."""
    readings = iter([
        {10: 500},                        # a guest running before the block
        {10: 520, 11: 30},                # a transient guest appears
        {10: 540, 11: 90, 12: 5},         # and another
        {10: 550, 12: 40},                # 11 is gone: its last reading stands
        {12: 60},                         # 10 stopped too (read by stop)
    ])
    sampler = GuestSampler(read=lambda: next(readings))
    for _ in range(3):
        sampler.sample()
    assert sampler.stop() == ((550 - 500) + 90 + 60, 2)


def test_measured_samples_guests_while_the_block_runs() -> None:
    ticks = {"now": 0}

    def read() -> dict[int, int]:
        ticks["now"] += TICKS
        return {99: ticks["now"]}

    with measured(read=read, interval=0.01) as use:
        for _ in range(100):
            if ticks["now"] >= 5 * TICKS:
                break
            time.sleep(0.01)
    assert use.guests >= 4 and use.guest_starts == 0 and use.wall > 0


def test_guests_settle_once_a_window_uses_under_the_share_of_a_core() -> None:
    readings = iter([0, 2 * TICKS, 2 * TICKS, 3 * TICKS, 3 * TICKS, 3 * TICKS])  # busy, busy, idle
    slept: list[float] = []
    assert guests_settled(window=2.0, share=0.05, ticks=lambda: next(readings), sleep=slept.append) == 6.0
    assert slept == [2.0, 2.0, 2.0]
    always = iter(range(0, 10**6, TICKS))
    assert guests_settled(window=2.0, limit=5.0, ticks=lambda: next(always), sleep=lambda _s: None) == 6.0


def test_seven_idle_guests_count_as_settled_and_one_booting_guest_does_not() -> None:
    idle = iter([0, round(0.07 * 2 * TICKS)])  # 7% of a core over the 2 s window: the seed's guests booted
    assert guests_settled(ticks=lambda: next(idle), sleep=lambda _s: None) == 2.0
    booting = iter(range(0, 10**6, 2 * TICKS))  # a whole core
    assert guests_settled(limit=4.0, ticks=lambda: next(booting), sleep=lambda _s: None) == 4.0
