"""The jumphost's way out for the lab (files/route-*.sh): NAT out of its uplink, and back as it was."""

from __future__ import annotations

from core.labconfig import LabConfig
from renderers.shell import script

# Outside /etc/ocplab/dnsmasq* and /var/lib/ocplab, which the dnsmasq uninstall removes whole.
STATE_DIR = "/var/lib/ocplab-route"
NFT_FILE = "/etc/ocplab/route.nft"
UNIT = "ocplab-route.service"
SYSCTL_FILE = "/etc/sysctl.d/90-ocplab-route.conf"
FIREWALLD_POLICY = "ocplab-lab-out"
TABLE = "ip ocplab"  # the nftables table route-apply.sh owns whole


def _places() -> dict[str, str]:
    return {"state_dir": STATE_DIR, "nft_file": NFT_FILE, "unit": UNIT, "sysctl_file": SYSCTL_FILE,
            "policy": FIREWALLD_POLICY}


def route_apply_script(lab: LabConfig) -> str:
    """Masquerade the lab network out of the uplink; the uplink must exist (checked before any change)."""
    assert lab.jumphost.uplink is not None  # parse_lab_config refuses routing nat without one
    return script("way-out-common", "route-apply", lab_if=lab.jumphost.interface, uplink=lab.jumphost.uplink,
                  cidr=str(lab.network.cidr), **_places())


def route_remove_script() -> str:
    return script("way-out-common", "route-remove", **_places())
