"""Python source a test program starts with: it installs components.program_exit and leaves a mark per thing its
exit does in a folder ("atexit": atexit functions ran; "teardown": CPython freed module globals one by one)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_MARKS = """
import atexit, sys
sys.path.insert(0, {root!r})
from components.program_exit import exit_without_teardown
installed = exit_without_teardown()
marks = {marks!r}

class TornDown:
    def __init__(self, path):
        self.path, self.open = path, open

    def __del__(self):  # runs only when the interpreter frees module globals
        self.open(self.path, "w").close()

kept = TornDown(marks + "/teardown")
atexit.register(lambda: open(marks + "/atexit", "w").close())
"""


def marking_program(marks: Path) -> str:
    """The opening lines; `installed` says whether exit_without_teardown took over sys.exit."""
    return _MARKS.format(root=str(ROOT), marks=str(marks))
