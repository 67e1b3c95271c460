"""The lab program declares one bridge, network, pool and base image per hypervisor, and dnsmasq."""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

import pulumi
import pytest

from components.lab_stack import lab_program
from core.errors import ConfigError
from core.stack_files import read_stack_values, stack_path
from tests.unit.pulumi_mocks import recorded_waits, use_mocks

SECRET_SIG, SECRET_VALUE = "4dabf18193072939515e22adb298388d", "1b47061264138c4ac30d75fd1eb44270"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project dir holding the key and known_hosts the simlab stack names."""
    ssh = tmp_path / ".simlab" / "ssh"
    ssh.mkdir(parents=True)
    (ssh / "id_ed25519").write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-real-key\n")
    (ssh / "known_hosts").write_text("".join(
        f"192.168.16.{n} ssh-ed25519 AAAAhost{n}\n" for n in (1, 11, 12)))
    return tmp_path


def run_lab(values: dict[str, Any], base: Path) -> Any:
    mocks = use_mocks("simlab", values)

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def declared() -> pulumi.Output[Any]:
        lab_program(base)
        return pulumi.Output.from_input(None)

    declared()
    return mocks


def test_each_hypervisor_gets_bridge_network_pool_and_image(project: Path) -> None:
    mocks = run_lab(read_stack_values(stack_path("simlab")), project)
    providers = sorted(mocks.of_type("pulumi:providers:libvirt"), key=lambda p: p.name)
    assert sorted(p.name for p in providers) == ["hv1-libvirt", "hv2-libvirt"]
    uri = providers[0].inputs["uri"]
    assert uri.startswith("qemu+ssh://root@192.168.16.11/system?") and "knownhosts=" in uri and "no_verify" not in uri
    networks = mocks.of_type("libvirt:index/network:Network")
    assert {(n.inputs["name"], n.inputs["mode"], n.inputs["bridge"]) for n in networks} == {
        ("ocplab-br0", "bridge", "br0")}
    assert len(networks) == 2
    assert len(mocks.of_type("libvirt:index/pool:Pool")) == 2
    volumes = mocks.of_type("libvirt:index/volume:Volume")
    assert {v.inputs["name"] for v in volumes} == {"base-guest.qcow2"}
    assert all(v.inputs["source"] == str(project / ".simlab/cache/guest.qcow2") for v in volumes)
    commands = {c.name: c.inputs for c in mocks.of_type("command:remote:Command")}
    assert set(commands) == {"hv1-bridge", "hv2-bridge", "hv1-vbmcd", "hv2-vbmcd", "jumphost-dnsmasq", "jumphost-time",
                             "jumphost-route", "destroy-guard"}
    assert "destroy those cluster stacks first" in commands["destroy-guard"]["delete"]
    vbmcd = commands["hv1-vbmcd"]
    assert "vbmcd" in vbmcd["create"] and vbmcd["update"] == vbmcd["create"]
    assert "destroy those cluster stacks first" in vbmcd["delete"]
    assert "6230-6239" in vbmcd["create"] and "6240-6249" in commands["hv2-vbmcd"]["create"]
    assert "nmcli con add type bridge" in commands["hv1-bridge"]["create"]
    connection = commands["hv1-bridge"]["connection"]
    assert connection.get(SECRET_SIG) == SECRET_VALUE, "the connection holds the key: it must be a secret"
    assert connection["value"]["hostKey"] == "ssh-ed25519 AAAAhost11"
    assert "dnsmasq.conf" in commands["jumphost-dnsmasq"]["create"]


def test_no_bmc_ports_no_vbmcd(project: Path) -> None:
    values = read_stack_values(stack_path("simlab"))
    del values["slices"]["sno1"]["bmc_ports"]
    commands = {c.name for c in run_lab(values, project).of_type("command:remote:Command")}
    assert "hv1-vbmcd" in commands and "hv2-vbmcd" not in commands


def test_bad_config_declares_nothing(project: Path) -> None:
    values = read_stack_values(stack_path("simlab"))
    values["slices"]["sno1"]["hypervisor"] = "hv7"
    with pytest.raises(ConfigError, match=r"ocplab:slices\.sno1\.hypervisor"):
        run_lab(values, project)


def test_with_routing_nat_every_change_waits_for_the_uplink_check(project: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """route-apply.sh checks the uplink before it changes anything; the rest of the lab waits for it, so a
    jumphost without that interface stops `pulumi up` before any other resource is made."""
    waits = recorded_waits(monkeypatch)
    mocks = run_lab(read_stack_values(stack_path("simlab")), project)
    route = next(c.inputs for c in mocks.of_type("command:remote:Command") if c.name == "jumphost-route")
    assert "uplink='uplink0'" in route["create"] and "cidr='192.168.16.0/24'" in route["create"]
    assert "nft delete table ip ocplab" in route["delete"]
    first = {"hv1-libvirt", "hv2-libvirt", "hv1-bridge", "hv2-bridge", "jumphost-dnsmasq", "jumphost-time"}
    assert {name for name in first if "jumphost-route" in waits[name]} == first
    assert waits["jumphost-route"] == []


def test_a_lab_with_its_own_router_gets_no_route_of_ours_but_its_time_server(project: Path) -> None:
    values = read_stack_values(stack_path("simlab"))
    values["network"] = {**values["network"], "routing": "none", "gateway": "192.168.16.254",
                         "reserved": ["192.168.16.200-192.168.16.253"]}
    mocks = run_lab(values, project)
    commands = {c.name: c.inputs for c in mocks.of_type("command:remote:Command")}
    assert "jumphost-route" not in commands
    assert "server 198.51.100.2 iburst" in _decoded(commands["jumphost-time"]["create"])


def _decoded(script: str) -> str:
    """The files a remote script carries (base64 inputs), decoded, after the script itself."""
    return script + "".join(base64.b64decode(m).decode() for m in re.findall(r"_b64='([A-Za-z0-9+/=]+)'", script))
