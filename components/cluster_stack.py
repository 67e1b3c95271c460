"""The cluster stack program: read the lab and this stack's previous assignments, then compose."""

from __future__ import annotations

from collections.abc import Mapping
from operator import itemgetter
from pathlib import Path
from typing import Any, cast

import pulumi
import pulumi_command as command

from components.cluster import Cluster
from components.cluster_design import ClusterDesign, design_cluster
from components.clusterconfig import ClusterConfig, parse_cluster_config
from components.lab_stack import config_value
from components.labconfig import SshTarget
from components.ssh_access import host_key

CONFIG_KEYS = ("lab", "cluster", "topology", "hypervisor", "image", "domain_type", "masters", "workers", "sizes",
               "defaults", "hosts", "provisionhost", "start")


def read_cluster_config(config: pulumi.Config, stack: str) -> ClusterConfig:
    values = {key: value for key in CONFIG_KEYS if (value := config_value(config, key)) is not None}
    return parse_cluster_config(stack, values)


def stack_name(stack: str) -> str:
    """Fully qualified name, as the self-managed (file) backend and Pulumi Cloud both accept."""
    return f"{pulumi.get_organization()}/{pulumi.get_project()}/{stack}"


def jumphost_connection(design: pulumi.Output[ClusterDesign], secret_key: pulumi.Output[str] | None,
                        ) -> command.remote.ConnectionArgs:
    """SSH to the jumphost with the lab's key (or this stack's secret one), pinned host key."""
    def key_of(d: ClusterDesign) -> str:
        return Path(str(d.jumphost["ssh_key_path"])).read_text()

    def pinned(d: ClusterDesign) -> str | None:
        known = d.jumphost.get("known_hosts")
        target = SshTarget(address=str(d.jumphost["address"]), user=str(d.jumphost["user"]),
                           port=int(d.jumphost.get("port", 22)))
        return host_key(Path(known), target) if known else None

    return command.remote.ConnectionArgs(
        host=design.apply(lambda d: str(d.jumphost["address"])), user=design.apply(lambda d: str(d.jumphost["user"])),
        port=design.apply(lambda d: float(d.jumphost.get("port", 22))),
        private_key=secret_key if secret_key is not None else pulumi.Output.secret(design.apply(key_of)),
        host_key=cast("pulumi.Output[str]", design.apply(pinned)),
    )


def cluster_program() -> None:
    """Declare one cluster; nothing is created unless its design passes every check."""
    config = pulumi.Config("ocplab")
    cluster = read_cluster_config(config, pulumi.get_stack())
    lab = pulumi.StackReference(f"lab-{cluster.lab}", stack_name=stack_name(cluster.lab))
    previous = pulumi.StackReference("previous-state", stack_name=stack_name(pulumi.get_stack()))

    def design(values: Mapping[str, Any]) -> ClusterDesign:
        return design_cluster(cluster, values["lab"], values["previous"])

    planned = pulumi.Output.all(lab=lab.outputs, previous=previous.get_output("assignments")).apply(design)
    result = Cluster(cluster.name, {"config": cluster, "design": planned,
                                    "jumphost": jumphost_connection(planned, config.get_secret("sshPrivateKey"))})
    pulumi.export("kind", "cluster")
    for key in ("cluster", "domain", "cluster_domain", "topology", "lab", "network", "jumphost", "hypervisor",
                "api_vip", "ingress_vip", "nodes", "dnsmasq", "assignments"):
        pulumi.export(key, result.outputs.apply(itemgetter(key)))
