"""`Cluster`: a cluster's provisioning network, nodes, jumphost DNS entries and virtual BMCs on one hypervisor."""

from __future__ import annotations

import posixpath
from typing import Any, NotRequired, TypedDict

import pulumi
import pulumi_command as command
import pulumi_libvirt as libvirt

from components.fixed_names import fixed_name
from components.node import Node, NodeArgs
from core.bmc_plan import bmc_nodes, with_password
from core.cluster_design import ClusterDesign
from core.cluster_outputs import cluster_outputs
from core.clusterconfig import ClusterConfig, NodeSpec
from core.resource_facts import display_listen, node_facts, provisioning_bridge, provisioning_network_name
from core.seed_media import SeedMedia
from renderers.console_scripts import consoles_apply_script, consoles_remove_script
from renderers.dnsmasq_cluster import apply_script, remove_script, render_cluster_dns
from renderers.sushy_scripts import sushy_remove_script, sushy_sync_script
from renderers.urns import CLUSTER
from renderers.vbmc_scripts import vbmc_remove_script, vbmc_sync_script


class ClusterArgs(TypedDict):
    config: ClusterConfig
    design: ClusterDesign  # plain: decided before any resource is declared
    jumphost: command.remote.ConnectionArgs
    hypervisor: command.remote.ConnectionArgs
    bmc_password: pulumi.Output[str]
    # The slice's BMC kind, read before the program declares anything (components.stack_reader): which
    # resources exist cannot wait for an Output. None: no BMCs, or not known (Pulumi's mocks).
    bmc_kind: NotRequired[str | None]
    # The DCI controller's public key for the provisionhost's DCI user (config.dci_user), if it has one.
    controller_key: NotRequired[pulumi.Input[str] | None]
    # Seeds as files made on the hypervisor, or as CloudInitDisk volumes for a stack deployed so (core.seed_media).
    seed_media: NotRequired[SeedMedia]


class Cluster(pulumi.ComponentResource):
    """Declared from a plain design the cluster program has already checked: a refused design declares nothing."""

    nodes: dict[str, Node]
    outputs: pulumi.Output[dict[str, Any]]
    bmc: pulumi.Output[dict[str, Any] | None]

    def __init__(self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(CLUSTER, name, {}, opts)
        config, design = args["config"], args["design"]
        child = pulumi.ResourceOptions(parent=self)
        uri = design.hypervisor.libvirt_uri
        self.provider = libvirt.Provider(f"{name}-libvirt", uri=uri, opts=child)
        on_host = pulumi.ResourceOptions(parent=self, provider=self.provider)
        self.dns = command.remote.Command(
            f"{name}-dns", connection=args["jumphost"],
            create=apply_script(config.name, render_cluster_dns(design)),
            update=apply_script(config.name, render_cluster_dns(design)),
            delete=remove_script(config.name, dual_stack=design.slice_range6 is not None), opts=child,
        )
        provisioning = None
        if config.isolated_provisioning:
            provisioning = libvirt.Network(f"{name}-provisioning", name=provisioning_network_name(config.name),
                                           mode="none", bridge=provisioning_bridge(config.name), autostart=True,
                                           opts=fixed_name(on_host))
        self.nodes = {}
        isos: list[pulumi.Resource] = []  # seed volumes (core.seed_media) first, their uploads one at a time
        with_bmc = bmc_nodes(config)
        for spec in sorted(config.nodes, key=lambda n: not n.needs_cloud_init):
            node = Node(f"{name}-{spec.name}", NodeArgs(
                spec=spec, facts=node_facts(config, spec), cluster=config.name, zone=design.zone,
                domain_type=config.domain_type, pool=design.hypervisor.pool,
                base_volume_id=design.hypervisor.base_volumes[spec.image], lab_bridge=design.hypervisor.bridge,
                provisioning_network_id=provisioning.id if provisioning else None,
                provisioning_bridge=str(design.hypervisor.provisioning_bridge)
                if config.provisioning_network == "bridged" else None,
                macs=dict(design.plan.nodes[spec.name].macs), running=config.start, after=list(isos),
                display_listen=display_listen(design.network.ipv6_only),
                # A started node asks for its lease at once; a domain declared off waits for nothing of the jumphost's.
                boot_after=[self.dns] if config.start else [],
                authorized_keys=_dci_keys(config, spec, args.get("controller_key")),
                trusted_cas=[design.lab_ca] if design.lab_ca else [],
                virtual_media=args.get("bmc_kind") == "redfish" and spec.name in with_bmc,
                libvirt_uri=uri, hypervisor=args["hypervisor"],
                pool_dir=pool_dir_of(design, spec.image),
                seed_media=args.get("seed_media", "file"),
            ), opts=on_host)
            if node.cidata is not None:
                isos.append(node.cidata)
            self.nodes[spec.name] = node
        self.nodes = {spec.name: self.nodes[spec.name] for spec in config.nodes}  # the config's order
        # vbmc checks that each domain exists, so the BMCs come after the nodes (and go before them).
        # The password only travels on stdin; stdout is not logged.
        self.bmcs = command.remote.Command(
            f"{name}-bmc", connection=args["hypervisor"],
            create=vbmc_sync_script(config.name, design.bmc), update=vbmc_sync_script(config.name, design.bmc),
            delete=vbmc_remove_script(config.name), stdin=args["bmc_password"], logging=command.remote.Logging.STDERR,
            opts=child.merge(pulumi.ResourceOptions(depends_on=list(self.nodes.values()))),
        )
        # A Redfish slice: the cluster's own sushy-tools emulator, allowed exactly its BMC nodes' domains.
        self.redfish: command.remote.Command | None = None
        if args.get("bmc_kind") == "redfish" and (bmc := design.bmc) is not None:
            bmc_uuids = [self.nodes[n].domain.id for n in with_bmc]
            sync = pulumi.Output.all(*bmc_uuids).apply(
                lambda ids: sushy_sync_script(config.name, bmc, [str(u) for u in ids]))
            self.redfish = command.remote.Command(
                f"{name}-redfish", connection=args["hypervisor"], create=sync, update=sync,
                delete=sushy_remove_script(config.name), stdin=args["bmc_password"],
                logging=command.remote.Logging.STDERR,
                opts=child.merge(pulumi.ResourceOptions(depends_on=list(self.nodes.values()))),
            )
        # The jumphost gathers the nodes' console logs (one folder per cluster) once the domains exist.
        self.consoles = command.remote.Command(
            f"{name}-consoles", connection=args["jumphost"],
            create=consoles_apply_script(design), update=consoles_apply_script(design),
            delete=consoles_remove_script(config.name),
            opts=child.merge(pulumi.ResourceOptions(depends_on=list(self.nodes.values()))),
        )
        uuids = {node: n.domain.id for node, n in self.nodes.items()}
        self.outputs = pulumi.Output.all(uuids=uuids, bmcs=self.bmcs.id).apply(
            lambda v: cluster_outputs(design, v["uuids"], render_cluster_dns(design).as_dict()))
        self.bmc = pulumi.Output.secret(pulumi.Output.all(self.outputs, args["bmc_password"]).apply(
            lambda v: with_password(v[0]["bmc"], v[1])))
        self.register_outputs({"outputs": self.outputs, "bmc": self.bmc})


def _dci_keys(config: ClusterConfig, spec: NodeSpec, key: pulumi.Input[str] | None,
              ) -> pulumi.Input[dict[str, list[str]]]:
    """The controller's key for DCI's user on the provisionhost (core.dci_user); nothing elsewhere."""
    if config.dci_user is None or spec.role != "provisionhost" or key is None:
        return {}
    user = config.dci_user.name
    return pulumi.Output.from_input(key).apply(lambda k: {user: [k]})


def pool_dir_of(design: ClusterDesign, image: str) -> str:
    """The pool's directory: where its base volume (a directory pool's volume key is its path) lies."""
    return posixpath.dirname(design.hypervisor.base_volumes[image])

