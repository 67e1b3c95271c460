"""The Pulumi SDK's debug messages, which the CLI shows only under `--debug`, stay in the program unless asked for.

The Python SDK sends about five debug messages per resource (registering, prepared, successful, each output
property translated, each provider module registered), every one a synchronous `Engine/Log` call that blocks the
program's event loop, and the CLI drops them unless it runs with `--debug`, a flag the program cannot see. A settled
no-op of a 7-VM cluster sent 165 (bench/RESULTS.md). Upstream: pulumi/pulumi#7292 (#7295 and #17489 removed the
noisiest, the rest are sent still). `OCPLAB_SDK_DEBUG_LOG=1` sends them, for `pulumi up --debug`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import pulumi

KEEP = "OCPLAB_SDK_DEBUG_LOG"


def _not_sent(msg: str, resource: Any = None, stream_id: int | None = None, ephemeral: bool | None = None) -> None:
    """pulumi.log.debug's signature; nothing is sent."""


def drop_sdk_debug_messages(environ: Mapping[str, str] = os.environ) -> bool:
    """Replace pulumi.log.debug, through which every SDK module logs (`from .. import log`), unless
    OCPLAB_SDK_DEBUG_LOG=1; True when replaced. Info, warnings and errors are sent as before."""
    if environ.get(KEEP) == "1":
        return False
    setattr(pulumi.log, "debug", _not_sent)  # noqa: B010 - mypy refuses assigning to a module's function
    return True
