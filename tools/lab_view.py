"""A lab as its stacks describe it, gathered once for `ocplab plan` and `ocplab map`: deployed (the lab
stack's config and outputs and every deployed cluster stack's outputs), or planned (from the stack files
alone: what a first `pulumi up` of the lab and of each of its cluster stacks would export)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.cluster_design import design_cluster
from core.cluster_outputs import OutputsError, cluster_outputs, read_cluster
from core.clusterconfig import parse_cluster_config
from core.errors import ConfigError, OcplabError
from core.lab_contract import PLANNED, LabOutputs, parse_lab_outputs, planned_lab_outputs
from core.labconfig import LabConfig, parse_lab_config
from core.stack_files import read_stack_values, stack_path, stacks_dir
from renderers.dnsmasq_cluster import render_cluster_dns
from tools.stack_outputs import PROJECT, StackError, short_name, stack_list, stack_outputs


class LabViewError(OcplabError):
    """The lab cannot be shown; one line saying why and what to do."""


@dataclass(frozen=True)
class LabView:
    config: LabConfig
    outputs: LabOutputs
    clusters: dict[str, dict[str, Any]]  # deployed (or planned) cluster stacks of this lab, by stack name
    # Cluster stacks of this lab an update of which runs now: their state may hold resources their outputs
    # do not show yet. Stack name -> why.
    busy: dict[str, str] = field(default_factory=dict)
    # Cluster stacks whose state holds resources but that export no outputs (a first `pulumi up` failed or
    # was killed) and no update runs: their state says what on the hosts is theirs (read by the doctor).
    partial: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)  # planned: cluster stacks pulumi up would refuse, why
    planned: bool = False

    def unknown_capacity(self) -> list[str]:
        """Where a plan cannot count: `ocplab:hypervisors[i]` entries without a capacity (planned view only)."""
        return [f"ocplab:hypervisors[{index}].capacity ({hv.name})" for index, hv in enumerate(self.config.hypervisors)
                if self.outputs.hypervisors[hv.name].capacity is None]


def _config(lab: str) -> LabConfig:
    path = stack_path(lab)
    if not path.exists():
        raise LabViewError(f"no stack file {path} for lab {lab!r}: name a lab stack of stacks/")
    try:
        return parse_lab_config(lab, read_stack_values(path), has_key_secret=True)
    except ConfigError as exc:
        raise LabViewError("; ".join(exc.problems)) from None


def load_lab(lab: str) -> LabView:
    config = _config(lab)
    try:
        outputs = parse_lab_outputs(lab, stack_outputs(lab))
    except ConfigError as exc:
        raise LabViewError("; ".join(exc.problems)) from None
    except StackError as exc:
        raise LabViewError(f"{exc} (deploy the lab first: pulumi up -s {lab})") from None
    clusters, busy, partial = {}, {}, []
    for entry in stack_list():
        name = short_name(entry)
        if name == lab or not stack_path(name).exists():
            continue
        if read_stack_values(stack_path(name)).get("lab") != lab:
            continue
        out = stack_outputs(name, show_secrets=True)  # BMC ports live in the secret `bmc`; only ports are shown
        if out.get("kind") == "cluster":
            clusters[name] = checked_cluster(out, name)
        if entry.get("updateInProgress"):
            busy[name] = "an update of this stack runs now"
        elif out.get("kind") != "cluster" and int(entry.get("resourceCount") or 0) > 0:
            partial.append(name)
    return LabView(config=config, outputs=outputs, clusters=clusters, busy=busy, partial=partial)


def checked_cluster(outputs: dict[str, Any], stack: str) -> dict[str, Any]:
    """A deployed cluster stack's outputs, checked by the one contract every tool reads them with (another
    person's stack in a team lab: what map and doctor show or run must be typed first)."""
    try:
        read_cluster(outputs, stack)
    except OutputsError as exc:
        raise LabViewError(f"{exc} (fix or redeploy that stack: pulumi up -s {stack})") from None
    return outputs


def planned_lab(lab: str) -> LabView:
    """The lab and its cluster stack files (ocplab:lab = LAB) as a first `pulumi up` of each would make
    them: the same design and outputs as the stacks, the domain UUIDs and libvirt ids PLANNED. A cluster
    stack the design refuses is kept with the message pulumi up would print."""
    config = _config(lab)
    outputs = planned_lab_outputs(config, PROJECT)
    clusters: dict[str, dict[str, Any]] = {}
    refused: dict[str, str] = {}
    for path in sorted(stacks_dir().glob("Pulumi.*.yaml")):
        name = path.name.removeprefix("Pulumi.").removesuffix(".yaml")
        values = read_stack_values(path)
        if name == lab or values.get("lab") != lab or values.get("kind", "cluster") != "cluster":
            continue
        try:
            design = design_cluster(parse_cluster_config(name, values), outputs, previous=None)
        except ConfigError as exc:
            refused[name] = str(exc)
            continue
        uuids = {node.name: PLANNED for node in design.cluster.nodes}
        clusters[name] = {"kind": "cluster",
                          **cluster_outputs(design, uuids, render_cluster_dns(design).as_dict())}
    return LabView(config=config, outputs=outputs, clusters=clusters, refused=refused, planned=True)
