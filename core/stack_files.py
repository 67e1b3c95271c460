"""Reading stacks/Pulumi.<stack>.yaml outside the engine: tests, checks and tools use it."""

from __future__ import annotations

import json
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
    """The `<namespace>:*` config values of a stack file, keys without the prefix, as the program sees
    them: Pulumi keeps top-level values as strings (it writes `masters: 3` as "3") and the program
    decodes them as JSON (components/stack_config.py), so a top-level "3" is the number 3 here too."""
    document = yaml.safe_load(path.read_text()) or {}
    config = document.get("config", {}) or {}
    prefix = f"{namespace}:"
    return {key[len(prefix):]: decode_scalar(value) for key, value in config.items() if key.startswith(prefix)}


def decode_scalar(value: Any) -> Any:
    """A top-level config value as the program reads it: JSON text decoded, other text kept."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value
