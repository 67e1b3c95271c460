"""NoCloud seed documents for nodes that ask for users or run_commands (the seed's provisionhost)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import yaml

from core.clusterconfig import NodeSpec


def user_data(node: NodeSpec, zone: str, keys: Mapping[str, Sequence[str]] | None = None,
              trusted_cas: Sequence[str] = ()) -> str:
    """#cloud-config with hostname, users (seed's fields kept) and runcmd; `keys` adds authorized keys known only
    at deploy time (the DCI controller's, core.dci_user) to users of the node; `trusted_cas` (PEM: the lab
    CA, where the lab has a mirror) go to the node's trust store (cloud-init's ca_certs)."""
    document: dict[str, object] = {"hostname": node.name, "fqdn": f"{node.name}.{zone}"}
    if node.users:
        def authorized(user: str, own: Sequence[str]) -> list[str]:
            return list(dict.fromkeys([*own, *(keys or {}).get(user, ())]))

        document["users"] = [{"name": u.name, **dict(u.extra),
                              **({"ssh_authorized_keys": found} if (found := authorized(u.name, u.ssh_authorized_keys))
                                 else {})}
                             for u in node.users]
    if trusted_cas:
        document["ca_certs"] = {"trusted": list(trusted_cas)}
    if node.run_commands:
        document["runcmd"] = list(node.run_commands)
    return "#cloud-config\n" + yaml.safe_dump(document, default_flow_style=False, sort_keys=False, width=1000)


def meta_data(node: NodeSpec, cluster: str) -> str:
    return f"instance-id: {cluster}-{node.name}\nlocal-hostname: {node.name}\n"
