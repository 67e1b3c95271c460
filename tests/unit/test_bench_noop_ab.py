"""bench.noop_ab's variants and summary: the A/B of settings on the seed cluster's no-ops and whole up."""

from __future__ import annotations

from pathlib import Path

from bench.noop_ab import VARIANTS, Sample, summary, variant_env
from components.program_exit import KEEP as PROGRAM_TEARDOWN
from components.sdk_debug_log import KEEP as SDK_DEBUG_LOG


def test_each_program_switch_has_the_variant_that_turns_it_back() -> None:
    assert variant_env("teardown", Path("/w")) == {PROGRAM_TEARDOWN: "1"}
    assert variant_env("sdk-debug-log", Path("/w")) == {SDK_DEBUG_LOG: "1"}
    assert VARIANTS["as-is"].env == {} and not VARIANTS["as-is"].own_salt


def test_the_summary_gives_medians_per_variant_and_command_fresh_ups_included() -> None:
    samples = [Sample("as-is", "fresh up", wall, 2.0, None) for wall in (4.3, 4.5, 4.4)]
    samples += [Sample("teardown", "fresh up", wall, 2.5, None) for wall in (5.2, 5.6)]
    samples += [Sample("as-is", "preview", 1.5, 1.8, 0)]
    lines = summary(samples).splitlines()
    assert lines == [
        "         as-is preview: wall median 1.50 s (min 1.50), CPU median 1.80 s (min 1.80), 1 runs, changes [0]",
        "         as-is fresh up: wall median 4.40 s (min 4.30), CPU median 2.00 s (min 2.00), 3 runs, changes [None]",
        "      teardown fresh up: wall median 5.40 s (min 5.20), CPU median 2.50 s (min 2.50), 2 runs, changes [None]",
    ]
