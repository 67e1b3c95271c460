"""The lab stack program: validate the lab description, then compose its components."""

from __future__ import annotations

from collections.abc import Mapping
from operator import itemgetter
from pathlib import Path

import pulumi
import pulumi_command as command

from components.cache import Cache
from components.hypervisor import Hypervisor, HypervisorArgs
from components.jumphost import Jumphost
from components.mirror import Mirror
from components.stack_config import ocplab_values
from core.lab_contract import lab_outputs, mirror_outputs
from core.labconfig import LabConfig, SshTarget, parse_lab_config, resolve_path
from core.ssh_access import hypervisor_uris, lab_files, pinned_keys
from renderers.jumphost_scripts import lab_in_place_script, refuse_while_clusters_remain


def read_lab_config(config: pulumi.Config, stack: str) -> LabConfig:
    """Read every `ocplab:*` key of a lab stack and validate it before any resource exists."""
    values = ocplab_values()
    has_secret = config.get_secret("sshPrivateKey") is not None
    return parse_lab_config(stack, values, has_key_secret=has_secret)


def private_key(config: pulumi.Config, lab: LabConfig, base: Path) -> pulumi.Output[str]:
    """The SSH key as a secret, from the stack's secret or from the key file."""
    secret = config.get_secret("sshPrivateKey")
    if secret is not None:
        return secret
    assert lab.jumphost.key_path is not None  # parse_lab_config demands one of the two
    return pulumi.Output.secret(resolve_path(lab.jumphost.key_path, base).read_text())


def connection(target: SshTarget, key: pulumi.Output[str], pins: Mapping[SshTarget, str],
               ) -> command.remote.ConnectionArgs:
    """SSH connection for remote commands, pinned to the host's key in the lab's known_hosts."""
    return command.remote.ConnectionArgs(host=target.address, user=target.user, port=target.port, private_key=key,
                                         host_key=pins[target])


def lab_program(base: Path) -> None:
    """Declare the lab: hypervisors with bridges, networks, pools and images; the jumphost."""
    config = pulumi.Config("ocplab")
    lab = read_lab_config(config, pulumi.get_stack())
    key = private_key(config, lab, base)
    key_path, known_hosts = lab_files(lab, base)
    pins = pinned_keys(Path(known_hosts), [lab.jumphost.ssh, *(hv.ssh for hv in lab.hypervisors)])
    images = {name: str(resolve_path(src, base)) if "://" not in src else src for name, src in lab.images.items()}
    uris = hypervisor_uris(lab, base)
    jumphost = Jumphost("jumphost", {"connection": connection(lab.jumphost.ssh, key, pins), "lab": lab})
    hypervisors = {
        hv.name: Hypervisor(hv.name, HypervisorArgs(
            lab=lab, config=hv, libvirt_uri=uris[hv.name], connection=connection(hv.ssh, key, pins),
            images=images, after=jumphost.first))
        for hv in lab.hypervisors
    }
    # The mirror once its name resolves (dnsmasq) and the lab's way out is set.
    mirror = Mirror("mirror", lab, connection(lab.jumphost.ssh, key, pins), key, opts=pulumi.ResourceOptions(
        depends_on=[*jumphost.first, jumphost.dnsmasq])) if lab.mirror else None
    # The cache fetches through the way out (route), and serves under its name (dnsmasq).
    cache = Cache("cache", lab, connection(lab.jumphost.ssh, key, pins), opts=pulumi.ResourceOptions(
        depends_on=[*jumphost.first, jumphost.dnsmasq])) if lab.cache else None
    # Deleted first on destroy (it depends on everything), so a refused lab destroy removes nothing:
    # without it the engine deletes the bridges in parallel with the jumphost's refusal.
    command.remote.Command(
        "destroy-guard", connection=connection(lab.jumphost.ssh, key, pins),
        create=lab_in_place_script(), delete=refuse_while_clusters_remain(),
        opts=pulumi.ResourceOptions(depends_on=[jumphost, *hypervisors.values(), *([mirror] if mirror else []),
                                                *([cache] if cache else [])]))
    outputs = pulumi.Output.all(hypervisors={name: hv.outputs for name, hv in hypervisors.items()},
                                dnsmasq=jumphost.dnsmasq.id, ca=mirror.ca_certificate if mirror else None).apply(
        lambda v: lab_outputs(lab, v["hypervisors"], key_path, known_hosts, v["dnsmasq"],
                              mirror_outputs(lab, v["ca"])).as_outputs())
    for output in ("kind", "version", "domain", "network", "jumphost", "hypervisors", "slices", "overcommit",
                   *(["mirror"] if mirror else []), *(["cache"] if cache else [])):
        pulumi.export(output, outputs.apply(itemgetter(output)))
    if mirror:
        pulumi.export("mirror_password", mirror.password)
