"""The main job on the embedded default: bring up the simulated lab and `pulumi up` the example
stacks (lab `simlab`, then clusters `ipi1` and `sno1` at the same time) from inside the jumphost
namespace, then print their outputs.

State goes to the simulated lab's file backend, .simlab/pulumi-state (git-ignored, removed with the
lab by `make simlab-down`); the committed stack files are left as they are. It needs the engine
(`make engine`); without it, it stops before touching anything.
"""

from __future__ import annotations

import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from simlab.errors import SimlabError
from simlab.lab import Simlab
from simlab.pulumi_engine import EngineMissingError, PulumiError, Workspace, require_engine
from simlab.session import exclusive_lab

LAB, CLUSTERS = "simlab", ("ipi1", "sno1")


def deploy(workspace: Workspace, stack: str) -> dict[str, Any]:
    started = time.monotonic()
    workspace.up(stack)
    print(f"ocplab demo: pulumi up -s {stack} done in {time.monotonic() - started:.1f} s", flush=True)
    return workspace.outputs(stack)


def demo() -> int:
    started = time.monotonic()
    require_engine()
    print("ocplab demo: bringing up the simulated lab (jumphost + 2 hypervisors)", flush=True)
    Simlab(hypervisors=2).up(log=lambda line: print(f"  simlab: {line}", flush=True))
    workspace = Workspace()
    outputs = {LAB: deploy(workspace, LAB)}
    with ThreadPoolExecutor(max_workers=len(CLUSTERS)) as pool:
        outputs.update(zip(CLUSTERS, pool.map(lambda s: deploy(workspace, s), CLUSTERS), strict=True))
    for stack, values in outputs.items():
        print(f"\n=== pulumi stack output -s {stack} ===")
        print(json.dumps(values, indent=2, sort_keys=True))
    print(f"\nocplab demo: done in {time.monotonic() - started:.0f} s. Look around with `make simlab-shell` "
          "(pulumi is on PATH there); tear down with `make simlab-down`.")
    return 0


def main() -> int:
    try:
        with exclusive_lab():
            return demo()
    except (EngineMissingError, PulumiError, SimlabError) as exc:
        print(f"ocplab demo: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, EngineMissingError) else 1


if __name__ == "__main__":
    sys.exit(main())
