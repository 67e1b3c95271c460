"""Scenario 5: two clusters on two hypervisors, deployed at the same time vs one after the other."""

from __future__ import annotations

import os

from bench.cpu import CpuUse, measured
from bench.engine import EngineClient
from bench.labclient import LabClient
from bench.report import Section, seconds
from bench.stacks import ClusterPlan, vrrp_free

TARGET = 0.6


def clusters(start: bool) -> list[ClusterPlan]:
    tag = "up" if start else "def"
    return [ClusterPlan(vrrp_free(f"pair{tag}-a"), "hv1", start=start),
            ClusterPlan(vrrp_free(f"pair{tag}-b"), "hv2", start=start)]


def all_clusters() -> list[ClusterPlan]:
    return clusters(start=False) + clusters(start=True)


def _ratio_row(section: Section, label: str, who: str, sequential: float, parallel: float, together: CpuUse,
               what: str) -> None:
    ratio = parallel / sequential
    # With every core busy, no schedule beats the CPU-seconds spread over all cores.
    cores = os.cpu_count() or 1
    floor, guests_floor = together.busy / cores / sequential, together.guests / cores / sequential
    section.add(f"{label}: {who} at the same time / one after the other",
                f"{ratio:.2f} (CPU-bound floor on this machine: {floor:.2f}, the TCG guests' CPU alone: "
                f"{guests_floor:.2f})", f"<= {TARGET}", ratio <= TARGET)
    if ratio > TARGET:
        section.notes.append(
            f"Scenario 5, {who}, {what}: the ratio {ratio:.2f} misses {TARGET}. Profile (CPU accounting of the "
            f"parallel run): the cores were {together.busy_fraction:.0%} busy, {together.guests:.0f} of "
            f"{together.busy:.0f} CPU-s in the TCG guests and {together.busy - together.guests:.0f} CPU-s in "
            f"everything else (pulumi, providers, virsh, ssh, sshd, libvirtd): with that much CPU work, no "
            f"schedule gets below the CPU-bound floor {floor:.2f} on {cores} cores.")


def measure(client: LabClient, engine: EngineClient, section: Section, start: bool) -> None:
    pair = clusters(start)
    names = [c.name for c in pair]
    where = [(c.name, c.hypervisor) for c in pair]
    what = "started" if start else "defined only (ocplab:start: false)"
    label = f"5. two 7-VM IPI clusters on hv1 + hv2, {what}"
    for name in names:
        engine.workspace.ensure_stack(name)
    with measured() as e_in_turn:
        e_sequential, _ = engine.in_turn(engine.up, names)
    engine.together(engine.destroy, names)
    with measured() as e_together:
        e_parallel, _ = engine.together(engine.up, names)
    engine.together(engine.destroy, names)
    with measured() as in_turn:
        sequential, _ = client.baseline_in_turn("up", names)
    client.cleanup(where)
    with measured() as together:
        parallel, _ = client.baseline_together("up", names)
    client.cleanup(where)
    section.add(f"{label}: pulumi up one after the other", f"{seconds(e_sequential)} ({e_in_turn.describe()})")
    section.add(f"{label}: pulumi up at the same time", f"{seconds(e_parallel)} ({e_together.describe()})")
    _ratio_row(section, label, "pulumi up", e_sequential, e_parallel, e_together, what)
    section.add(f"{label}: baseline one after the other", f"{seconds(sequential)} ({in_turn.describe()})")
    section.add(f"{label}: baseline at the same time", f"{seconds(parallel)} ({together.describe()})")
    _ratio_row(section, label, "baseline", sequential, parallel, together, what)


def run(client: LabClient, engine: EngineClient) -> Section:
    section = Section()
    measure(client, engine, section, start=False)
    measure(client, engine, section, start=True)
    section.notes.append(
        "Scenario 5 is measured twice. Defined-only isolates the deployer: on the simulated lab every "
        "'hypervisor' shares this machine's CPUs, so guests booting under TCG (about 15% of a core each) "
        "slow down whatever runs next to them, which separate real hypervisors would not: that is what caps "
        "the started case. 'CPU-bound floor' is the CPU-seconds the machine "
        "used during the parallel run spread over all its cores, divided by the sequential wall time: the "
        "best ratio any schedule could reach with that much work on this machine.")
    return section
