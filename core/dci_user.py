"""What an IPI provisionhost must hold from its first boot for DCI to drive it (docs/redhatci-ocp-gaps.md §2).

dci-openshift-agent logs in to the `[provisioner]` as its `ansible_user` with the controller's key, becomes root
with no password (redhatci.ocp node_prep and installer use `become: true` throughout), and its pre-run fetches
`~<user>/.ssh/id_rsa` (agent plays/pre-install.yml "Get provisioner SSH identity") before any task of the
collection could create it; the installer tasks then read `~<user>/.ssh/id_rsa.pub` as the cluster's sshKey.
So, as the seed's inventory does with `users` and `run_commands`, every IPI provisionhost gets that user with
NOPASSWD sudo, the controller's public key and an RSA key pair, unless the stack says `ocplab:dci.user: null`.

The controller's key defaults to the public half of the lab's SSH key (the key ocplab reaches the jumphost with,
where the agent runs); it is only known once the lab's outputs are read, so it joins the user at render time.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.errors import OcplabError, Problems

if TYPE_CHECKING:  # the schema takes its default user from here
    from core.config_schema import DciSchema

DEFAULT_USER = "dci"
NOPASSWD = "ALL=(ALL) NOPASSWD:ALL"
# The seed's provisionhost user, field for field (distributed-libvirt-clusters.md, "hosts").
SEED_FIELDS: Mapping[str, Any] = {"gecos": "Admin User", "groups": "wheel", "sudo": NOPASSWD, "lock_passwd": False}


@dataclass(frozen=True)
class DciUser:
    name: str  # the user on the provisionhost (ocplab:dci.user)
    controller_key: str | None = None  # None: the public half of the lab's SSH key
    explicit: bool = False  # set in the stack, not the default (see keeps_provisionhost_as_deployed)


def dci_user_of(dci: DciSchema | None, written: bool, topology: str, problems: Problems) -> DciUser | None:
    """`ocplab:dci` of a cluster stack (`written`: the stack has the key, even as null); SNO has no provisionhost."""
    if topology != "ipi":
        if dci is not None:
            problems.add("ocplab:dci", "is for IPI clusters: an SNO cluster's provisioner is the lab's jumphost")
        return None
    user = DEFAULT_USER if dci is None else dci.user
    if user is None:
        return None
    return DciUser(name=user, controller_key=dci.controller_key if dci else None, explicit=written)


def home_of(user: str) -> str:
    return f"/home/{user}"


def keypair_command(user: str) -> str:
    """Creates ~user/.ssh/id_rsa once (the file name the agent fetches; RSA like the seed's ssh-keygen). cloud-init
    runs runcmd as root: `install -d` makes ~/.ssh the user's even if a command before made it as root, runuser
    (util-linux, on every RHEL) needs no sudo rule, and the guard keeps an existing pair, so a seed's own
    unguarded ssh-keygen before it is harmless."""
    ssh, name = f"{home_of(user)}/.ssh", shlex.quote(user)
    return (f"test -f {ssh}/id_rsa || {{ install -d -m 700 -o {name} -g \"$(id -g {name})\" {ssh} && "
            f"runuser -u {name} -- ssh-keygen -q -t rsa -b 4096 -N '' -f {ssh}/id_rsa; }}")


def user_fields(own: Mapping[str, Any] | None, user: str) -> tuple[dict[str, Any], str | None]:
    """The fields of DCI's user: the seed's, under the stack's own ones for that user (they win, except a sudo rule
    DCI cannot work with, which is the problem returned)."""
    own = own or {}
    sudo = own.get("sudo")
    problem = None
    if sudo is not None and sudo != NOPASSWD:
        problem = (f"DCI's user {user} needs {NOPASSWD!r} (its tasks become root without a password): drop sudo, "
                   "set it so, or give ocplab:dci.user another user")
    return {**SEED_FIELDS, **own, "sudo": NOPASSWD}, problem


class ControllerKeyError(OcplabError, ValueError):
    """The lab's key gives no public half: the message names the field that fixes it."""


def public_key_of(private_key: str) -> str:
    """'type base64' of an OpenSSH or PEM private key, as `ssh-keygen -y` prints it (without the comment)."""
    # Imported here: a program needs it only once the lab's outputs are read, after start-up (docs/benchmarks.md).
    from cryptography.hazmat.primitives import serialization

    data = private_key.encode()
    try:
        try:
            key = serialization.load_ssh_private_key(data, password=None)
        except ValueError:
            key = serialization.load_pem_private_key(data, password=None)  # type: ignore[assignment]
        return key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                             serialization.PublicFormat.OpenSSH).decode()
    except (ValueError, TypeError, AttributeError) as exc:  # unreadable, passphrase-protected, or not a key pair
        raise ControllerKeyError(f"ocplab:dci.controller_key: the lab's SSH key gives no public key for DCI's user "
                                 f"({type(exc).__name__}); set ocplab:dci.controller_key to the DCI controller's "
                                 "public key, or ocplab:dci.user: null") from None


def keeps_provisionhost_as_deployed(previous: Mapping[str, Any] | None, dci: DciUser | None) -> bool:
    """A stack deployed before DCI's user was the default (its outputs have nodes but no provisionhost_user, which
    Pulumi also drops when it is null) keeps its provisionhost as it is. A changed seed is a new ISO swapped into
    the domain in place (seen: cidata replaced, domain updated), but cloud-init on a disk that has booted once does
    not run again (same instance-id): the `up` would succeed and the user would not exist. Only the default
    yields; an `ocplab:dci` the stack sets is applied (and the provisionhost rebuilt by the user, as warned)."""
    return dci is not None and not dci.explicit and made_without_dci_user(previous)


def made_without_dci_user(previous: Mapping[str, Any] | None) -> bool:
    """Deployed (its previous outputs have nodes) by a version or a config that gave DCI's user no seed."""
    if not previous or not previous.get("nodes"):
        return False
    return not previous.get("provisionhost_user")
