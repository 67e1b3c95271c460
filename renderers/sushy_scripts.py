"""Remote-command scripts for Redfish BMCs (sushy-tools) on a hypervisor.

The lab stack owns the shared part: sushy-tools in its own virtualenv (pinned, with the distribution's
libvirt binding), a TLS certificate for the hypervisor's address (and its IPv6 one) and the helper, refused unless the
installed sushy-tools passes its health check. Cluster stacks own one emulator each, on the first port
of their slice's bmc_ports: `sync` makes it serve exactly the cluster's domains and `remove` stops and
deletes it, both through renderers/files/ocplab_sushy.py. The password reaches the helper on stdin.
Each emulator runs as a user of its own cluster (the helper makes it), in the group GROUP made here.
"""

from __future__ import annotations

from importlib import resources

from core.bmc_plan import BMC_USER, BmcPlan
from core.port_range import PortRange
from renderers.shell import ShellValue, b64, script

VENV = "/opt/ocplab/sushy"
ROOT = "/etc/ocplab/sushy"
HELPER = f"{ROOT}/bin/ocplab_sushy.py"
VERSION = "2.2.0"  # scripts/install-deps.sh pins the same for the simulated lab
REQUIREMENT = f"sushy-tools=={VERSION}"
MEDIA_POOL = "ocplab-vmedia"  # files/ocplab_sushy.py names the same: where inserted virtual media land
MEDIA_DIR = "/var/lib/libvirt/ocplab-vmedia"
GROUP = "ocplab-bmc"  # files/ocplab_sushy.py names the same: every emulator's user is in it (the TLS key's group)


def _sushy_script(*parts: str, **values: ShellValue) -> str:
    return script("sushy-common", *parts, venv=VENV, root=ROOT, helper=HELPER, media_pool=MEDIA_POOL,
                  media_dir=MEDIA_DIR, group=GROUP, **values)


def helper_source() -> str:
    """The ocplab_sushy.py helper the lab script installs on each hypervisor with a Redfish slice."""
    return resources.files("renderers").joinpath("files/ocplab_sushy.py").read_text()


def sushy_install_script(address: str, ranges: list[PortRange], address6: str | None = None) -> str:
    """Install and health-check sushy-tools, make the hypervisor's certificate (for both its addresses where it has
    an IPv6 one; without, the script is what it was); safe to run again."""
    inputs: dict[str, ShellValue] = {"requirement": REQUIREMENT, "version": VERSION, "helper_b64": b64(helper_source()),
                                     "address": address, "port_ranges": [str(r) for r in ranges]}
    if address6 is None:
        return _sushy_script("libvirt-venv", "sushy-install", **inputs)
    return _sushy_script("libvirt-venv", "sushy-install", "sushy-cert6", **inputs, address6=address6)


def sushy_uninstall_script(ranges: list[PortRange]) -> str:
    """Remove the helper and certificate, refusing while any cluster still has an emulator here."""
    return _sushy_script("sushy-uninstall", port_ranges=[str(r) for r in ranges])


def sushy_sync_script(cluster: str, plan: BmcPlan, uuids: list[str]) -> str:
    """Make the cluster's emulator serve exactly `uuids` (its BMC nodes' domains); password on stdin."""
    assert plan.kind == "redfish" and plan.port is not None
    return _sushy_script("sushy-sync", cluster=cluster, address=plan.address, port=plan.port, bmc_user=BMC_USER,
                         uuids=uuids)


def sushy_remove_script(cluster: str) -> str:
    """Stop and delete the cluster's emulator; nothing to do where sushy-tools was never set up."""
    return _sushy_script("sushy-remove", cluster=cluster)
