"""How ocplab reaches hosts: libvirt URIs over qemu+ssh and pinned SSH host keys.

Host keys are always verified: the libvirt URI names a known_hosts file, and remote commands
get the host's public key, so a swapped server is refused instead of trusted.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import quote, urlencode

from core.errors import ConfigError
from core.labconfig import LabConfig, SshTarget, resolve_path


def libvirt_uri(target: SshTarget, key_path: str, known_hosts: str) -> str:
    """qemu+ssh URI for pulumi-libvirt's pure-Go client; never sets no_verify. Every part is
    URL-quoted and our security parameters come last, so no value can move the host or add one."""
    query = {"keyfile": key_path, "sshauth": "privkey", "knownhosts": known_hosts}
    port = "" if target.port == 22 else f":{target.port}"
    user, address = quote(target.user, safe=""), quote(target.address, safe=".")
    if ":" in target.address:  # IPv6 (an IPv6-only lab): bracketed as RFC 3986 and Go's url.Parse take it
        address = f"[{quote(target.address, safe='.:')}]"
    return f"qemu+ssh://{user}@{address}{port}/system?{urlencode(query, safe='/')}"


def lab_files(lab: LabConfig, base: Path) -> tuple[str | None, str]:
    """The jumphost's SSH key and known_hosts files as absolute paths (stack files name them relative
    to the project directory `base`), as the lab stack exports them."""
    key = str(resolve_path(lab.jumphost.key_path, base)) if lab.jumphost.key_path else None
    return key, str(resolve_path(lab.jumphost.known_hosts, base))


def hypervisor_uris(lab: LabConfig, base: Path) -> dict[str, str]:
    """Each hypervisor's libvirt URI, with the lab's key and known_hosts."""
    key, known_hosts = lab_files(lab, base)
    return {hv.name: libvirt_uri(hv.ssh, key or "", known_hosts) for hv in lab.hypervisors}


def _host_matches(pattern: str, wanted: str) -> bool:
    """A known_hosts host field entry: plain, or hashed (`|1|salt|hmac`, ssh-keygen -H, Debian's default)."""
    if not pattern.startswith("|1|"):
        return pattern == wanted
    try:
        _, _, salt, digest = pattern.split("|")
        mac = hmac.new(base64.b64decode(salt), wanted.encode(), hashlib.sha1).digest()
        return hmac.compare_digest(mac, base64.b64decode(digest))
    except (ValueError, binascii.Error):
        return False


def host_key(known_hosts: Path, target: SshTarget, field: str = "ocplab:jumphost.known_hosts") -> str:
    """The host's public key line ('type base64') recorded for its address in known_hosts; ConfigError
    naming `field` and the host when there is none (no connection is ever made without one)."""
    wanted = target.address if target.port == 22 else f"[{target.address}]:{target.port}"
    try:
        lines = known_hosts.read_text().splitlines()
    except OSError as exc:
        raise ConfigError([f"{field}: cannot read {known_hosts} ({exc.strerror}): every host key is pinned; "
                           f"name a known_hosts file that holds the lab's host keys"]) from None
    for line in lines:
        fields = line.split()
        if len(fields) >= 3 and not line.startswith(("#", "@")) and \
                any(_host_matches(p, wanted) for p in fields[0].split(",")):
            return f"{fields[1]} {fields[2]}"
    port = f"-p {target.port} " if target.port != 22 else ""
    raise ConfigError([f"{field}: {known_hosts} has no host key for {wanted}: check the host's key fingerprint, "
                       f"then add it with `ssh-keyscan {port}{target.address} >> {known_hosts}`"])


def pinned_keys(known_hosts: Path, targets: Iterable[SshTarget],
                field: str = "ocplab:jumphost.known_hosts") -> dict[SshTarget, str]:
    """Every target's pinned host key, or one ConfigError naming every host that has none."""
    keys, problems = {}, []
    for target in targets:
        try:
            keys[target] = host_key(known_hosts, target, field)
        except ConfigError as exc:
            problems += [p for p in exc.problems if p not in problems]
    if problems:
        raise ConfigError(problems)
    return keys


def ssh_argv(target: SshTarget, key_path: str | None, known_hosts: str, *options: str) -> list[str]:
    """`ssh` to a lab host with the lab's key, its host key checked against the lab's known_hosts (never
    trusted on first use); `options` (such as -t or -o BatchMode=yes) come before the destination."""
    # ssh splits an -o value on blanks (a list of files) unless it is quoted inside it.
    known = f'"{known_hosts}"' if " " in known_hosts else known_hosts
    argv = ["ssh", *options, "-o", "StrictHostKeyChecking=yes", "-o", f"UserKnownHostsFile={known}"]
    if key_path:
        argv += ["-i", key_path]
    if target.port != 22:
        argv += ["-p", str(target.port)]
    return [*argv, f"{target.user}@{target.address}"]
