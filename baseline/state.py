"""The baseline's record of each deployed stack: its outputs, as `pulumi stack output` would show."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

STATE_DIR = Path(__file__).resolve().parent.parent / ".baseline-state"


def load(stack: str) -> dict[str, Any] | None:
    path = STATE_DIR / f"{stack}.json"
    return dict(json.loads(path.read_text())) if path.exists() else None


def save(stack: str, outputs: dict[str, Any]) -> None:
    STATE_DIR.mkdir(exist_ok=True)
    tmp = STATE_DIR / f".{stack}.json.tmp"
    tmp.write_text(json.dumps(outputs, indent=2, sort_keys=True))
    os.replace(tmp, STATE_DIR / f"{stack}.json")


def forget(stack: str) -> None:
    (STATE_DIR / f"{stack}.json").unlink(missing_ok=True)
