"""The layers hold: core -> renderers -> components/tools, Pulumi only above the renderers, and no
product module importing the bench or the simulated lab (contracts in pyproject.toml)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.tools import require_tool

PROJECT = Path(__file__).resolve().parents[2]


def test_import_contracts_are_kept() -> None:
    result = subprocess.run([require_tool("lint-imports", "import-linter (make venv)")], cwd=PROJECT,
                            capture_output=True, text=True, check=False, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    assert "Contracts: 3 kept, 0 broken." in result.stdout
