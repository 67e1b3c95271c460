"""A lab as its stacks describe it: the lab stack's config and outputs and every deployed cluster
stack's outputs, gathered once for `ocplab plan` and `ocplab map`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.errors import ConfigError
from core.lab_contract import LabOutputs, parse_lab_outputs
from core.labconfig import LabConfig, parse_lab_config
from core.stack_files import read_stack_values, stack_path
from tools.stack_outputs import StackError, short_name, stack_list, stack_outputs


class LabViewError(RuntimeError):
    """The lab cannot be shown; one line saying why and what to do."""


@dataclass(frozen=True)
class LabView:
    config: LabConfig
    outputs: LabOutputs
    clusters: dict[str, dict[str, Any]]  # deployed cluster stacks of this lab, by stack name
    # Cluster stacks of this lab whose state may hold resources their outputs do not show: an update runs
    # now, or they hold resources but no outputs (a first `pulumi up` failed). Stack name -> why.
    busy: dict[str, str] = field(default_factory=dict)


def load_lab(lab: str) -> LabView:
    path = stack_path(lab)
    if not path.exists():
        raise LabViewError(f"no stack file {path} for lab {lab!r}: name a lab stack of stacks/")
    try:
        config = parse_lab_config(lab, read_stack_values(path), has_key_secret=True)
        outputs = parse_lab_outputs(lab, stack_outputs(lab))
    except ConfigError as exc:
        raise LabViewError("; ".join(exc.problems)) from None
    except StackError as exc:
        raise LabViewError(f"{exc} (deploy the lab first: pulumi up -s {lab})") from None
    clusters, busy = {}, {}
    for entry in stack_list():
        name = short_name(entry)
        if name == lab or not stack_path(name).exists():
            continue
        if read_stack_values(stack_path(name)).get("lab") != lab:
            continue
        out = stack_outputs(name, show_secrets=True)  # BMC ports live in the secret `bmc`; only ports are shown
        if out.get("kind") == "cluster":
            clusters[name] = out
        if entry.get("updateInProgress"):
            busy[name] = "an update of this stack runs now"
        elif out.get("kind") != "cluster" and int(entry.get("resourceCount") or 0) > 0:
            busy[name] = "this stack holds resources but no outputs (a pulumi up failed?)"
    return LabView(config=config, outputs=outputs, clusters=clusters, busy=busy)
