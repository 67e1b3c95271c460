"""Remote-command scripts that install, update and remove the lab's dnsmasq on the jumphost
(files/dnsmasq-*.sh)."""

from __future__ import annotations

from importlib import resources

from renderers import dnsmasq_layout as layout
from renderers import pxe_boot
from renderers.shell import ShellValue, b64, script


def control_script() -> str:
    """The ocplab-dnsmasq control script installed on the jumphost."""
    return resources.files("renderers").joinpath("files/ocplab-dnsmasq.sh").read_text()


def _layout(**extra: ShellValue) -> dict[str, ShellValue]:
    return {"root": layout.ROOT, "conf": layout.CONF, "conf_dir": layout.CONF_DIR,
            "dhcp_hosts_dir": layout.DHCP_HOSTS_DIR, "hosts_dir": layout.HOSTS_DIR, "control": layout.CONTROL, **extra}


def install_script(base_config: str) -> str:
    """Install or update the base config; `dnsmasq --test` must pass before it takes effect."""
    return script("dnsmasq-install", **_layout(control_b64=b64(control_script()), conf_b64=b64(base_config),
                                               tftp_root=pxe_boot.TFTP_ROOT))


def lab_in_place_script() -> str:
    """The destroy guard's create (components/lab_stack.py): it only says the lab is there."""
    return script("lab-in-place")


def refuse_while_clusters_remain() -> str:
    """Fails, naming the files, while any cluster stack still has entries on the jumphost."""
    return script("dnsmasq-refuse-while-clusters", **_layout())


def uninstall_script() -> str:
    """Remove the project's files, refusing while any cluster still has entries."""
    return script("dnsmasq-refuse-while-clusters", "dnsmasq-uninstall", **_layout(log_file=layout.LOG_FILE))
