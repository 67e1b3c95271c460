"""`Node`: one VM of a cluster: its volumes (backed by the base image), cloud-init and domain."""

from __future__ import annotations

from typing import NotRequired, TypedDict

import pulumi
import pulumi_libvirt as libvirt

from components.cloud_init import meta_data, user_data
from components.clusterconfig import NodeSpec
from components.domain_xslt import domain_xslt

SCSI_BUSES = ("virtio_scsi", "scsi")


class NodeArgs(TypedDict):
    spec: NodeSpec
    cluster: str
    zone: pulumi.Input[str]
    domain_type: str
    pool: pulumi.Input[str]
    base_volume_id: pulumi.Input[str]
    lab_bridge: pulumi.Input[str]
    provisioning_network_id: pulumi.Input[str] | None
    macs: pulumi.Input[dict[str, str]]
    running: NotRequired[bool]


class Node(pulumi.ComponentResource):
    """A node whose root disk is a copy-on-write overlay of the hypervisor's base image."""

    domain: libvirt.Domain

    def __init__(self, name: str, args: NodeArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ocplab:cluster:Node", name, {}, opts)
        spec, cluster = args["spec"], args["cluster"]
        child = pulumi.ResourceOptions(parent=self)
        prefix = f"{cluster}-{spec.name}"
        root = libvirt.Volume(f"{name}-root", name=f"{prefix}-root.qcow2", pool=args["pool"], format="qcow2",
                              base_volume_id=args["base_volume_id"], size=spec.disk_bytes, opts=child)
        disks = [libvirt.DomainDiskArgs(volume_id=root.id, scsi=spec.disk_bus in SCSI_BUSES)]
        if spec.disk2_bytes:
            second = libvirt.Volume(f"{name}-disk2", name=f"{prefix}-disk2.qcow2", pool=args["pool"], format="qcow2",
                                    size=spec.disk2_bytes, opts=child)
            disks.append(libvirt.DomainDiskArgs(volume_id=second.id, scsi=spec.disk_bus in SCSI_BUSES))
        cloudinit = None
        if spec.needs_cloud_init:
            cloudinit = libvirt.CloudInitDisk(f"{name}-cidata", name=f"{prefix}-cidata.iso", pool=args["pool"],
                                              user_data=pulumi.Output.from_input(args["zone"]).apply(
                                                  lambda zone: user_data(spec, zone)),
                                              meta_data=meta_data(spec, cluster), opts=child).id
        macs = pulumi.Output.from_input(args["macs"])
        # The lab NIC names the hypervisor's bridge, not the bridged libvirt network: a running domain's
        # XML shows such a NIC as <interface type='bridge'>, so terraform-provider-libvirt 0.8.1 reads it back
        # as `bridge` and a declared `network_name` diffs on every preview and refresh (the perpetual diff of
        # dmacvicar/terraform-provider-libvirt#1128 and its family). Same L2, no false diff.
        nics = [libvirt.DomainNetworkInterfaceArgs(bridge=args["lab_bridge"],
                                                   mac=macs.apply(lambda m: m["baremetal"]))]
        if "provisioning" in spec.networks and args["provisioning_network_id"] is not None:
            nics.insert(0 if spec.networks[0] == "provisioning" else 1, libvirt.DomainNetworkInterfaceArgs(
                network_id=args["provisioning_network_id"], mac=macs.apply(lambda m: m["provisioning"])))
        self.domain = libvirt.Domain(
            f"{name}-domain", name=prefix, type=args["domain_type"], memory=spec.memory_mib, vcpu=spec.vcpus,
            cpu=libvirt.DomainCpuArgs(mode=spec.cpu_mode), disks=disks, cloudinit=cloudinit, network_interfaces=nics,
            consoles=[libvirt.DomainConsoleArgs(type="pty", target_port="0", target_type="serial")],
            xml=libvirt.DomainXmlArgs(xslt=domain_xslt(prefix, spec.disk_cache)), running=args.get("running", True),
            autostart=False, opts=child,
        )
        self.register_outputs({"uuid": self.domain.id})
