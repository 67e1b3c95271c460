"""libvirt XML for what the components declare through pulumi-libvirt, for plain `virsh define`.

Same names, MACs, volumes, bridge and console log as the Node/Cluster/Hypervisor components, so
the baseline deploys exactly the resources the Pulumi program describes.
"""

from __future__ import annotations

from collections.abc import Mapping
from xml.sax.saxutils import escape, quoteattr

from core.clusterconfig import NodeSpec
from core.resource_facts import NodeFacts


def bridged_network_xml(name: str, bridge: str) -> str:
    """The lab network: VMs sit on the hypervisor's br0, DHCP comes from the jumphost."""
    return (f"<network><name>{escape(name)}</name><forward mode='bridge'/>"
            f"<bridge name={quoteattr(bridge)}/></network>")


def isolated_network_xml(name: str, bridge: str) -> str:
    """A cluster's provisioning network: no forward, no address, no DHCP: isolated L2."""
    return f"<network><name>{escape(name)}</name><bridge name={quoteattr(bridge)} stp='off' delay='0'/></network>"


def pool_xml(name: str, path: str) -> str:
    return f"<pool type='dir'><name>{escape(name)}</name><target><path>{escape(path)}</path></target></pool>"


def _disk(path: str, index: int, spec: NodeSpec, scsi: bool) -> str:
    bus, dev = ("scsi", f"sd{'abcdefgh'[index]}") if scsi else ("virtio", f"vd{'abcdefgh'[index]}")
    return (f"<disk type='file' device='disk'><driver name='qemu' type='qcow2' cache={quoteattr(spec.disk_cache)}/>"
            f"<source file={quoteattr(path)}/><target dev='{dev}' bus='{bus}'/></disk>")


def domain_xml(facts: NodeFacts, spec: NodeSpec, domain_type: str, disks: list[str], cidata: str | None,
               nics: list[str]) -> str:
    """A node's domain: disks (overlays), optional cloud-init CD-ROM, NICs (node_nics)."""
    domain_name = facts.domain
    devices = [_disk(path, index, spec, facts.scsi) for index, path in enumerate(disks)]
    if facts.scsi:
        devices.append("<controller type='scsi' model='virtio-scsi'/>")
    if cidata:
        devices.append(f"<disk type='file' device='cdrom'><driver name='qemu' type='raw'/>"
                       f"<source file={quoteattr(cidata)}/><target dev='hdd' bus='ide'/><readonly/></disk>")
    devices += nics
    log = quoteattr(facts.console_log)
    devices.append(f"<serial type='pty'><target port='0'/><log file={log} append='on'/></serial>")
    devices.append("<console type='pty'><target type='serial' port='0'/></console>")
    return (f"<domain type={quoteattr(domain_type)}><name>{escape(domain_name)}</name>"
            f"<memory unit='MiB'>{spec.memory_mib}</memory><vcpu>{spec.vcpus}</vcpu>"
            "<os><type arch='x86_64'>hvm</type><boot dev='hd'/></os>"
            f"<cpu mode={quoteattr(spec.cpu_mode)}/><features><acpi/><apic/></features>"
            f"<devices>{''.join(devices)}</devices></domain>")


def node_nics(facts: NodeFacts, macs: Mapping[str, str], lab_bridge: str) -> list[str]:
    """<interface> elements in the node's declared order, as the Node component declares them: the lab
    NIC on the hypervisor's bridge, the provisioning NIC on the cluster's libvirt network."""
    found = []
    for nic in facts.nics:
        mac = quoteattr(macs[nic.network])
        if nic.libvirt_network is None:
            found.append(f"<interface type='bridge'><source bridge={quoteattr(lab_bridge)}/><mac address={mac}/>"
                         "<model type='virtio'/></interface>")
        else:
            found.append(f"<interface type='network'><source network={quoteattr(nic.libvirt_network)}/>"
                         f"<mac address={mac}/><model type='virtio'/></interface>")
    return found
