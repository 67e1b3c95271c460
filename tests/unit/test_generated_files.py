"""What the lab stack writes on hosts is valid for the real tools (dnsmasq, POSIX sh)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from core.labconfig import parse_lab_config
from core.stack_files import read_stack_values, stack_path
from renderers.bridge_scripts import bridge_create_script, bridge_delete_script, bridge_update_script
from renderers.dnsmasq_base import render_base_config
from renderers.jumphost_scripts import control_script, install_script, uninstall_script
from tests.tools import require_tool


def lab_config() -> str:
    return render_base_config(parse_lab_config("simlab", read_stack_values(stack_path("simlab"))))


def test_base_config_is_static_only_and_authoritative() -> None:
    text = lab_config()
    assert "dhcp-range=192.168.16.0,static,255.255.255.0,2m" in text
    assert "dhcp-authoritative" in text and "interface=eth0" in text and "bind-interfaces" in text
    assert "domain=simlab.test" in text and "local=/simlab.test/" in text
    assert "host-record=hv2.simlab.test,192.168.16.12" in text


def rooted(tmp_path: Path, text: str) -> str:
    """The config with its /etc/ocplab directories moved under tmp_path, which must exist for --test."""
    for sub in ("dnsmasq.d", "dhcp-hosts", "hosts"):
        (tmp_path / sub).mkdir(exist_ok=True)
    return text.replace("/etc/ocplab/", f"{tmp_path}/")


def test_dnsmasq_accepts_base_config(tmp_path: Path) -> None:
    conf = tmp_path / "dnsmasq.conf"
    conf.write_text(rooted(tmp_path, lab_config()))
    result = subprocess.run([require_tool("dnsmasq", "dnsmasq-base"), "--test", f"--conf-file={conf}"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "syntax check OK" in result.stderr


def test_dnsmasq_rejects_broken_config(tmp_path: Path) -> None:
    conf = tmp_path / "dnsmasq.conf"
    conf.write_text(rooted(tmp_path, lab_config()) + "dhcp-range=not-an-address\n")
    result = subprocess.run([require_tool("dnsmasq", "dnsmasq-base"), "--test", f"--conf-file={conf}"],
                            capture_output=True, text=True, check=False)
    assert result.returncode != 0


SCRIPTS = {
    "bridge nmcli create": bridge_create_script("nmcli", "eth0", "br0"),
    "bridge nmcli delete": bridge_delete_script("nmcli", "eth0", "br0"),
    "bridge iproute2 create": bridge_create_script("iproute2", "eno1", "br0"),
    "bridge iproute2 delete": bridge_delete_script("iproute2", "eno1", "br0"),
    **{f"bridge {backend} {action} with address6": render(backend, "eno1", "br0", "fd00:16::b")
       for backend in ("nmcli", "iproute2")
       for action, render in (("create", bridge_create_script), ("update", bridge_update_script),
                              ("delete", bridge_delete_script))},
    "jumphost install": install_script("interface=eth0\n"),
    "jumphost uninstall": uninstall_script(),
    "dnsmasq control": control_script(),
}


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_scripts_parse_in_posix_sh(name: str) -> None:
    result = subprocess.run([require_tool("dash", "dash"), "-n"], input=SCRIPTS[name], capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stderr
