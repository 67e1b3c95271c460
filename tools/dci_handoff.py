"""python -m tools.dci_handoff STACK --pool POOL: put a cluster stack's DCI inventory where a job reads it.

dci-pipeline jobs name `ansible_inventory: /var/lib/dci/inventories/@QUEUE/@RESOURCE`, and dci-queue
gives a job the pool (queue) and a resource of it: one cluster per resource. So the inventory of
stack STACK goes to <root>/<POOL>/<STACK>, written atomically (a job reading it never sees half a
file) with mode 0600 (it holds the BMC password). The outputs come from `pulumi stack output
--json --show-secrets`, run in the project directory with the caller's backend settings.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from core.names import label_problem
from tools.dci_inventory import InventoryError, inventory_for
from tools.private_files import write_private
from tools.stack_outputs import StackError, stack_outputs

DEFAULT_ROOT = Path("/var/lib/dci/inventories")


class HandoffError(RuntimeError):
    """The inventory can't be written; one line saying why and what to do."""


def pulumi_outputs(stack: str) -> dict[str, Any]:
    """`pulumi stack output --json --show-secrets -s STACK` (empty for a stack never brought up)."""
    try:
        return stack_outputs(stack, show_secrets=True)
    except StackError as exc:
        raise HandoffError(str(exc)) from None


def handoff(stack: str, pool: str, root: Path, outputs: Mapping[str, Any]) -> Path:
    """Render the stack's inventory and write it to <root>/<pool>/<stack>; return the path."""
    for what, name in (("stack", stack), ("pool", pool)):
        if problem := label_problem(name):
            raise HandoffError(f"{what} name {name!r} {problem}")
    if not outputs:
        raise HandoffError(f"stack {stack} is not deployed (it has no outputs): run pulumi up -s {stack} first")
    try:
        _, text = inventory_for(outputs, stack=stack)
    except InventoryError as exc:
        raise HandoffError(str(exc)) from exc
    path = root / pool / stack
    write_private(path, text)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.dci_handoff", description=__doc__.split("\n")[0])
    parser.add_argument("stack", help="a deployed cluster stack")
    parser.add_argument("--pool", required=True, help="the dci-queue pool (@QUEUE) the cluster serves")
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT, help=f"default {DEFAULT_ROOT}")
    args = parser.parse_args(argv)
    try:
        outputs = pulumi_outputs(args.stack)
        path = handoff(args.stack, args.pool, args.root, outputs)
    except (HandoffError, OSError) as exc:
        print(f"dci_handoff: {exc}", file=sys.stderr)
        return 2
    print(f"dci_handoff: {path} written (pool {args.pool}, resource {args.stack})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
