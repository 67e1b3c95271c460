"""The simulated lab's IPv6-only mode as plain data and files (no lab needed): hosts planned, addressed, pinned and
reached at their fd00:16::/64 addresses alone, while an IPv4 lab's files stay as they were."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from ipaddress import IPv4Address, IPv6Address
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from core.labconfig import SshTarget
from core.ssh_access import host_key
from simlab.boot import proc_net_address, socket_bound
from simlab.cli import _parser
from simlab.clients import libvirt_uri
from simlab.hostfs import eth0_profile
from simlab.paths import StatePaths
from simlab.sshkeys import client_config_text, known_hosts_text, netns_ssh_config_text, sshd_config_text
from simlab.state import HostState, LabState, SshState, SwitchState
from simlab.topology import plan

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOcd"


def hosts6() -> dict[str, str]:
    return {h.name: h.address for h in plan(2, ipv6_only=True)}


def test_an_ipv6_only_lab_addresses_each_host_by_its_64_address_with_the_same_macs_and_namespaces() -> None:
    assert hosts6() == {"jumphost": "fd00:16::1", "hv1": "fd00:16::b", "hv2": "fd00:16::c"}
    ipv4, ipv6 = plan(2), plan(2, ipv6_only=True)
    assert [(h.mac, h.netns, h.cidr6) for h in ipv6] == [(h.mac, h.netns, h.cidr6) for h in ipv4]
    assert [h.address for h in ipv4] == ["192.168.16.1", "192.168.16.11", "192.168.16.12"]
    assert {str(h.network) for h in ipv6} == {"fd00:16::/64"}


def test_an_ipv6_only_hypervisors_nic_profile_has_ipv4_disabled_the_labs_router_and_the_jumphost_as_dns() -> None:
    profile = eth0_profile(plan(1, ipv6_only=True)[1])
    ipv4 = profile.split("[ipv4]\n")[1].split("\n\n")[0]
    ipv6 = profile.split("[ipv6]\n")[1].split("\n\n")[0]
    assert ipv4 == "method=disabled"
    assert ipv6.splitlines() == ["method=manual", "address1=fd00:16::b/64,fd00:16::fe", "dns=fd00:16::1;",
                                 "may-fail=false"]
    assert "192.168.16" not in profile


def test_an_ipv4_labs_profile_still_holds_both_addresses_and_ipv4_gateway() -> None:
    profile = eth0_profile(plan(1)[1])
    assert "address1=192.168.16.11/24,192.168.16.1\ndns=192.168.16.1;\nmay-fail=false" in profile
    assert profile.endswith("[ipv6]\nmethod=manual\naddress1=fd00:16::b/64\n")


def test_known_hosts_pins_each_host_under_its_ipv6_address_where_the_lab_stack_looks_it_up(tmp_path: Path) -> None:
    hosts = plan(2, ipv6_only=True)
    text = known_hosts_text([(h, f"{KEY}{h.name}") for h in hosts])
    assert text.splitlines() == [f"jumphost,fd00:16::1 {KEY}jumphost", f"hv1,fd00:16::b {KEY}hv1",
                                 f"hv2,fd00:16::c {KEY}hv2"]
    known = tmp_path / "known_hosts"
    known.write_text(text)
    assert host_key(known, SshTarget(address="fd00:16::c", user="root")) == f"{KEY}hv2"
    ssh_keygen = shutil.which("ssh-keygen")
    assert ssh_keygen, "ssh-keygen (openssh-client) is needed"
    found = subprocess.run([ssh_keygen, "-F", "fd00:16::b", "-f", str(known)], capture_output=True, text=True,
                           check=False)
    assert found.returncode == 0 and f"{KEY}hv1" in found.stdout, "OpenSSH finds it by the bare address too"


def test_sshd_listens_on_the_ipv6_address_alone() -> None:
    config = sshd_config_text(plan(1, ipv6_only=True)[1])
    assert [line for line in config.splitlines() if line.startswith("ListenAddress")] == ["ListenAddress fd00:16::b"]
    assert "reached at [fd00:16::b]:22" in config and "192.168.16" not in config


def test_the_ssh_client_configs_options_apply_to_every_ipv6_address_of_the_lab(tmp_path: Path) -> None:
    """`ssh -G` resolves a destination's options without connecting: the lab's key and pinned known_hosts apply
    to a host by name, by its address, and to any address of the /64."""
    paths = StatePaths(repo=tmp_path)
    config = tmp_path / "config"
    config.write_text(client_config_text(paths, plan(2, ipv6_only=True)))
    ssh = shutil.which("ssh")
    assert ssh, "ssh (openssh-client) is needed"
    for destination, hostname in (("hv1", "fd00:16::b"), ("fd00:16::c", "fd00:16::c"), ("fd00:16::40", "fd00:16::40")):
        shown = subprocess.run([ssh, "-G", "-F", str(config), destination], capture_output=True, text=True,
                               check=True).stdout.splitlines()
        assert f"hostname {hostname}" in shown, destination
        assert f"userknownhostsfile {paths.known_hosts}" in shown and "stricthostkeychecking true" in shown
    assert "Host fd00:16::*\n" in netns_ssh_config_text(paths, ipv6_only=True)


def test_the_libvirt_uri_brackets_an_ipv6_address_and_leaves_ipv4_as_it_was() -> None:
    paths = StatePaths(repo=Path("/r"))
    uri = libvirt_uri("fd00:16::b", paths)
    assert uri.startswith("qemu+ssh://root@[fd00:16::b]/system?keyfile=")
    assert urlsplit(uri).hostname == "fd00:16::b"
    assert libvirt_uri("192.168.16.11", paths).startswith("qemu+ssh://root@192.168.16.11/system?keyfile=")


@pytest.mark.parametrize("family, address", [(socket.AF_INET6, "::1"), (socket.AF_INET, "127.0.0.1")])
def test_a_listening_socket_is_found_in_procs_table_of_its_family(family: socket.AddressFamily,
                                                                   address: str) -> None:
    with socket.socket(family, socket.SOCK_STREAM) as listener:
        listener.bind((address, 0))
        port = listener.getsockname()[1]
        ip = IPv6Address(address) if family == socket.AF_INET6 else IPv4Address(address)
        assert not socket_bound(os.getpid(), ip, port, "tcp"), "bound but not listening yet"
        listener.listen()
        assert socket_bound(os.getpid(), ip, port, "tcp")


def test_proc_net_writes_an_ipv6_address_word_by_word_in_host_order() -> None:
    assert proc_net_address(IPv6Address("fd00:16::b")) == "160000FD" "00000000" "00000000" "0B000000"
    assert proc_net_address(IPv4Address("192.168.16.1")) == "0110A8C0"


def test_lab_json_of_an_ipv6_only_lab_says_so_and_reads_back() -> None:
    host = plan(1, ipv6_only=True)[1]
    state = LabState(version=1, repo="/r", network=str(host.network), created="2026-12-06T17:00:00+00:00",
                     switch=SwitchState(netns="ocplab-sw", bridge="lab"), ssh=SshState("k", "k.pub", "kh", "c"),
                     hosts=[HostState(name=host.name, role=host.role, hostname=host.name, netns=host.netns,
                                      ip=host.address, prefixlen=host.network.prefixlen, nic=host.nic, mac=host.mac,
                                      switch_port=host.switch_port, ssh_user="root", mount_ns="m", uts_ns="u",
                                      root_dir="r", logs="l", pids={}, libvirt_uri=libvirt_uri(host.address))])
    assert LabState.from_json(state.to_json()) == state and state.ipv6_only
    assert (state.hosts[0].ip, state.hosts[0].prefixlen) == ("fd00:16::b", 64)


def test_simlab_up_takes_ipv6_only_and_defaults_to_the_ipv4_lab() -> None:
    assert _parser().parse_args(["up", "--ipv6-only", "-n", "1"]).ipv6_only
    assert not _parser().parse_args(["up"]).ipv6_only
