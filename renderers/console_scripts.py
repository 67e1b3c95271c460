"""Remote-command scripts that gather a cluster's serial console logs on the jumphost.

Each node's console is logged on its hypervisor (renderers/domain_xslt.py); admins look on the
jumphost, one folder per cluster, as the seed's conserver gave them. The collector (files/
ocplab-consoles.sh) follows those logs over the lab's SSH access; its config lists the nodes.
"""

from __future__ import annotations

from core.cluster_design import ClusterDesign
from core.resource_facts import console_log_path, domain_name
from renderers.shell import b64, script, script_file

CONTROL = "/etc/ocplab/bin/ocplab-consoles"
CONF_DIR = "/etc/ocplab/consoles"
LOG_DIR = "/var/log/ocplab/consoles"


def collector_config(design: ClusterDesign) -> str:
    """`key`, `known_hosts` and one `node NODE USER@HOST PORT LOG` line per node: plain words the
    collector reads with `read` (ocplab names and addresses hold no blanks)."""
    jump, hv = design.jumphost, design.hypervisor
    lines = [f"key {jump.ssh_key_path or ''}", f"known_hosts {jump.known_hosts or ''}"]
    lines += [f"node {node.name} {hv.user}@{hv.ssh_address} {int(hv.port)} "  # JSON may give 22.0; IPv6 bare
              f"{console_log_path(domain_name(design.cluster.name, node.name))}" for node in design.cluster.nodes]
    return "\n".join(lines) + "\n"


def node_log(cluster: str, node: str) -> str:
    """Where a node's console log is gathered on the jumphost."""
    return f"{LOG_DIR}/{cluster}/{node}.log"


def consoles_apply_script(design: ClusterDesign) -> str:
    """Install the collector, write the cluster's config, (re)start it: rerun when the nodes change."""
    return script("consoles-apply", cluster=design.cluster.name, control=CONTROL,
                  control_b64=b64(script_file("ocplab-consoles")),
                  conf=f"{CONF_DIR}/{design.cluster.name}.conf", conf_b64=b64(collector_config(design)))


def consoles_remove_script(cluster: str) -> str:
    """Stop the collector and delete the cluster's gathered logs (destroy)."""
    return script("consoles-remove", cluster=cluster, control=CONTROL)
