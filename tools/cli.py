"""`ocplab`: everything that is not `pulumi` itself. Exit 0 on success, 2 on bad input or a stack
that cannot be read (one line on stderr), 1 when a command it runs fails (doctor: when it finds something)."""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NamedTuple

import typer
from rich.console import Console
from rich.table import Table
from typer.core import TyperCommand, TyperGroup

from core.clusterconfig import parse_cluster_config
from core.errors import ConfigError, OcplabError
from core.lab_usage import Shape, default_shapes, fits, lab_usage
from core.labconfig import SshTarget
from core.names import label_problem
from core.resource_facts import domain_name
from core.ssh_access import ssh_argv
from core.stack_files import read_stack_values, stack_path
from renderers.install_config import pull_secret_problem, render_install_config, ssh_key_problem
from tools import dci_handoff, lab_doctor, seed_import
from tools.lab_map import lab_graph, lab_tree
from tools.lab_mirror import cluster_mirror
from tools.lab_view import LabView, load_lab, planned_lab
from tools.private_files import write_private
from tools.stack_outputs import stack_outputs

if TYPE_CHECKING:  # the click that Typer vendors: its classes' methods take this Context
    from typer._click import Context


class Commands(TyperGroup):
    """The one place a user error (any OcplabError, from any command) becomes one line on stderr, prefixed
    with the program's name, and its exit code: never a traceback."""

    def invoke(self, ctx: Context) -> Any:
        try:
            return super().invoke(ctx)
        except OcplabError as exc:
            print(f"{program(ctx)}: {exc.one_line()}", file=sys.stderr)
            raise typer.Exit(exc.exit_code) from None


def program(ctx: Context) -> str:
    """The name the command was called by: `ocplab`, or `dci_handoff` (python -m tools.dci_handoff)."""
    return ctx.find_root().info_name or "ocplab"


class ManyValues(TyperCommand):
    """`--dnsmasq /etc/dnsmasq.d/*.conf`: an option of MANY takes every value up to the next option, as a
    shell glob gives them. Each value after the first gets the option again, which click then collects."""

    MANY = ("--dnsmasq", "--images-map")

    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, spread(args, self.MANY))


def spread(args: list[str], many: tuple[str, ...]) -> list[str]:
    """`--opt a b` as `--opt a --opt b` for each option in `many`; `--` ends the options, as it does for click."""
    spread_args: list[str] = []
    option, taken = None, False
    for index, arg in enumerate(args):
        if arg == "--":
            return spread_args + args[index:]
        if arg.startswith("-") and arg != "-":
            option, taken = (arg if arg in many else None), False
        elif option is not None:
            if taken:
                spread_args.append(option)
            taken = True
        spread_args.append(arg)
    return spread_args


app = typer.Typer(name="ocplab", cls=Commands, help=__doc__, no_args_is_help=True, add_completion=False)
console = Console()


def _view(lab: str, planned: bool) -> LabView:
    """The lab as deployed, or as its stack files would deploy it."""
    return planned_lab(lab) if planned else load_lab(lab)


PLANNED_HELP = "from the stack files alone, before pulumi up: declared capacities, first-up addresses"


def _shape(text: str) -> Shape:
    """'sno', 'ipi', or a cluster stack file whose nodes are the shape."""
    shapes = {s.name.split()[0]: s for s in default_shapes()}
    if text in shapes:
        return shapes[text]
    path = Path(text) if Path(text).exists() else stack_path(text)
    if not path.exists():
        raise OcplabError(f"--shape {text!r}: not sno, ipi, a cluster stack or a stack file")
    try:
        return Shape.of(path.name, parse_cluster_config(path.stem.removeprefix("Pulumi."), read_stack_values(path)))
    except ConfigError as exc:  # named after the option, not the stack file's fields alone
        raise OcplabError(f"--shape {text}: " + "; ".join(exc.problems)) from None


@app.command()
def plan(lab: Annotated[str, typer.Option(help="the lab stack")] = "simlab",
         shape: Annotated[list[str] | None, typer.Option(help="sno, ipi or a cluster stack file (repeatable)")] = None,
         as_json: Annotated[bool, typer.Option("--json", help="the same data as JSON")] = False,
         planned: Annotated[bool, typer.Option("--planned", help=PLANNED_HELP)] = False) -> None:
    """How many more clusters fit the lab, where, and what limits them first.

    Slices and hypervisors as used now, and how many more clusters of each shape fit. With --planned: as
    the stack files would deploy, each hypervisor at the capacity declared for it."""
    view = _view(lab, planned)
    if unknown := view.unknown_capacity():
        raise OcplabError(f"capacity unknown: declare {', '.join(unknown)} in {stack_path(lab)} as "
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
        six = s.range6 is not None  # a dual-stack slice: its IPv6 range and count on a second line
        slices.add_row(s.cluster, s.hypervisor, s.range + (f"\n{s.range6}" if six else ""),
                       f"{s.used}/{s.size}" + (f"\n{s.used6}/{s.size6}" if six else ""),
                       str(s.free) + (f"\n{s.free6}" if six else ""),
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
    console.print(slices, hosts)
    console.print(f"unallocated lab addresses: {usage.unallocated_count} ({', '.join(usage.unallocated) or 'none'})")
    for name, (per, total, limit) in answers.items():
        table = Table(title=f"more clusters of shape {name}: {total} (limited by {limit})", title_justify="left")
        for column in ("hypervisor", "by vCPUs", "by memory", "by disk", "by free slices", "fit now", "first limit"):
            table.add_column(column, justify="left" if column in ("hypervisor", "first limit") else "right")
        for f in per:
            table.add_row(f.hypervisor, str(f.by_vcpus), str(f.by_memory), "-" if f.by_disk is None else str(f.by_disk),
                          str(f.by_slices), str(f.count), f.limited_by)
        console.print(table)
    _print_refused(view)


def _print_refused(view: LabView) -> None:
    """Cluster stacks of a planned lab that pulumi up would refuse, each with its message."""
    for name, message in sorted(view.refused.items()):
        console.print(f"[b]cluster stack {name}: pulumi up -s {name} would refuse it:[/b]\n{message}", highlight=False)


@app.command(name="map")
def lab_map(lab: Annotated[str, typer.Option(help="the lab stack")] = "simlab",
            output: Annotated[Path | None, typer.Option(help="write FILE.svg or FILE.png (graphviz)")] = None,
            planned: Annotated[bool, typer.Option("--planned", help=PLANNED_HELP)] = False) -> None:
    """A picture of the lab: a tree in the terminal, or SVG/PNG with --output.

    With --planned: the lab and clusters its stack files describe, as a first pulumi up would make them."""
    view = _view(lab, planned)
    usage = lab_usage(view.config, view.outputs, view.clusters)
    if output is None:
        console.print(lab_tree(view, usage))
        return
    if output.suffix not in (".svg", ".png"):
        raise OcplabError(f"--output {output}: name a .svg or .png file")
    if shutil.which("dot") is None:
        raise OcplabError("graphviz's dot not found: apt-get install graphviz (or dnf install graphviz)")
    graph = lab_graph(view, usage)
    written = graph.render(outfile=str(output), format=output.suffix[1:], cleanup=True)
    Path(str(output.with_suffix("")) + ".gv").unlink(missing_ok=True)
    console.print(f"wrote {written}")


@app.command(name="console")
def node_console(cluster: Annotated[str, typer.Argument(help="a deployed cluster stack")],
                 node: Annotated[str, typer.Argument(help="one of its nodes, such as master-0")]) -> None:
    """A node's serial console, over the lab's SSH access.

    Interactive, from here, host keys checked. Leave with Ctrl+] (virsh console's escape)."""
    outputs = stack_outputs(cluster)
    if outputs.get("kind") != "cluster":
        raise OcplabError(f"stack {cluster} is not a deployed cluster stack (pulumi up -s {cluster})")
    names = [n["name"] for n in outputs.get("nodes", [])]
    if node not in names:
        raise OcplabError(f"cluster {cluster} has no node {node!r}; its nodes: {', '.join(names)}")
    jump, hv = outputs["jumphost"], outputs["hypervisor"]
    argv = [*ssh_argv(SshTarget(address=hv["address"], user="root"), jump["ssh_key_path"], jump["known_hosts"], "-t"),
            "virsh", "console", "--force", domain_name(cluster, node)]
    sys.stdout.flush()
    os.execvp(argv[0], argv)


@app.command()
def handoff(ctx: typer.Context, cluster: Annotated[str, typer.Argument(help="a deployed cluster stack")],
            pool: Annotated[str, typer.Option(help="the dci-queue pool (@QUEUE) the cluster serves")],
            root: Annotated[Path, typer.Option(help="inventories root")] = dci_handoff.DEFAULT_ROOT) -> None:
    """Write the cluster's DCI inventory to ROOT/POOL/CLUSTER.

    From its stack outputs (pulumi stack output --show-secrets), mode 0600 and atomically, where a
    dci-pipeline job's ansible_inventory /var/lib/dci/inventories/@QUEUE/@RESOURCE finds it."""
    path = dci_handoff.handoff(cluster, pool, root, dci_handoff.pulumi_outputs(cluster), cluster_mirror)
    print(f"{program(ctx)}: {path} written (pool {pool}, resource {cluster})")


def _user_input(option: str, path: Path, problem_of: Callable[[str], str | None], fix: str) -> str:
    """The text of a user's input file, or an OcplabError naming the option and the fix (never the file's content)."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise OcplabError(f"{option} {path}: no such file; {fix}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise OcplabError(f"{option} {path}: cannot be read ({getattr(exc, 'strerror', None) or 'not text'}); "
                          f"{fix}") from None
    problem = problem_of(text)
    if problem:
        raise OcplabError(f"{option} {path} {problem}; {fix}")
    return text


@app.command(name="install-config")
def install_config(
        cluster: Annotated[str, typer.Argument(help="a deployed IPI cluster stack")],
        pull_secret: Annotated[Path, typer.Option(help="the pull secret (JSON) from console.redhat.com")],
        ssh_key: Annotated[Path, typer.Option(help="the SSH public key the nodes accept (core user)")],
        out: Annotated[str, typer.Option(help="file or directory to write (mode 0600), or - for stdout")]
        = "install-config.yaml",
        mirror_prefix: Annotated[str, typer.Option(help="where oc-mirror put the release on the lab's mirror "
                                                        "(docker://mirror.<domain>:<port>/PREFIX)")] = "ocp") -> None:
    """The IPI cluster's install-config.yaml, from its stack outputs.

    Platform baremetal, VIPs, bootstrap VM, one host per master and worker with its BMC and boot MAC.
    On a lab with a mirror: imageDigestSources, the lab CA and the mirror's login in the pull secret.
    Holds BMC passwords and the pull secret."""
    secret = _user_input("--pull-secret", pull_secret, pull_secret_problem,
                         "download it from https://console.redhat.com/openshift/install/pull-secret")
    key = _user_input("--ssh-key", ssh_key, ssh_key_problem, "name an OpenSSH public key such as ~/.ssh/id_ed25519.pub")
    if label_problem(mirror_prefix):
        raise OcplabError(f"--mirror-prefix {mirror_prefix!r}: {label_problem(mirror_prefix)}")
    outputs = stack_outputs(cluster, show_secrets=True)
    text = render_install_config(outputs, secret, key, stack=cluster)  # the outputs checked before the lab is asked
    if (mirror := cluster_mirror(outputs, mirror_prefix)) is not None:
        text = render_install_config(outputs, secret, key, stack=cluster, mirror=mirror)
    if out == "-":
        sys.stdout.write(text)
        return
    path = Path(out) / "install-config.yaml" if Path(out).is_dir() else Path(out)
    try:
        write_private(path, text)
    except OSError as exc:
        raise OcplabError(f"--out {out}: cannot be written ({exc.strerror})") from None
    print(f"ocplab: {path} written (mode 0600; holds BMC passwords and the pull secret)")


@app.command()
def doctor(lab: Annotated[str, typer.Option(help="the lab stack")] = "simlab",
           as_json: Annotated[bool, typer.Option("--json", help="the findings as JSON")] = False,
           remove: Annotated[bool, typer.Option("--remove-orphans", help="run the fixes of the orphans that no stack "
                                                "owns (nothing else), then audit again")] = False) -> None:
    """The lab's hosts against its stacks: orphans, missing pieces, differing files, and their fixes.

    What the hosts hold (domains, volumes, networks, BMC entries on each hypervisor; dnsmasq files and
    leases on the jumphost) against what the stacks say, each finding with the command that fixes it.
    Read-only unless --remove-orphans.

    Exit status: 0 no findings; 1 findings (after --remove-orphans: findings left); 2 bad input (unknown lab,
    lab not deployed, no SSH key file)."""
    report = lab_doctor.doctor(lab, _view(lab, planned=False), remove=remove)
    if as_json:
        print(json.dumps(report.as_dict(), indent=2))
    else:
        if report.removed:
            console.print(lab_doctor.removals_table(report))
        console.print(lab_doctor.findings_table(report))
    raise typer.Exit(1 if report.findings else 0)


class ImageMap(NamedTuple):
    url: str  # an image_src of the inventory
    name: str  # the lab image the nodes booting it get


def _image_map(text: str) -> ImageMap:
    url, sep, name = text.rpartition("=")
    if not sep or not url or label_problem(name):
        raise typer.BadParameter(f"{text!r} is not URL=NAME with NAME a lab image name")
    return ImageMap(url, name)


def _label(text: str) -> str:
    """A stack, hypervisor or image name: it becomes part of file and resource names."""
    if problem := label_problem(text):
        raise typer.BadParameter(problem)
    return text


@app.command(name="import", cls=ManyValues)
def import_command(
        inventory: Annotated[Path, typer.Argument(help="a dci-openshift-agent libvirt inventory (all: vars: hosts:)")],
        lab: Annotated[str, typer.Option(parser=_label, help="lab stack the cluster belongs to")],
        hypervisor: Annotated[str, typer.Option(parser=_label, help="hypervisor of the lab that runs the VMs")],
        stack: Annotated[str | None, typer.Option(parser=_label, help="stack name (default: all.vars.cluster)")]
        = None,
        image: Annotated[str | None, typer.Option(parser=_label, help="lab image for masters/workers (default: "
                                                  "mapped image_src, rhcos)")] = None,
        images_map: Annotated[list[ImageMap] | None, typer.Option(
            parser=_image_map, metavar="URL=NAME...", help="lab image name for an image_src URL (one or more)")] = None,
        dnsmasq: Annotated[list[Path] | None, typer.Option(
            metavar="FILE...", help="the lab's existing dnsmasq files (conf, dhcp-hosts, hosts): keep the addresses "
            "they give (one or more)")] = None,
        out: Annotated[str | None, typer.Option(help="output file, or - for stdout (default: "
                                                "stacks/Pulumi.<stack>.yaml)")] = None,
        force: Annotated[bool, typer.Option("--force", help="overwrite an existing output file")] = False) -> None:
    """A dci-openshift-agent libvirt inventory -> a cluster stack file.

    With --dnsmasq FILE... the nodes and VIPs keep the addresses the lab's dnsmasq gives them now. Notes
    on what was dropped go to stderr."""
    opts = seed_import.Options(lab=lab, hypervisor=hypervisor, stack=stack, image=image,
                               images_map=dict(images_map or []))
    imported, text = seed_import.import_inventory(inventory, opts, dnsmasq or [])
    if out == "-":
        sys.stdout.write(text)
    else:
        path = Path(out) if out else stack_path(imported.stack)
        seed_import.write_stack_file(path, text, force)
        print(f"wrote {path} ({len(imported.values['hosts'])} hosts)", file=sys.stderr)
    for note in imported.notes:
        print(f"note: {note}", file=sys.stderr)


def main() -> None:
    """bin/ocplab and `python -m tools`: exits with the command's status (Commands.invoke has shown any user error)."""
    app(prog_name="ocplab")
