"""`Hypervisor`: one physical server's bridge, libvirt network, storage pool, base images and vbmcd."""

from __future__ import annotations

from dataclasses import asdict
from typing import NotRequired, TypedDict

import pulumi
import pulumi_command as command
import pulumi_libvirt as libvirt

from components.fixed_names import fixed_name
from core.lab_contract import HypervisorOutputs, hypervisor_outputs
from core.labconfig import Hypervisor as HypervisorConfig
from core.labconfig import LabConfig
from renderers.bridge_scripts import (
    bridge_create_script,
    bridge_delete_script,
    bridge_update_script,
    plain_bridge_create_script,
    plain_bridge_delete_script,
)
from renderers.sushy_scripts import sushy_install_script, sushy_uninstall_script
from renderers.urns import HYPERVISOR
from renderers.vbmc_scripts import vbmcd_install_script, vbmcd_uninstall_script


class HypervisorArgs(TypedDict):
    lab: LabConfig
    config: HypervisorConfig
    libvirt_uri: str
    connection: command.remote.ConnectionArgs
    images: dict[str, str]
    after: NotRequired[list[pulumi.Resource]]  # what must succeed first (the jumphost's uplink check)


class Hypervisor(pulumi.ComponentResource):
    """A hypervisor ready for clusters: br0 carries its NIC, VMs bridge onto the lab network."""

    provider: libvirt.Provider
    network: libvirt.Network
    pool: libvirt.Pool
    base_volumes: dict[str, libvirt.Volume]
    outputs: pulumi.Output[HypervisorOutputs]

    def __init__(self, name: str, args: HypervisorArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(HYPERVISOR, name, {}, opts)
        config = args["config"]
        child = pulumi.ResourceOptions(parent=self, depends_on=args.get("after", []))
        self.provider = libvirt.Provider(f"{name}-libvirt", uri=args["libvirt_uri"], opts=child)
        on_host = pulumi.ResourceOptions(parent=self, provider=self.provider)
        backend, address6 = config.bridge_backend, config.address6
        self.bridge = command.remote.Command(
            f"{name}-bridge",
            connection=args["connection"],
            create=bridge_create_script(backend, config.nic, config.bridge, address6, args["lab"].network.ipv6_only),
            delete=bridge_delete_script(backend, config.nic, config.bridge, address6),
            # Only with address6 (None is no input: an IPv4 hypervisor's Command stays as deployed): adding it to a
            # deployed bridge runs this, not create again (whose first step sees the bridge there and stops).
            update=bridge_update_script(backend, config.nic, config.bridge, address6) if address6 else None,
            opts=child,
        )
        # A second NIC for bridged provisioning networks: bridged with no address, nothing else on it.
        self.provisioning_bridge = None
        if config.provisioning_nic:
            self.provisioning_bridge = command.remote.Command(
                f"{name}-provisioning-bridge", connection=args["connection"],
                create=plain_bridge_create_script(config.bridge_backend, config.provisioning_nic,
                                                  config.provisioning_bridge),
                delete=plain_bridge_delete_script(config.bridge_backend, config.provisioning_nic,
                                                  config.provisioning_bridge),
                opts=child.merge(pulumi.ResourceOptions(depends_on=[self.bridge])),
            )
        self.network = libvirt.Network(
            f"{name}-network", name=config.network_name, mode="bridge", bridge=config.bridge,
            autostart=True, opts=fixed_name(on_host.merge(pulumi.ResourceOptions(depends_on=[self.bridge]))),
        )
        self.pool = libvirt.Pool(
            f"{name}-pool", name=config.pool_name, type="dir",
            target=libvirt.PoolTargetArgs(path=config.pool_path), opts=fixed_name(on_host),
        )
        self.base_volumes = {
            image: libvirt.Volume(
                f"{name}-base-{image}", name=config.base_volume_name(image), pool=self.pool.name,
                source=source, format="qcow2", opts=fixed_name(on_host),
            )
            for image, source in sorted(args["images"].items())
        }
        # The shared BMC emulator, where a slice of this hypervisor has BMC ports; cluster stacks add entries.
        here = [s for s in args["lab"].slices if s.hypervisor == config.name and s.bmc_ports]
        ranges = [s.bmc_ports for s in here if s.bmc_ports and s.bmc == "ipmi"]
        self.vbmcd = None
        if ranges:
            self.vbmcd = command.remote.Command(
                f"{name}-vbmcd", connection=args["connection"], create=vbmcd_install_script(ranges),
                update=vbmcd_install_script(ranges), delete=vbmcd_uninstall_script(ranges),
                opts=child.merge(pulumi.ResourceOptions(depends_on=[self.bridge])),
            )
        # sushy-tools for Redfish slices: each cluster stack runs its own emulator with it.
        redfish = [s.bmc_ports for s in here if s.bmc_ports and s.bmc == "redfish"]
        self.sushy = None
        if redfish:
            # IPv6-only: its SSH address is address6, for which the certificate is made in the first place
            install = sushy_install_script(config.ssh.address, redfish,
                                           None if args["lab"].network.ipv6_only else address6)
            self.sushy = command.remote.Command(
                f"{name}-sushy", connection=args["connection"], create=install, update=install,
                delete=sushy_uninstall_script(redfish),
                opts=child.merge(pulumi.ResourceOptions(depends_on=[self.bridge])),
            )
        node = libvirt.get_node_info_output(opts=pulumi.InvokeOutputOptions(provider=self.provider, parent=self))
        self.outputs = pulumi.Output.all(
            network_id=self.network.id, pool=self.pool.name,
            images={image: volume.id for image, volume in self.base_volumes.items()},
            cpus=node.cpu_cores_total, memory_kib=node.memory_total_kb,
        ).apply(lambda v: hypervisor_outputs(
            args["lab"], config.name, args["libvirt_uri"], v["network_id"], v["pool"], v["images"], v["cpus"],
            int(v["memory_kib"]) // 1024))
        self.register_outputs({"outputs": self.outputs.apply(asdict)})
