"""The baseline's record of each deployed stack: its outputs, as `pulumi stack output` would show."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

DEFAULT_STATE_DIR = Path(__file__).resolve().parent.parent / ".baseline-state"


def state_dir() -> Path:
    """.baseline-state/, or OCPLAB_BASELINE_STATE (tests keep their own)."""
    return Path(os.environ.get("OCPLAB_BASELINE_STATE", DEFAULT_STATE_DIR))


def load(stack: str) -> dict[str, Any] | None:
    path = state_dir() / f"{stack}.json"
    return dict(json.loads(path.read_text())) if path.exists() else None


def save(stack: str, outputs: dict[str, Any]) -> None:
    state_dir().mkdir(parents=True, exist_ok=True)
    tmp = state_dir() / f".{stack}.json.tmp"
    tmp.write_text(json.dumps(outputs, indent=2, sort_keys=True))
    os.replace(tmp, state_dir() / f"{stack}.json")


def forget(stack: str) -> None:
    (state_dir() / f"{stack}.json").unlink(missing_ok=True)
