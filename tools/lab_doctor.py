"""`ocplab doctor`: the lab as its hosts hold it against its stacks (core/lab_audit.py), read over one
SSH session per host (tools/lab_collect.py); with --remove-orphans, the fixes of the orphans no stack
owns are run, and the lab is audited again."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rich.table import Table

from core.clusterconfig import ClusterConfig, parse_cluster_config
from core.errors import ConfigError
from core.lab_audit import Finding, audit, held_pieces
from core.stack_files import read_stack_values, stack_path
from renderers.lab_audit_scripts import PATHS
from renderers.urns import ClusterUrns
from tools.lab_collect import Runner, collect, first_line, run_on, run_process
from tools.lab_view import LabView
from tools.stack_outputs import StackError, project_name, stack_resources


@dataclass(frozen=True)
class Removal:
    finding: Finding
    ok: bool
    output: str  # the fix's first line of output (or of its error)


@dataclass
class Report:
    lab: str
    findings: list[Finding]
    removed: list[Removal] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"lab": self.lab, "findings": [f.as_dict() for f in self.findings],
                "removed": [{**r.finding.as_dict(), "ok": r.ok, "output": r.output} for r in self.removed]}


def cluster_configs(view: LabView) -> dict[str, ClusterConfig]:
    """Each deployed cluster's stack file, for which volumes its nodes have (a file that no longer parses
    leaves only the root volumes expected)."""
    configs = {}
    for stack in view.clusters:
        try:
            configs[stack] = parse_cluster_config(stack, read_stack_values(stack_path(stack)))
        except (ConfigError, OSError):
            continue
    return configs


def audit_lab(lab: str, view: LabView, run: Runner = run_process) -> list[Finding]:
    """What the hosts hold against the stacks. A deployed stack whose last update failed or was killed
    holds more than its outputs list (a worker being added: its volumes, recorded, no outputs yet); so
    before anything is called no one's, every deployed stack's state is read (only then: one
    `pulumi stack export` each) and what it holds is that stack's, never an orphan."""
    found = collect(view.outputs, run)
    configs = cluster_configs(view)
    urns = ClusterUrns(project_name())
    # A stack with no outputs is judged by its state alone: one that cannot be read stops the audit.
    held = {stack: held_pieces(stack, stack_resources(stack), PATHS) for stack in view.partial}
    findings = audit(lab, view.outputs, view.clusters, found, PATHS, urns, configs, view.busy, held)
    if not any(f.kind == "orphan" and f.owner is None for f in findings):
        return findings
    for stack in view.clusters:
        try:
            held[stack] = held_pieces(stack, stack_resources(stack), PATHS)
        except StackError:
            continue  # unreadable now: judged by its outputs, as before
    return audit(lab, view.outputs, view.clusters, found, PATHS, urns, configs, view.busy, held)


def remove_orphans(view: LabView, findings: list[Finding], run: Runner = run_process) -> list[Removal]:
    """Only orphans that no stack owns, in the audit's order; never a missing piece or a stack's own."""
    removed = []
    for finding in findings:
        if not finding.removable or finding.remote is None:
            continue
        result = run_on(view.outputs, finding.host, finding.remote, run)
        text = result.stdout if result.returncode == 0 else result.stderr or result.stdout
        removed.append(Removal(finding, result.returncode == 0,
                               first_line(text, "done" if result.returncode == 0 else f"exit {result.returncode}")))
    return removed


def doctor(lab: str, view: LabView, remove: bool = False, run: Runner = run_process) -> Report:
    findings = audit_lab(lab, view, run)
    if not remove:
        return Report(lab, findings)
    removed = remove_orphans(view, findings, run)
    return Report(lab, audit_lab(lab, view, run) if removed else findings, removed)


def findings_table(report: Report) -> Table:
    title = f"lab {report.lab}: " + (f"{len(report.findings)} findings" if report.findings else "no findings")
    table = Table(title=title, title_justify="left")
    for column in ("kind", "host", "what", "owner", "fix"):
        table.add_column(column, overflow="fold")
    for f in report.findings:
        table.add_row(f.kind, f.host, f.what, f.owner or "none", f.fix)
    return table


def removals_table(report: Report) -> Table:
    table = Table(title=f"removed orphans: {sum(r.ok for r in report.removed)} of {len(report.removed)}",
                  title_justify="left")
    for column in ("result", "host", "what", "output"):
        table.add_column(column, overflow="fold")
    for r in report.removed:
        table.add_row("removed" if r.ok else "FAILED", r.finding.host, r.finding.what, r.output)
    return table
