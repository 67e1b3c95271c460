"""What each libvirt object of a cluster is called and made of, decided once.

The Node and Cluster components and the benchmark's virsh baseline all read these, so the names of
volumes, networks and domains, the order of NICs and where a console is logged never drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from core.clusterconfig import ClusterConfig, NodeSpec
from core.firmware import UefiFiles

CONSOLE_LOG_DIR = "/var/log/libvirt/qemu"
SCSI_BUSES = ("virtio_scsi", "scsi")


def domain_name(cluster: str, node: str) -> str:
    return f"{cluster}-{node}"


def console_log_path(domain: str) -> str:
    """The serial console's log on the hypervisor (what the seed's conserver would show)."""
    return f"{CONSOLE_LOG_DIR}/{domain}-console.log"


def base_volume_name(image: str) -> str:
    return f"base-{image}.qcow2"


def provisioning_network_name(cluster: str) -> str:
    return f"{cluster}-provisioning"


def provisioning_bridge(cluster: str) -> str:
    """Linux bridge names are at most 15 bytes."""
    return f"prov-{cluster}"[:15]


@dataclass(frozen=True)
class VolumeFacts:
    name: str
    size_bytes: int
    backing_image: str | None = None  # the base image it overlays (copy-on-write), if any


@dataclass(frozen=True)
class NicFacts:
    """A NIC on the lab network (attached to the hypervisor's bridge, named by the lab's outputs) or on
    the cluster's isolated provisioning network (the libvirt network `libvirt_network`)."""

    network: Literal["baremetal", "provisioning"]
    libvirt_network: str | None = None


@dataclass(frozen=True)
class NodeFacts:
    domain: str
    root: VolumeFacts
    disk2: VolumeFacts | None
    cloud_init_iso: str | None
    nics: tuple[NicFacts, ...]
    console_log: str
    scsi: bool
    uefi: UefiFiles | None = None  # OVMF (core.firmware), else the domain boots SeaBIOS


def node_facts(cluster: ClusterConfig, spec: NodeSpec) -> NodeFacts:
    """Volumes, NICs in the node's declared order, cloud-init ISO and console log of one node."""
    domain = domain_name(cluster.name, spec.name)
    nics = []
    for network in spec.networks:
        if network == "baremetal":
            nics.append(NicFacts("baremetal"))
        elif cluster.has_provisioning:
            nics.append(NicFacts("provisioning", provisioning_network_name(cluster.name)))
    return NodeFacts(
        domain=domain,
        root=VolumeFacts(f"{domain}-root.qcow2", spec.disk_bytes, backing_image=spec.image),
        disk2=VolumeFacts(f"{domain}-disk2.qcow2", spec.disk2_bytes) if spec.disk2_bytes else None,
        cloud_init_iso=seed_iso_of(domain) if spec.needs_cloud_init else None,
        nics=tuple(nics), console_log=console_log_path(domain), scsi=spec.disk_bus in SCSI_BUSES,
        uefi=cluster.uefi,
    )


# QEMU resolves a SPICE display's listen address (qemu.conf's spice_listen: 127.0.0.1 unless set) with
# AI_ADDRCONFIG, which finds nothing on a host whose only IPv4 address is loopback: an IPv6-only lab's domains
# listen on ::1. Elsewhere the provider's default display stays, so no deployed domain is replaced (ForceNew).
def display_listen(ipv6_only_lab: bool) -> str | None:
    return "::1" if ipv6_only_lab else None


def node_volume_names(cluster: str, node: str) -> tuple[str, ...]:
    """Every volume a node may own, for removing one whose spec is gone."""
    domain = domain_name(cluster, node)
    return f"{domain}-root.qcow2", f"{domain}-disk2.qcow2", seed_iso_of(domain)


SEED_ISO_SUFFIX = "-cidata.iso"


def seed_iso_of(domain: str) -> str:
    """A domain's cloud-init seed in its pool: a CloudInitDisk volume or the file its seed command makes."""
    return f"{domain}{SEED_ISO_SUFFIX}"


def domain_of_seed_iso(volume: str) -> str | None:
    """The domain whose seed `volume` is, or None for any other volume."""
    return volume.removesuffix(SEED_ISO_SUFFIX) if volume.endswith(SEED_ISO_SUFFIX) else None
