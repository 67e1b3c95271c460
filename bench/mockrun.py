"""`python -m bench.mockrun OUT.json REFS.json STACK...`: cluster programs under Pulumi's mocks.

What our code does in `pulumi preview`/`up` (no engine here): import the program, then declare
each cluster stack's resources. REFS.json maps stack names to the outputs their StackReferences
show (the lab's outputs; a cluster's own previous outputs for a second run). Writes to OUT.json
the import time, each stack's declare time and resource count, and this process's peak RSS
(VmHWM). One process per call: the parent decides whether a process holds one stack (as the
engine runs them) or all of them (the worst case for memory).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

T0 = time.perf_counter()


def peak_rss_bytes() -> int:
    """VmHWM of this process (its high-water resident set)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def main(argv: list[str]) -> int:
    out, refs_file, stacks = Path(argv[0]), Path(argv[1]), argv[2:]
    import pulumi

    from components.cluster_stack import cluster_program
    from core.stack_files import read_stack_values, stack_path

    imported = time.perf_counter()

    class CountingMocks(pulumi.runtime.Mocks):
        """Answers every registration with its inputs; StackReferences get the lab's outputs."""

        def __init__(self, outputs: dict[str, dict[str, Any]]) -> None:
            self.outputs, self.count = outputs, 0

        def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[Any, Any]]:
            self.count += 1
            if args.typ == "pulumi:pulumi:StackReference":
                name = args.inputs["name"]
                return name, {"name": name, "outputs": self.outputs.get(name.rsplit("/", 1)[-1], {})}
            return f"{args.name}-id", dict(args.inputs)

        def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[Any, Any], list[tuple[str, str]] | None]:
            return {}, []

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def declare() -> pulumi.Output[Any]:
        cluster_program()
        return pulumi.Output.from_input(None)

    refs = json.loads(refs_file.read_text())
    results = []
    for stack in stacks:
        values = read_stack_values(stack_path(stack))
        started = time.perf_counter()
        mocks = CountingMocks(refs)
        pulumi.runtime.set_mocks(mocks, project="ocplab", stack=stack, preview=True)
        pulumi.runtime.set_all_config({f"ocplab:{k}": v if isinstance(v, str) else json.dumps(v)
                                       for k, v in values.items()})
        declare()
        results.append({"stack": stack, "seconds": time.perf_counter() - started, "resources": mocks.count})
    out.write_text(json.dumps({"import_seconds": imported - T0, "stacks": results,
                               "peak_rss_bytes": peak_rss_bytes()}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
