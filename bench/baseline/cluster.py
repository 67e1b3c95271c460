"""Deploy and destroy one cluster with virsh and ssh, from the same design the Pulumi program uses."""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bench.baseline.libvirt_xml import domain_xml, isolated_network_xml, node_nics
from bench.baseline.remote import RemoteError, Ssh, Virsh
from core.bmc_plan import bmc_password
from core.cluster_design import ClusterDesign, design_cluster
from core.cluster_outputs import cluster_outputs
from core.clusterconfig import ClusterConfig, NodeSpec
from core.lab_contract import LabOutputs, parse_lab_outputs
from core.resource_facts import (
    domain_name,
    node_facts,
    node_volume_names,
    provisioning_bridge,
    provisioning_network_name,
)
from renderers.cloud_init import meta_data, user_data
from renderers.dnsmasq_cluster import apply_script, remove_script, render_cluster_dns
from renderers.vbmc_scripts import vbmc_remove_script, vbmc_sync_script


def access(lab: LabOutputs, hypervisor: str) -> tuple[Ssh, Virsh]:
    jump = lab.jumphost
    ssh = Ssh(jump.ssh_address, jump.user, str(jump.ssh_key_path), str(jump.known_hosts), jump.port)
    return ssh, Virsh(lab.hypervisors[hypervisor].libvirt_uri)


def hypervisor_ssh(lab: LabOutputs, hypervisor: str) -> Ssh:
    """SSH to the cluster's hypervisor with the lab's key and known_hosts (where its BMCs run)."""
    jump, hv = lab.jumphost, lab.hypervisors[hypervisor]
    return Ssh(hv.ssh_address, hv.user, str(jump.ssh_key_path), str(jump.known_hosts), hv.port)


def sync_bmcs(design: ClusterDesign, lab: LabOutputs) -> None:
    """The same script and stdin as the Cluster component's `-bmc` command."""
    name = design.cluster.name
    started = time.monotonic()
    ssh = hypervisor_ssh(lab, design.cluster.hypervisor)
    stdin = bmc_password(Path(str(lab.jumphost.ssh_key_path)).read_text(), name) + "\n" if design.bmc else ""
    out = ssh.command(vbmc_sync_script(name, design.bmc), stdin=stdin).strip().splitlines()
    print(f"[{design.cluster.hypervisor}] {out[-1] if out else ''} ({time.monotonic() - started:.1f} s)", flush=True)


def _cidata_iso(spec: NodeSpec, design: ClusterDesign, workdir: str) -> str:
    seed = os.path.join(workdir, spec.name)
    os.makedirs(seed, exist_ok=True)
    with open(os.path.join(seed, "user-data"), "w") as handle:
        handle.write(user_data(spec, design.zone))
    with open(os.path.join(seed, "meta-data"), "w") as handle:
        handle.write(meta_data(spec, design.cluster.name))
    iso = os.path.join(workdir, f"{spec.name}-cidata.iso")
    subprocess.run(["genisoimage", "-quiet", "-output", iso, "-volid", "cidata", "-joliet", "-rock",
                    os.path.join(seed, "user-data"), os.path.join(seed, "meta-data")], check=True)
    return iso


def _volume(virsh: Virsh, pool: str, name: str, *args: str) -> str:
    if name not in virsh.volumes(pool):
        virsh.run("vol-create-as", pool, name, *args)
    return virsh.run("vol-path", "--pool", pool, name).strip()


def deploy_node(virsh: Virsh, design: ClusterDesign, spec: NodeSpec, workdir: str) -> str:
    """Create the node's overlay volumes, cloud-init ISO and domain; start it (unless ocplab:start is
    false); return its UUID."""
    cluster, pool = design.cluster, design.hypervisor.pool
    facts = node_facts(cluster, spec)
    prefix = facts.domain
    if virsh.exists("dom", prefix):
        return virsh.run("domuuid", prefix).strip()
    base = design.hypervisor.base_volumes[spec.image]
    disks = [_volume(virsh, pool, facts.root.name, str(facts.root.size_bytes), "--format", "qcow2",
                     "--backing-vol", base, "--backing-vol-format", "qcow2")]
    if facts.disk2:
        disks.append(_volume(virsh, pool, facts.disk2.name, str(facts.disk2.size_bytes), "--format", "qcow2"))
    cidata = None
    if facts.cloud_init_iso:
        iso = _cidata_iso(spec, design, workdir)
        name = facts.cloud_init_iso
        if name not in virsh.volumes(pool):
            virsh.run("vol-create-as", pool, name, str(os.path.getsize(iso)), "--format", "raw")
            virsh.run("vol-upload", "--pool", pool, name, iso)
        cidata = virsh.run("vol-path", "--pool", pool, name).strip()
    nics = node_nics(facts, design.plan.nodes[spec.name].macs, design.hypervisor.bridge)
    xml = domain_xml(facts, spec, cluster.domain_type, disks, cidata, nics)
    virsh.define_from("define", xml, os.path.join(workdir, f"{prefix}.xml"))
    if cluster.start:
        virsh.run("start", prefix)
    return virsh.run("domuuid", prefix).strip()


def remove_node(virsh: Virsh, cluster: str, node: str, pool: str) -> None:
    prefix = domain_name(cluster, node)
    virsh.run("destroy", prefix, check=False)
    virsh.run("undefine", prefix, check=False)
    for volume in node_volume_names(cluster, node):
        virsh.run("vol-delete", "--pool", pool, volume, check=False)


def deploy_cluster(cluster: ClusterConfig, lab_outputs: Mapping[str, Any],
                   previous: Mapping[str, Any] | None) -> dict[str, Any]:
    """DNS entries first (so the first DHCP request is answered), then network and nodes; nodes
    that left the config are removed. Returns the cluster stack's outputs."""
    lab = parse_lab_outputs(cluster.lab, lab_outputs)
    design = design_cluster(cluster, lab, previous)
    dns = render_cluster_dns(design)
    ssh, virsh = access(lab, cluster.hypervisor)
    print(f"[jumphost] {ssh.script(apply_script(cluster.name, dns)).strip().splitlines()[-1]}", flush=True)
    for gone in sorted(set((previous or {}).get("nodes", {})) - {n.name for n in cluster.nodes}):
        remove_node(virsh, cluster.name, gone, design.hypervisor.pool)
    with tempfile.TemporaryDirectory() as workdir:
        if cluster.has_provisioning:
            provisioning = provisioning_network_name(cluster.name)
            if not virsh.exists("net", provisioning):
                xml = isolated_network_xml(provisioning, provisioning_bridge(cluster.name))
                virsh.define_from("net-define", xml, os.path.join(workdir, "prov.xml"))
                virsh.run("net-start", provisioning)
                virsh.run("net-autostart", provisioning)
        uuids = {spec.name: deploy_node(virsh, design, spec, workdir) for spec in cluster.nodes}
    sync_bmcs(design, lab)
    return cluster_outputs(design, uuids, dns.as_dict())


def destroy_cluster(cluster: ClusterConfig, lab_outputs: Mapping[str, Any],
                    previous: Mapping[str, Any] | None) -> None:
    """Virtual BMCs, domains and volumes, the provisioning network, then the jumphost entries."""
    lab = parse_lab_outputs(cluster.lab, lab_outputs)
    ssh, virsh = access(lab, cluster.hypervisor)
    out = hypervisor_ssh(lab, cluster.hypervisor).command(vbmc_remove_script(cluster.name)).strip().splitlines()
    print(f"[{cluster.hypervisor}] {out[-1] if out else ''}", flush=True)
    pool = lab.hypervisors[cluster.hypervisor].pool
    for node in sorted({n.name for n in cluster.nodes} | set((previous or {}).get("nodes", {}))):
        remove_node(virsh, cluster.name, node, pool)
    virsh.run("net-destroy", provisioning_network_name(cluster.name), check=False)
    virsh.run("net-undefine", provisioning_network_name(cluster.name), check=False)
    try:
        print(f"[jumphost] {ssh.script(remove_script(cluster.name)).strip().splitlines()[-1]}", flush=True)
    except RemoteError as exc:
        raise RemoteError(f"cluster {cluster.name}: VMs removed but its dnsmasq entries stay: {exc}") from exc
