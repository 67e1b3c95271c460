"""python -m bench.baseline up|destroy|outputs STACK...: deploy stack files with plain virsh and ssh."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from bench.baseline import state
from bench.baseline.cluster import deploy_cluster, destroy_cluster
from bench.baseline.lab import deploy_lab, destroy_lab
from bench.baseline.remote import RemoteError
from bench.baseline.secrets import shown
from core.clusterconfig import parse_cluster_config
from core.errors import ConfigError
from core.labconfig import parse_lab_config
from core.stack_files import read_stack_values, stack_path

PROJECT = Path(__file__).resolve().parent.parent


def _values(stack: str) -> dict[str, object]:
    path = stack_path(stack)
    if not path.exists():
        raise ConfigError([f"stack {stack}: {path} does not exist"])
    return read_stack_values(path)


def up(stack: str) -> None:
    values = _values(stack)
    if values.get("kind", "lab") == "lab":
        outputs = deploy_lab(parse_lab_config(stack, values), PROJECT)
    else:
        cluster = parse_cluster_config(stack, values)
        lab = state.load(cluster.lab)
        if lab is None:
            raise ConfigError([f"ocplab:lab: lab stack {cluster.lab!r} is not deployed: run `up {cluster.lab}` first"])
        previous = state.load(stack)
        outputs = deploy_cluster(cluster, lab, previous.get("assignments") if previous else None)
    state.save(stack, outputs)


def destroy(stack: str) -> None:
    values = _values(stack)
    if values.get("kind", "lab") == "lab":
        destroy_lab(parse_lab_config(stack, values), PROJECT)
    else:
        cluster = parse_cluster_config(stack, values)
        previous = state.load(stack)
        lab = state.load(cluster.lab)
        if lab is not None:
            destroy_cluster(cluster, lab, previous.get("assignments") if previous else None)
    state.forget(stack)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.baseline", description=__doc__)
    parser.add_argument("action", choices=("up", "destroy", "outputs"))
    parser.add_argument("stacks", nargs="+")
    parser.add_argument("--show-secrets", action="store_true",
                        help="outputs: show secrets (the BMC password, derived again from the lab key)")
    args = parser.parse_args(argv)
    for stack in args.stacks:
        started = time.monotonic()
        try:
            if args.action == "outputs":
                print(json.dumps(shown(state.load(stack) or {}, args.show_secrets), indent=2, sort_keys=True))
                continue
            {"up": up, "destroy": destroy}[args.action](stack)
        except (ConfigError, RemoteError) as exc:
            print(f"baseline {args.action} {stack}: {exc}", file=sys.stderr)
            return 2
        print(f"baseline {args.action} {stack}: done in {time.monotonic() - started:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
