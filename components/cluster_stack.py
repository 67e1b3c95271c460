"""The cluster stack program: read the lab and this stack's previous assignments, then compose."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from operator import itemgetter
from pathlib import Path
from typing import Any, cast

import pulumi
import pulumi_command as command

from components.cluster import Cluster
from components.stack_config import ocplab_values
from components.stack_reader import StackMissingError, missing_lab_problem, qualified_name, read_outputs
from core.bmc_plan import bmc_password
from core.cluster_design import ClusterDesign, design_cluster
from core.clusterconfig import ClusterConfig, parse_cluster_config
from core.dci_first_boot import ControllerKeyError, keeps_earlier_provisionhost, made_without_first_boot, public_key_of
from core.errors import ConfigError
from core.lab_contract import HypervisorOutputs, JumphostOutputs, LabOutputs, parse_lab_outputs, slice_bmc_kind
from core.labconfig import SshTarget
from core.seed_media import OUTPUT as SEED_MEDIA_OUTPUT
from core.seed_media import seed_media_of
from core.ssh_access import host_key, pinned_keys


def read_cluster_config(stack: str, dci_default: bool = True) -> ClusterConfig:
    return parse_cluster_config(stack, ocplab_values(), dci_default)


def controller_key(cluster: ClusterConfig, key: pulumi.Output[str]) -> pulumi.Input[str] | None:
    """The key DCI's user accepts: the stack's ocplab:dci.controller_key, else the lab key's public half (not a
    secret: it is written into the provisionhost's seed, which preview may show)."""
    if cluster.first_boot is None:
        return None
    if cluster.first_boot.controller_key:
        return cluster.first_boot.controller_key

    def public(private: str) -> str:
        try:
            return public_key_of(private)
        except ControllerKeyError as exc:  # shown as its message alone
            raise pulumi.RunError(str(exc)) from None

    return pulumi.Output.unsecret(key.apply(public))


def provisionhost_root_urn(cluster: ClusterConfig) -> str:
    node = next(n for n in cluster.nodes if n.role == "provisionhost")
    return (f"urn:pulumi:{pulumi.get_stack()}::{pulumi.get_project()}::ocplab:cluster:Cluster$ocplab:cluster:Node"
            f"$libvirt:index/volume:Volume::{cluster.name}-{node.name}-root")


def kept_provisionhost(cluster: ClusterConfig) -> ClusterConfig:
    """The config without DCI's default user, for a stack deployed before it (core.dci_first_boot), said aloud."""
    user = cluster.first_boot.user if cluster.first_boot else "dci"
    pulumi.log.warn(f"{cluster.name}: the provisionhost was created before ocplab gave it DCI's user by default and is "
                    f"kept as it is. To give it user {user} with the controller's key and a key pair: pulumi config "
                    f"set --path ocplab:dci.user {user}, then rebuild it from its new seed (cloud-init runs once per "
                    f"disk): pulumi up --replace '{provisionhost_root_urn(cluster)}'")
    return read_cluster_config(pulumi.get_stack(), dci_default=False)


def stack_name(stack: str) -> str:
    return qualified_name(pulumi.get_organization(), pulumi.get_project(), stack)


def private_key(design: pulumi.Output[ClusterDesign], secret_key: pulumi.Output[str] | None) -> pulumi.Output[str]:
    """The lab's SSH key (or this stack's secret one), always as a secret."""
    def key_of(d: ClusterDesign) -> str:
        if not d.jumphost.ssh_key_path:
            raise pulumi.RunError(f"ocplab:lab: lab stack {d.cluster.lab!r} exports no ssh_key_path (its key is a "
                                  "secret): set ocplab:sshPrivateKey on this stack too (pulumi config set --secret)")
        return Path(d.jumphost.ssh_key_path).read_text()

    return secret_key if secret_key is not None else pulumi.Output.secret(design.apply(key_of))


def _connection(design: pulumi.Output[ClusterDesign], key: pulumi.Output[str],
                host: Callable[[ClusterDesign], HypervisorOutputs | JumphostOutputs]) -> command.remote.ConnectionArgs:
    """SSH with the lab's key to a host of the lab outputs, pinned to its key in the lab's known_hosts."""
    def target(d: ClusterDesign) -> SshTarget:
        h = host(d)
        return SshTarget(address=h.address, user=h.user, port=h.port)

    def pinned(d: ClusterDesign) -> str:
        return host_key(Path(d.jumphost.known_hosts), target(d))

    return command.remote.ConnectionArgs(
        host=design.apply(lambda d: target(d).address), user=design.apply(lambda d: target(d).user),
        port=design.apply(lambda d: float(target(d).port)), private_key=key,
        host_key=cast("pulumi.Output[str]", design.apply(pinned)),
    )


def jumphost_connection(design: pulumi.Output[ClusterDesign], key: pulumi.Output[str]) -> command.remote.ConnectionArgs:
    return _connection(design, key, lambda d: d.jumphost)


def hypervisor_connection(design: pulumi.Output[ClusterDesign], key: pulumi.Output[str],
                          ) -> command.remote.ConnectionArgs:
    """The cluster's hypervisor, where its virtual BMCs run."""
    return _connection(design, key, lambda d: d.hypervisor)


def bmc_password_of(design: pulumi.Output[ClusterDesign], key: pulumi.Output[str]) -> pulumi.Output[str]:
    """Derived from the lab key, so it is the same on every update and rebuild; secret everywhere."""
    return pulumi.Output.secret(pulumi.Output.all(key, design).apply(lambda v: bmc_password(v[0], v[1].cluster.name)))


def check_lab_access(cluster: ClusterConfig, lab: LabOutputs) -> None:
    """The jumphost's and the cluster's hypervisor's keys are pinned in the lab's known_hosts (else one
    ConfigError naming them), so no remote command is ever declared without a host key."""
    hosts: list[JumphostOutputs | HypervisorOutputs] = [lab.jumphost]
    hosts += [lab.hypervisors[cluster.hypervisor]] if cluster.hypervisor in lab.hypervisors else []
    pinned_keys(Path(lab.jumphost.known_hosts), [SshTarget(address=h.address, user=h.user, port=h.port) for h in hosts],
                f"ocplab:lab: lab stack {cluster.lab!r} output jumphost.known_hosts")


def under_engine() -> bool:
    """False under Pulumi's mocks (unit tests), where no backend can be asked."""
    return type(pulumi.runtime.settings.SETTINGS).__name__ != "MockSettings"


def cluster_program() -> None:
    """Declare one cluster; nothing is created unless its design passes every check."""
    config = pulumi.Config("ocplab")
    cluster = read_cluster_config(pulumi.get_stack())
    known: dict[str, Any] | None = None
    bmc_kind = None
    if under_engine():
        try:
            lab_raw = read_outputs(stack_name(cluster.lab))
            known = read_outputs(stack_name(pulumi.get_stack()))
        except StackMissingError:
            raise ConfigError([missing_lab_problem(cluster.lab)]) from None
        if lab_raw is not None:  # else no CLI could be asked: the StackReference's design refuses it
            check_lab_access(cluster, parse_lab_outputs(cluster.lab, lab_raw))  # refused before any resource
        bmc_kind = slice_bmc_kind(cluster.name, lab_raw)
        if keeps_earlier_provisionhost(known, cluster.first_boot):
            cluster = kept_provisionhost(cluster)
        elif cluster.first_boot is not None and made_without_first_boot(known):  # first_boot: IPI only
            pulumi.log.warn(f"{cluster.name}: the provisionhost's new seed (DCI's user {cluster.first_boot.user}) "
                            "reaches it only when it is rebuilt (cloud-init runs once per disk): "
                            f"pulumi up --replace '{provisionhost_root_urn(cluster)}'")
    # A stack with no seed yet takes files whatever its history (nothing deployed changes).
    seeded = cluster.seed_media is not None or any(n.needs_cloud_init for n in cluster.nodes)
    media = seed_media_of(known, cluster.seed_media) if seeded else "file"
    lab = pulumi.StackReference(f"lab-{cluster.lab}", stack_name=stack_name(cluster.lab))
    if known is not None:  # this stack's previous assignments, read before the update (see stack_reader)
        previous: pulumi.Output[Any] = pulumi.Output.from_input(known.get("assignments"))
    else:
        previous = pulumi.StackReference("previous-state", stack_name=stack_name(pulumi.get_stack())).get_output(
            "assignments")

    def design(values: Mapping[str, Any]) -> ClusterDesign:
        try:
            return design_cluster(cluster, values["lab"], values["previous"])
        except ConfigError as exc:  # a RunError is shown as its message alone, without a traceback
            raise pulumi.RunError(str(exc)) from None

    planned = pulumi.Output.all(lab=lab.outputs, previous=previous).apply(design)
    ssh_key = private_key(planned, config.get_secret("sshPrivateKey"))
    result = Cluster(cluster.name, {"config": cluster, "design": planned,
                                    "jumphost": jumphost_connection(planned, ssh_key),
                                    "hypervisor": hypervisor_connection(planned, ssh_key),
                                    "bmc_password": bmc_password_of(planned, ssh_key), "bmc_kind": bmc_kind,
                                    "controller_key": controller_key(cluster, ssh_key), "seed_media": media})
    pulumi.export("kind", "cluster")
    for key in ("cluster", "domain", "cluster_domain", "topology", "lab", "network", "jumphost", "hypervisor",
                "api_vip", "ingress_vip", "nodes", "dnsmasq", "assignments", "bootstrap", "vrrp", "provisioning",
                "provisionhost_user"):
        pulumi.export(key, result.outputs.apply(itemgetter(key)))
    pulumi.export("bmc", result.bmc)
    pulumi.export(SEED_MEDIA_OUTPUT, media)
