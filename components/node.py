"""`Node`: one VM of a cluster: its volumes (backed by the base image), cloud-init and domain."""

from __future__ import annotations

from typing import NotRequired, TypedDict

import pulumi
import pulumi_libvirt as libvirt

from components.fixed_names import fixed_name
from core.clusterconfig import NodeSpec
from core.resource_facts import NodeFacts
from renderers.cloud_init import meta_data, user_data
from renderers.domain_xslt import domain_xslt


class NodeArgs(TypedDict):
    spec: NodeSpec
    facts: NodeFacts
    cluster: str
    zone: pulumi.Input[str]
    domain_type: str
    pool: pulumi.Input[str]
    base_volume_id: pulumi.Input[str]
    lab_bridge: pulumi.Input[str]
    provisioning_network_id: pulumi.Input[str] | None
    provisioning_bridge: NotRequired[pulumi.Input[str] | None]  # bridged provisioning: the hypervisor's bridge
    macs: pulumi.Input[dict[str, str]]
    authorized_keys: NotRequired[pulumi.Input[dict[str, list[str]]]]  # user -> keys known at deploy time (DCI's)
    running: NotRequired[bool]
    virtual_media: NotRequired[bool]  # a Redfish BMC may insert media: see _bmc_owned
    after: NotRequired[list[pulumi.Resource]]
    libvirt_uri: pulumi.Input[str]


class Node(pulumi.ComponentResource):
    """A node whose root disk is a copy-on-write overlay of the hypervisor's base image."""

    domain: libvirt.Domain

    def __init__(self, name: str, args: NodeArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ocplab:cluster:Node", name, {}, opts)
        spec, facts = args["spec"], args["facts"]
        child = pulumi.ResourceOptions(parent=self)
        # The cloud-init ISO is uploaded before this node's volumes and after `after` (the cluster's other
        # ISOs): an ISO upload beside other volume operations on one remote libvirt connection can hang
        # forever (dmacvicar/terraform-provider-libvirt#594, #1021; seen here once in ~10 cluster ups).
        # The ISO gets a provider of its own, so its libvirt stream (the upload, and the download with which
        # every refresh reads it back: newCloudInitDefFromRemoteISO) is alone on its connection; a stream beside
        # other calls on one connection is the deadlock of dmacvicar/terraform-provider-libvirt#594 (a refresh of
        # ipi1 hung 11 min here with the ISO on the cluster's connection).
        wait = list(args.get("after", []))
        self.cidata: libvirt.CloudInitDisk | None = None
        if facts.cloud_init_iso:
            iso_provider = libvirt.Provider(f"{name}-libvirt-iso", uri=args["libvirt_uri"], opts=child)
            self.cidata = libvirt.CloudInitDisk(
                f"{name}-cidata", name=facts.cloud_init_iso, pool=args["pool"],
                user_data=pulumi.Output.all(args["zone"], args.get("authorized_keys", {})).apply(
                    lambda v: user_data(spec, v[0], v[1])),
                meta_data=meta_data(spec, args["cluster"]),
                opts=fixed_name(child.merge(pulumi.ResourceOptions(depends_on=wait, provider=iso_provider))))
            wait.append(self.cidata)
        after = fixed_name(child.merge(pulumi.ResourceOptions(depends_on=wait)))
        root = libvirt.Volume(f"{name}-root", name=facts.root.name, pool=args["pool"], format="qcow2",
                              base_volume_id=args["base_volume_id"], size=facts.root.size_bytes, opts=after)
        disks = [libvirt.DomainDiskArgs(volume_id=root.id, scsi=facts.scsi)]
        if facts.disk2:
            second = libvirt.Volume(f"{name}-disk2", name=facts.disk2.name, pool=args["pool"], format="qcow2",
                                    size=facts.disk2.size_bytes, opts=after)
            disks.append(libvirt.DomainDiskArgs(volume_id=second.id, scsi=facts.scsi))
        cloudinit = self.cidata.id if self.cidata else None
        macs = pulumi.Output.from_input(args["macs"])
        # The lab NIC names the hypervisor's bridge, not the bridged libvirt network: a running domain's
        # XML shows such a NIC as <interface type='bridge'>, so terraform-provider-libvirt 0.8.1 reads it back
        # as `bridge` and a declared `network_name` diffs on every preview and refresh (the perpetual diff of
        # dmacvicar/terraform-provider-libvirt#1128 and its family). Same L2, no false diff.
        nics = [libvirt.DomainNetworkInterfaceArgs(bridge=args["lab_bridge"], mac=macs.apply(lambda m: m["baremetal"]))
                if nic.network == "baremetal" else _provisioning_nic(args, macs)
                for nic in facts.nics]
        self.domain = libvirt.Domain(
            f"{name}-domain", name=facts.domain, type=args["domain_type"], memory=spec.memory_mib, vcpu=spec.vcpus,
            cpu=libvirt.DomainCpuArgs(mode=spec.cpu_mode), disks=disks, cloudinit=cloudinit, network_interfaces=nics,
            consoles=[libvirt.DomainConsoleArgs(type="pty", target_port="0", target_type="serial")],
            xml=libvirt.DomainXmlArgs(xslt=domain_xslt(facts.console_log, spec.disk_cache)),
            running=args.get("running", True), autostart=False,
            opts=fixed_name(child.merge(pulumi.ResourceOptions(ignore_changes=_bmc_owned(args)))),
        )
        self.register_outputs({"uuid": self.domain.id})


def _provisioning_nic(args: NodeArgs, macs: pulumi.Output[dict[str, str]]) -> libvirt.DomainNetworkInterfaceArgs:
    """On the cluster's isolated network, or on the hypervisor's provisioning bridge (declared as a bridge, as
    the lab NIC is, so it reads back as declared)."""
    mac = macs.apply(lambda m: m["provisioning"])
    if args.get("provisioning_bridge") is not None:
        return libvirt.DomainNetworkInterfaceArgs(bridge=args["provisioning_bridge"], mac=mac)
    return libvirt.DomainNetworkInterfaceArgs(network_id=args["provisioning_network_id"], mac=mac)


def _bmc_owned(args: NodeArgs) -> list[str]:
    """What a Redfish BMC changes in the domain is not drift. Inserting virtual media adds a CD drive after
    the declared disks; a refresh reads it back (from the live XML, until the domain is powered off after the
    eject) and terraform-provider-libvirt 0.8.1's disk list is ForceNew: the next `up` would replace the node
    the installer is booting (seen here). Ignoring "disks[N]" past the declared ones does not help: the
    bridge still diffs the list's length ("disk.#"). So the whole list is ignored, for Redfish nodes only;
    their disks are fixed by the role, and a node whose disks should change is replaced (`up --replace`)."""
    return ["disks"] if args.get("virtual_media") else []
