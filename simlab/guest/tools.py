"""Host tools and files the guest build needs, each tied to the Debian package that ships it.

A missing tool must fail with the package to install, not with a bare FileNotFoundError.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

SBIN_DIRS = ("/usr/local/sbin", "/usr/sbin", "/sbin")


class MissingToolError(RuntimeError):
    """A host tool or file is absent; the message names the Debian package to install."""


class ToolFailedError(RuntimeError):
    """A host tool ran and failed; the message carries its stderr."""


def require_tool(name: str, package: str) -> str:
    """Absolute path of `name` (also looked up in sbin dirs, which a user PATH may lack)."""
    found = shutil.which(name) or shutil.which(name, path=":".join(SBIN_DIRS))
    if found is None:
        raise MissingToolError(f"{name} not found: apt-get install {package}")
    return found


def require_file(path: Path, package: str) -> Path:
    """`path` itself, after checking that it exists."""
    if not path.is_file():
        raise MissingToolError(f"{path} not found: apt-get install {package}")
    return path


def run(argv: list[str], *, env: dict[str, str] | None = None) -> str:
    """Runs a tool, returns its stdout; a failure raises with the command and its stderr."""
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        raise ToolFailedError(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc.stdout
