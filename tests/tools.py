"""Finding the real tools tests drive; a missing one fails naming what to install, never skips."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

# Where else root's tools and the project's own venv scripts (ansible-inventory) live.
_EXTRA_DIRS = ("/usr/sbin", "/sbin", str(Path(sys.executable).parent))


def require_tool(name: str, package: str) -> str:
    """Path of `name`, or RuntimeError naming the package that provides it."""
    path = shutil.which(name) or shutil.which(name, path=":".join(_EXTRA_DIRS))
    if not path:
        raise RuntimeError(f"{name} not found: install {package}")
    return path
