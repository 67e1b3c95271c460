"""`ocplab`: everything that is not `pulumi` itself. Exit 0 on success, 2 on bad input or a stack
that cannot be read (one line on stderr), 1 when a command it runs fails (doctor: when it finds something)."""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from core.cluster_outputs import OutputsError
from core.clusterconfig import parse_cluster_config
from core.errors import ConfigError
from core.lab_usage import Shape, default_shapes, fits, lab_usage
from core.labconfig import SshTarget
from core.resource_facts import domain_name
from core.ssh_access import ssh_argv
from core.stack_files import read_stack_values, stack_path
from renderers.install_config import pull_secret_problem, render_install_config, ssh_key_problem
from tools import dci_handoff, lab_doctor, seed_import
from tools.lab_collect import CollectError
from tools.lab_map import lab_graph, lab_tree
from tools.lab_view import LabView, LabViewError, load_lab, planned_lab
from tools.private_files import write_private
from tools.stack_outputs import StackError, stack_outputs

app = typer.Typer(help=__doc__, no_args_is_help=True, add_completion=False)
out = Console()


def fail(message: str, code: int = 2) -> typer.Exit:
    print(f"ocplab: {message}", file=sys.stderr)
    return typer.Exit(code)


def _view(lab: str, planned: bool) -> LabView:
    try:
        return planned_lab(lab) if planned else load_lab(lab)
    except (LabViewError, StackError) as exc:
        raise fail(str(exc)) from None


PLANNED_HELP = "from the stack files alone, before pulumi up: declared capacities, first-up addresses"


def _shape(text: str) -> Shape:
    """'sno', 'ipi', or a cluster stack file whose nodes are the shape."""
    shapes = {s.name.split()[0]: s for s in default_shapes()}
    if text in shapes:
        return shapes[text]
    path = Path(text) if Path(text).exists() else stack_path(text)
    if not path.exists():
        raise fail(f"--shape {text!r}: not sno, ipi, a cluster stack or a stack file")
    try:
        return Shape.of(path.name, parse_cluster_config(path.stem.removeprefix("Pulumi."), read_stack_values(path)))
    except ConfigError as exc:
        raise fail(f"--shape {text}: " + "; ".join(exc.problems)) from None


@app.command()
def plan(lab: Annotated[str, typer.Option(help="the lab stack")] = "simlab",
         shape: Annotated[list[str] | None, typer.Option(help="sno, ipi or a cluster stack file (repeatable)")] = None,
         as_json: Annotated[bool, typer.Option("--json", help="the same data as JSON")] = False,
         planned: Annotated[bool, typer.Option("--planned", help=PLANNED_HELP)] = False) -> None:
    """Slices and hypervisors as used now, and how many more clusters of each shape fit, where, and
    what limits them first. With --planned: as the stack files would deploy, each hypervisor at the
    capacity declared for it."""
    view = _view(lab, planned)
    if unknown := view.unknown_capacity():
        raise fail(f"capacity unknown: declare {', '.join(unknown)} in {stack_path(lab)} as "
                   "{vcpus, memory, disk}, or deploy the lab and leave out --planned")
    usage = lab_usage(view.config, view.outputs, view.clusters)
    shapes = [_shape(s) for s in shape] if shape else default_shapes()
    answers = {s.name: fits(usage, s) for s in shapes}
    if as_json:
        data = usage.as_dict()
        data["fits"] = {name: {"total": total, "limited_by": limit, "per_hypervisor": [f.__dict__ for f in per]}
                        for name, (per, total, limit) in answers.items()}
        data["refused"] = view.refused
        print(json.dumps(data, indent=2))
        return
    state = "planned" if planned else "deployed"
    slices = Table(title=f"lab {lab}{' (planned)' if planned else ''}: address slices", title_justify="left")
    for column in ("slice", "hypervisor", "range", "addresses used/size", "free", "BMC ports used/size", "state"):
        slices.add_column(column, justify="right" if "/" in column or column == "free" else "left")
    for s in usage.slices:
        slices.add_row(s.cluster, s.hypervisor, s.range, f"{s.used}/{s.size}", str(s.free),
                       f"{s.bmc_used}/{s.bmc_ports}" if s.bmc_ports else "-", state if s.deployed else "free")
    capacity = "declared capacity" if planned else "capacity"
    hosts = Table(title=f"hypervisors: committed / {capacity} x over-commit", title_justify="left")
    for column in ("hypervisor", "vCPUs", "memory MiB", "disk GiB", "clusters"):
        hosts.add_column(column, justify="left" if column in ("hypervisor", "clusters") else "right")
    for h in usage.hosts:
        disk = str(h.disk_committed // 1024**3) + (f"/{h.disk_bytes // 1024**3}" if h.disk_bytes else "")
        hosts.add_row(h.name, f"{h.vcpus_committed}/{h.vcpus} x{h.cpu_overcommit:g}",
                      f"{h.memory_committed}/{h.memory_mib} x{h.memory_overcommit:g}", disk,
                      ", ".join(h.clusters) or "-")
    out.print(slices, hosts)
    out.print(f"unallocated lab addresses: {usage.unallocated_count} ({', '.join(usage.unallocated) or 'none'})")
    for name, (per, total, limit) in answers.items():
        table = Table(title=f"more clusters of shape {name}: {total} (limited by {limit})", title_justify="left")
        for column in ("hypervisor", "by vCPUs", "by memory", "by disk", "by free slices", "fit now", "first limit"):
            table.add_column(column, justify="left" if column in ("hypervisor", "first limit") else "right")
        for f in per:
            table.add_row(f.hypervisor, str(f.by_vcpus), str(f.by_memory), "-" if f.by_disk is None else str(f.by_disk),
                          str(f.by_slices), str(f.count), f.limited_by)
        out.print(table)
    _print_refused(view)


def _print_refused(view: LabView) -> None:
    """Cluster stacks of a planned lab that pulumi up would refuse, each with its message."""
    for name, message in sorted(view.refused.items()):
        out.print(f"[b]cluster stack {name}: pulumi up -s {name} would refuse it:[/b]\n{message}", highlight=False)


@app.command(name="map")
def lab_map(lab: Annotated[str, typer.Option(help="the lab stack")] = "simlab",
            output: Annotated[Path | None, typer.Option(help="write FILE.svg or FILE.png (graphviz)")] = None,
            planned: Annotated[bool, typer.Option("--planned", help=PLANNED_HELP)] = False) -> None:
    """A picture of the lab: ASCII in the terminal, or SVG/PNG with --output. With --planned: the lab
    and clusters its stack files describe, as a first pulumi up would make them."""
    view = _view(lab, planned)
    usage = lab_usage(view.config, view.outputs, view.clusters)
    if output is None:
        out.print(lab_tree(view, usage))
        return
    if output.suffix not in (".svg", ".png"):
        raise fail(f"--output {output}: name a .svg or .png file")
    if shutil.which("dot") is None:
        raise fail("graphviz's dot not found: apt-get install graphviz (or dnf install graphviz)")
    graph = lab_graph(view, usage)
    written = graph.render(outfile=str(output), format=output.suffix[1:], cleanup=True)
    Path(str(output.with_suffix("")) + ".gv").unlink(missing_ok=True)
    out.print(f"wrote {written}")


@app.command()
def console(cluster: str, node: str) -> None:
    """The node's serial console, interactive, from here over the lab's SSH access (host keys checked).
    Leave with Ctrl+] (virsh console's escape)."""
    try:
        outputs = stack_outputs(cluster)
    except StackError as exc:
        raise fail(str(exc)) from None
    if outputs.get("kind") != "cluster":
        raise fail(f"stack {cluster} is not a deployed cluster stack (pulumi up -s {cluster})")
    names = [n["name"] for n in outputs.get("nodes", [])]
    if node not in names:
        raise fail(f"cluster {cluster} has no node {node!r}; its nodes: {', '.join(names)}")
    jump, hv = outputs["jumphost"], outputs["hypervisor"]
    argv = [*ssh_argv(SshTarget(address=hv["address"], user="root"), jump["ssh_key_path"], jump["known_hosts"], "-t"),
            "virsh", "console", "--force", domain_name(cluster, node)]
    sys.stdout.flush()
    os.execvp(argv[0], argv)


@app.command()
def handoff(cluster: str, pool: Annotated[str, typer.Option(help="the dci-queue pool (@QUEUE)")],
            root: Annotated[Path, typer.Option(help="inventories root")] = dci_handoff.DEFAULT_ROOT) -> None:
    """Write the cluster's DCI inventory to ROOT/POOL/CLUSTER (mode 0600)."""
    raise typer.Exit(dci_handoff.main([cluster, "--pool", pool, "--root", str(root)]))


def _user_input(option: str, path: Path, problem_of: Callable[[str], str | None], fix: str) -> str:
    """The text of a user's input file, or exit 2 naming the option and the fix (never the file's content)."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise fail(f"{option} {path}: no such file; {fix}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(f"{option} {path}: cannot be read ({getattr(exc, 'strerror', None) or 'not text'}); {fix}") from None
    problem = problem_of(text)
    if problem:
        raise fail(f"{option} {path} {problem}; {fix}")
    return text


@app.command(name="install-config")
def install_config(
        cluster: str,
        pull_secret: Annotated[Path, typer.Option(help="the pull secret (JSON) from console.redhat.com")],
        ssh_key: Annotated[Path, typer.Option(help="the SSH public key the nodes accept (core user)")],
        out: Annotated[str, typer.Option(help="file or directory to write (mode 0600), or - for stdout")]
        = "install-config.yaml") -> None:
    """The IPI cluster's install-config.yaml from its stack outputs: platform baremetal, VIPs, bootstrap VM,
    one host per master and worker with its BMC and boot MAC. Holds BMC passwords and the pull secret."""
    secret = _user_input("--pull-secret", pull_secret, pull_secret_problem,
                         "download it from https://console.redhat.com/openshift/install/pull-secret")
    key = _user_input("--ssh-key", ssh_key, ssh_key_problem, "name an OpenSSH public key such as ~/.ssh/id_ed25519.pub")
    try:
        outputs = stack_outputs(cluster, show_secrets=True)
        text = render_install_config(outputs, secret, key, stack=cluster)
    except (StackError, OutputsError) as exc:
        raise fail(str(exc)) from None
    if out == "-":
        sys.stdout.write(text)
        return
    path = Path(out) / "install-config.yaml" if Path(out).is_dir() else Path(out)
    try:
        write_private(path, text)
    except OSError as exc:
        raise fail(f"--out {out}: cannot be written ({exc.strerror})") from None
    print(f"ocplab: {path} written (mode 0600; holds BMC passwords and the pull secret)")



@app.command()
def doctor(lab: Annotated[str, typer.Option(help="the lab stack")] = "simlab",
           as_json: Annotated[bool, typer.Option("--json", help="the findings as JSON")] = False,
           remove: Annotated[bool, typer.Option("--remove-orphans", help="run the fixes of the orphans that no stack "
                                                "owns (nothing else), then audit again")] = False) -> None:
    """What the lab's hosts hold (domains, volumes, networks, BMC entries on each hypervisor; dnsmasq files
    and leases on the jumphost) against what the stacks say: every orphan, missing piece and differing
    file, each with the command that fixes it. Read-only unless --remove-orphans.

    Exit status: 0 no findings; 1 findings (after --remove-orphans: findings left); 2 bad input (unknown lab,
    lab not deployed, no SSH key file)."""
    view = _view(lab, planned=False)
    try:
        report = lab_doctor.doctor(lab, view, remove=remove)
    except (CollectError, StackError) as exc:
        raise fail(str(exc)) from None
    if as_json:
        print(json.dumps(report.as_dict(), indent=2))
    else:
        if report.removed:
            out.print(lab_doctor.removals_table(report))
        out.print(lab_doctor.findings_table(report))
    raise typer.Exit(1 if report.findings else 0)


_PASS_THROUGH = {"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []}


@app.command(name="import", context_settings=_PASS_THROUGH)
def import_command(ctx: typer.Context) -> None:
    """A dci-openshift-agent libvirt inventory -> a cluster stack file; with --dnsmasq FILE... the nodes and
    VIPs keep the addresses the lab's dnsmasq gives them now (`ocplab import --help` for the options)."""
    raise typer.Exit(seed_import.main(list(ctx.args), prog="ocplab import"))


@app.command(name="seed-import", context_settings=_PASS_THROUGH, hidden=True)
def seed_import_command(ctx: typer.Context) -> None:
    """The first name of `ocplab import`, kept for scripts that use it."""
    raise typer.Exit(seed_import.main(list(ctx.args)))


def main() -> None:
    app(prog_name="ocplab")
