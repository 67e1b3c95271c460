"""How ocplab reaches hosts: libvirt URIs over qemu+ssh and pinned SSH host keys.

Host keys are always verified: the libvirt URI names a known_hosts file, and remote commands
get the host's public key, so a swapped server is refused instead of trusted.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote, urlencode

from core.labconfig import LabConfig, SshTarget, resolve_path


def libvirt_uri(target: SshTarget, key_path: str, known_hosts: str | None) -> str:
    """qemu+ssh URI for pulumi-libvirt's pure-Go client; never sets no_verify. Every part is
    URL-quoted and our security parameters come last, so no value can move the host or add one."""
    query = {"keyfile": key_path, "sshauth": "privkey"}
    if known_hosts:
        query["knownhosts"] = known_hosts
    port = "" if target.port == 22 else f":{target.port}"
    user, address = quote(target.user, safe=""), quote(target.address, safe=".")
    return f"qemu+ssh://{user}@{address}{port}/system?{urlencode(query, safe='/')}"


def lab_files(lab: LabConfig, base: Path) -> tuple[str | None, str | None]:
    """The jumphost's SSH key and known_hosts files as absolute paths (stack files name them relative
    to the project directory `base`), as the lab stack exports them."""
    key = str(resolve_path(lab.jumphost.key_path, base)) if lab.jumphost.key_path else None
    known = str(resolve_path(lab.jumphost.known_hosts, base)) if lab.jumphost.known_hosts else None
    return key, known


def hypervisor_uris(lab: LabConfig, base: Path) -> dict[str, str]:
    """Each hypervisor's libvirt URI, with the lab's key and known_hosts."""
    key, known = lab_files(lab, base)
    return {hv.name: libvirt_uri(hv.ssh, key or "", known) for hv in lab.hypervisors}


def host_key(known_hosts: Path, target: SshTarget) -> str:
    """The host's public key line ('type base64') recorded for its address in known_hosts."""
    wanted = {target.address} if target.port == 22 else {f"[{target.address}]:{target.port}"}
    for line in known_hosts.read_text().splitlines():
        fields = line.split()
        if len(fields) >= 3 and not line.startswith("#") and wanted & set(fields[0].split(",")):
            return f"{fields[1]} {fields[2]}"
    raise KeyError(f"{known_hosts} has no host key for {target.address}: "
                   f"add it with `ssh-keyscan {target.address} >> {known_hosts}` after checking it")


def ssh_argv(target: SshTarget, key_path: str | None, known_hosts: str | None, *options: str) -> list[str]:
    """`ssh` to a lab host with the lab's key, its host key checked against the lab's known_hosts (never
    trusted on first use); `options` (such as -t or -o BatchMode=yes) come before the destination."""
    argv = ["ssh", *options, "-o", "StrictHostKeyChecking=yes"]
    if known_hosts:
        argv += ["-o", f"UserKnownHostsFile={known_hosts}"]
    if key_path:
        argv += ["-i", key_path]
    if target.port != 22:
        argv += ["-p", str(target.port)]
    return [*argv, f"{target.user}@{target.address}"]
