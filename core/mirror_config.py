"""The lab's mirror registry as the lab config gives it (`ocplab:mirror`): where it listens and keeps its
images, checked against the jumphost's other services and the directories a lab destroy removes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from core.config_schema import MirrorSchema
    from core.labconfig import LabConfig

DEFAULT_PORT = 8443
DEFAULT_STORAGE = "/var/lib/ocplab-mirror"
DEFAULT_USER = "ocplab"  # the registry login (htpasswd); the service's own system user is another (renderers)
# The registry's binary. bundled: the build `make engine` makes (core/registry_build.py), one pinned version on
# every jumphost, RHEL's too (it has no package); system: the distribution's package (Debian's docker-registry).
RegistrySource = Literal["bundled", "system"]
DEFAULT_REGISTRY: RegistrySource = "bundled"
# What the jumphost already serves: dnsmasq (DNS, DHCP, TFTP for network boots) and the lab's chronyd.
JUMPHOST_PORTS = {53: "the jumphost's DNS (dnsmasq)", 67: "the jumphost's DHCP (dnsmasq)",
                  69: "the jumphost's TFTP (dnsmasq)", 123: "the jumphost's NTP server (chronyd)"}
# Where the lab stack's own files live (a lab destroy removes them whole), and directories that are the
# system's: a registry's images in them would be lost, or could clobber the host.
_OURS = ("/etc/ocplab", "/var/lib/ocplab", "/run/ocplab", "/var/log/ocplab")
_SYSTEM = {"bin", "boot", "dev", "etc", "lib", "lib32", "lib64", "proc", "run", "sbin", "sys", "tmp", "usr"}


@dataclass(frozen=True)
class Mirror:
    port: int = DEFAULT_PORT
    storage: str = DEFAULT_STORAGE
    keep_data: bool = True  # a lab destroy keeps the images (tens of GiB, hours to mirror again) unless false
    user: str = DEFAULT_USER
    registry: RegistrySource = DEFAULT_REGISTRY

    @staticmethod
    def host(domain: str) -> str:
        """The registry's name in the lab's DNS (the jumphost's address)."""
        return f"mirror.{domain}"


def mirror_of(schema: MirrorSchema | None) -> Mirror | None:
    if schema is None:
        return None
    return Mirror(port=schema.port, storage=schema.storage, keep_data=schema.keep_data, user=schema.user,
                  registry=schema.registry)


def mirror_problems(lab: LabConfig) -> list[tuple[str, str]]:
    """(field, problem) for a mirror port another service of the jumphost holds (or one an unprivileged
    service cannot bind), and a storage path that is not a directory of its own."""
    mirror = lab.mirror
    if mirror is None:
        return []
    found = []
    if problem := port_problem(lab, mirror.port, "the mirror", "the registry", DEFAULT_PORT):
        found.append(("ocplab:mirror.port", problem))
    if problem := storage_problem(mirror.storage):
        found.append(("ocplab:mirror.storage", problem))
    return found


def port_problem(lab: LabConfig, port: int, what: str, server: str, default: int,
                 taken: dict[int, str] | None = None) -> str | None:
    """Why a service of the jumphost (`what`, run by `server`) cannot listen on `port`: another service of the lab
    holds it (the jumphost's, `taken`, or a slice's BMC ports), or it is privileged. None when it is free."""
    held = {**JUMPHOST_PORTS, 22: "the jumphost's SSH", lab.jumphost.ssh.port: "the jumphost's SSH", **(taken or {})}
    for piece in lab.slices:
        if piece.bmc_ports is not None and piece.bmc_ports.first <= port <= piece.bmc_ports.last:
            # BMCs listen on hypervisors, but one server may be both, and one port plan is clearer
            held[port] = f"slice {piece.cluster}'s BMC ports ({piece.bmc_ports})"
    if port in held:
        return f"{port} clashes with {held[port]}: give {what} a free port, e.g. {default}"
    if port < 1024:
        return (f"{port} is below 1024: {server} runs as a user of its own with no privilege, so give it a port "
                f"from 1024 up, e.g. {default}")
    return None


def storage_problem(path: str) -> str | None:
    """Why `path` (absolute, as the schema checked) cannot hold the registry's images, or None."""
    parts = PurePosixPath(path).parts[1:]
    if any(part in (".", "..") for part in path.split("/")[1:]) or "//" in path:
        return f"{path!r} is not a plain path: write it without '.', '..' or '//'"
    if len(parts) < 2 or parts[0] in _SYSTEM:
        return (f"{path!r} is not a directory of its own: name one the registry can own, "
                f"such as {DEFAULT_STORAGE} or /srv/mirror")
    if any(path == ours or path.startswith(ours + "/") or ours.startswith(path + "/") for ours in _OURS):
        return f"{path!r} is in or holds ocplab's own files, which a lab destroy removes: use e.g. {DEFAULT_STORAGE}"
    return None
