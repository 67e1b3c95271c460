"""Scripts that put a hypervisor's lab IP on a Linux bridge enslaving its NIC, and back.

They run on the hypervisor over SSH (pulumi-command remote.Command create/delete), so they are
idempotent, keep the SSH session alive while the address moves, and record what they replaced
under /etc/ocplab so `delete` restores exactly the original networking. The shell is in
files/bridge-*.sh.
"""

from __future__ import annotations

from renderers.shell import script

STATE_DIR = "/etc/ocplab"
BACKENDS = ("nmcli", "iproute2")


def _bridge_script(backend: str, action: str, nic: str, bridge: str) -> str:
    if backend not in BACKENDS:
        raise ValueError(f"bridge backend {backend!r} is not one of {', '.join(BACKENDS)}")
    return script("bridge-common", f"bridge-{backend}-{action}", nic=nic, br=bridge, state_dir=STATE_DIR)


def bridge_create_script(backend: str, nic: str, bridge: str) -> str:
    """Script that makes `bridge` enslave `nic` and carry its address; safe to run twice."""
    return _bridge_script(backend, "create", nic, bridge)


def bridge_delete_script(backend: str, nic: str, bridge: str) -> str:
    """Script that gives `nic` its original address back and removes `bridge`."""
    return _bridge_script(backend, "delete", nic, bridge)


def plain_bridge_create_script(backend: str, nic: str, bridge: str) -> str:
    """Script that makes `bridge` enslave `nic` with no address on either (a bridged provisioning
    network: the host switches it, the clusters' provisionhosts serve it); safe to run twice."""
    return _bridge_script(backend, "plain-create", nic, bridge)


def plain_bridge_delete_script(backend: str, nic: str, bridge: str) -> str:
    """Script that removes a plain bridge and leaves `nic` unconfigured, as it found it."""
    return _bridge_script(backend, "plain-delete", nic, bridge)
