"""Scenarios 1, 2 and 4: the seed's 7-VM IPI cluster deployed by `pulumi up`, by the virsh/ssh
baseline and by the physical limit (libvirt binding, no engine); deployed again (a no-op); and the
bytes each new VM leaves on its hypervisor."""

from __future__ import annotations

from typing import Any

from bench import otel
from bench.cpu import guests_settled, measured
from bench.diskuse import bytes_per_node
from bench.engine import EngineClient, change_summary, changes
from bench.labclient import BaselineRun, LabClient
from bench.physical_plan import run_physical
from bench.report import Section, seconds, size
from bench.stacks import ClusterPlan, vrrp_free
from core.clusterconfig import ClusterConfig

SEED = ClusterPlan(vrrp_free("seed7"), "hv1", "ipi", workers=3, start=True)  # provisionhost + 3 masters + 3 workers
NODES = ["provisionhost", "master-0", "master-1", "master-2", "worker-0", "worker-1", "worker-2"]
MIB = 1024 * 1024
BASELINE_TARGET = 1.0
PHYSICAL_TARGET = 1.3
NOOP_TARGET = 5.0

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


def _engine_noop(engine: EngineClient, section: Section, client: LabClient) -> None:
    """Scenario 2 through the engine: preview and up with --expect-no-changes, their change summaries,
    and the hosts' snapshot around the up."""
    s2 = "2. no-op on the deployed 7 VMs"
    preview = engine.preview(SEED.name, "--expect-no-changes", "--json", check=False)
    summary = change_summary(preview.stdout)
    ok = preview.returncode == 0 and summary is not None and changes(summary) == 0
    section.add(f"{s2}: pulumi preview --expect-no-changes",
                f"{seconds(preview.wall)}; exit {preview.returncode}, changeSummary {summary}",
                f"< {NOOP_TARGET:.0f} s, 0 changes", ok and preview.wall < NOOP_TARGET)
    snap_before = client.snapshot(SEED.hypervisor, SEED.name)
    up = engine.up(SEED.name, "--expect-no-changes", check=False)
    snap_after = client.snapshot(SEED.hypervisor, SEED.name)
    history = engine.last_update_changes(SEED.name)
    changed = snap_before.changed(snap_after)
    ok = up.returncode == 0 and history is not None and changes(history) == 0 and not changed
    section.add(f"{s2}: pulumi up --expect-no-changes",
                f"{seconds(up.wall)}; exit {up.returncode}, resourceChanges {history}; hosts: {len(changed)} changed "
                f"of {len(snap_before.values)} (domain UUIDs, file mtimes, network UUID, dnsmasq PID)"
                + (f" ({', '.join(changed)})" if changed else ""),
                f"< {NOOP_TARGET:.0f} s, 0 changes", ok and up.wall < NOOP_TARGET)
    if not ok:
        section.notes.append(f"Scenario 2: pulumi up --expect-no-changes output: {_last(up.stdout + up.stderr)}")
    _settled_noop(engine, section, s2)
    for command in ("preview", "up"):
        traced = (engine.preview(SEED.name, trace=True) if command == "preview"
                  else engine.up(SEED.name, "--expect-no-changes", trace=True))
        if traced.trace:
            profile = otel.breakdown(otel.read_trace(traced.trace))
            section.add(f"{s2}: pulumi {command} with --otel-traces, where the wall time went",
                        f"{seconds(traced.wall)}; {profile.resources} registrations; {profile.shares()}; of the "
                        f"program start-up, ours (after `import pulumi`) {seconds(profile.program_ours)}; provider "
                        f"calls: {profile.methods()}")


def _settled_noop(engine: EngineClient, section: Section, s2: str) -> None:
    """The same no-op once the 7 guests have booted: on the simulated lab they boot under TCG on the engine's
    own 2 cores, which a real lab's hypervisors would not share; the figures above are taken while they do."""
    waited = guests_settled()
    for command in ("preview", "up"):
        with measured() as cpu:
            run = (engine.preview(SEED.name, "--expect-no-changes", "--json", check=False) if command == "preview"
                   else engine.up(SEED.name, "--expect-no-changes", check=False))
        summary = change_summary(run.stdout) if command == "preview" else engine.last_update_changes(SEED.name)
        ok = run.returncode == 0 and summary is not None and changes(summary) == 0
        section.add(f"{s2}: pulumi {command} --expect-no-changes, guests settled ({waited:.0f} s after the above)",
                    f"{seconds(run.wall)}; exit {run.returncode}, changes {summary}; {cpu.describe()}",
                    f"< {NOOP_TARGET:.0f} s, 0 changes", ok and run.wall < NOOP_TARGET)


def _last(text: str, chars: int = 600) -> str:
    return " ".join(text.strip().split())[-chars:]


def run(client: LabClient, engine: EngineClient, lab: str, lab_outputs: dict[str, Any],
        cluster: ClusterConfig) -> Section:
    section = Section()
    s1 = "1. IPI 7 VMs (seed shape, tiny, TCG, started)"
    before = client.disk_usage(SEED.hypervisor)
    first = client.baseline("up", SEED.name)
    after = client.disk_usage(SEED.hypervisor)
    per_node = bytes_per_node(client.allocated_by_file(SEED.hypervisor, SEED.name), SEED.name, NODES)
    snap_before = client.snapshot(SEED.hypervisor, SEED.name)
    second = client.baseline("up", SEED.name)
    snap_after = client.snapshot(SEED.hypervisor, SEED.name)
    client.cleanup([(SEED.name, SEED.hypervisor)])

    physical = run_physical(cluster, lab_outputs, client.timings)
    client.cleanup([(SEED.name, SEED.hypervisor)])

    engine.workspace.ensure_stack(SEED.name)
    traced = engine.up(SEED.name, trace=True)  # the profile (tracing costs time: not the timed run)
    profile = otel.breakdown(otel.read_trace(traced.trace)) if traced.trace else None
    engine.destroy(SEED.name)
    engine_before = client.disk_usage(SEED.hypervisor)
    with measured() as cpu:
        up = engine.up(SEED.name)
    engine_after = client.disk_usage(SEED.hypervisor)
    engine_per_node = bytes_per_node(client.allocated_by_file(SEED.hypervisor, SEED.name), SEED.name, NODES)
    noop = Section()
    _engine_noop(engine, noop, client)
    destroyed = engine.destroy(SEED.name)

    section.add(f"{s1}: pulumi up", f"{seconds(up.wall)} ({cpu.describe()})")
    section.add(f"{s1}: baseline deploy (virsh + ssh: volumes, domains, dnsmasq entries)", seconds(first.wall),
                "reference")
    section.add(f"{s1}: physical limit (libvirt binding, 1 qemu+ssh connection, 1 ssh session)",
                f"{seconds(physical.wall)} ({seconds(physical.plan_seconds)} plan + ISO, then "
                + ", ".join(f"{k} {seconds(v)}" for k, v in sorted(physical.steps.items(), key=lambda i: -i[1]))
                + ")", "reference")
    ratio, limit_ratio = up.wall / first.wall, up.wall / physical.wall
    section.add(f"{s1}: pulumi up / baseline", f"{ratio:.2f}", f"<= {BASELINE_TARGET}", ratio <= BASELINE_TARGET)
    section.add(f"{s1}: pulumi up / physical limit", f"{limit_ratio:.2f}", f"<= {PHYSICAL_TARGET}",
                limit_ratio <= PHYSICAL_TARGET)
    section.add(f"{s1}: baseline / physical limit", f"{first.wall / physical.wall:.2f}")
    if profile:
        section.add(f"{s1}: pulumi up with --otel-traces, where the wall time went",
                    f"{seconds(traced.wall)}; {profile.resources} registrations; {profile.shares()}; of the program "
                    f"start-up, ours (after `import pulumi`) {seconds(profile.program_ours)}; provider "
                    f"calls: {profile.methods()}")
        section.notes.append(f"Scenario 1, pulumi up of seed7: {profile.state_writes} state (checkpoint) writes.")
    breakdown(section, "1. baseline", first)
    section.add(f"{s1}: pulumi destroy (cleanup, not a target)", seconds(destroyed.wall))

    s2 = "2. no-op on the deployed 7 VMs"
    section.rows.extend(noop.rows)
    section.notes.extend(noop.notes)
    section.add(f"{s2}: baseline second deploy", seconds(second.wall), f"< {NOOP_TARGET:.0f} s",
                second.wall < NOOP_TARGET)
    changed = snap_before.changed(snap_after)
    unchanged_text = "entries unchanged" in second.stdout
    proof = (f"{len(changed)} changed of {snap_before.count('uuid:')} domain UUIDs, "
             f"{snap_before.count('mtime:')} file mtimes (volumes, domain XML, dnsmasq files), provisioning "
             f"network UUID, dnsmasq PID; apply script: "
             f"{'entries unchanged' if unchanged_text else 'changed: ' + second.stdout.strip()[-120:]}")
    section.add(f"{s2}: baseline changes", proof + (f" (changed: {', '.join(changed)})" if changed else ""),
                "0 changes", not changed and unchanged_text and snap_before.count("uuid:") == len(NODES))
    breakdown(section, "2. baseline no-op", second)

    s4 = "4. bytes written on the hypervisor per new VM"
    for who, delta, nodes in (("pulumi up", engine_after - engine_before, engine_per_node),
                              ("baseline", after - before, per_node)):
        per_vm = delta / len(NODES)
        section.add(f"{s4}, {who}: pool + domain XML, du delta / 7 (7-VM cluster)", size(per_vm), "< 1 MiB",
                    per_vm < MIB)
        worst = max(nodes, key=lambda node: nodes[node])
        section.add(f"{s4}, {who}: largest single VM ({worst}: its volumes + XML, allocated)", size(nodes[worst]),
                    "< 1 MiB", nodes[worst] < MIB)
        section.notes.append(f"Per-VM allocation after {who} of the 7-VM cluster: " + ", ".join(
            f"{node} {size(value)}" for node, value in nodes.items()) + ".")
    section.notes.append("The root disks are qcow2 overlays on the pool's base image (backing store), so no image "
                         "is copied; the figures include what the guests wrote while booting during the deploy.")
    return section
