"""Reading stacks/Pulumi.<stack>.yaml outside the engine: tests, checks and tools use it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

DEFAULT_STACKS_DIR = Path(__file__).resolve().parent.parent / "stacks"


def stacks_dir() -> Path:
    """stacks/, or OCPLAB_STACKS_DIR (tests work on copies of the stack files)."""
    return Path(os.environ.get("OCPLAB_STACKS_DIR", DEFAULT_STACKS_DIR))


def stack_path(stack: str) -> Path:
    return stacks_dir() / f"Pulumi.{stack}.yaml"


def read_stack_values(path: Path, namespace: str = "ocplab") -> dict[str, Any]:
    """The `<namespace>:*` config values of a stack file, keys without the prefix."""
    document = yaml.safe_load(path.read_text()) or {}
    config = document.get("config", {}) or {}
    prefix = f"{namespace}:"
    return {key[len(prefix):]: value for key, value in config.items() if key.startswith(prefix)}
