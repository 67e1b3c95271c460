"""The read-only scripts `ocplab doctor` runs, one per host and SSH session (files/lab-audit-*.sh), and
where ocplab keeps its things on the hosts, for core.lab_audit."""

from __future__ import annotations

from core.lab_audit import LabPaths
from renderers import console_scripts as consoles
from renderers import dnsmasq_layout as layout
from renderers import sushy_scripts as sushy
from renderers import vbmc_scripts as vbmc
from renderers.shell import script

PATHS = LabPaths(
    cluster_files=layout.cluster_files,
    dnsmasq_dirs={"dhcp": layout.DHCP_HOSTS_DIR, "hosts": layout.HOSTS_DIR, "wildcards": layout.CONF_DIR},
    lease_file=layout.LEASE_FILE, dnsmasq_control=layout.CONTROL,
    vbmc=f"{vbmc.VENV}/bin/vbmc", vbmc_conf=vbmc.CONF, vbmc_python=f"{vbmc.VENV}/bin/python",
    vbmc_helper=vbmc.HELPER, vbmc_records=f"{vbmc.ROOT}/clusters", consoles_control=consoles.CONTROL,
    sushy_remove=f"OCPLAB_SUSHY_ROOT={sushy.ROOT} {sushy.VENV}/bin/python {sushy.HELPER} remove",
    sushy_records=f"{sushy.ROOT}/clusters",
)


def hypervisor_audit_script(pool: str) -> str:
    """virsh's domains, pools, volumes of `pool` and networks; vbmcd's entries and the cluster records."""
    return script("lab-audit-common", "lab-audit-hypervisor", pool=pool, vbmc=PATHS.vbmc, vbmc_conf=PATHS.vbmc_conf,
                  vbmc_records=PATHS.vbmc_records, sushy_records=PATHS.sushy_records)


def jumphost_audit_script() -> str:
    """The clock, every dnsmasq drop-in file (base64), the lease file and the gathered console logs."""
    return script("lab-audit-common", "lab-audit-jumphost", dirs=list(PATHS.dnsmasq_dirs.values()),
                  lease_file=PATHS.lease_file, consoles_conf=consoles.CONF_DIR, consoles_logs=consoles.LOG_DIR)
