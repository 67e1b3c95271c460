"""Reading `ocplab:*` stack config inside a program, shared by the lab and cluster stack programs."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi.runtime.config

from core.stack_files import decode_scalar


def ocplab_values(secret_keys: tuple[str, ...] = ("sshPrivateKey",)) -> dict[str, Any]:
    """Every `ocplab:*` value of the stack (keys without the prefix), so a misspelt key is refused by
    the schema instead of ignored. Secrets are left out: they are read with get_secret only."""
    raw = {**pulumi.runtime.config.get_config_env(), **pulumi.runtime.config.CONFIG.get()}
    return {key.split(":", 1)[1]: decode_scalar(value) for key, value in raw.items()
            if key.startswith("ocplab:") and key.split(":", 1)[1] not in secret_keys}
