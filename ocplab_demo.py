"""The main job on the embedded default: bring up the simulated lab and deploy the example stacks
(lab `simlab`, clusters `ipi1` and `sno1` at the same time), then print their outputs.

With the Pulumi engine in .engine/bin this is `pulumi up` per stack; where the engine cannot be
built (see README, "The engine") the same stack files are deployed by the virsh/ssh baseline,
and the banner says so.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from simlab.clients import jumphost_argv
from simlab.env import client_env
from simlab.lab import Simlab
from simlab.session import exclusive_lab

PROJECT = Path(__file__).resolve().parent
PULUMI = PROJECT / ".engine" / "bin" / "pulumi"
PINNED = (PROJECT / "engine" / "versions.env").read_text().split("PULUMI_VERSION=")[1].split()[0]
LAB, CLUSTERS = "simlab", ("ipi1", "sno1")


def engine_ready() -> bool:
    if not PULUMI.exists():
        return False
    version = subprocess.run([str(PULUMI), "version"], capture_output=True, text=True, check=False).stdout.strip()
    return version == f"v{PINNED}"


def in_jumphost(argv: list[str]) -> subprocess.CompletedProcess[str]:
    """Clients run inside the jumphost namespace, as on a real lab's jumphost."""
    return subprocess.run(jumphost_argv(argv), cwd=PROJECT, env=client_env(), text=True, capture_output=True,
                          check=False)


def pulumi_up(stack: str) -> dict[str, object]:
    pulumi = str(PULUMI)
    if in_jumphost([pulumi, "stack", "select", stack]).returncode != 0:
        in_jumphost([pulumi, "stack", "init", stack])
    result = in_jumphost([pulumi, "up", "--yes", "--skip-preview", "-s", stack])
    if result.returncode != 0:
        raise SystemExit(f"pulumi up -s {stack} failed:\n{result.stdout}\n{result.stderr}")
    return dict(json.loads(in_jumphost([pulumi, "stack", "output", "--json", "-s", stack]).stdout))


def baseline_up(stack: str) -> dict[str, object]:
    result = in_jumphost([sys.executable, "-m", "baseline", "up", stack])
    if result.returncode != 0:
        raise SystemExit(f"baseline up {stack} failed:\n{result.stdout}\n{result.stderr}")
    return dict(json.loads(in_jumphost([sys.executable, "-m", "baseline", "outputs", stack]).stdout))


def main() -> int:
    with exclusive_lab():
        return demo()


def demo() -> int:
    started = time.monotonic()
    print("ocplab demo: bringing up the simulated lab (jumphost + 2 hypervisors)", flush=True)
    Simlab(hypervisors=2).up(log=lambda line: print(f"  simlab: {line}", flush=True))
    deploy = pulumi_up if engine_ready() else baseline_up
    if deploy is baseline_up:
        print(f"ocplab demo: no Pulumi engine v{PINNED} in .engine/bin (`make engine` says why); deploying the "
              "same stack files with the virsh/ssh baseline", flush=True)
    outputs = {LAB: deploy(LAB)}
    with ThreadPoolExecutor(max_workers=len(CLUSTERS)) as pool:
        outputs.update(zip(CLUSTERS, pool.map(deploy, CLUSTERS), strict=True))
    for stack, values in outputs.items():
        print(f"\n=== outputs of stack {stack} ===")
        print(json.dumps(values, indent=2, sort_keys=True))
    print(f"\nocplab demo: done in {time.monotonic() - started:.0f} s. Look around with `make simlab-shell`; "
          "tear down with `make simlab-down`.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
