"""Each boundary where a config value leaves Python keeps a hostile value inert: the libvirt URI
(URL-quoted, our security parameters last), cloud-init (a YAML dump), dnsmasq and shell (values
the schema refuses never get there; what passes is quoted, see test_shell_scripts)."""

from __future__ import annotations

from urllib.parse import parse_qs, unquote, urlsplit

import pytest
import yaml

from core.clusterconfig import NodeSpec, User
from core.config_schema import LabSchema, schema_problems
from core.labconfig import SshTarget
from core.ssh_access import libvirt_uri
from core.stack_files import read_stack_values, stack_path
from renderers.cloud_init import user_data


def test_a_crafted_user_cannot_move_the_host_or_switch_off_host_key_checks() -> None:
    user = "root@10.6.6.6/system?no_verify=1&knownhosts=/dev/null#"
    uri = libvirt_uri(SshTarget(address="192.168.16.11", user=user), "/k", "/known")
    parts = urlsplit(uri)
    assert parts.hostname == "192.168.16.11" and unquote(parts.username or "") == user
    assert parse_qs(parts.query) == {"keyfile": ["/k"], "sshauth": ["privkey"], "knownhosts": ["/known"]}


def test_cloud_init_carries_hostile_text_as_data() -> None:
    command = "echo ok\nbootcmd: [reboot]\n# ${x} $(id) 'q\""
    node = NodeSpec(name="provisionhost", role="provisionhost", memory_mib=1, vcpus=1, disk_bytes=1, disk2_bytes=None,
                    disk_cache="none", disk_bus="virtio", cpu_mode="maximum", image="guest", networks=("baremetal",),
                    pinned_macs={}, users=(User(name="dci", extra={"gecos": "x\nsudo: ALL"}),), run_commands=(command,))
    document = yaml.safe_load(user_data(node, "ipi1.simlab.test"))
    assert document["runcmd"] == [command] and "bootcmd" not in document
    assert document["users"][0]["gecos"] == "x\nsudo: ALL"


@pytest.mark.parametrize(("where", "value"), [
    (("jumphost", "interface"), "eth0\ndhcp-script=/tmp/x"), (("network", "lease_time"), "1h\ndhcp-script=/x"),
    (("domain",), "simlab.test\naddress=/#/1.2.3.4"),
])
def test_values_bound_for_dnsmasq_never_carry_a_directive(where: tuple[str, ...], value: str) -> None:
    values = read_stack_values(stack_path("simlab"))
    target = values
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = value
    assert any(p.startswith(f"ocplab:{'.'.join(where)}:") for p in schema_problems(LabSchema, values))
