"""Scenarios 3, 4 (defined-only VMs) and 6: ten hypervisors, clusters totalling 10, 100 and 250
domains defined but not started: `pulumi preview` and `pulumi up` through the engine (timed, traced,
SSH counted, memory sampled), our program under mocks and the baseline, and how each grows."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from bench import memory, otel, sshcount
from bench.cpu import CpuUse, measured
from bench.engine import EngineClient
from bench.growth import growth
from bench.labclient import BenchError, LabClient
from bench.report import Section, seconds, size
from bench.scenarios.program import ProgramRun, run_program
from bench.stacks import ClusterPlan, spread

HYPERVISORS = 10
SIZES = (10, 100, 250)
PREVIEW_TARGET = 30.0
MEMORY_TARGET = 1024 * 1024 * 1024
MIB = 1024 * 1024


def cases() -> dict[int, list[ClusterPlan]]:
    """Per size, one cluster per hypervisor: 10 SNO clusters, or 10 IPI clusters of 10 or 25."""
    return {n: spread(n, HYPERVISORS, f"s{n}", start=False) for n in SIZES}


def all_clusters() -> list[ClusterPlan]:
    return [c for plans in cases().values() for c in plans]


def _program_rows(section: Section, runs: dict[int, ProgramRun]) -> None:
    for n, run in runs.items():
        per = run.declare_seconds / run.resources
        section.add(f"3. our program under mocks, {n} domains (10 stacks declared in one process, no engine)",
                    f"{seconds(run.declare_seconds)} + {seconds(run.import_seconds)} import; {run.resources} "
                    f"resources, {per * 1000:.2f} ms/resource, {run.declare_seconds / n * 1000:.1f} ms/domain")
    by_resources = growth([(run.resources, run.declare_seconds) for run in runs.values()])
    section.add("3. our program under mocks: growth in resources", by_resources.summary("resource"), "linear",
                by_resources.linear)


@dataclass
class EngineScale:
    """One size through the engine: ten stacks at once, each command timed as a whole (wall)."""

    preview: float = 0.0
    preview_traced: float = 0.0
    up: float = 0.0
    up_traced: float | None = None
    destroy: float = 0.0
    resources: int = 0
    preview_profile: otel.Breakdown | None = None
    up_profile: otel.Breakdown | None = None
    ssh_preview: sshcount.SshCount | None = None
    ssh_up: sshcount.SshCount | None = None
    memory: memory.Peak | None = None
    cpu: CpuUse | None = None
    up_failed: str = ""
    up_outputs: dict[str, str] = field(default_factory=dict)  # each failed up's whole output, by stack


def _ssh_delta(before: sshcount.SshCount | None) -> sshcount.SshCount | None:
    after = sshcount.read()
    return after - before if after and before else None


def engine_size(engine: EngineClient, names: list[str], trace_up: bool, destroy: bool = True) -> EngineScale:
    found = EngineScale()
    for name in names:
        engine.workspace.ensure_stack(name)
    before = sshcount.read()
    found.preview, _ = engine.together(engine.preview, names)
    found.ssh_preview = _ssh_delta(before)
    found.preview_traced, runs = engine.together(lambda s: engine.preview(s, trace=True), names)
    found.preview_profile = otel.total(r.trace for r in runs if r.trace)
    found.resources = found.preview_profile.resources
    before = sshcount.read()
    with memory.sampled() as found.memory, measured() as found.cpu:
        found.up, runs = engine.together(lambda s: engine.up(s, check=False), names)
    found.ssh_up = _ssh_delta(before)
    failed = [r for r in runs if r.returncode != 0]
    if failed:  # the previews stand; the up is reported as failed, with the first failure's error lines
        found.up_outputs = {r.stack: r.stdout + r.stderr for r in failed}
        found.up_failed = f"{len(failed)} of {len(runs)} failed, first {failed[0].stack}: " + error_lines(
            found.up_outputs[failed[0].stack])
    if not destroy:  # the run's last step: `simlab down` removes the lab with it
        return found
    found.destroy, _ = engine.together(engine.destroy, names)
    if trace_up and not failed:
        found.up_traced, runs = engine.together(lambda s: engine.up(s, trace=True), names)
        found.up_profile = otel.total(r.trace for r in runs if r.trace)
        engine.together(engine.destroy, names)
    return found


def error_lines(output: str, chars: int = 400) -> str:
    """The lines that say what failed (`error:`), else the output's tail: a failed up's last lines are often
    a script's own text, not the error."""
    errors = list(dict.fromkeys(line.strip() for line in output.splitlines() if "error:" in line))
    return " ".join(" ".join(errors or output.split()[-80:]).split())[:chars]


def _engine_rows(section: Section, found: dict[int, EngineScale]) -> None:
    for n, e in found.items():
        per = f"{e.preview / e.resources * 1000:.1f} ms/resource" if e.resources else ""
        target = f"< {PREVIEW_TARGET:.0f} s (250), linear" if n == 250 else "linear"
        section.add(f"3. pulumi preview, {n} domains on 10 hypervisors (10 stacks at once)",
                    f"{seconds(e.preview)}, {e.resources} resources, {per}, {e.preview / n * 1000:.0f} ms/domain; "
                    + (e.ssh_preview.describe() if e.ssh_preview else "SSH not counted"),
                    target, e.preview < PREVIEW_TARGET if n == 250 else None)
    for n, e in found.items():
        if e.up_failed:
            section.add(f"3. pulumi up, {n} domains on 10 hypervisors (10 stacks at once, defined only)",
                        f"failed after {seconds(e.up)} (whole outputs in the run's timings/failed-up-<stack>.txt): "
                        f"{e.up_failed}", "linear", False)
            continue
        per = f"{e.up / e.resources * 1000:.1f} ms/resource" if e.resources else ""
        section.add(f"3. pulumi up, {n} domains on 10 hypervisors (10 stacks at once, defined only)",
                    f"{seconds(e.up)}, {per}, {e.up / n * 1000:.0f} ms/domain; "
                    + (e.ssh_up.describe() if e.ssh_up else "SSH not counted")
                    + (f"; {e.cpu.describe()}" if e.cpu else ""), "linear")
    if len(found) >= 2:
        for what in ("preview", "up"):
            if what == "up" and any(e.up_failed for e in found.values()):
                continue
            fit = growth([(e.resources or n, float(getattr(e, what))) for n, e in found.items()])
            section.add(f"3. pulumi {what}: growth in resources", fit.summary("resource"), "linear", fit.linear)
    for n, e in found.items():
        if e.preview_profile:
            p = e.preview_profile
            section.add(f"3. pulumi preview, {n} domains: where the time went (sum over the 10 traced stacks)",
                        f"traced {seconds(e.preview_traced)} wall (untraced {seconds(e.preview)}); {p.shares()}; "
                        f"provider calls {p.methods()}")
        if e.up_profile:
            p = e.up_profile
            section.add(f"3. pulumi up, {n} domains: where the time went (sum over the 10 traced stacks)",
                        f"traced {seconds(e.up_traced or 0)} wall (untraced {seconds(e.up)}); {p.shares()}; "
                        f"provider calls {p.methods()}; {p.state_writes} state writes")
    for n, e in found.items():
        if e.destroy:
            section.add(f"3. pulumi destroy, {n} domains (cleanup, not a target)", seconds(e.destroy))
    if max(found, default=0) == max(SIZES):
        e = found[max(SIZES)]
        if e.memory:
            m = e.memory
            parts = ", ".join(f"{k} {size(v)}" for k, v in sorted(m.at_peak.items(), key=lambda i: -i[1]))
            shared = ", ".join(f"{k} {size(v)}" for k, v in sorted(m.pss_at_peak.items(), key=lambda i: -i[1]))
            section.add(f"6. peak memory of everything the 10 `pulumi up`s run, {max(SIZES)} domains (PSS sum of "
                        "the process tree, 10 Hz: shared pages split among their sharers)",
                        f"{size(m.pss_total)} in {m.pss_processes} processes ({shared})", f"< {size(MEMORY_TARGET)}",
                        m.pss_total < MEMORY_TARGET)
            section.add("6. the same, as the RSS sum (each shared page counted once per process that maps it)",
                        f"{size(m.total)} in {m.processes} processes ({parts}); largest process {m.largest[0]} "
                        f"{size(m.largest[1])}; {m.samples} samples", "", None)


# What one size costs in all (engine: 2 previews, up, destroy, traced up, destroy; baseline up, cleanup), in
# seconds on the 2-core machine, generously: a size that would end after --stop-at is left out.
BUDGET = {10: 200.0, 100: 500.0, 250: 1100.0}


def run(client: LabClient, engine: EngineClient, lab: str, lab_outputs: dict[str, Any],
        sizes: tuple[int, ...] = SIZES, trace_up: bool = True, stop_at: float | None = None,
        engine_only: bool = False) -> Section:
    section = Section()
    plans = {n: plan for n, plan in cases().items() if n in sizes}
    refs = {lab: lab_outputs}
    programs = {n: run_program(client, [c.name for c in plans[n]], refs, f"scale-{n}") for n in plans}

    found: dict[int, EngineScale] = {}
    deploys: dict[int, float] = {}
    dns_step: dict[int, float] = {}
    cpu: dict[int, CpuUse] = {}
    disk: dict[int, float] = {}
    for n in list(plans):
        share = 0.45 if engine_only else 1.0 if trace_up else 0.7  # of the full size's budget
        if stop_at is not None and time.time() + BUDGET[n] * share > stop_at:
            section.add(f"3. pulumi preview and up, {n} domains", "not measured in this run: it would not end "
                        "before the lab had to be free (--stop-at)", "linear")
            if n == max(SIZES):
                section.add(f"6. peak memory of the pulumi up process trees, {n} domains",
                            f"not measured in this run: the {n}-domain case did not fit the lab's time window",
                            f"< {size(MEMORY_TARGET)}")
            del plans[n]
            continue
        names = [c.name for c in plans[n]]
        try:
            found[n] = engine_size(engine, names, trace_up, destroy=not engine_only)
            for stack, output in found[n].up_outputs.items():  # kept whole, as a failed cleanup's is
                (client.timings / f"failed-up-{stack}.txt").write_text(output)
            if engine_only:
                continue
            first = plans[n][0]
            before = client.disk_usage(first.hypervisor)
            with measured() as cpu[n]:
                deploys[n], runs = client.baseline_together("up", names)
            dns_step[n] = max(r.categories.get("dnsmasq entries", 0.0) for r in runs)
            disk[n] = (client.disk_usage(first.hypervisor) - before) / first.domains
        except BenchError as exc:
            (client.timings / f"failed-scale-{n}.txt").write_text(str(exc))
            section.add(f"3. pulumi preview and up, {n} domains",
                        f"failed (whole message in the run's timings/failed-scale-{n}.txt): "
                        f"{' '.join(str(exc).split())[:300]}", "linear")
            found.pop(n, None)
            deploys.pop(n, None)
            del plans[n]
            for name in names:  # best effort: the next size starts from an empty lab
                engine.destroy(name, check=False)
            client.cleanup([(c.name, c.hypervisor) for c in cases()[n]])
            continue
        client.cleanup([(c.name, c.hypervisor) for c in plans[n]])

    if engine_only:
        section.notes.append("This run measured the engine side of scenario 3 only (--engine-only): no baseline "
                             "deploy, no destroy (the lab went down with the domains).")
        plans = {n: p for n, p in plans.items() if n in deploys}
    _engine_rows(section, found)
    shown = {n: programs[n] for n in plans}
    if len(shown) >= 2:
        _program_rows(section, shown)
    for n in plans:
        shape = "10 SNO clusters" if n == HYPERVISORS else f"10 IPI clusters of {n // HYPERVISORS}"
        section.add(f"3. baseline deploy, {n} domains defined ({shape}, 1 per hypervisor, at the same time)",
                    f"{seconds(deploys[n])}, {deploys[n] / n:.2f} s/domain; {cpu[n].busy / n:.2f} CPU-s/domain, "
                    f"{cpu[n].describe()}; longest dnsmasq-entries step (waits for the jumphost lock) "
                    f"{seconds(dns_step[n])}")
    for n in plans:
        section.add(f"3. pulumi up / baseline deploy, {n} domains", f"{found[n].up / deploys[n]:.2f}")
    if len(deploys) >= 2:
        baseline_growth = growth(list(deploys.items()))
        section.add("3. baseline deploy: growth of wall time in domains", baseline_growth.summary(), "linear",
                    baseline_growth.linear)
    for n in plans:
        section.add(f"4. bytes per new VM, {n}-domain case (baseline, du delta on hv1 / its domains, defined only)",
                    size(disk[n]), "< 1 MiB", disk[n] < MIB)
    section.notes.append(
        "Scale cases: one cluster per hypervisor, all ten deployed at the same time (one `pulumi up` or one "
        "baseline process each). 10 domains are 10 SNO clusters (an IPI cluster has at least 4 "
        "domains); 100 and 250 are IPI clusters of 10 and 25 (provisionhost with cloud-init, 3 masters, "
        "workers with a second disk). Every case has ten clusters, so per-cluster costs (dnsmasq entries, "
        "provisioning network, console collector) are the same ten in each; growth is judged on the marginal "
        "cost per resource. 'Where the time went' sums the ten stacks' own wall times: each instant of a stack's "
        "run is given to a provider call in flight, else a state write, else the program's start-up (before its "
        "first registration), else engine + program (registrations and steps), else the CLI outside the program.")
    return section
