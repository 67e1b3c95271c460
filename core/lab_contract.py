"""The lab stack's outputs: the typed, versioned contract its cluster stacks read through a
StackReference. Made and parsed here only, so a field is named once and an older or foreign lab
stack gives a clear error, not a KeyError deep in a plan.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from core.errors import ConfigError
from core.labconfig import LabConfig
from core.ssh_access import hypervisor_uris, lab_files
from core.vrrp import vrrp_ids

# Bump when a field changes meaning or goes away; cluster stacks refuse other versions by name.
CONTRACT_VERSION = 1
# In planned outputs, what only libvirt or the engine can give at pulumi up (ids, domain UUIDs).
PLANNED = "planned"


@dataclass(frozen=True)
class Capacity:
    vcpus: int
    memory_mib: int


@dataclass(frozen=True)
class HypervisorOutputs:
    name: str
    address: str
    user: str
    port: int
    libvirt_uri: str
    bridge: str
    network: str
    network_id: str
    pool: str
    base_volumes: Mapping[str, str]
    capacity: Capacity | None  # libvirt's figures; None only in a planned view without a declared capacity
    provisioning_bridge: str | None = None  # where bridged provisioning NICs attach (a second NIC's bridge)


@dataclass(frozen=True)
class JumphostOutputs:
    address: str
    user: str
    port: int
    interface: str
    ssh_key_path: str | None
    known_hosts: str | None
    dnsmasq: str


@dataclass(frozen=True)
class NetworkOutputs:
    cidr: str
    gateway: str
    prefix: int
    dns: str


@dataclass(frozen=True)
class SliceOutputs:
    hypervisor: str
    range: str
    bmc_ports: str | None = None
    bmc: str | None = None  # the BMC kind (ipmi or redfish) where the slice has bmc_ports
    vrrp: Mapping[str, int] | None = None  # the keepalived ids OpenShift will derive from the name (core/vrrp.py)


@dataclass(frozen=True)
class LabOutputs:
    domain: str
    network: NetworkOutputs
    jumphost: JumphostOutputs
    hypervisors: Mapping[str, HypervisorOutputs]
    slices: Mapping[str, SliceOutputs]
    overcommit: Mapping[str, float]
    version: int = CONTRACT_VERSION

    def as_outputs(self) -> dict[str, Any]:
        """The stack outputs, one key each (what `pulumi stack output` shows)."""
        data = asdict(self)
        data["slices"] = {name: {k: v for k, v in piece.items() if v is not None}
                          for name, piece in data["slices"].items()}
        return {"kind": "lab", **data}


def hypervisor_outputs(lab: LabConfig, name: str, libvirt_uri: str, network_id: str, pool: str,
                       base_volumes: Mapping[str, str], vcpus: int | None, memory_mib: int | None,
                       ) -> HypervisorOutputs:
    hv = lab.hypervisor(name)
    capacity = Capacity(vcpus=int(vcpus), memory_mib=int(memory_mib)) \
        if vcpus is not None and memory_mib is not None else None
    return HypervisorOutputs(name=hv.name, address=hv.ssh.address, user=hv.ssh.user, port=hv.ssh.port,
                             libvirt_uri=libvirt_uri, bridge=hv.bridge, network=hv.network_name,
                             network_id=network_id, pool=pool, base_volumes=dict(base_volumes), capacity=capacity,
                             provisioning_bridge=hv.provisioning_bridge if hv.provisioning_nic else None)


def lab_outputs(lab: LabConfig, hypervisors: Mapping[str, HypervisorOutputs], key_path: str | None,
                known_hosts: str | None, dnsmasq: str) -> LabOutputs:
    """Everything but secrets: key material stays in config; only where the key file lives."""
    return LabOutputs(
        domain=lab.domain,
        network=NetworkOutputs(cidr=str(lab.network.cidr), gateway=str(lab.network.gateway),
                               prefix=lab.network.cidr.prefixlen, dns=lab.jumphost.ssh.address),
        jumphost=JumphostOutputs(address=lab.jumphost.ssh.address, user=lab.jumphost.ssh.user,
                                 port=lab.jumphost.ssh.port, interface=lab.jumphost.interface,
                                 ssh_key_path=key_path, known_hosts=known_hosts, dnsmasq=dnsmasq),
        hypervisors=dict(hypervisors),
        slices={s.cluster: SliceOutputs(hypervisor=s.hypervisor, range=str(s.range),
                                        bmc_ports=str(s.bmc_ports) if s.bmc_ports else None,
                                        bmc=s.bmc if s.bmc_ports else None,
                                        vrrp=vrrp_ids(s.cluster).as_dict()) for s in lab.slices},
        overcommit=dict(lab.overcommit),
    )


def planned_lab_outputs(lab: LabConfig, base: Path) -> LabOutputs:
    """The outputs a first `pulumi up` of the lab stack would export, from its config alone: the same
    functions as the stack, with each hypervisor's declared capacity (None where none is declared) in
    place of libvirt's figures and PLANNED for the ids libvirt makes. `base`: the project directory."""
    key, known = lab_files(lab, base)
    uris = hypervisor_uris(lab, base)
    hypervisors = {}
    for hv in lab.hypervisors:
        volumes = {image: f"{hv.pool_path}/{hv.base_volume_name(image)}" for image in sorted(lab.images)}
        declared = hv.capacity
        hypervisors[hv.name] = hypervisor_outputs(lab, hv.name, uris[hv.name], PLANNED, hv.pool_name, volumes,
                                                  declared.vcpus if declared else None,
                                                  declared.memory_mib if declared else None)
    return lab_outputs(lab, hypervisors, key, known, PLANNED)


def parse_lab_outputs(stack: str, raw: Mapping[str, Any] | None) -> LabOutputs:
    """The outputs of lab stack `stack` as the contract says, or ConfigError naming what is off."""
    raw = raw or {}
    if not raw:
        raise ConfigError([f"ocplab:lab: stack {stack!r} has no outputs: name a deployed lab stack "
                           f"(pulumi up -s {stack})"])
    if raw.get("kind") != "lab":
        raise ConfigError([f"ocplab:lab: stack {stack!r} is not a lab stack (its kind is {raw.get('kind')!r})"])
    version = raw.get("version")
    if version != CONTRACT_VERSION:
        raise ConfigError([f"ocplab:lab: lab stack {stack!r} exports contract version {version!r}, this ocplab "
                           f"reads version {CONTRACT_VERSION}: run pulumi up -s {stack} with this ocplab first"])
    where = "outputs"
    try:
        where = "network"
        network = NetworkOutputs(**raw["network"])
        where = "jumphost"
        jumphost = JumphostOutputs(**raw["jumphost"])
        hypervisors = {}
        for name, hv in raw["hypervisors"].items():
            where = f"hypervisors.{name}"
            hypervisors[name] = HypervisorOutputs(**{**hv, "capacity": Capacity(**hv["capacity"])})
        slices = {}
        for name, piece in raw["slices"].items():
            where = f"slices.{name}"
            slices[name] = SliceOutputs(**piece)
        where = "domain"
        return LabOutputs(domain=str(raw["domain"]), network=network, jumphost=jumphost, hypervisors=hypervisors,
                          slices=slices, overcommit=dict(raw.get("overcommit") or {}), version=version)
    except (KeyError, TypeError, AttributeError) as exc:
        raise ConfigError([f"ocplab:lab: lab stack {stack!r} has outputs that do not follow contract version "
                           f"{CONTRACT_VERSION} at {where} ({exc}): run pulumi up -s {stack} with this ocplab"]) \
            from None


def slice_bmc_kind(cluster: str, raw: Mapping[str, Any] | None) -> str | None:
    """The BMC kind the lab gives cluster's slice (None: no BMCs). Outputs that fail the contract give None
    here: design_cluster refuses them with the full message."""
    try:
        piece = parse_lab_outputs("lab", raw).slices.get(cluster)
    except ConfigError:
        return None
    if piece is None or not piece.bmc_ports:
        return None
    return piece.bmc or "ipmi"
