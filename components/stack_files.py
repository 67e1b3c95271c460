"""Reading stacks/Pulumi.<stack>.yaml outside the engine: tests, checks and tools use it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

STACKS_DIR = Path(__file__).resolve().parent.parent / "stacks"


def stack_path(stack: str) -> Path:
    return STACKS_DIR / f"Pulumi.{stack}.yaml"


def read_stack_values(path: Path, namespace: str = "ocplab") -> dict[str, Any]:
    """The `<namespace>:*` config values of a stack file, keys without the prefix."""
    document = yaml.safe_load(path.read_text()) or {}
    config = document.get("config", {}) or {}
    prefix = f"{namespace}:"
    return {key[len(prefix):]: value for key, value in config.items() if key.startswith(prefix)}
