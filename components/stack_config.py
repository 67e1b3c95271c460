"""Reading `ocplab:*` stack config inside a program, shared by the lab and cluster stack programs."""

from __future__ import annotations

import json
from typing import Any

import pulumi


def config_value(config: pulumi.Config, key: str) -> Any:
    """A config value as the stack file wrote it: objects and lists decoded, plain text kept."""
    raw = config.get(key)
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw
