"""`ocplab handoff CLUSTER --pool POOL`: put a cluster stack's DCI inventory where a job reads it.

dci-pipeline jobs name `ansible_inventory: /var/lib/dci/inventories/@QUEUE/@RESOURCE`, and dci-queue
gives a job the pool (queue) and a resource of it: one cluster per resource. So the inventory of
stack STACK goes to <root>/<POOL>/<STACK>, written atomically (a job reading it never sees half a
file) with mode 0600 (it holds the BMC password). The outputs come from `pulumi stack output
--json --show-secrets`, run in the project directory with the caller's backend settings.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from core.errors import OcplabError
from core.names import label_problem
from renderers.install_config_mirror import MirrorAccess, dci_auths_file, dci_mirrors_file
from tools.dci_inventory import InventoryError, InventoryOptions, inventory_for
from tools.private_files import write_private
from tools.stack_outputs import StackError, stack_outputs

DEFAULT_ROOT: Path = Path("/var/lib/dci/inventories")


class HandoffError(OcplabError):
    """The inventory can't be written; one line saying why and what to do."""


def pulumi_outputs(stack: str) -> dict[str, Any]:
    """`pulumi stack output --json --show-secrets -s STACK` (empty for a stack never brought up)."""
    try:
        return stack_outputs(stack, show_secrets=True)
    except StackError as exc:
        raise HandoffError(str(exc)) from None


def handoff(stack: str, pool: str, root: Path, outputs: Mapping[str, Any],
            mirror_of: Callable[[Mapping[str, Any]], MirrorAccess | None] | None = None) -> Path:
    """Render the stack's inventory and write it to <root>/<pool>/<stack>; return the path. A cluster (IPI or SNO) on
    a lab with a mirror also gets <stack>.disconnected/{mirrors.yml,auths.json} there (private), named by its
    inventory."""
    for what, name in (("stack", stack), ("pool", pool)):
        if problem := label_problem(name):
            raise HandoffError(f"{what} name {name!r} {problem}")
    if not outputs:
        raise HandoffError(f"stack {stack} is not deployed (it has no outputs): run pulumi up -s {stack} first")
    path = root / pool / stack
    beside = path.parent / f"{stack}.disconnected"
    files = (beside / "mirrors.yml", beside / "auths.json")
    try:
        _, text = inventory_for(outputs, stack=stack)  # the outputs checked before the lab is asked anything
        mirror = mirror_of(outputs) if mirror_of else None
        if mirror:
            _, text = inventory_for(outputs, InventoryOptions(
                disconnected_files=(str(files[0].absolute()), str(files[1].absolute()))), stack=stack)
    except InventoryError as exc:
        raise HandoffError(str(exc)) from exc
    try:
        if mirror:
            write_private(files[0], dci_mirrors_file(mirror))
            write_private(files[1], dci_auths_file(mirror))
        write_private(path, text)
    except OSError as exc:  # a root the user cannot write: a refusal to fix, not a traceback
        raise HandoffError(f"--root {root}: cannot write {path} ({exc.strerror})") from None
    return path


if __name__ == "__main__":  # `python -m tools.dci_handoff`, the name dci-pipeline hosts and the e2e tests call
    from tools.cli import app

    app(args=["handoff", *sys.argv[1:]], prog_name="dci_handoff")
