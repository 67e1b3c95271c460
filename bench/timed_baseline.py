"""`python -m bench.timed_baseline OUT.json up|destroy STACK...`: the baseline, timed by step.

Runs `baseline`'s own main unchanged, with its remote calls wrapped so each one's wall time is
added to a category (dnsmasq apply, volumes, define, start, ...). Writes the totals to OUT.json.
Runs where the baseline runs: in the jumphost's network namespace.
"""

from __future__ import annotations

import functools
import json
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import bench.baseline.cluster
from bench.baseline import __main__ as baseline_main
from bench.baseline.remote import Ssh, Virsh
from renderers import dnsmasq_layout as layout

P = ParamSpec("P")
R = TypeVar("R")

VIRSH_CATEGORIES = {
    "vol-list": "volumes", "vol-create-as": "volumes", "vol-path": "volumes", "vol-upload": "volumes",
    "vol-delete": "volumes", "define": "define", "start": "start", "domuuid": "lookups",
    "net-define": "provisioning network", "net-start": "provisioning network",
    "net-autostart": "provisioning network", "net-destroy": "provisioning network",
    "net-undefine": "provisioning network", "destroy": "stop + undefine", "undefine": "stop + undefine",
}


class Recorder:
    """Seconds and calls per category; thread-safe (the baseline's lab deploy uses threads)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self._lock = threading.Lock()

    def add(self, category: str, seconds: float) -> None:
        with self._lock:
            self.seconds[category] = self.seconds.get(category, 0.0) + seconds
            self.calls[category] = self.calls.get(category, 0) + 1

    def timed(self, fn: Callable[P, R], category: Callable[..., str]) -> Callable[P, R]:
        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            started = time.monotonic()
            try:
                return fn(*args, **kwargs)
            finally:
                self.add(category(*args, **kwargs), time.monotonic() - started)
        return wrapper


def virsh_category(_self: Virsh, *args: str, **_kwargs: Any) -> str:
    return VIRSH_CATEGORIES.get(args[0], f"other virsh ({args[0]})") if args else "other virsh"


def ssh_category(_self: Ssh, text: str, *_args: Any, **_kwargs: Any) -> str:
    return "dnsmasq entries" if layout.CONTROL in text else "other ssh scripts"


def command_category(_self: Ssh, text: str, *_args: Any, **_kwargs: Any) -> str:
    return "virtual BMCs" if "vbmc" in text else "other ssh commands"


def install(recorder: Recorder) -> None:
    """Wrap the baseline's remote calls (class attributes, so every instance is timed)."""
    Virsh.run = recorder.timed(Virsh.run, virsh_category)  # type: ignore[method-assign]
    Virsh.exists = recorder.timed(Virsh.exists, lambda *_a, **_k: "lookups")  # type: ignore[method-assign]
    Ssh.script = recorder.timed(Ssh.script, ssh_category)  # type: ignore[method-assign]
    Ssh.command = recorder.timed(Ssh.command, command_category)  # type: ignore[method-assign]
    bench.baseline.cluster._cidata_iso = recorder.timed(
        bench.baseline.cluster._cidata_iso, lambda *_a, **_k: "cloud-init ISO (genisoimage)")


def main(argv: list[str]) -> int:
    out, args = Path(argv[0]), argv[1:]
    recorder = Recorder()
    install(recorder)
    started = time.monotonic()
    code = baseline_main.main(args)
    total = time.monotonic() - started
    out.write_text(json.dumps({"rc": code, "seconds": total, "categories": recorder.seconds,
                               "calls": recorder.calls}, indent=2, sort_keys=True))
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
