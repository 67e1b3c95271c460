"""ocplab: one Pulumi project, two kinds of stacks (a lab, or a cluster on a lab)."""

from pathlib import Path

import pulumi

from components.cluster_stack import cluster_program
from components.lab_stack import lab_program
from core.errors import ConfigError

kind = pulumi.Config("ocplab").get("kind")
try:
    if kind == "lab":
        lab_program(Path(__file__).parent)
    elif kind == "cluster":
        cluster_program()
    elif kind is None:
        raise ConfigError([f"ocplab:kind: stack {pulumi.get_stack()!r} has no ocplab config (is "
                           f"stacks/Pulumi.{pulumi.get_stack()}.yaml empty or missing?): set ocplab:kind to "
                           "'lab' or 'cluster' with the rest of the stack's description"])
    else:
        raise ConfigError([f"ocplab:kind: {kind!r} is not a stack kind; use 'lab' or 'cluster'"])
except ConfigError as exc:  # one message naming every field, no traceback
    raise pulumi.RunError(str(exc)) from None
