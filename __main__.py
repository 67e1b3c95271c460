"""ocplab: one Pulumi project, two kinds of stacks (a lab, or a cluster on a lab)."""

from pathlib import Path

import pulumi

from components.cluster_stack import cluster_program
from components.lab_stack import lab_program

kind = pulumi.Config("ocplab").get("kind") or "lab"
if kind == "lab":
    lab_program(Path(__file__).parent)
elif kind == "cluster":
    cluster_program()
else:
    raise pulumi.RunError(f"ocplab:kind: {kind!r} is not a stack kind; use 'lab' or 'cluster'")
