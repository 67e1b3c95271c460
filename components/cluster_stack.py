"""The cluster stack program: read the lab and this stack's previous assignments, then compose."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from operator import itemgetter
from pathlib import Path
from typing import Any

import pulumi
import pulumi_command as command

from components.cluster import Cluster
from components.stack_config import ocplab_values
from components.stack_reader import StackMissingError, missing_lab_problem, qualified_name, read_outputs
from core.bmc_plan import bmc_password
from core.cluster_design import ClusterDesign, design_cluster
from core.cluster_outputs import EXPORTED
from core.clusterconfig import ClusterConfig, parse_cluster_config
from core.dci_user import ControllerKeyError, keeps_provisionhost_as_deployed, made_without_dci_user, public_key_of
from core.errors import ConfigError
from core.lab_contract import HypervisorOutputs, JumphostOutputs, LabOutputs, bmc_kind_of, parse_lab_outputs
from core.labconfig import SshTarget
from core.seed_media import OUTPUT as SEED_MEDIA_OUTPUT
from core.seed_media import seed_media_of
from core.ssh_access import pinned_keys
from renderers.urns import CLUSTER, LIBVIRT_VOLUME, NODE, urn


def read_cluster_config(stack: str, dci_default: bool = True) -> ClusterConfig:
    return parse_cluster_config(stack, ocplab_values(), dci_default)


def controller_key(cluster: ClusterConfig, key: pulumi.Output[str]) -> pulumi.Input[str] | None:
    """The key DCI's user accepts: the stack's ocplab:dci.controller_key, else the lab key's public half (not a
    secret: it is written into the provisionhost's seed, which preview may show)."""
    if cluster.dci_user is None:
        return None
    if cluster.dci_user.controller_key:
        return cluster.dci_user.controller_key

    def public(private: str) -> str:
        try:
            return public_key_of(private)
        except ControllerKeyError as exc:  # shown as its message alone
            raise pulumi.RunError(str(exc)) from None

    return pulumi.Output.unsecret(key.apply(public))


def provisionhost_root_urn(cluster: ClusterConfig) -> str:
    node = next(n for n in cluster.nodes if n.role == "provisionhost")
    return urn(pulumi.get_stack(), pulumi.get_project(), CLUSTER, NODE, LIBVIRT_VOLUME,
               name=f"{cluster.name}-{node.name}-root")


def without_dci_user(cluster: ClusterConfig) -> ClusterConfig:
    """The config without DCI's default user, for a stack deployed before it (core.dci_user), said aloud."""
    user = cluster.dci_user.name if cluster.dci_user else "dci"
    pulumi.log.warn(f"{cluster.name}: the provisionhost was created before ocplab gave it DCI's user by default and is "
                    f"kept as it is. To give it user {user} with the controller's key and a key pair: pulumi config "
                    f"set --path ocplab:dci.user {user}, then rebuild it from its new seed (cloud-init runs once per "
                    f"disk): pulumi up --replace '{provisionhost_root_urn(cluster)}'")
    return read_cluster_config(pulumi.get_stack(), dci_default=False)


def stack_name(stack: str) -> str:
    return qualified_name(pulumi.get_organization(), pulumi.get_project(), stack)


def private_key(design: ClusterDesign, secret_key: pulumi.Output[str] | None) -> pulumi.Output[str]:
    """The lab's SSH key (or this stack's secret one), always as a secret."""
    if secret_key is not None:
        return secret_key
    if not design.jumphost.ssh_key_path:
        raise ConfigError([f"ocplab:lab: lab stack {design.cluster.lab!r} exports no ssh_key_path (its key is a "
                           "secret): set ocplab:sshPrivateKey on this stack too (pulumi config set --secret)"])
    return pulumi.Output.secret(Path(design.jumphost.ssh_key_path).read_text())


def connection(host: HypervisorOutputs | JumphostOutputs, key: pulumi.Output[str],
               pins: Mapping[SshTarget, str]) -> command.remote.ConnectionArgs:
    """SSH with the lab's key to a host of the lab outputs, pinned to its key in the lab's known_hosts."""
    target = SshTarget(address=host.ssh_address, user=host.user, port=host.port)
    return command.remote.ConnectionArgs(host=target.address, user=target.user, port=float(target.port),
                                         private_key=key, host_key=pins[target])


def lab_access(cluster: ClusterConfig, lab: LabOutputs) -> dict[SshTarget, str]:
    """The jumphost's and the cluster's hypervisor's keys pinned in the lab's known_hosts (else one
    ConfigError naming them), so no remote command is ever declared without a host key. Checked before
    the design: a lab whose access is not pinned is refused for that first, whatever else is off."""
    hosts: list[JumphostOutputs | HypervisorOutputs] = [lab.jumphost]
    hosts += [lab.hypervisors[cluster.hypervisor]] if cluster.hypervisor in lab.hypervisors else []
    return pinned_keys(Path(lab.jumphost.known_hosts),
                       [SshTarget(address=h.ssh_address, user=h.user, port=h.port) for h in hosts],
                       f"ocplab:lab: lab stack {cluster.lab!r} output jumphost.known_hosts")


def bmc_password_of(design: ClusterDesign, key: pulumi.Output[str]) -> pulumi.Output[str]:
    """Derived from the lab key, so it is the same on every update and rebuild; secret everywhere."""
    return pulumi.Output.secret(key.apply(lambda k: bmc_password(k, design.cluster.name)))


Reader = Callable[[str], "dict[str, Any] | None"]


def read_stack(read: Reader, stack: str, what: str) -> dict[str, Any]:
    """A stack's outputs as plain values, read before anything is declared; a read that cannot be made stops
    the program with the reason (no fallback: the design is made from plain values only)."""
    try:
        outputs = read(stack_name(stack))
    except StackMissingError:
        if what == "lab":
            raise ConfigError([missing_lab_problem(stack)]) from None
        return {}
    if outputs is None:
        raise ConfigError([f"ocplab:{what}: the outputs of stack {stack!r} could not be read (`pulumi stack output "
                           f"--json -s {stack}` failed or no pulumi CLI is on PATH): run it to see why"])
    return outputs


def cluster_program(read: Reader = read_outputs) -> None:
    """Declare one cluster from its plain design; nothing is declared unless the design passes every check.
    `read` gives a stack's outputs (org/project/stack): the backend's, or what a test injects."""
    config = pulumi.Config("ocplab")
    cluster = read_cluster_config(pulumi.get_stack())
    lab_raw = read_stack(read, cluster.lab, "lab")
    previous = read_stack(read, pulumi.get_stack(), "cluster")
    if keeps_provisionhost_as_deployed(previous, cluster.dci_user):
        cluster = without_dci_user(cluster)
    elif cluster.dci_user is not None and made_without_dci_user(previous):  # dci_user: IPI only
        pulumi.log.warn(f"{cluster.name}: the provisionhost's new seed (DCI's user {cluster.dci_user.name}) "
                        "reaches it only when it is rebuilt (cloud-init runs once per disk): "
                        f"pulumi up --replace '{provisionhost_root_urn(cluster)}'")
    lab = parse_lab_outputs(cluster.lab, lab_raw)
    pins = lab_access(cluster, lab)
    design = design_cluster(cluster, lab, previous.get("assignments"))
    # A stack with no seed yet takes files whatever its history (nothing deployed changes).
    seeded = cluster.seed_media is not None or any(n.needs_cloud_init for n in cluster.nodes)
    media = seed_media_of(previous, cluster.seed_media) if seeded else "file"
    # The outputs above are read plainly; this reference records in the state which lab the cluster reads.
    pulumi.StackReference(f"lab-{cluster.lab}", stack_name=stack_name(cluster.lab))
    ssh_key = private_key(design, config.get_secret("sshPrivateKey"))
    result = Cluster(cluster.name, {"config": cluster, "design": design,
                                    "jumphost": connection(design.jumphost, ssh_key, pins),
                                    "hypervisor": connection(design.hypervisor, ssh_key, pins),
                                    "bmc_password": bmc_password_of(design, ssh_key),
                                    "bmc_kind": bmc_kind_of(lab, cluster.name),
                                    "controller_key": controller_key(cluster, ssh_key), "seed_media": media})
    pulumi.export("kind", "cluster")
    for key in EXPORTED:
        pulumi.export(key, result.outputs.apply(itemgetter(key)))
    pulumi.export("bmc", result.bmc)
    pulumi.export(SEED_MEDIA_OUTPUT, media)
