"""A picture of the lab: jumphost and dnsmasq, the lab network, each hypervisor with its bridge and
load, each cluster with its VIPs and nodes, the provisioning networks. Graphviz for SVG/PNG, a Rich
tree for the terminal; both from the same stack outputs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import graphviz  # type: ignore[import-untyped]
from rich.tree import Tree

from core.lab_usage import LabUsage
from tools.lab_view import LabView


def bmc_port(cluster: Mapping[str, Any], node: str) -> int | None:
    """The node's BMC port from the cluster's outputs (the `bmc` output is a secret: absent when hidden)."""
    bmc = cluster.get("bmc")
    entry = (bmc.get("nodes") or {}).get(node) if isinstance(bmc, Mapping) else None
    return int(entry["port"]) if isinstance(entry, Mapping) and "port" in entry else None


def _load(usage: LabUsage, hypervisor: str) -> str:
    host = next(h for h in usage.hosts if h.name == hypervisor)
    return (f"{host.vcpus_committed}/{host.vcpu_limit} vCPU, "
            f"{host.memory_committed / 1024:.1f}/{host.memory_limit / 1024:.1f} GiB")


def lab_graph(view: LabView, usage: LabUsage) -> graphviz.Digraph:
    """Left to right: jumphost -> lab network -> hypervisors -> clusters (with their nodes). Node ids use
    `__`, never `:`, which DOT reads as node:port."""
    out = view.outputs
    graph = graphviz.Digraph(name=view.config.name, graph_attr={"rankdir": "LR", "fontname": "Helvetica",
                                                                "label": f"lab {view.config.name} ({out.domain})",
                                                                "labelloc": "t"},
                             node_attr={"shape": "box", "fontname": "Helvetica", "fontsize": "10"})
    graph.node("jumphost", f"jumphost {out.jumphost.address}\\ndnsmasq on {out.jumphost.interface}",
               style="filled", fillcolor="#dde7f7")
    graph.node("network", f"lab network {out.network.cidr}\\ngateway {out.network.gateway}", shape="ellipse")
    graph.edge("jumphost", "network")
    for name, hv in sorted(out.hypervisors.items()):
        graph.node(f"hv__{name}", f"{name} {hv.address}\\n{hv.bridge} ({hv.network})\\n{_load(usage, name)}",
                   style="filled", fillcolor="#e8f2e0")
        graph.edge("network", f"hv__{name}", label=hv.bridge)
    for slice_name, piece in sorted(out.slices.items()):
        deployed = view.clusters.get(slice_name)
        with graph.subgraph(name=f"cluster_{slice_name}") as box:
            title = f"{slice_name}: {piece.range}" + (f", BMC {piece.bmc_ports}" if piece.bmc_ports else "")
            box.attr(label=title, style="rounded" if deployed else "dashed", fontname="Helvetica", fontsize="10")
            if not deployed:
                box.node(f"slice__{slice_name}", "free slice", shape="plaintext")
                graph.edge(f"hv__{piece.hypervisor}", f"slice__{slice_name}", style="dashed")
                continue
            box.node(f"vips__{slice_name}", f"api {deployed.get('api_vip')}\\n*.apps {deployed.get('ingress_vip')}",
                     shape="note")
            graph.edge(f"hv__{piece.hypervisor}", f"vips__{slice_name}")
            for node in deployed.get("nodes", []):
                port = bmc_port(deployed, node["name"])
                label = (f"{node['name']} ({node['role']})\\n{node['ip']}\\n{node['macs'].get('baremetal', '')}"
                         + (f"\\nBMC :{port}" if port else ""))
                box.node(f"node__{slice_name}__{node['name']}", label)
                graph.edge(f"vips__{slice_name}", f"node__{slice_name}__{node['name']}", arrowhead="none")
            if deployed.get("topology") == "ipi":
                box.node(f"prov__{slice_name}", f"{slice_name}-provisioning\\n(isolated)", shape="ellipse")
    return graph


def lab_tree(view: LabView, usage: LabUsage) -> Tree:
    """The same lab as a tree for the terminal."""
    out = view.outputs
    tree = Tree(f"[b]lab {view.config.name}[/b] {out.domain}: network {out.network.cidr}, "
                f"jumphost {out.jumphost.address} (dnsmasq on {out.jumphost.interface})")
    for name, hv in sorted(out.hypervisors.items()):
        branch = tree.add(f"[b]{name}[/b] {hv.address} {hv.bridge}: {_load(usage, name)}")
        for slice_name, piece in sorted(out.slices.items()):
            if piece.hypervisor != name:
                continue
            deployed = view.clusters.get(slice_name)
            if not deployed:
                branch.add(f"[dim]{slice_name}: free slice {piece.range}[/dim]")
                continue
            cluster = branch.add(f"{slice_name} ({deployed.get('topology')}) {piece.range}: api "
                                 f"{deployed.get('api_vip')}, *.apps {deployed.get('ingress_vip')}")
            for node in deployed.get("nodes", []):
                port = bmc_port(deployed, node["name"])
                cluster.add(f"{node['name']:<16} {node['role']:<13} {node['ip']:<15} "
                            f"{node['macs'].get('baremetal', '')}" + (f"  BMC :{port}" if port else ""))
    return tree
