"""The baseline's secrets: derived again from the lab key whenever needed, never written to its state.

`python -m bench.baseline outputs` shows them as `pulumi stack output` does: "[secret]" unless asked
with --show-secrets.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from core.bmc_plan import bmc_password, with_password

SECRET = "[secret]"


def lab_bmc_password(outputs: Mapping[str, Any], cluster: str) -> str:
    """The cluster's BMC password from the lab key the (lab or cluster) outputs name."""
    return bmc_password(Path(str(outputs["jumphost"]["ssh_key_path"])).read_text(), cluster)


def shown(outputs: Mapping[str, Any], show_secrets: bool) -> dict[str, Any]:
    """A stack's outputs as a reader sees them: the `bmc` output is a secret, like the Pulumi program's."""
    bmc = outputs.get("bmc")
    if not bmc:
        return dict(outputs)
    if not show_secrets:
        return {**outputs, "bmc": SECRET}
    return {**outputs, "bmc": with_password(bmc, lab_bmc_password(outputs, str(outputs["cluster"])))}
