"""A picture of the lab: jumphost and dnsmasq, the lab network, each hypervisor with its bridge and
load, each cluster with its VIPs and nodes, the provisioning networks. Graphviz for SVG/PNG, a Rich
tree for the terminal; both from the same stack outputs (deployed or planned)."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from html import escape
from typing import Any

import graphviz  # type: ignore[import-untyped]
from rich.markup import escape as markup
from rich.tree import Tree

from core.lab_contract import PLANNED, LabOutputs
from core.lab_usage import LabUsage
from tools.lab_view import LabView

# Clusters (and free slices) side by side in a hypervisor's box before the next row: ten hypervisors
# with two or three clusters each stay a page wide and a few screens tall.
PER_ROW = 3


def bmc_port(cluster: Mapping[str, Any], node: str) -> int | None:
    """The node's BMC port from the cluster's outputs (the `bmc` output is a secret: absent when hidden)."""
    bmc = cluster.get("bmc")
    entry = (bmc.get("nodes") or {}).get(node) if isinstance(bmc, Mapping) else None
    return int(entry["port"]) if isinstance(entry, Mapping) and "port" in entry else None


def is_planned(cluster: Mapping[str, Any]) -> bool:
    """Outputs of a planned view: the domain UUIDs only libvirt gives are the PLANNED placeholder."""
    return any(node.get("uuid") == PLANNED for node in cluster.get("nodes", []))


def _load(usage: LabUsage, hypervisor: str) -> str:
    host = next(h for h in usage.hosts if h.name == hypervisor)
    if not host.capacity_known:
        return (f"{host.vcpus_committed} vCPU, {host.memory_committed / 1024:.1f} GiB "
                "(capacity unknown: not declared)")
    return (f"{host.vcpus_committed}/{host.vcpu_limit} vCPU, "
            f"{host.memory_committed / 1024:.1f}/{host.memory_limit / 1024:.1f} GiB")


def _cluster_title(name: str, cluster: Mapping[str, Any]) -> str:
    return f"{name} ({cluster.get('topology')}{', planned' if is_planned(cluster) else ''})"


def provisioning_line(name: str, cluster: Mapping[str, Any]) -> str | None:
    """Where an IPI cluster's provisioning NICs are (its `provisioning` output): its own isolated libvirt
    network, or the hypervisor's provisioning bridge it shares with the second NIC (a hub's spokes).
    Outputs written before that output existed were always isolated."""
    if cluster.get("topology") != "ipi":
        return None
    where = cluster.get("provisioning")
    if isinstance(where, Mapping) and where.get("mode") == "bridged":
        return f"provisioning on {where.get('bridge')} (bridged to the second NIC)"
    network = where.get("network") if isinstance(where, Mapping) else None
    return f"{network or name + '-provisioning'} (isolated)"


def _vips(cluster: Mapping[str, Any], kind: str) -> str:
    """A VIP, and its IPv6 one on a dual-stack cluster (the IPv6 one alone on an IPv6-only cluster)."""
    return " ".join(str(vip) for vip in (cluster.get(f"{kind}_vip"), cluster.get(f"{kind}_vip6")) if vip)


def _ips(node: Mapping[str, Any]) -> str:
    return " ".join(str(ip) for ip in (node.get("ip"), node.get("ip6")) if ip)


def _cluster_table(name: str, slice_title: str, cluster: Mapping[str, Any]) -> str:
    """One cluster as one compact table: title, VIPs, one row per node (name, IP, MAC, BMC port)."""
    planned = is_planned(cluster)
    rows = [f'<tr><td colspan="4" bgcolor="{"#fff4d6" if planned else "#e8f2e0"}"><b>'
            f"{escape(_cluster_title(name, cluster))}</b><br/>{escape(slice_title)}</td></tr>",
            f'<tr><td colspan="4">api {escape(_vips(cluster, "api"))}   '
            f'*.apps {escape(_vips(cluster, "ingress"))}</td></tr>']
    for node in cluster.get("nodes", []):
        port = bmc_port(cluster, node["name"])
        cells = (f"{node['name']} ({node['role']})", _ips(node), node["macs"].get("baremetal", ""),
                 f"BMC :{port}" if port else "")
        rows.append("<tr>" + "".join(f'<td align="left">{escape(str(c))}</td>' for c in cells) + "</tr>")
    if line := provisioning_line(name, cluster):
        rows.append(f'<tr><td colspan="4"><i>{escape(line)}</i></td></tr>')
    return '<<table border="0" cellborder="1" cellspacing="0" cellpadding="3">' + "".join(rows) + "</table>>"


def lab_graph(view: LabView, usage: LabUsage) -> graphviz.Digraph:
    """Left to right: jumphost -> lab network -> hypervisors, each in a box with its clusters (one table
    each) and free slices, PER_ROW side by side. Node ids use `__`, never `:`, which DOT reads as
    node:port."""
    out = view.outputs
    title = f"lab {view.config.name} ({out.domain})" + (": planned from the stack files" if view.planned else "")
    graph = graphviz.Digraph(name=view.config.name, graph_attr={"rankdir": "LR", "fontname": "Helvetica",
                                                                "label": title, "labelloc": "t", "nodesep": "0.15",
                                                                "ranksep": "0.35"},
                             node_attr={"shape": "box", "fontname": "Helvetica", "fontsize": "10"},
                             edge_attr={"fontname": "Helvetica", "fontsize": "9"})
    graph.node("jumphost", f"jumphost {out.jumphost.ssh_address}\\ndnsmasq on {out.jumphost.interface}",
               style="filled", fillcolor="#dde7f7")
    graph.node("network", f"lab network {_network(out)}\\ngateway {out.network.gateway or out.network.gateway6}",
               shape="ellipse")
    graph.edge("jumphost", "network")
    for name, hv in sorted(out.hypervisors.items()):
        with graph.subgraph(name=f"cluster_hv__{name}") as box:
            box.attr(label="", style="rounded", color="#9fbf8f")
            second = f"\\n{hv.provisioning_bridge} (provisioning)" if hv.provisioning_bridge else ""
            shown = f"{name} {hv.ssh_address}\\n{hv.bridge} ({hv.network}){second}\\n{_load(usage, name)}"
            box.node(f"hv__{name}", shown, style="filled", fillcolor="#e8f2e0")
            slices_here = sorted((s, p) for s, p in out.slices.items() if p.hypervisor == name)
            for index, (slice_name, slice_) in enumerate(slices_here):
                node_id = f"slice__{slice_name}"
                slice_title = slice_.shown_range + (f", BMC {slice_.bmc_ports}" if slice_.bmc_ports else "")
                cluster = view.clusters.get(slice_name)
                if cluster:
                    box.node(node_id, _cluster_table(slice_name, slice_title, cluster), shape="plaintext")
                else:
                    box.node(node_id, f"{slice_name}: free slice\\n{slice_title}", style="dashed")
                if index % PER_ROW == 0:
                    box.edge(f"hv__{name}", node_id, style="solid" if cluster else "dashed")
                else:  # beside the previous one, same hypervisor: the box says where it runs
                    box.edge(f"slice__{slices_here[index - 1][0]}", node_id, style="invis")
        graph.edge("network", f"hv__{name}", label=hv.bridge)
    for name, message in sorted(view.refused.items()):
        text = "\\l".join(textwrap.fill(line, 90) .replace("\n", "\\l") for line in message.splitlines())
        graph.node(f"refused__{name}", f"cluster stack {name}: pulumi up would refuse it\\l{text}\\l",
                   color="#c0392b", fontcolor="#c0392b", shape="note")
        graph.edge("network", f"refused__{name}", style="invis")
    return graph


def _network(out: LabOutputs) -> str:
    """The lab network as shown: its IPv4 CIDR, or its IPv6 one on an IPv6-only lab."""
    return str(out.network.cidr or out.network.cidr6)


def lab_tree(view: LabView, usage: LabUsage) -> Tree:
    """The same lab as a tree for the terminal."""
    out = view.outputs
    tree = Tree(f"[b]lab {view.config.name}[/b] {out.domain}: network {_network(out)}, "
                f"jumphost {out.jumphost.ssh_address} (dnsmasq on {out.jumphost.interface})"
                + (" [i]planned from the stack files[/i]" if view.planned else ""))
    for name, hv in sorted(out.hypervisors.items()):
        second = f", {hv.provisioning_bridge} (provisioning)" if hv.provisioning_bridge else ""
        branch = tree.add(f"[b]{name}[/b] {hv.ssh_address} {hv.bridge}{second}: {_load(usage, name)}")
        for slice_name, slice_ in sorted(out.slices.items()):
            if slice_.hypervisor != name:
                continue
            deployed = view.clusters.get(slice_name)
            if not deployed:
                branch.add(f"[dim]{slice_name}: free slice {slice_.shown_range}[/dim]")
                continue
            cluster = branch.add(f"{_cluster_title(slice_name, deployed)} {slice_.shown_range}: api "
                                 f"{markup(_vips(deployed, 'api'))}, *.apps {markup(_vips(deployed, 'ingress'))}")
            for node in deployed.get("nodes", []):
                port = bmc_port(deployed, node["name"])
                cluster.add(f"{node['name']:<16} {node['role']:<13} {node.get('ip', ''):<15} "
                            f"{node['macs'].get('baremetal', '')}" + (f"  BMC :{port}" if port else "")
                            + (f"  {markup(str(node['ip6']))}" if node.get("ip6") else ""))
            if line := provisioning_line(slice_name, deployed):
                cluster.add(f"[i]{markup(line)}[/i]")
    for name, message in sorted(view.refused.items()):
        refused = tree.add(f"[b red]cluster stack {name}: pulumi up would refuse it[/b red]")
        for line in message.splitlines()[1:]:
            refused.add(markup(line.strip().removeprefix("- ")))
    return tree
