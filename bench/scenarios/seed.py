"""Scenarios 1, 2 and 4: the seed's 7-VM IPI cluster deployed, deployed again (a no-op), and the
bytes each new VM leaves on its hypervisor."""

from __future__ import annotations

import json
from typing import Any

from bench.diskuse import bytes_per_node
from bench.labclient import BaselineRun, LabClient
from bench.report import Section, engine_row, seconds, size
from bench.scenarios.program import run_program
from bench.stacks import ClusterPlan

SEED = ClusterPlan("seed7", "hv1", "ipi", workers=3, start=True)  # provisionhost + 3 masters + 3 workers
NODES = ["provisionhost", "master-0", "master-1", "master-2", "worker-0", "worker-1", "worker-2"]
MIB = 1024 * 1024

# How the baseline's steps are reported (timed_baseline's categories), in table order.
STEPS = (
    ("dnsmasq entries", "dnsmasq entries on the jumphost (ssh, lock, dnsmasq --test, restart)"),
    ("volumes", "volume creation (vol-list, vol-create-as, vol-path, vol-upload)"),
    ("define", "domain define"),
    ("start", "domain start"),
    ("lookups", "lookups (dominfo, domuuid)"),
    ("provisioning network", "provisioning network (net-define, net-start, net-autostart)"),
    ("cloud-init ISO (genisoimage)", "cloud-init ISO (genisoimage, local)"),
    ("virtual BMCs", "virtual BMC sync (ssh to the hypervisor)"),
)


def calls(count: int) -> str:
    return f"{count} call{'' if count == 1 else 's'}"


def breakdown(section: Section, label: str, run: BaselineRun) -> None:
    """One row per step, then what no remote call explains (Python, interpreter start)."""
    accounted = 0.0
    known = {key for key, _ in STEPS}
    for key, text in STEPS:
        if key in run.categories:
            accounted += run.categories[key]
            section.add(f"{label}: {text}", f"{seconds(run.categories[key])} ({calls(run.calls[key])})")
    for key in sorted(set(run.categories) - known):
        accounted += run.categories[key]
        section.add(f"{label}: {key}", f"{seconds(run.categories[key])} ({calls(run.calls[key])})")
    section.add(f"{label}: Python (design, XML) and interpreter start", seconds(max(0.0, run.wall - accounted)))


def run(client: LabClient, lab: str, lab_outputs: dict[str, Any]) -> Section:
    section = Section()
    s1 = "1. IPI 7 VMs (seed shape, tiny, TCG, started)"
    before = client.disk_usage(SEED.hypervisor)
    first = client.baseline("up", SEED.name)
    after = client.disk_usage(SEED.hypervisor)
    per_node = bytes_per_node(client.allocated_by_file(SEED.hypervisor, SEED.name), SEED.name, NODES)
    snap_before = client.snapshot(SEED.hypervisor, SEED.name)
    second = client.baseline("up", SEED.name)
    snap_after = client.snapshot(SEED.hypervisor, SEED.name)
    previous = json.loads((client.state / f"{SEED.name}.json").read_text())
    program_first = run_program(client, [SEED.name], {lab: lab_outputs}, "seed-first")
    program_again = run_program(client, [SEED.name], {lab: lab_outputs, SEED.name: previous}, "seed-again")
    client.cleanup([(SEED.name, SEED.hypervisor)])

    section.rows.append(engine_row(f"{s1}: pulumi up", "<= 2x baseline"))
    section.add(f"{s1}: baseline deploy (volumes, domains, dnsmasq entries)", seconds(first.wall), "reference")
    section.rows.append(engine_row(f"{s1}: pulumi up / baseline", "<= 2"))
    breakdown(section, "1. baseline", first)
    section.add(f"{s1}: our program under mocks (Python side of pulumi up)",
                f"{seconds(program_first.declare_seconds)} + {seconds(program_first.import_seconds)} import, "
                f"{program_first.resources} resources")

    s2 = "2. no-op second deploy of the 7 VMs"
    section.rows.append(engine_row(f"{s2}: pulumi up", "< 10 s, 0 changes"))
    section.add(f"{s2}: baseline", seconds(second.wall), "< 10 s", second.wall < 10)
    changed = snap_before.changed(snap_after)
    unchanged_text = "entries unchanged" in second.stdout
    proof = (f"{len(changed)} changed of {snap_before.count('uuid:')} domain UUIDs, "
             f"{snap_before.count('mtime:')} file mtimes (volumes, domain XML, dnsmasq files), provisioning "
             f"network UUID, dnsmasq PID; apply script: "
             f"{'entries unchanged' if unchanged_text else 'NOT unchanged: ' + second.stdout.strip()[-120:]}")
    section.add(f"{s2}: baseline changes", proof + (f" (changed: {', '.join(changed)})" if changed else ""),
                "0 changes", not changed and unchanged_text and snap_before.count("uuid:") == len(NODES))
    breakdown(section, "2. baseline no-op", second)
    section.add(f"{s2}: our program under mocks (previous assignments read back)",
                f"{seconds(program_again.declare_seconds)}, {program_again.resources} resources")

    s4 = "4. bytes written on the hypervisor per new VM"
    per_vm = (after - before) / len(NODES)
    section.add(f"{s4}: pool + domain XML, du delta / 7 (7-VM cluster)", size(per_vm), "< 1 MiB", per_vm < MIB)
    worst = max(per_node, key=lambda node: per_node[node])
    section.add(f"{s4}: largest single VM ({worst}: its volumes + XML, allocated)", size(per_node[worst]),
                "< 1 MiB", per_node[worst] < MIB)
    section.notes.append("Per-VM allocation in the 7-VM cluster: " + ", ".join(
        f"{node} {size(value)}" for node, value in per_node.items()) + ". The root disk is a qcow2 overlay on "
        "the pool's base image (--backing-vol), so no image is copied.")
    return section
