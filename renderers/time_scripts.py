"""The lab's NTP server on the jumphost (files/time-*.sh): chrony.conf from the lab config, and the scripts
that start it and take it away."""

from __future__ import annotations

from core.labconfig import LabConfig
from renderers.shell import b64, script

CONF = "/etc/ocplab/chrony.conf"
UNIT = "ocplab-chrony.service"
PIDFILE = "/run/ocplab-chrony/chronyd.pid"
# Served when no upstream answers: high enough that any real source wins, so a disconnected lab still
# agrees on one time.
LOCAL_STRATUM = 10


def chrony_config(lab: LabConfig) -> str:
    """chronyd's config: upstream servers, serving the lab network only, no control socket."""
    lines = [
        f"# Managed by ocplab (lab stack {lab.name}). Changes are overwritten by `pulumi up`.",
        *(f"server {server} iburst" for server in lab.network.ntp_upstream),
        # IPv4 unless the lab is IPv6-only; dual-stack: served on the jumphost's IPv6 address to the lab's IPv6
        # network too (one bindaddress a family)
        *([f"bindaddress {lab.jumphost.ssh.address}", f"allow {lab.network.cidr}"] if lab.network.cidr else []),
        *([f"bindaddress {lab.jumphost.address6}", f"allow {lab.network.cidr6}"] if lab.network.cidr6 else []),
        f"local stratum {LOCAL_STRATUM}",
        "cmdport 0",
        "bindcmdaddress /",
        f"pidfile {PIDFILE}",
    ]
    return "\n".join(lines) + "\n"


def time_apply_script(lab: LabConfig) -> str:
    return script("way-out-common", "time-apply", conf=CONF, conf_b64=b64(chrony_config(lab)), unit=UNIT,
                  pidfile=PIDFILE)


def time_remove_script() -> str:
    return script("way-out-common", "time-remove", conf=CONF, unit=UNIT, pidfile=PIDFILE)
