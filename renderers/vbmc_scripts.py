"""Remote-command scripts for virtual BMCs (virtualbmc, IPMI) on a hypervisor.

The lab stack owns the shared part: virtualbmc installed in its own virtualenv, and one vbmcd
with a private config dir, run by systemd where there is one and by setsid otherwise (it must
outlive the SSH session). vbmcd answers IPMI on the lab network, so it runs as a user of its own
(USER, made here) in the libvirt group, sandboxed by systemd or started through setpriv without
new privileges or capabilities. Cluster stacks own their entries: `sync` makes them exactly the planned
ones and `remove` deletes them, both through renderers/files/ocplab_vbmc.py, which the lab
script installs (the shell is in files/vbmc-*.sh). The BMC password reaches that helper on stdin,
so no script or command line holds it. Every script is idempotent POSIX sh.
"""

from __future__ import annotations

from importlib import resources

from core.bmc_plan import BMC_USER, BmcPlan
from core.port_range import PortRange
from renderers.shell import ShellValue, b64, script

VENV = "/opt/ocplab/vbmc"
ROOT = "/etc/ocplab/vbmc"
CONF = f"{ROOT}/virtualbmc.conf"
HELPER = f"{ROOT}/bin/ocplab_vbmc.py"
PID_FILE = "/run/ocplab-vbmcd/vbmcd.pid"  # vbmcd writes it (through a temp file), so in a dir of its user's
USER = "ocplab-vbmc"
LOG_FILE = "/var/log/ocplab-vbmcd.log"
UNIT = "ocplab-vbmcd.service"
# Not vbmcd's default 50891, so a vbmcd the admin already runs keeps its control port.
SERVER_PORT = 50991
# A range, so pip picks the newest release the host's Python supports (docs/engine-findings.md, "virtualbmc
# releases and the host's Python").
REQUIREMENT = "virtualbmc>=3.0,<=3.3.0"

def _vbmc_script(*parts: str, **values: ShellValue) -> str:
    return script("vbmc-common", *parts, venv=VENV, root=ROOT, conf=CONF, helper=HELPER, pidfile=PID_FILE, log=LOG_FILE,
                  unit=UNIT, user=USER, **values)


def helper_source() -> str:
    """The ocplab_vbmc.py helper the lab script installs on each hypervisor."""
    return resources.files("renderers").joinpath("files/ocplab_vbmc.py").read_text()


def vbmcd_config() -> str:
    """vbmcd's own config: private dirs, its control port, passwords masked in its output."""
    return "\n".join([
        "[default]", f"config_dir = {ROOT}/domains", f"pid_file = {PID_FILE}", f"server_port = {SERVER_PORT}",
        "show_passwords = false", "", "[log]", f"logfile = {LOG_FILE}", "debug = false", "",
        "[ipmi]", "session_timeout = 1", "",
    ])


def _port_ranges(ranges: list[PortRange]) -> list[str]:
    return [f"{r.first}-{r.last}" for r in ranges]


def vbmcd_install_script(ranges: list[PortRange]) -> str:
    """Install virtualbmc if missing, then make vbmcd run with the lab's config; firewalld (if it
    runs) opens the slices' BMC ports. Safe to run again: a no-op when nothing changed."""
    return _vbmc_script("libvirt-venv", "vbmc-install", requirement=REQUIREMENT, helper_b64=b64(helper_source()),
                        conf_b64=b64(vbmcd_config()), port_ranges=_port_ranges(ranges), server_port=SERVER_PORT)


def vbmcd_uninstall_script(ranges: list[PortRange]) -> str:
    """Stop vbmcd and remove its files, refusing while any cluster still has BMCs here."""
    return _vbmc_script("vbmc-uninstall", port_ranges=_port_ranges(ranges))


def vbmc_sync_script(cluster: str, plan: BmcPlan | None) -> str:
    """Make the cluster's BMCs exactly the plan (the password is read from stdin); without an IPMI
    plan (no bmc_ports in the slice, or Redfish BMCs) remove any the cluster had."""
    if plan is None or plan.kind != "ipmi":
        return vbmc_remove_script(cluster)
    return _vbmc_script("vbmc-sync", cluster=cluster, address=plan.address, bmc_user=BMC_USER,
                        entries=[f"{domain}={port}" for domain, port in plan.entries(cluster)])


def vbmc_remove_script(cluster: str) -> str:
    """Delete the cluster's BMCs; nothing to do where vbmcd was never set up."""
    return _vbmc_script("vbmc-remove", cluster=cluster)
