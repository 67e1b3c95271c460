"""`python -m bench` (`make bench`, as root): every benchmark, side by side in one run.

Holds the machine's simulated lab for the whole run (simlab.session.exclusive_lab), brings up a
lab of ten hypervisors, deploys the bench lab stack on it with `pulumi up`, runs every scenario through
the real engine and, in the same run, the virsh/ssh baseline (and for scenario 1 the physical limit),
prints the table and writes it with the machine facts to bench/results/<date>.md. The lab is
taken down at the end, whatever happened.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import sshcount, stacks
from bench.engine import EngineClient
from bench.labclient import PROJECT, BenchError, LabClient
from bench.report import (
    Row,
    Section,
    by_scenario,
    format_table,
    machine_facts,
    results_document,
    seconds,
    write_results,
)
from bench.scenarios import pair, scale, seed
from core.clusterconfig import ClusterConfig, parse_cluster_config
from core.stack_files import read_stack_values
from simlab.errors import SimlabError
from simlab.guest.build import build_image
from simlab.lab import Simlab
from simlab.session import exclusive_lab

LAB = "benchlab"
RESULTS = PROJECT / "bench" / "results"


def log(text: str) -> None:
    print(f"bench: {text}", flush=True)


def commit() -> str:
    result = subprocess.run(["git", "-C", str(PROJECT), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, check=False)
    dirty = subprocess.run(["git", "-C", str(PROJECT), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True, check=False).stdout.strip()
    return (result.stdout.strip() or "unknown") + (" (with uncommitted changes)" if dirty else "")


def bring_up(hypervisors: int, attempts: int = 2) -> float:
    """Simlab up (seconds); a second attempt when a host's daemons were not ready in time."""
    for attempt in range(1, attempts + 1):
        started = time.monotonic()
        try:
            Simlab(hypervisors=hypervisors).up()
            return time.monotonic() - started
        except SimlabError as exc:
            if attempt == attempts:
                raise
            log(f"simulated lab did not come up ({exc}); trying again")
    raise AssertionError("unreachable")


SCENARIOS = ("seed", "pair", "scale")
NOT_MEASURED = "not measured in this run"


def deadline(text: str) -> float:
    """Today's HH:MM UTC as an epoch time."""
    hours, minutes = (int(part) for part in text.split(":"))
    return datetime.now(UTC).replace(hour=hours, minute=minutes, second=0, microsecond=0).timestamp()


def _skipped(name: str, reason: str) -> Section:
    """Rows that say which figures a run left out, and why."""
    section = Section()
    targets = {"seed": [("1. pulumi up of the 7-VM cluster / baseline and / physical limit", "<= 1.0, <= 1.3"),
                        ("2. no-op pulumi up and preview", "< 5 s, 0 changes"),
                        ("4. bytes per new VM", "< 1 MiB")],
               "pair": [("5. two clusters: pulumi up at the same time / one after the other", "<= 0.6")],
               "scale": [("3. pulumi preview and up of 10, 100, 250 domains", "linear, < 30 s (250)"),
                         ("6. peak memory of the pulumi up process trees, 250 domains", "< 1.0 GiB")]}
    for metric, target in targets[name]:
        section.rows.append(Row(metric, f"{NOT_MEASURED}: {reason}", target, None))
    return section


def lab_up(client: LabClient, engine: EngineClient) -> tuple[dict[str, Any], float]:
    """`pulumi up` of the bench lab stack (the clusters' StackReference reads it); the baseline reads the
    same outputs from its state file, so both sides deploy onto the one lab."""
    engine.workspace.ensure_stack(LAB)
    run = engine.up(LAB)
    outputs = engine.outputs(LAB)
    (client.state / f"{LAB}.json").write_text(json.dumps(outputs, indent=2, sort_keys=True))
    return outputs, run.wall


def seed_config(client: LabClient) -> ClusterConfig:
    name = seed.SEED.name
    return parse_cluster_config(name, read_stack_values(client.stacks / f"Pulumi.{name}.yaml"))


def run_all(workdir: Path, only: Sequence[str], sizes: tuple[int, ...], trace_up: bool,
            stop_at: float | None, engine_only: bool = False, bytecode: str = "cached") -> tuple[list[Row], list[str]]:
    client = LabClient(workdir)
    engine = EngineClient(workdir, bytecode)
    clusters = [seed.SEED, *pair.all_clusters(), *scale.all_clusters()]
    for directory in (client.stacks, engine.stacks):
        stacks.write_stacks(directory, LAB, scale.HYPERVISORS, clusters, stacks.simlab_salt())
    log(f"simulated lab of {scale.HYPERVISORS} hypervisors up")
    simlab_up = bring_up(scale.HYPERVISORS)
    if not sshcount.install():
        log("iptables could not count SSH connections in the jumphost namespace: SSH figures left out")
    log("bench lab stack: bridges, networks, pools, base image on every hypervisor (pulumi up)")
    lab_outputs, lab_seconds = lab_up(client, engine)
    head = Section()
    head.add("simulated lab of 10 hypervisors: up", seconds(simlab_up))
    head.add("bench lab stack on 10 hypervisors: pulumi up", seconds(lab_seconds))
    head.notes.append(
        f"Lab network {lab_outputs['network']['cidr']}: the simulated lab's wire network is fixed at "
        "192.168.16.0/24 (simlab.topology.NETWORK), whose free addresses after the jumphost (.1) and ten "
        "hypervisors (.11-.20) are 243: fewer than 250 domains need even as SNO clusters, and 250 IPI domains "
        "on ten hypervisors need 280 (two VIPs and a bootstrap VM address per cluster). So the bench lab stack "
        "declares the narrowest wider "
        "network from 192.168.16.0 that holds every slice: each simulated host keeps its /24 address inside "
        "it, dnsmasq gets the wider static range, and only domains that are defined but never started take "
        "addresses above the /24. Slices are dense (nodes + VIPs + bootstrap), handed out from .32.")
    sections = [head]
    steps: dict[str, Callable[[], Section]] = {
        "seed": lambda: seed.run(client, engine, LAB, lab_outputs, seed_config(client)),
        "pair": lambda: pair.run(client, engine),
        "scale": lambda: scale.run(client, engine, LAB, lab_outputs, sizes, trace_up, stop_at, engine_only),
    }
    titles = {"seed": "scenarios 1, 2, 4: the seed's 7-VM IPI cluster: pulumi up, baseline, physical limit, no-ops",
              "pair": "scenario 5: two clusters at the same time vs one after the other (pulumi up and baseline)",
              "scale": f"scenarios 3, 4, 6: {', '.join(map(str, sizes))} domains on 10 hypervisors"}
    for name in SCENARIOS:
        if name not in only:
            continue
        log(titles[name])
        try:
            sections.append(steps[name]())
        except (BenchError, SimlabError, OSError, RuntimeError, ValueError, KeyError) as exc:
            (client.timings / f"failed-{name}.txt").write_text(traceback.format_exc())
            log(f"{name} failed: {exc}")
            sections.append(_skipped(name, f"failed ({str(exc).strip().splitlines()[0][:200]}; "
                                           f"traceback in the run's timings/failed-{name}.txt)"))
    for name in SCENARIOS:
        if name not in only:
            sections.append(_skipped(name, "left out of this run (--only)"))
    rows = by_scenario(row for section in sections for row in section.rows)
    notes = [note for section in sections for note in section.notes]
    notes.append("Every pulumi figure is the real engine (CLI and Python language host v3.259.0, "
                 "pulumi-resource-libvirt 0.5.4, pulumi-resource-command 1.2.1, file backend, default --parallel 8) "
                 "run from the jumphost namespace, timed from process start to exit; the baseline and the physical "
                 "limit run in the same namespace in the same run. Traced runs (--otel-traces) are separate from the "
                 "timed runs.")
    notes.append("Python bytecode for the engine's programs: " + (
        "none written (--bytecode none, PYTHONDONTWRITEBYTECODE=1): the venv's and the stdlib's .pyc are read, our "
        "modules are compiled from source every run." if bytecode == "none" else
        "kept in the run's scratch directory (the lab stack's first `pulumi up` wrote it), as the simulated lab's "
        "engine keeps it in .simlab/cache/pycache and a user's checkout beside the sources."))
    return rows, notes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--results", type=Path, default=RESULTS, help="directory of the results files")
    parser.add_argument("--only", default=",".join(SCENARIOS),
                        help="comma-separated scenarios to run: seed (1, 2, 4), pair (5), scale (3, 4, 6)")
    parser.add_argument("--sizes", default=",".join(map(str, scale.SIZES)), help="domain counts of scenario 3")
    parser.add_argument("--no-trace-up", action="store_true",
                        help="scenario 3: no extra traced `pulumi up` per size (saves one up + destroy each)")
    parser.add_argument("--engine-only", action="store_true",
                        help="scenario 3: pulumi preview and up only (no baseline, no destroy): a short run")
    parser.add_argument("--bytecode", choices=("none", "cached"), default="cached",
                        help="the engine's programs: with bytecode kept in the run's scratch directory, as the "
                             "simulated lab and a user's checkout run them (cached), or our modules compiled from "
                             "source every run (none)")
    parser.add_argument("--stop-at", metavar="HH:MM",
                        help="UTC time the lab must be free again: scale sizes that would not finish are left out")
    args = parser.parse_args(argv)
    only = [name for name in args.only.split(",") if name]
    sizes = tuple(int(n) for n in args.sizes.split(",") if n)
    stop_at = deadline(args.stop_at) if args.stop_at else None
    if unknown := set(only) - set(SCENARIOS):
        parser.error(f"unknown scenario(s): {', '.join(sorted(unknown))}")
    if os.geteuid() != 0:
        print("bench: needs root (network namespaces, libvirtd): run `make bench` as root", file=sys.stderr)
        return 2
    log("waiting for the machine's simulated lab (simlab.session.exclusive_lab)")
    with exclusive_lab(), tempfile.TemporaryDirectory(prefix="ocplab-bench-") as workdir:
        build_image()
        when = datetime.now(UTC)
        revision = commit()  # the code that runs: read before, not after (commits may land meanwhile)
        started = time.monotonic()
        try:
            rows, notes = run_all(Path(workdir), only, sizes, not args.no_trace_up, stop_at, args.engine_only,
                                  args.bytecode)
        finally:
            Simlab().down()
            log("simulated lab down")
            raw = args.results / f"{when.strftime('%Y-%m-%d_%H%M%S')}-timings"
            if (Path(workdir) / "timings").is_dir():
                shutil.copytree(Path(workdir) / "timings", raw, dirs_exist_ok=True)
    elapsed = time.monotonic() - started
    print()
    print(format_table(rows), end="")
    text = results_document(rows, machine_facts(), when, revision, notes, elapsed)
    path = write_results(args.results, text, when)
    print(f"\nbench: {elapsed:.0f} s; results in {path}")
    missed = [row.metric for row in rows if row.met is False]
    if missed:
        print("bench: targets missed (figures, not a failure): " + "; ".join(missed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
