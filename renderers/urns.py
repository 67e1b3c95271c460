"""Pulumi's names for ocplab's resources: each component's type token, and the URN the engine gives a
resource (what `pulumi up --replace` and `pulumi state delete` take). Free of Pulumi, so the components
(which declare these types) and the tools (which name their resources in fixes) share one spelling."""

from __future__ import annotations

from dataclasses import dataclass

# The components' type tokens (package:module:Type).
HYPERVISOR = "ocplab:lab:Hypervisor"
JUMPHOST = "ocplab:lab:Jumphost"
MIRROR = "ocplab:lab:Mirror"
CACHE = "ocplab:lab:Cache"
CLUSTER = "ocplab:cluster:Cluster"
NODE = "ocplab:cluster:Node"
# The providers' resources that a fix names.
REMOTE_COMMAND = "command:remote:Command"
COPY_TO_REMOTE = "command:remote:CopyToRemote"
LIBVIRT_VOLUME = "libvirt:index/volume:Volume"


def urn(stack: str, project: str, *types: str, name: str) -> str:
    """A resource's URN: the type tokens of its parents from the stack's top component down, then its own."""
    return f"urn:pulumi:{stack}::{project}::{'$'.join(types)}::{name}"


@dataclass(frozen=True)
class ClusterUrns:
    """The URNs of a cluster stack's resources that `ocplab doctor` names (core.lab_audit.Urns)."""

    project: str  # Pulumi.yaml's name

    def cluster_command(self, stack: str, name: str) -> str:
        return urn(stack, self.project, CLUSTER, REMOTE_COMMAND, name=name)

    def node_command(self, stack: str, name: str) -> str:
        return urn(stack, self.project, CLUSTER, NODE, REMOTE_COMMAND, name=name)
