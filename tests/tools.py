"""Finding the real tools tests drive; a missing one fails naming what to install, never skips."""

from __future__ import annotations

import shutil
import subprocess
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


def analyzed_unit(unit: Path) -> subprocess.CompletedProcess[str]:
    """`systemd-analyze verify` of a unit file (returned), after checking it knows every key and that systemd's
    own exposure score (shown 0-10, --threshold in tenths) is at most 3.0: the unit is sandboxed."""
    analyze = require_tool("systemd-analyze", "systemd")
    verified = subprocess.run([analyze, "verify", "--man=no", str(unit)], capture_output=True, text=True, check=False)
    assert "Unknown" not in verified.stderr, verified.stderr
    security = subprocess.run([analyze, "security", "--offline=true", "--threshold=30", str(unit)],
                              capture_output=True, text=True, check=False)
    assert security.returncode == 0, security.stdout[-800:]
    return verified


def unit_written_by(script: str, prelude: str, where: Path, name: str) -> Path:
    """The systemd unit a remote script writes (its `cat > "/etc/systemd/system/$unit" <<UNIT` heredoc), with
    its variables expanded by sh after `prelude` (the assignments the script would have made), as where/name."""
    heredoc = script.split('cat > "/etc/systemd/system/$unit" <<UNIT\n', 1)[1].split("\nUNIT\n", 1)[0]
    done = subprocess.run(["sh", "-c", f"{prelude}\ncat <<UNIT\n{heredoc}\nUNIT\n"], capture_output=True, text=True,
                          check=True)
    unit = where / name
    unit.write_text(done.stdout)
    return unit
