"""`Node`: one VM of a cluster: its volumes (backed by the base image), cloud-init and domain."""

from __future__ import annotations

from typing import NotRequired, TypedDict

import pulumi
import pulumi_command as command
import pulumi_libvirt as libvirt

from components.fixed_names import fixed_name
from core.clusterconfig import NodeSpec
from core.resource_facts import NodeFacts
from core.seed_media import SeedMedia
from renderers.cloud_init import meta_data, user_data
from renderers.domain_xslt import domain_xslt
from renderers.seed_iso_scripts import seed_iso_path, seed_iso_remove_script, seed_iso_write_script
from renderers.urns import NODE


class NodeArgs(TypedDict):
    spec: NodeSpec
    facts: NodeFacts
    cluster: str
    zone: str
    domain_type: str
    pool: str
    base_volume_id: str
    lab_bridge: str
    provisioning_network_id: pulumi.Input[str] | None  # the cluster's isolated network, once libvirt made it
    provisioning_bridge: NotRequired[str | None]  # bridged provisioning: the hypervisor's bridge
    macs: dict[str, str]
    authorized_keys: NotRequired[pulumi.Input[dict[str, list[str]]]]  # user -> keys known at deploy time (DCI's)
    trusted_cas: NotRequired[list[str]]  # PEM certificates the node's seed adds to its trust store (the lab CA)
    running: NotRequired[bool]
    display_listen: NotRequired[str | None]  # core.resource_facts.display_listen: None keeps the default display
    virtual_media: NotRequired[bool]  # a Redfish BMC may insert media: see _bmc_owned
    after: NotRequired[list[pulumi.Resource]]  # what the node's volumes and seed wait for
    # What the domain also waits for: the cluster's DNS entries (a started node asks for its lease at once). Only
    # the domain: volumes and seed are made meanwhile, which takes the jumphost's round trip off the critical path.
    boot_after: NotRequired[list[pulumi.Resource]]
    libvirt_uri: str
    hypervisor: command.remote.ConnectionArgs  # where a seed file is made
    pool_dir: str  # the pool's directory, where the seed file lands
    seed_media: NotRequired[SeedMedia]  # "volume": a CloudInitDisk, for stacks deployed so (core.seed_media)


class Node(pulumi.ComponentResource):
    """A node whose root disk is a copy-on-write overlay of the hypervisor's base image."""

    domain: libvirt.Domain

    def __init__(self, name: str, args: NodeArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(NODE, name, {}, opts)
        spec, facts = args["spec"], args["facts"]
        child = pulumi.ResourceOptions(parent=self)
        wait = list(args.get("after", []))
        self.cidata: libvirt.CloudInitDisk | None = None
        self.seed: command.remote.Command | None = None
        seed_disks: list[libvirt.DomainDiskArgs] = []
        if facts.cloud_init_iso:
            seed = pulumi.Output.from_input(args.get("authorized_keys", {})).apply(
                lambda keys: user_data(spec, args["zone"], keys, args.get("trusted_cas", [])))
            if args.get("seed_media", "file") == "volume":
                self.cidata = _seed_volume(name, args, facts.cloud_init_iso, seed, meta_data(spec, args["cluster"]),
                                           child.merge(pulumi.ResourceOptions(depends_on=wait)))
                wait.append(self.cidata)
            else:
                iso = seed_iso_path(args["pool_dir"], str(facts.cloud_init_iso))
                self.seed = _seed_file(name, args, iso, seed, meta_data(spec, args["cluster"]),
                                       child.merge(pulumi.ResourceOptions(depends_on=wait)))
                seed_disks.append(libvirt.DomainDiskArgs(file=iso))
        after = fixed_name(child.merge(pulumi.ResourceOptions(depends_on=wait)))
        root = libvirt.Volume(f"{name}-root", name=facts.root.name, pool=args["pool"], format="qcow2",
                              base_volume_id=args["base_volume_id"], size=facts.root.size_bytes, opts=after)
        disks = [libvirt.DomainDiskArgs(volume_id=root.id, scsi=facts.scsi)]
        if facts.disk2:
            second = libvirt.Volume(f"{name}-disk2", name=facts.disk2.name, pool=args["pool"], format="qcow2",
                                    size=facts.disk2.size_bytes, opts=after)
            disks.append(libvirt.DomainDiskArgs(volume_id=second.id, scsi=facts.scsi))
        disks += seed_disks
        cloudinit = self.cidata.id if self.cidata else None
        macs = args["macs"]
        # The lab NIC names the hypervisor's bridge, not the bridged libvirt network, which the provider reads
        # back as a bridge: same L2, no false diff (docs/engine-findings.md, "A bridged NIC reads back as `bridge`").
        nics = [libvirt.DomainNetworkInterfaceArgs(bridge=args["lab_bridge"], mac=macs["baremetal"])
                if nic.network == "baremetal" else _provisioning_nic(args, macs)
                for nic in facts.nics]
        self.domain = libvirt.Domain(
            f"{name}-domain", name=facts.domain, type=args["domain_type"], memory=spec.memory_mib, vcpu=spec.vcpus,
            cpu=libvirt.DomainCpuArgs(mode=spec.cpu_mode), disks=disks, cloudinit=cloudinit, network_interfaces=nics,
            consoles=[libvirt.DomainConsoleArgs(type="pty", target_port="0", target_type="serial")],
            graphics=_display(args.get("display_listen")),
            xml=libvirt.DomainXmlArgs(xslt=domain_xslt(facts.console_log, spec.disk_cache)),
            # OVMF where the topology boots UEFI (core.firmware); libvirt copies the template into the domain's NVRAM.
            firmware=facts.uefi.code if facts.uefi else None,
            nvram=libvirt.DomainNvramArgs(template=facts.uefi.vars) if facts.uefi else None,
            running=args.get("running", True), autostart=False,
            opts=fixed_name(child.merge(pulumi.ResourceOptions(ignore_changes=_bmc_owned(args),
                                                               depends_on=[*args.get("boot_after", []),
                                                                           *([self.seed] if self.seed else [])]))),
        )
        self.register_outputs({"uuid": self.domain.id})


def _display(listen: str | None) -> libvirt.DomainGraphicsArgs | None:
    """The SPICE display on `listen`; None: the provider's default (SPICE on qemu.conf's spice_listen)."""
    if listen is None:
        return None
    return libvirt.DomainGraphicsArgs(type="spice", autoport=True, listen_type="address", listen_address=listen)


def _seed_file(name: str, args: NodeArgs, iso: str, user: pulumi.Output[str], meta: str,
               opts: pulumi.ResourceOptions) -> command.remote.Command:
    """The seed made on the hypervisor (renderers.seed_iso_scripts): no libvirt stream, no provider of its own.
    user-data travels on stdin; an update rewrites the ISO in place, as the domain's disk stays the same file."""
    write = seed_iso_write_script(iso, args["pool"], meta)
    return command.remote.Command(
        f"{name}-seed", connection=args["hypervisor"], create=write, update=write,
        delete=seed_iso_remove_script(iso, args["pool"]),
        stdin=user, logging=command.remote.Logging.STDERR,
        # One path per node: a replacement that wrote the new file before deleting the old would delete the new.
        opts=opts.merge(pulumi.ResourceOptions(delete_before_replace=True)))


def _seed_volume(name: str, args: NodeArgs, iso_name: str, user: pulumi.Output[str], meta: str,
                 opts: pulumi.ResourceOptions) -> libvirt.CloudInitDisk:
    """A stack deployed before seeds were files keeps its CloudInitDisk (core.seed_media), as it was: uploaded
    before the node's volumes and after the cluster's other ISOs, on a libvirt provider of its own, so its stream
    (the upload, and the download with which every refresh reads it back) is alone on its connection: such a
    stream can hang beside other volume operations (docs/engine-findings.md, "Cloud-init ISOs over a libvirt
    stream can hang for good")."""
    iso_provider = libvirt.Provider(f"{name}-libvirt-iso", uri=args["libvirt_uri"], opts=pulumi.ResourceOptions(
        parent=opts.parent))
    return libvirt.CloudInitDisk(f"{name}-cidata", name=iso_name, pool=args["pool"], user_data=user, meta_data=meta,
                                 opts=fixed_name(opts.merge(pulumi.ResourceOptions(provider=iso_provider))))


def _provisioning_nic(args: NodeArgs, macs: dict[str, str]) -> libvirt.DomainNetworkInterfaceArgs:
    """On the cluster's isolated network, or on the hypervisor's provisioning bridge (declared as a bridge, as
    the lab NIC is, so it reads back as declared)."""
    mac = macs["provisioning"]
    if args.get("provisioning_bridge") is not None:
        return libvirt.DomainNetworkInterfaceArgs(bridge=args["provisioning_bridge"], mac=mac)
    return libvirt.DomainNetworkInterfaceArgs(network_id=args["provisioning_network_id"], mac=mac)


def _bmc_owned(args: NodeArgs) -> list[str]:
    """What a Redfish BMC changes in the domain is not drift: inserted virtual media add a CD drive a refresh
    reads back, and a changed disk list replaces the domain, so Redfish nodes ignore the whole list (ignoring
    the extra entries alone does not help: docs/engine-findings.md, "Virtual media made a refresh replace the
    node"). Their disks are fixed by the role; a node whose disks should change is replaced (`up --replace`)."""
    return ["disks"] if args.get("virtual_media") else []
