"""`python -m bench` (`make bench`, as root): every benchmark, side by side in one run.

Holds the machine's simulated lab for the whole run (simlab.session.exclusive_lab), brings up a
lab of ten hypervisors, deploys a bench lab stack on it with the baseline, runs the scenarios,
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
from datetime import UTC, datetime
from pathlib import Path

from bench import stacks
from bench.labclient import PROJECT, LabClient
from bench.report import (
    NO_ENGINE,
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


def run_all(workdir: Path) -> tuple[list[Row], list[str]]:
    client = LabClient(workdir)
    clusters = [seed.SEED, *pair.all_clusters(), *scale.all_clusters()]
    stacks.write_stacks(client.stacks, LAB, scale.HYPERVISORS, clusters)
    log(f"simulated lab of {scale.HYPERVISORS} hypervisors up")
    simlab_up = bring_up(scale.HYPERVISORS)
    log("bench lab stack: bridges, networks, pools, base image on every hypervisor (baseline)")
    lab_run = client.baseline("up", LAB)
    lab_outputs = json.loads((client.state / f"{LAB}.json").read_text())
    head = Section()
    head.add("simulated lab of 10 hypervisors: up", seconds(simlab_up))
    head.add("bench lab stack on 10 hypervisors: baseline deploy", seconds(lab_run.wall))
    head.notes.append(
        f"Lab network {lab_outputs['network']['cidr']}: the simulated lab's wire network is fixed at "
        "192.168.16.0/24 (simlab.topology.NETWORK), whose free addresses after the jumphost (.1) and ten "
        "hypervisors (.11-.20) are 243: fewer than 250 domains need even as SNO clusters, and 250 IPI domains "
        "on ten hypervisors need 270 (two VIPs per cluster). So the bench lab stack declares the narrowest wider "
        "network from 192.168.16.0 that holds every slice: each simulated host keeps its /24 address inside "
        "it, dnsmasq gets the wider static range, and only domains that are defined but never started take "
        "addresses above the /24. Slices are dense (nodes + VIPs), handed out from .32.")
    sections = [head]
    log("scenarios 1, 2, 4: the seed's 7-VM IPI cluster, deployed twice")
    sections.append(seed.run(client, LAB, lab_outputs))
    log("scenario 5: two clusters at the same time vs one after the other")
    sections.append(pair.run(client))
    log("scenarios 3, 4, 6: 10, 100 and 250 domains on 10 hypervisors")
    sections.append(scale.run(client, LAB, lab_outputs))
    rows = by_scenario(row for section in sections for row in section.rows)
    notes = [note for section in sections for note in section.notes]
    notes.append(f"'{NO_ENGINE}': pulumi up/preview times and the Pulumi/baseline ratios need the Pulumi engine, "
                 "which cannot be built on this network. In their place the table measures what our code "
                 "contributes (the program under Pulumi's mocks, in a child process) and the raw virsh+ssh "
                 "baseline that replays the same resources.")
    return rows, notes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--results", type=Path, default=RESULTS, help="directory of the results files")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        print("bench: needs root (network namespaces, libvirtd): run `make bench` as root", file=sys.stderr)
        return 2
    log("waiting for the machine's simulated lab (simlab.session.exclusive_lab)")
    with exclusive_lab(), tempfile.TemporaryDirectory(prefix="ocplab-bench-") as workdir:
        build_image()
        when = datetime.now(UTC)
        started = time.monotonic()
        try:
            rows, notes = run_all(Path(workdir))
        finally:
            Simlab().down()
            log("simulated lab down")
            raw = args.results / f"{when.strftime('%Y-%m-%d_%H%M%S')}-timings"
            if (Path(workdir) / "timings").is_dir():
                shutil.copytree(Path(workdir) / "timings", raw, dirs_exist_ok=True)
    elapsed = time.monotonic() - started
    print()
    print(format_table(rows), end="")
    text = results_document(rows, machine_facts(), when, commit(), notes, elapsed)
    path = write_results(args.results, text, when)
    print(f"\nbench: {elapsed:.0f} s; results in {path}")
    missed = [row.metric for row in rows if row.met is False]
    if missed:
        print("bench: targets missed (figures, not a failure): " + "; ".join(missed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
