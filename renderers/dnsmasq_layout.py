"""Where ocplab keeps dnsmasq's files on the jumphost, shared by the lab and cluster stacks.

One dnsmasq instance owned by the project (its own config file, unit and pid file), so it never
fights the distribution's dnsmasq.conf. Per-cluster files go in drop-in directories:
dhcp-hostsdir and hostsdir are re-read by inotify (no restart); conf-dir holds the `address=`
wildcards, which need a restart.
"""

from __future__ import annotations

ROOT = "/etc/ocplab"
CONF = f"{ROOT}/dnsmasq.conf"
CONF_DIR = f"{ROOT}/dnsmasq.d"
DHCP_HOSTS_DIR = f"{ROOT}/dhcp-hosts"
HOSTS_DIR = f"{ROOT}/hosts"
CONTROL = f"{ROOT}/bin/ocplab-dnsmasq"
LEASE_FILE = "/var/lib/ocplab/dnsmasq.leases"
PID_FILE = "/run/ocplab-dnsmasq.pid"
# In a directory only root can write (0700): /run/lock is 1777, where any local user could hold the lock.
LOCK_FILE = "/run/ocplab/lock/dnsmasq.lock"
LOG_FILE = "/var/log/ocplab-dnsmasq.log"
UNIT = "ocplab-dnsmasq.service"


def cluster_files(cluster: str) -> dict[str, str]:
    """The three files one cluster owns, keyed by what they hold."""
    return {
        "dhcp": f"{DHCP_HOSTS_DIR}/{cluster}",
        "hosts": f"{HOSTS_DIR}/{cluster}",
        "wildcards": f"{CONF_DIR}/{cluster}.conf",
    }
