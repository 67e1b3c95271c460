"""ocplab: one Pulumi project, two kinds of stacks (a lab, or a cluster on a lab).

Only the program the stack's kind needs is imported; a cluster stack first starts reading the
outputs it needs (its lab's and its own), so those `pulumi stack output` children run while the
providers' SDKs load (components/stack_reader.py).
"""

import os
from pathlib import Path

import pulumi

# No package of uv.lock is a pydantic plugin (tests/unit/test_startup_imports.py): skip pydantic's search of every
# installed distribution's entry points, which the first validator built would make.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

from components.program_exit import exit_without_teardown
from components.sdk_debug_log import drop_sdk_debug_messages
from components.stack_reader import prefetch, qualified_name
from core.errors import ConfigError

drop_sdk_debug_messages()
exit_without_teardown()

config = pulumi.Config("ocplab")
kind = config.get("kind")
try:
    if kind == "lab":
        from components.lab_stack import lab_program
        lab_program(Path(__file__).parent)
    elif kind == "cluster":
        lab = config.get("lab")
        org, project = pulumi.get_organization(), pulumi.get_project()
        prefetch(*(qualified_name(org, project, s) for s in ([lab] if lab else []) + [pulumi.get_stack()]))
        from components.cluster_stack import cluster_program
        cluster_program()
    elif kind is None:
        raise ConfigError([f"ocplab:kind: stack {pulumi.get_stack()!r} has no ocplab config (is "
                           f"stacks/Pulumi.{pulumi.get_stack()}.yaml empty or missing?): set ocplab:kind to "
                           "'lab' or 'cluster' with the rest of the stack's description"])
    else:
        raise ConfigError([f"ocplab:kind: {kind!r} is not a stack kind; use 'lab' or 'cluster'"])
except ConfigError as exc:  # one message naming every field, no traceback
    raise pulumi.RunError(str(exc)) from None
