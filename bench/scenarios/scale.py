"""Scenarios 3, 4 (defined-only VMs) and 6: ten hypervisors, clusters totalling 10, 100 and 250
domains defined but not started; our program under mocks and the baseline, and how both grow."""

from __future__ import annotations

from typing import Any

from bench.cpu import CpuUse, measured
from bench.growth import growth
from bench.labclient import LabClient
from bench.report import Section, engine_row, seconds, size
from bench.scenarios.program import ProgramRun, run_program
from bench.stacks import ClusterPlan, spread

HYPERVISORS = 10
SIZES = (10, 100, 250)
PREVIEW_TARGET = 60.0
MEMORY_TARGET = 500 * 1024 * 1024
MIB = 1024 * 1024


def cases() -> dict[int, list[ClusterPlan]]:
    """Per size, one cluster per hypervisor: 10 SNO clusters, or 10 IPI clusters of 10 or 25."""
    return {n: spread(n, HYPERVISORS, f"s{n}", start=False) for n in SIZES}


def all_clusters() -> list[ClusterPlan]:
    return [c for plans in cases().values() for c in plans]


def _program_rows(section: Section, runs: dict[int, ProgramRun]) -> None:
    for n, run in runs.items():
        per = run.declare_seconds / run.resources
        met = run.declare_seconds + run.import_seconds < PREVIEW_TARGET if n == max(SIZES) else None
        section.add(f"3. our program under mocks, {n} domains (10 stacks declared, Python side of preview)",
                    f"{seconds(run.declare_seconds)} + {seconds(run.import_seconds)} import; {run.resources} "
                    f"resources, {per * 1000:.2f} ms/resource, {run.declare_seconds / n * 1000:.1f} ms/domain",
                    "< 60 s (250)" if n == max(SIZES) else "", met)
    by_resources = growth([(run.resources, run.declare_seconds) for run in runs.values()])
    section.add("3. our program under mocks: growth in resources", by_resources.summary("resource"), "linear",
                by_resources.linear)


def run(client: LabClient, lab: str, lab_outputs: dict[str, Any]) -> Section:
    section = Section()
    plans = cases()
    refs = {lab: lab_outputs}
    programs = {n: run_program(client, [c.name for c in plans[n]], refs, f"scale-{n}") for n in SIZES}
    largest = plans[max(SIZES)]
    one_each = [run_program(client, [c.name], refs, f"single-{c.name}") for c in largest]

    deploys: dict[int, float] = {}
    dns_step: dict[int, float] = {}
    cpu: dict[int, CpuUse] = {}
    disk: dict[int, float] = {}
    for n in SIZES:
        first = plans[n][0]
        before = client.disk_usage(first.hypervisor)
        with measured() as cpu[n]:
            deploys[n], runs = client.baseline_together("up", [c.name for c in plans[n]])
        dns_step[n] = max(r.categories.get("dnsmasq entries", 0.0) for r in runs)
        disk[n] = (client.disk_usage(first.hypervisor) - before) / first.domains
        client.cleanup([(c.name, c.hypervisor) for c in plans[n]])

    for n in SIZES:
        section.rows.append(engine_row(f"3. pulumi preview, {n} domains on 10 hypervisors",
                                       "< 60 s (250), linear" if n == max(SIZES) else "linear"))
    for n in SIZES:
        section.rows.append(engine_row(f"3. pulumi up, {n} domains on 10 hypervisors", "linear"))
    _program_rows(section, programs)
    for n in SIZES:
        shape = "10 SNO clusters" if n == HYPERVISORS else f"10 IPI clusters of {n // HYPERVISORS}"
        section.add(f"3. baseline deploy, {n} domains defined ({shape}, 1 per hypervisor, at the same time)",
                    f"{seconds(deploys[n])}, {deploys[n] / n:.2f} s/domain; {cpu[n].busy / n:.2f} CPU-s/domain, "
                    f"{cpu[n].describe()}; longest dnsmasq-entries step (waits for the jumphost lock) "
                    f"{seconds(dns_step[n])}")
    baseline_growth = growth(list(deploys.items()))
    section.add("3. baseline deploy: growth of wall time in domains", baseline_growth.summary(), "linear",
                baseline_growth.linear)
    cpu_growth = growth([(n, use.busy) for n, use in cpu.items()])
    section.add("3. baseline deploy: growth of CPU-seconds (whole machine) in domains",
                cpu_growth.summary("domain", "CPU-s", "CPU-ms"), "linear", cpu_growth.linear)

    for n in SIZES:
        section.add(f"4. bytes per new VM, {n}-domain case (du delta on hv1 / its domains, defined only)",
                    size(disk[n]), "< 1 MiB", disk[n] < MIB)

    together = programs[max(SIZES)]
    section.add("6. peak RSS of our program, all 250 domains (10 stacks) in one process, under mocks",
                size(together.peak_rss_bytes), "< 500 MiB", together.peak_rss_bytes < MEMORY_TARGET)
    peak = max(one_each, key=lambda r: r.peak_rss_bytes)
    section.add("6. peak RSS of our program, one stack per process (as the engine runs it), largest of 10",
                f"{size(peak.peak_rss_bytes)} ({peak.stacks[0][0]}, {peak.resources} resources)", "< 500 MiB",
                peak.peak_rss_bytes < MEMORY_TARGET)
    section.rows.append(engine_row("6. peak memory of pulumi (engine + language host) for 250 domains",
                                   "< 500 MiB"))
    section.notes.append(
        "Scale cases: one cluster per hypervisor, all ten deployed at the same time (one baseline process "
        "each, as ten `pulumi up`s would run). 10 domains are 10 SNO clusters (an IPI cluster has at least 4 "
        "domains); 100 and 250 are IPI clusters of 10 and 25 (provisionhost with cloud-init, 3 masters, "
        "workers with a second disk). Every case has ten clusters, so per-cluster costs (dnsmasq entries, "
        "provisioning network) are the same ten in each; growth is judged on the marginal cost per domain.")
    return section
