"""The lab's mirror as the tools use it: the `mirror` output of a cluster's lab stack, checked by the contract's
type, and its secret password (`pulumi stack output --show-secrets`), for install-config and the DCI hand-off.
Only that output is read: the rest of the lab's outputs is the cluster stack's business."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import TypeAdapter

from core.config_schema import value_problems
from core.errors import OcplabError
from core.lab_contract import MirrorOutputs
from core.names import label_problem
from renderers.install_config_mirror import DEFAULT_PREFIX, MirrorAccess, mirror_access
from tools.stack_outputs import stack_outputs


def cluster_mirror(cluster_outputs: Mapping[str, Any], prefix: str = DEFAULT_PREFIX) -> MirrorAccess | None:
    """The mirror of the cluster's lab, or None where the lab has none (or the outputs name no lab)."""
    lab = cluster_outputs.get("lab")
    if not isinstance(lab, str) or label_problem(lab):  # what the cluster's own contract refuses, by then
        return None
    raw = stack_outputs(lab, show_secrets=True)
    if "mirror" not in raw:
        return None
    if problems := value_problems(_MIRROR, raw["mirror"], f"ocplab:lab: lab stack {lab!r} output mirror."):
        raise OcplabError("; ".join(problems))
    password = raw.get("mirror_password")
    if not isinstance(password, str) or not password or password == "[secret]":
        raise OcplabError(f"lab stack {lab} has a mirror but no readable mirror_password output: pulumi up -s {lab} "
                          "with this ocplab, and run this where its secrets can be read (the passphrase)")
    return mirror_access(_MIRROR.validate_python(raw["mirror"]), password, prefix)


_MIRROR: TypeAdapter[MirrorOutputs] = TypeAdapter(MirrorOutputs)
