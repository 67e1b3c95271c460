"""Scripts that put a hypervisor's lab IP on a Linux bridge enslaving its NIC, and back.

They run on the hypervisor over SSH (pulumi-command remote.Command create/delete), so they are
idempotent, keep the SSH session alive while the address moves, and record what they replaced
under /etc/ocplab so `delete` restores exactly the original networking. The shell is in
files/bridge-*.sh. A hypervisor with an IPv6 address (address6, dual-stack labs) gets one more part
(files/bridge-<backend>-ipv6.sh), also its update script; one without renders exactly what it did. On an
IPv6-only lab the NIC has no IPv4 address: the create part is files/bridge-<backend>-create6.sh, which moves none.
"""

from __future__ import annotations

from core.labconfig import PREFIX6
from renderers.shell import script

STATE_DIR = "/etc/ocplab"
BACKENDS = ("nmcli", "iproute2")


def _bridge_script(backend: str, action: str, nic: str, bridge: str, address6: str | None = None,
                   ipv6_only: bool = False) -> str:
    if backend not in BACKENDS:
        raise ValueError(f"bridge backend {backend!r} is not one of {', '.join(BACKENDS)}")
    inputs = {"nic": nic, "br": bridge, "state_dir": STATE_DIR}
    # nmcli's creates note nic's profile first and enslave it last (files/bridge-nmcli-orig.sh, -enslave.sh).
    nmcli_create = (backend, action) == ("nmcli", "create")
    first, last = (["bridge-nmcli-orig"], ["bridge-nmcli-enslave"]) if nmcli_create else ([], [])
    # NetworkManager's removal gives nic its original profile back, IPv6 included: nothing to add there.
    if address6 is None or (backend, action) == ("nmcli", "delete"):
        return script("bridge-common", *first, f"bridge-{backend}-{action}", *last, **inputs)
    # IPv6-only: each create6 enslaves the NIC with no address moved, then the IPv6 part (the dual-stack one) puts
    # the NIC's IPv6 settings and address6 on the bridge.
    create = {"nmcli": ["bridge-nmcli-orig", "bridge-nmcli-create6", "bridge-nmcli-enslave", "bridge-nmcli-ipv6"],
              "iproute2": ["bridge-iproute2-create6", "bridge-iproute2-ipv6"]}[backend] if ipv6_only else \
        [*first, f"bridge-{backend}-create", *last, f"bridge-{backend}-ipv6"]
    parts = {"create": create, "update": [f"bridge-{backend}-ipv6"],
             "delete": ["bridge-iproute2-delete", "bridge-iproute2-ipv6-delete"]}[action]
    return script("bridge-common", *parts, **inputs, addr6=f"{address6}/{PREFIX6}")


def bridge_create_script(backend: str, nic: str, bridge: str, address6: str | None = None,
                         ipv6_only: bool = False) -> str:
    """Script that makes `bridge` enslave `nic` and carry its address (and address6; address6 alone on an
    IPv6-only lab, which needs it); safe to run twice."""
    if ipv6_only and address6 is None:
        raise ValueError("an IPv6-only lab's hypervisor is named by its address6")  # parse_lab_config refuses it
    return _bridge_script(backend, "create", nic, bridge, address6, ipv6_only)


def bridge_update_script(backend: str, nic: str, bridge: str, address6: str) -> str:
    """Script that makes a deployed `bridge` carry the hypervisor's address6 too (address6 added to a lab that
    was IPv4 on this hypervisor); safe to run twice."""
    return _bridge_script(backend, "update", nic, bridge, address6)


def bridge_delete_script(backend: str, nic: str, bridge: str, address6: str | None = None) -> str:
    """Script that gives `nic` its original address (and IPv6 addresses) back and removes `bridge`."""
    return _bridge_script(backend, "delete", nic, bridge, address6)


def plain_bridge_create_script(backend: str, nic: str, bridge: str) -> str:
    """Script that makes `bridge` enslave `nic` with no address on either (a bridged provisioning
    network: the host switches it, the clusters' provisionhosts serve it); safe to run twice."""
    return _bridge_script(backend, "plain-create", nic, bridge)


def plain_bridge_delete_script(backend: str, nic: str, bridge: str) -> str:
    """Script that removes a plain bridge and leaves `nic` unconfigured, as it found it."""
    return _bridge_script(backend, "plain-delete", nic, bridge)
