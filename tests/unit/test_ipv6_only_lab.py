"""IPv6-only lab networks (issue 27): `network.cidr6` without `network.cidr`, hosts named by address6 alone, the
lab's own addresses (router, upstreams, reserved ranges) in IPv6, slices with range6 only, no NAT; the contract's
version 3 without any IPv4 key, read by cluster stacks, and an IPv4 or dual-stack lab exporting exactly what it did.
Bad input is refused naming the field and the fix."""

from __future__ import annotations

import copy
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from rich.console import Console

from core.cluster_design import design_cluster
from core.cluster_outputs import OutputsError, cluster_outputs, read_cluster
from core.errors import ConfigError
from core.lab_audit import FoundHypervisor, FoundJumphost, FoundLab, Lease, audit, host_target
from core.lab_contract import IPV6_ONLY_VERSION, parse_lab_outputs, planned_lab_outputs
from core.lab_usage import lab_usage
from core.labconfig import LabConfig, SshTarget, parse_lab_config
from core.ssh_access import libvirt_uri, ssh_argv
from core.stack_files import read_stack_values, stack_path
from renderers.bridge_scripts import bridge_create_script, bridge_delete_script
from renderers.console_scripts import collector_config
from renderers.dnsmasq_base import render_base_config
from renderers.install_config import render_install_config
from renderers.lab_audit_scripts import PATHS
from renderers.shell import _body
from renderers.time_scripts import chrony_config
from renderers.urns import ClusterUrns
from tests.tools import require_tool
from tests.unit.test_cluster_stack_mocks import declare, lab_outputs, mock_cluster
from tests.unit.test_dual_stack import cluster, dual_stack_values, problems_of
from tests.unit.test_generated_files import rooted
from tests.unit.test_install_config import PULL_SECRET, SSH_KEY
from tests.unit.test_lab_stack_mocks import run_lab
from tools.dci_inventory import render_abi_yaml, render_ipi_hosts, render_sno_hosts
from tools.lab_map import lab_graph, lab_tree
from tools.lab_view import LabView

ROOT = Path(__file__).parent.parent.parent


def ipv6_only_lab_values() -> dict[str, Any]:
    """The simulated lab's stack made IPv6-only: the jumphost and hypervisors by their /64 addresses, the lab's
    router named (the jumphost: it answers router solicitations), an IPv6 upstream, each slice range6 alone."""
    values = copy.deepcopy(read_stack_values(stack_path("simlab")))
    values["network"] = {"cidr6": "fd00:16::/64", "gateway": "fd00:16::1", "dns_upstream": ["fd00:51::2"],
                         "ntp_upstream": ["fd00:51::2"], "reserved": ["fd00:16::c8-fd00:16::fe"], "lease_time": "2m"}
    values["jumphost"] = {**values["jumphost"], "address6": "fd00:16::1"}
    del values["jumphost"]["address"], values["jumphost"]["uplink"]
    for hv, address6 in zip(values["hypervisors"], ("fd00:16::b", "fd00:16::c"), strict=True):
        del hv["address"]
        hv["address6"] = address6
    values["slices"] = {"ipi1": {"hypervisor": "hv1", "range6": "fd00:16::20-fd00:16::2f", "bmc_ports": "6230-6239"},
                        "sno1": {"hypervisor": "hv2", "range6": "fd00:16::30-fd00:16::37"}}
    return values


def lab6(values: dict[str, Any] | None = None) -> LabConfig:
    return parse_lab_config("simlab", values or ipv6_only_lab_values())


def outputs6(config: LabConfig | None = None) -> dict[str, Any]:
    return planned_lab_outputs(config or lab6(), ROOT).as_outputs()


def test_an_ipv6_only_lab_names_its_hosts_by_address6_and_has_no_ipv4() -> None:
    config = lab6()
    assert config.network.ipv6_only and config.network.cidr is None and str(config.network.cidr6) == "fd00:16::/64"
    assert config.jumphost.ssh.address == "fd00:16::1" and config.jumphost.address6 == "fd00:16::1"
    assert [hv.ssh.address for hv in config.hypervisors] == ["fd00:16::b", "fd00:16::c"]
    assert str(config.network.gateway) == "fd00:16::1" and config.network.routing == "none"
    assert all(s.range is None and s.range6 is not None for s in config.slices)


def test_a_host_is_reached_over_ipv6_with_its_address_bracketed_in_the_libvirt_uri() -> None:
    hv1 = lab6().hypervisor("hv1")
    uri = libvirt_uri(hv1.ssh, "/k", "/kh")
    assert uri.startswith("qemu+ssh://root@[fd00:16::b]/system?"), uri
    assert libvirt_uri(SshTarget("fd00:16::b", "root", 2222), "/k", "/kh").startswith(
        "qemu+ssh://root@[fd00:16::b]:2222/system?")


def _drop(values: dict[str, Any], part: str, key: str) -> None:
    del values[part][key]


@pytest.mark.parametrize(("change", "field", "words"), [
    (lambda v: _drop(v, "network", "cidr6"), "ocplab:network.cidr", "give network.cidr (IPv4"),
    (lambda v: v["slices"]["sno1"].update(range="192.168.16.48-192.168.16.55"), "ocplab:slices.sno1.range",
     "give the slice range6 alone"),
    (lambda v: v["network"].update(gateway="192.168.16.254"), "ocplab:network.gateway", "is IPv4"),
    (lambda v: v["network"].update(dns_upstream=["198.51.100.2"]), "ocplab:network.dns_upstream[0]", "is IPv4"),
    (lambda v: v["network"].update(ntp_upstream=["198.51.100.2"]), "ocplab:network.ntp_upstream[0]", "is IPv4"),
    (lambda v: v["network"].update(reserved=["192.168.16.200-192.168.16.254"]), "ocplab:network.reserved[0]",
     "is IPv4"),
    (lambda v: v["network"].update(routing="nat"), "ocplab:network.routing", "no NAT66"),
    (lambda v: v["hypervisors"][0].update(address="192.168.16.11"), "ocplab:hypervisors[0].address",
     "name the host by address6"),
    (lambda v: v["jumphost"].update(address="192.168.16.1"), "ocplab:jumphost.address", "name the host by address6"),
    (lambda v: v["hypervisors"][1].pop("address6"), "ocplab:hypervisors[1].address6", "is required"),
    (lambda v: _drop(v, "jumphost", "address6"), "ocplab:jumphost.address6", "needs the jumphost's IPv6"),
    (lambda v: _drop(v, "network", "gateway"), "ocplab:network.gateway", "IPv6-only lab network's router"),
    (lambda v: v["network"].update(gateway="fd00:17::1"), "ocplab:network.gateway", "not a host address"),
    (lambda v: v["network"].update(reserved=["fd00:16::30-fd00:16::31"]), "ocplab:slices.sno1.range6",
     "overlaps reserved range 0"),
])
def test_bad_input_on_an_ipv6_only_lab_is_refused_naming_the_field_and_the_fix(change: Any, field: str,
                                                                              words: str) -> None:
    values = ipv6_only_lab_values()
    change(values)
    found = [p for p in problems_of(values) if p.startswith(field + ":")]
    assert found and words in found[0], problems_of(values)


@pytest.mark.parametrize(("change", "field", "words"), [
    (lambda v: v["jumphost"].pop("address"), "ocplab:jumphost.address", "is required"),
    (lambda v: v["hypervisors"][0].pop("address"), "ocplab:hypervisors[0].address", "is required"),
    (lambda v: v["network"].update(gateway="fd00:16::fe", routing="none"), "ocplab:network.gateway", "is IPv6"),
    (lambda v: v["network"].update(dns_upstream=["fd00:51::2"]), "ocplab:network.dns_upstream[0]", "is IPv6"),
    (lambda v: v["network"].update(reserved=["fd00:16::c8-fd00:16::fe"]), "ocplab:network.reserved[0]", "is IPv6"),
])
def test_a_lab_with_ipv4_keeps_its_own_addresses_ipv4(change: Any, field: str, words: str) -> None:
    values = dual_stack_values()
    change(values)
    found = [p for p in problems_of(values) if p.startswith(field + ":")]
    assert found and words in found[0], problems_of(values)


def test_an_ipv6_only_lab_exports_contract_version_3_without_any_ipv4_key() -> None:
    out = outputs6()
    assert out["version"] == IPV6_ONLY_VERSION == 3
    assert out["network"] == {"routing": "none", "ntp_upstream": ["fd00:51::2"], "cidr6": "fd00:16::/64",
                              "dns6": "fd00:16::1", "gateway6": "fd00:16::1"}
    assert "address" not in out["jumphost"] and out["jumphost"]["address6"] == "fd00:16::1"
    assert {name: ("address" in hv, hv["address6"]) for name, hv in out["hypervisors"].items()} == \
        {"hv1": (False, "fd00:16::b"), "hv2": (False, "fd00:16::c")}
    assert out["hypervisors"]["hv1"]["libvirt_uri"].startswith("qemu+ssh://root@[fd00:16::b]/system?")
    assert {name: set(s) for name, s in out["slices"].items()} == \
        {"ipi1": {"hypervisor", "range6", "bmc_ports", "bmc", "vrrp"}, "sno1": {"hypervisor", "range6", "vrrp"}}
    read = parse_lab_outputs("simlab", out)
    assert read.network.ipv6_only and read.jumphost.ssh_address == "fd00:16::1"
    assert read.hypervisors["hv2"].ssh_address == "fd00:16::c"
    assert read.hypervisors["hv2"].libvirt_uri == out["hypervisors"]["hv2"]["libvirt_uri"]


def test_ipv4_and_dual_stack_labs_still_export_version_2_as_they_did() -> None:
    for values in (read_stack_values(stack_path("simlab")), dual_stack_values()):
        out = planned_lab_outputs(parse_lab_config("simlab", values), ROOT).as_outputs()
        assert out["version"] == 2
        assert {"cidr", "gateway", "prefix", "dns", "ntp"} <= set(out["network"]) and "gateway6" not in out["network"]
        assert "address6" not in out["jumphost"] and all("address" in hv for hv in out["hypervisors"].values())


@pytest.mark.parametrize(("change", "words"), [
    (lambda o: o["network"].update(cidr="192.168.16.0/24"), "network.cidr: version 3 (an IPv6-only lab) has no cidr"),
    (lambda o: o["hypervisors"]["hv1"].update(address="192.168.16.11"),
     "hypervisors.hv1.address: version 3 (an IPv6-only lab) has no address"),
    (lambda o: o["hypervisors"]["hv1"].pop("address6"), "hypervisors.hv1.address6: missing (contract version 3"),
    (lambda o: o["jumphost"].pop("address6"), "jumphost.address6: missing (contract version 3"),
    (lambda o: o["network"].pop("dns6"), "network.dns6: missing (contract version 3"),
    (lambda o: o.update(version=2), "network.cidr: missing (contract version 2 has it)"),
    (lambda o: o["network"].update(routing="nat"), "network.routing: nat on an IPv6-only lab"),
])
def test_a_version_3_lab_whose_outputs_are_off_is_refused_naming_the_output(change: Any, words: str) -> None:
    out = outputs6()
    change(out)
    with pytest.raises(ConfigError) as raised:
        parse_lab_outputs("simlab", out)
    assert any(words in p for p in raised.value.problems), raised.value.problems


def test_an_sno_cluster_on_an_ipv6_only_lab_is_planned_in_ipv6_alone() -> None:
    design = design_cluster(cluster("sno1", hypervisor="hv2"), outputs6(), None)
    node = design.plan.nodes["sno"]
    assert (node.ip, node.ip6, design.slice_range) == (None, "fd00:16::30", None)
    assert design.plan.api_vip is None and design.plan.api_vip6 is not None


def test_an_ipi_cluster_on_an_ipv6_only_lab_has_its_bmcs_on_the_hypervisors_address6() -> None:
    design = design_cluster(cluster("ipi1"), outputs6(), None)
    assert design.bmc is not None and design.bmc.address == "fd00:16::b"
    assert design.plan.api_vip is None and design.plan.api_vip6 is not None


def test_the_jumphosts_dnsmasq_on_an_ipv6_only_lab_serves_dhcpv6_alone_and_names_hosts_in_ipv6() -> None:
    conf = render_base_config(lab6()).splitlines()
    assert not [line for line in conf if line.startswith("dhcp-option=option:") or "in-addr.arpa" in line]
    assert [line for line in conf if line.startswith("dhcp-range=")] == ["dhcp-range=fd00:16::,static,64,2m"]
    assert {"enable-ra", "ra-param=eth0,0,0", "dhcp-option=option6:dns-server,[fd00:16::1]",
            "dhcp-option=option6:ntp-server,[fd00:16::1]", "server=fd00:51::2",
            "local=/0.0.0.0.0.0.0.0.6.1.0.0.0.0.d.f.ip6.arpa/"} <= set(conf)
    assert [line for line in conf if line.startswith("host-record=")] == [
        "host-record=jumphost.simlab.test,fd00:16::1", "host-record=hv1.simlab.test,fd00:16::b",
        "host-record=hv2.simlab.test,fd00:16::c"]


def test_the_labs_chrony_on_an_ipv6_only_lab_binds_and_serves_ipv6_alone_and_chronyd_reads_it(
        tmp_path: Path) -> None:
    text = chrony_config(lab6())
    assert [line for line in text.splitlines() if line.startswith(("bindaddress", "allow", "server"))] == \
        ["server fd00:51::2 iburst", "bindaddress fd00:16::1", "allow fd00:16::/64"]
    conf = tmp_path / "chrony.conf"
    conf.write_text(text)
    done = subprocess.run([require_tool("chronyd", "chrony"), "-p", "-f", str(conf)], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0 and "bindaddress fd00:16::1" in done.stdout, done.stderr


def test_a_dual_stack_labs_jumphost_files_keep_both_families_as_before() -> None:
    conf = render_base_config(parse_lab_config("simlab", dual_stack_values()))
    assert "host-record=jumphost.simlab.test,192.168.16.1,fd00:16::1\n" in conf
    assert "dhcp-range=192.168.16.0,static,255.255.255.0,2m\n" in conf and "dhcp-option=option:router," in conf


@pytest.mark.parametrize("backend", ["nmcli", "iproute2"])
def test_an_ipv6_only_hypervisors_bridge_moves_no_ipv4_and_carries_its_ipv6_address(backend: str) -> None:
    create = bridge_create_script(backend, "eth0", "br0", "fd00:16::b", ipv6_only=True)
    assert "addr6='fd00:16::b/64'" in create and "has no IPv4 address to move" not in create
    assert create.endswith(_body(f"bridge-{backend}-ipv6")), "the IPv6 part carries the host, as on dual-stack"
    if backend == "nmcli":  # a bridge with no address (up at once), the NIC enslaved, then the IPv6 part
        assert create.index("ipv4.method disabled ipv6.method disabled") < create.index('con up "ocplab-$br-port"') \
            < create.index("ipv6.method manual ipv6.addresses")
    else:  # the NIC is enslaved, then its IPv6 addresses and default route move to the bridge
        assert create.index('ip link set "$nic" master "$br"') < create.index('ip -6 addr replace "$a" dev "$br"')
        assert "has an IPv4 address and the lab is IPv6-only" in create
    delete = bridge_delete_script(backend, "eth0", "br0", "fd00:16::b")  # the NIC gets its IPv6 addresses back
    assert ('ip -6 addr replace "$a" dev "$nic" nodad' if backend == "iproute2" else 'nmcli con up "$orig"') in delete
    assert bridge_create_script(backend, "eth0", "br0", "fd00:16::b") != create, "a dual-stack bridge is unchanged"


@pytest.fixture
def project6(tmp_path: Path) -> Path:
    """A project dir holding the key and a known_hosts with the IPv6-only lab's hosts, as ssh-keyscan writes them."""
    ssh = tmp_path / ".simlab" / "ssh"
    ssh.mkdir(parents=True)
    (ssh / "id_ed25519").write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-real-key\n")
    (ssh / "known_hosts").write_text("".join(f"fd00:16::{n} ssh-ed25519 AAAAhost{n}\n" for n in ("1", "b", "c")))
    return tmp_path


def test_the_lab_program_reaches_an_ipv6_only_labs_hosts_over_ipv6_and_routes_nothing(project6: Path) -> None:
    mocks = run_lab(ipv6_only_lab_values(), project6)
    commands = {c.name: c.inputs for c in mocks.of_type("command:remote:Command")}
    assert "jumphost-route" not in commands, "no NAT on an IPv6-only lab"
    # the connection is a secret (it holds the key): its value
    hosts = {name: (inputs["connection"]["value"]["host"], inputs["connection"]["value"]["hostKey"])
             for name, inputs in commands.items()}
    assert hosts["jumphost-dnsmasq"] == ("fd00:16::1", "ssh-ed25519 AAAAhost1")
    assert hosts["hv2-bridge"] == ("fd00:16::c", "ssh-ed25519 AAAAhostc")
    assert commands["hv1-bridge"]["create"] == bridge_create_script("nmcli", "eth0", "br0", "fd00:16::b", True)
    uris = {p.name: p.inputs["uri"] for p in mocks.of_type("pulumi:providers:libvirt")}
    assert uris["hv1-libvirt"].startswith("qemu+ssh://root@[fd00:16::b]/system?"), uris


def cluster6_outputs(stack: str, hypervisor: str) -> dict[str, Any]:
    """A cluster stack's outputs on the IPv6-only lab, its BMC password joined as `pulumi stack output
    --show-secrets` gives it."""
    design = design_cluster(cluster(stack, hypervisor=hypervisor), outputs6(), None)
    uuids = {n.name: f"6f1c1f4e-8a43-4a77-9a43-d7c2f1c0a{index:03d}" for index, n in enumerate(design.cluster.nodes)}
    data = cluster_outputs(design, uuids, {"dhcp": "", "hosts": "", "wildcards": ""})
    if data["bmc"]:
        data["bmc"]["password"] = "pw"
    return data


def test_a_cluster_on_an_ipv6_only_lab_exports_no_ipv4_key_and_reads_back() -> None:
    data = cluster6_outputs("sno1", "hv2")
    assert data["network"] == {"routing": "none", "ntp": [], "ntp_upstream": ["fd00:51::2"], "cidr6": "fd00:16::/64",
                               "dns6": "fd00:16::1", "gateway6": "fd00:16::1"}
    assert "address" not in data["jumphost"] and data["jumphost"]["address6"] == "fd00:16::1"
    assert data["hypervisor"] == {"name": "hv2", "address": "fd00:16::c"}
    read = read_cluster(data, "sno1")
    assert (read.cidr, read.gateway, read.dns, read.cidr6) == (None, None, None, "fd00:16::/64")
    assert (read.jumphost_address, read.hypervisors, read.nodes[0].address) == \
        ("fd00:16::1", {"hv2": "fd00:16::c"}, "fd00:16::30")
    with pytest.raises(OutputsError, match="IPv6-only SNO cluster"):
        render_sno_hosts(data)
    with pytest.raises(OutputsError, match="cluster of an IPv6-only lab: the ABI inventory is IPv4"):
        render_abi_yaml(data)
    data["jumphost"]["address"] = "192.168.16.1"
    with pytest.raises(OutputsError, match=r"output network\.cidr is missing \(a lab with IPv4 gives"):
        read_cluster(data, "sno1")


def test_an_ipi_cluster_on_an_ipv6_only_lab_gets_an_ipv6_only_install_config_and_inventory() -> None:
    data = cluster6_outputs("ipi1", "hv1")
    doc = yaml.safe_load(render_install_config(data, PULL_SECRET, SSH_KEY))
    assert doc["networking"]["machineNetwork"] == [{"cidr": "fd00:16::/64"}]
    assert doc["networking"]["serviceNetwork"] == ["fd03::/112"]
    platform = doc["platform"]["baremetal"]
    assert platform["apiVIPs"] == [data["api_vip6"]] and platform["hosts"][0]["bmc"]["address"].startswith(
        "ipmi://[fd00:16::b]:623")
    hosts = render_ipi_hosts(data)
    assert "extcidrnet=fd00:16::/64" in hosts and "ansible_host=fd00:16::1" in hosts and "None" not in hosts


def test_ocplab_plan_map_and_doctor_take_an_ipv6_only_lab() -> None:
    config = lab6()
    outputs = parse_lab_outputs("simlab", outputs6(config))
    deployed = {"sno1": {**cluster6_outputs("sno1", "hv2"), "kind": "cluster"}}
    usage = lab_usage(config, outputs, deployed)
    sno1 = next(s for s in usage.slices if s.cluster == "sno1")
    assert (sno1.range, sno1.used, usage.unallocated) == ("fd00:16::30-fd00:16::37", 1, ())
    view = LabView(config=config, outputs=outputs, clusters=deployed)
    console = Console(width=200, record=True)
    console.print(lab_tree(view, usage))
    text = console.export_text() + lab_graph(view, usage).source
    assert "network fd00:16::/64, jumphost fd00:16::1" in text and "hv2 fd00:16::c" in text and "None" not in text
    target = host_target(outputs, "hv1")
    assert ssh_argv(target, "/k", "/kh")[-1] == "root@fd00:16::b"


def test_dnsmasq_accepts_an_ipv6_only_labs_base_config(tmp_path: Path) -> None:
    conf = tmp_path / "dnsmasq.conf"
    conf.write_text(rooted(tmp_path, render_base_config(lab6())))
    result = subprocess.run([require_tool("dnsmasq", "dnsmasq-base"), "--test", f"--conf-file={conf}"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0 and "syntax check OK" in result.stderr, result.stderr


def test_the_console_collector_reaches_an_ipv6_only_labs_hypervisor_by_its_ipv6_address() -> None:
    design = design_cluster(cluster("sno1", hypervisor="hv2"), outputs6(), None)
    nodes = [line for line in collector_config(design).splitlines() if line.startswith("node ")]
    assert nodes and all(line.split()[2] == "root@fd00:16::c" for line in nodes), nodes


def test_ocplab_doctor_audits_an_ipv6_only_lab_and_names_its_hosts_by_their_ipv6_addresses() -> None:
    outputs = parse_lab_outputs("simlab", outputs6())
    sno1 = cluster6_outputs("sno1", "hv2")
    volumes = ["base-guest.qcow2", "sno1-sno-root.qcow2"]
    found = FoundLab(hypervisors={"hv2": FoundHypervisor(
        domains=["sno1-sno"], running=["sno1-sno"], pools=["ocplab"], volumes=volumes, networks=["ocplab-br0"],
        active_networks=["ocplab-br0"], bmcs=[], bmc_records=[], redfish=[])},
        jumphost=FoundJumphost(files={}, leases=[Lease(0, "52:56:00:00:00:99", "192.0.2.9", "x")], consoles=[]),
        unreachable={"hv1": "ssh: connect to host fd00:16::b port 22: No route to host"})
    findings = audit("simlab", outputs, {"sno1": sno1}, found, PATHS, ClusterUrns("ocplab"))
    unreachable = [f for f in findings if f.kind == "unreachable"]
    assert [f.host for f in unreachable] == ["hv1"] and "root@fd00:16::b" in unreachable[0].what, findings


def _domains_of_sno1(lab: dict[str, Any], tmp_path: Path) -> list[dict[str, Any]]:
    key, known = tmp_path / "key", tmp_path / "known"
    key.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-real-key\n")
    known.write_text("".join(f"{host} ssh-ed25519 AAAA{n}\n" for n, host in
                             enumerate(("fd00:16::1", "fd00:16::b", "fd00:16::c", "192.168.16.1", "192.168.16.11",
                                        "192.168.16.12"))))
    lab["jumphost"] = {**lab["jumphost"], "ssh_key_path": str(key), "known_hosts": str(known)}
    mocks = mock_cluster("sno1", lab)
    declare()
    return [d.inputs for d in mocks.of_type("libvirt:index/domain:Domain")]


def test_an_ipv6_only_labs_domains_open_their_display_on_ipv6_loopback(tmp_path: Path) -> None:
    # QEMU finds no 127.0.0.1 on a host whose only IPv4 is loopback (AI_ADDRCONFIG) and would not start the domain.
    [domain] = _domains_of_sno1(outputs6(), tmp_path)
    assert domain["graphics"] == {"type": "spice", "autoport": True, "listenType": "address", "listenAddress": "::1"}


def test_an_ipv4_labs_domains_keep_the_providers_default_display(tmp_path: Path) -> None:
    [domain] = _domains_of_sno1(lab_outputs(tmp_path), tmp_path)
    assert "graphics" not in domain, "a deployed domain would be replaced (graphics is ForceNew)"
