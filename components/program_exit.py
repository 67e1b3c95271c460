"""A program that succeeded ends without the interpreter's teardown, which the engine would wait for.

The language host's script (pulumi-language-python-exec) calls `sys.exit(0)` once the SDK's last RPC
(SignalAndWaitForShutdown) is answered; CPython then frees every module and object the SDK, grpc, protobuf and
pydantic made, and the CLI waits for that process to end: long while a cluster's guests boot on the same cores
(figures: bench/RESULTS.md). What an exit must still do is done: non-daemon threads joined, atexit functions run
(logging, an OpenTelemetry exporter), stdout and stderr flushed. Any other exit code keeps CPython's whole path,
as does `OCPLAB_PROGRAM_TEARDOWN=1` (to look at what the teardown does, or measure it: bench.noop_ab's variant
`teardown`).
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn

EXEC_SCRIPT = "pulumi-language-python-exec"
KEEP = "OCPLAB_PROGRAM_TEARDOWN"


def _finish_and_exit() -> NoReturn:
    """What Py_FinalizeEx does before tearing down: join non-daemon threads, run atexit functions; then exit 0."""
    shutdown: Callable[[], None] | None = getattr(threading, "_shutdown", None)
    if shutdown is not None:
        shutdown()
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def exit_without_teardown(environ: Mapping[str, str] = os.environ, argv: Sequence[str] | None = None) -> bool:
    """Under the language host's script only, make `sys.exit(0)` and `sys.exit()` end the process without the
    teardown, unless OCPLAB_PROGRAM_TEARDOWN=1; True when installed. Tests and tools that import the program keep
    sys.exit as it is. The script is found in the interpreter's own command line (`sys.orig_argv`): runpy, which
    runs __main__.py, puts the program's path in sys.argv[0]."""
    script = sys.orig_argv[1:] if argv is None else argv
    if not any(Path(arg).name == EXEC_SCRIPT for arg in script) or environ.get(KEEP) == "1":
        return False
    original = sys.exit

    def exit(status: Any = None) -> NoReturn:
        if status is None or (type(status) is int and status == 0):  # not False: bool keeps CPython's path
            _finish_and_exit()
        original(status)

    sys.exit = exit
    return True
