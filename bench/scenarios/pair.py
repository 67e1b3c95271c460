"""Scenario 5: two clusters on two hypervisors, deployed at the same time vs one after the other."""

from __future__ import annotations

from bench.labclient import LabClient
from bench.report import Section, engine_row, seconds
from bench.stacks import ClusterPlan

TARGET = 0.6


def clusters(start: bool) -> list[ClusterPlan]:
    tag = "up" if start else "def"
    return [ClusterPlan(f"pair{tag}-a", "hv1", start=start), ClusterPlan(f"pair{tag}-b", "hv2", start=start)]


def all_clusters() -> list[ClusterPlan]:
    return clusters(start=False) + clusters(start=True)


def measure(client: LabClient, section: Section, start: bool) -> None:
    pair = clusters(start)
    names = [c.name for c in pair]
    where = [(c.name, c.hypervisor) for c in pair]
    sequential, _ = client.baseline_in_turn("up", names)
    client.cleanup(where)
    parallel, _ = client.baseline_together("up", names)
    client.cleanup(where)
    what = "started" if start else "defined only (ocplab:start: false)"
    label = f"5. two 7-VM IPI clusters on hv1 + hv2, {what}"
    section.add(f"{label}: baseline one after the other", seconds(sequential))
    section.add(f"{label}: baseline at the same time", seconds(parallel))
    ratio = parallel / sequential
    section.add(f"{label}: at the same time / one after the other", f"{ratio:.2f}", f"<= {TARGET}",
                ratio <= TARGET)


def run(client: LabClient) -> Section:
    section = Section()
    section.rows.append(engine_row("5. two clusters: pulumi up at the same time / one after the other",
                                   f"<= {TARGET}"))
    measure(client, section, start=False)
    measure(client, section, start=True)
    section.notes.append(
        "Scenario 5 is measured twice. Defined-only isolates the deployer: on the simulated lab every "
        "'hypervisor' shares this machine's CPUs, so guests booting under TCG (about 15% of a core each) "
        "slow down whatever runs next to them, which separate real hypervisors would not. The started "
        "variant is the full deploy, guest boots included.")
    return section
