"""Deploy and destroy a lab with virsh and ssh: the bridge, network, pool and images on each
hypervisor (in parallel), dnsmasq on the jumphost. Returns the lab stack's outputs."""

from __future__ import annotations

import os
import re
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench.baseline.libvirt_xml import bridged_network_xml, pool_xml
from bench.baseline.remote import RemoteError, Ssh, Virsh
from core.lab_contract import HypervisorOutputs, hypervisor_outputs, lab_outputs
from core.labconfig import Hypervisor, LabConfig, SshTarget, resolve_path
from core.port_range import PortRange
from core.resource_facts import base_volume_name
from core.ssh_access import libvirt_uri
from renderers.bridge_scripts import bridge_create_script, bridge_delete_script
from renderers.dnsmasq_base import render_base_config
from renderers.jumphost_scripts import install_script, uninstall_script
from renderers.vbmc_scripts import vbmcd_install_script, vbmcd_uninstall_script


class LabAccess:
    """Key and known_hosts of a lab, resolved against the project directory."""

    def __init__(self, lab: LabConfig, base: Path) -> None:
        if not lab.jumphost.key_path:
            raise RemoteError("the baseline needs ocplab:jumphost.ssh_key_path (a key file)")
        self.key = str(resolve_path(lab.jumphost.key_path, base))
        self.known_hosts = str(resolve_path(lab.jumphost.known_hosts, base))

    def ssh(self, target: SshTarget) -> Ssh:
        return Ssh(target.address, target.user, self.key, self.known_hosts, target.port)

    def virsh(self, target: SshTarget) -> Virsh:
        return Virsh(libvirt_uri(target, self.key, self.known_hosts))


def _capacity(virsh: Virsh) -> tuple[int, int]:
    info = virsh.run("nodeinfo")
    cpus = int(re.search(r"^CPU\(s\):\s+(\d+)", info, re.M).group(1))  # type: ignore[union-attr]
    kib = int(re.search(r"^Memory size:\s+(\d+) KiB", info, re.M).group(1))  # type: ignore[union-attr]
    return cpus, kib // 1024


def _ensure_defined(virsh: Virsh, kind: str, name: str, xml: str, workdir: str) -> None:
    if not virsh.exists(kind, name):
        virsh.define_from(f"{kind}-define", xml, os.path.join(workdir, f"{kind}-{name}.xml"))
        if kind == "pool":
            virsh.run("pool-build", name)
    state = virsh.run(f"{kind}-info", name)
    if not re.search(r"^(Active|State):\s+(yes|running)", state, re.M):
        virsh.run(f"{kind}-start", name)
    virsh.run(f"{kind}-autostart", name)


def _upload_image(virsh: Virsh, pool: str, name: str, source: Path) -> str:
    if name not in virsh.volumes(pool):
        virsh.run("vol-create-as", pool, name, str(source.stat().st_size), "--format", "raw")
        virsh.run("vol-upload", "--pool", pool, name, str(source), timeout=900)
        virsh.run("pool-refresh", pool)
    return virsh.run("vol-path", "--pool", pool, name).strip()


def bmc_ranges(lab: LabConfig, hv: Hypervisor) -> list[PortRange]:
    """The BMC port ranges of the slices on `hv`: vbmcd runs there only when there are some."""
    return [s.bmc_ports for s in lab.slices if s.hypervisor == hv.name and s.bmc_ports]


def deploy_hypervisor(lab: LabConfig, hv: Hypervisor, access: LabAccess, images: dict[str, Path]) -> HypervisorOutputs:
    print(f"[{hv.name}] " + access.ssh(hv.ssh).script(bridge_create_script(hv.bridge_backend, hv.nic, hv.bridge))
          .strip().splitlines()[-1], flush=True)
    virsh = access.virsh(hv.ssh)
    with tempfile.TemporaryDirectory() as workdir:
        _ensure_defined(virsh, "net", hv.network_name, bridged_network_xml(hv.network_name, hv.bridge), workdir)
        _ensure_defined(virsh, "pool", hv.pool_name, pool_xml(hv.pool_name, hv.pool_path), workdir)
    volumes = {image: _upload_image(virsh, hv.pool_name, base_volume_name(image), source)
               for image, source in sorted(images.items())}
    if ranges := bmc_ranges(lab, hv):
        print(f"[{hv.name}] " + access.ssh(hv.ssh).script(vbmcd_install_script(ranges)).strip().splitlines()[-1],
              flush=True)
    network_id = virsh.run("net-uuid", hv.network_name).strip()
    cpus, memory = _capacity(virsh)
    return hypervisor_outputs(lab, hv.name, virsh.uri, network_id, hv.pool_name, volumes, cpus, memory)


def deploy_lab(lab: LabConfig, base: Path) -> dict[str, Any]:
    """Bring the lab to its described state; safe to run again (a no-op when nothing changed)."""
    access = LabAccess(lab, base)
    images = {name: resolve_path(source, base) for name, source in lab.images.items()}
    for name, path in images.items():
        if not path.is_file():
            raise RemoteError(f"ocplab:images.{name}: {path} does not exist (the baseline uploads local files only)")
    print("[jumphost] " + access.ssh(lab.jumphost.ssh).script(install_script(render_base_config(lab)))
          .strip().splitlines()[-1], flush=True)
    with ThreadPoolExecutor(max_workers=len(lab.hypervisors)) as pool:
        results = list(pool.map(lambda hv: deploy_hypervisor(lab, hv, access, images), lab.hypervisors))
    return lab_outputs(lab, {r.name: r for r in results}, access.key, access.known_hosts, "baseline").as_outputs()


def destroy_hypervisor(lab: LabConfig, hv: Hypervisor, access: LabAccess) -> None:
    if ranges := bmc_ranges(lab, hv):
        print(f"[{hv.name}] " + access.ssh(hv.ssh).script(vbmcd_uninstall_script(ranges)).strip(), flush=True)
    virsh = access.virsh(hv.ssh)
    for image in lab.images:
        virsh.run("vol-delete", "--pool", hv.pool_name, base_volume_name(image), check=False)
    for kind, name in (("pool", hv.pool_name), ("net", hv.network_name)):
        virsh.run(f"{kind}-destroy", name, check=False)
        virsh.run(f"{kind}-undefine", name, check=False)
    print(f"[{hv.name}] " + access.ssh(hv.ssh).script(bridge_delete_script(hv.bridge_backend, hv.nic, hv.bridge))
          .strip().splitlines()[-1], flush=True)


def destroy_lab(lab: LabConfig, base: Path) -> None:
    """Refuses (via the jumphost script) while clusters still have entries; else removes everything."""
    access = LabAccess(lab, base)
    print("[jumphost] " + access.ssh(lab.jumphost.ssh).script(uninstall_script()).strip(), flush=True)
    with ThreadPoolExecutor(max_workers=len(lab.hypervisors)) as pool:
        list(pool.map(lambda hv: destroy_hypervisor(lab, hv, access), lab.hypervisors))
