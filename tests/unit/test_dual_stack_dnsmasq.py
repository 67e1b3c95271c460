"""The jumphost on a dual-stack lab: DHCPv6 reservations by MAC, router advertisements with the managed flag,
AAAA and IPv6 PTR for every node, api, api-int and *.apps, the IPv6 reverse zone ours, chrony serving IPv6 too;
each file accepted by the real dnsmasq and chronyd."""

from __future__ import annotations

import subprocess
from pathlib import Path

import netaddr
import pytest

from core.cluster_design import design_cluster
from core.clusterconfig import parse_cluster_config
from core.lab_contract import planned_lab_outputs
from core.labconfig import LabConfig, parse_lab_config
from core.stack_files import read_stack_values, stack_path
from renderers import time_scripts
from renderers.dnsmasq_base import render_base_config, reverse_zones6
from renderers.dnsmasq_cluster import ClusterDns, remove_script, render_cluster_dns
from tests.tools import require_tool
from tests.unit.test_dual_stack import dual_stack_values

ROOT = Path(__file__).parent.parent.parent
LAB = parse_lab_config("simlab", dual_stack_values())


def cluster_dns(stack: str) -> ClusterDns:
    cluster = parse_cluster_config(stack, read_stack_values(stack_path(stack)))
    return render_cluster_dns(design_cluster(cluster, planned_lab_outputs(LAB, ROOT).as_outputs(), None))


def test_the_base_config_serves_dhcpv6_to_reserved_macs_with_managed_router_advertisements() -> None:
    lines = render_base_config(LAB).splitlines()
    assert lines[-6:] == [
        "local=/0.0.0.0.0.0.0.0.6.1.0.0.0.0.d.f.ip6.arpa/",
        "dhcp-range=fd00:16::,static,64,2m",
        "enable-ra",
        "dhcp-option=option6:dns-server,[fd00:16::1]",
        "dhcp-option=option6:domain-search,simlab.test",
        "dhcp-option=option6:ntp-server,[fd00:16::1]",
    ]
    assert "host-record=jumphost.simlab.test,192.168.16.1,fd00:16::1" in lines
    assert not any(line.startswith("ra-param=") for line in lines), "routing nat: the jumphost is the default router"


def test_where_the_lab_has_a_router_our_advertisements_carry_no_route() -> None:
    assert "ra-param=eth0,0,0" in render_base_config(routed_by_the_labs_router()).splitlines()


@pytest.mark.parametrize(("cidr", "zones"), [
    ("fd00:16::/64", ["0.0.0.0.0.0.0.0.6.1.0.0.0.0.d.f.ip6.arpa"]),
    ("2001:db8:0:10::/62", [f"{n}.1.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa" for n in range(4)]),
])
def test_ipv6_reverse_zones_split_on_nibbles(cidr: str, zones: list[str]) -> None:
    assert reverse_zones6(netaddr.IPNetwork(cidr)) == zones


def test_each_node_has_one_reservation_for_both_families_and_a_name_in_each() -> None:
    dns = cluster_dns("ipi1")
    assert dns.dhcp_hosts.splitlines()[1:3] == [
        "52:54:00:a8:10:22,192.168.16.34,[fd00:16::22],provisionhost.ipi1.simlab.test",
        "52:54:00:a8:10:23,192.168.16.35,[fd00:16::23],master-0.ipi1.simlab.test"]
    assert dns.dhcp_hosts.splitlines()[-1] == "52:54:00:a8:10:2f,192.168.16.47,[fd00:16::2f],bootstrap.ipi1.simlab.test"
    hosts = dns.hosts.splitlines()
    assert hosts[1] == "192.168.16.34 provisionhost.ipi1.simlab.test", "IPv4 lines first, as before"
    assert "fd00:16::23 master-0.ipi1.simlab.test" in hosts and "fd00:16::2f bootstrap.ipi1.simlab.test" in hosts
    assert hosts[-1] == "fd00:16::20 api.ipi1.simlab.test api-int.ipi1.simlab.test"
    assert "192.168.16.32 api.ipi1.simlab.test api-int.ipi1.simlab.test" in hosts
    assert dns.wildcards.splitlines()[1:5] == ["address=/apps.ipi1.simlab.test/192.168.16.33",
                                               "address=/apps.ipi1.simlab.test/fd00:16::21",
                                               "domain=ipi1.simlab.test,192.168.16.32,192.168.16.47",
                                               "domain=ipi1.simlab.test,fd00:16::20,fd00:16::2f"]


def test_sno_names_share_its_node_line_in_both_families() -> None:
    hosts = cluster_dns("sno1").hosts.splitlines()
    assert hosts[1:] == ["192.168.16.48 sno.sno1.simlab.test api.sno1.simlab.test api-int.sno1.simlab.test",
                         "fd00:16::30 sno.sno1.simlab.test api.sno1.simlab.test api-int.sno1.simlab.test"]


def routed_by_the_labs_router() -> LabConfig:
    values = dual_stack_values()
    values["network"].update(routing="none", gateway="192.168.16.254")
    values["network"]["reserved"] = ["192.168.16.200-192.168.16.253"]
    values["jumphost"].pop("uplink")
    return parse_lab_config("simlab", values)


@pytest.mark.parametrize("routing", ["nat", "none"])
def test_dnsmasq_accepts_the_dual_stack_lab_and_cluster_files(routing: str, tmp_path: Path) -> None:
    for sub in ("dnsmasq.d", "dhcp-hosts", "hosts"):
        (tmp_path / sub).mkdir()
    dns = cluster_dns("ipi1")
    (tmp_path / "dnsmasq.d" / "ipi1.conf").write_text(dns.wildcards)
    conf = tmp_path / "dnsmasq.conf"
    lab = LAB if routing == "nat" else routed_by_the_labs_router()
    conf.write_text(render_base_config(lab).replace("/etc/ocplab/", f"{tmp_path}/"))
    done = subprocess.run([require_tool("dnsmasq", "dnsmasq-base"), "--test", f"--conf-file={conf}"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0 and "syntax check OK" in done.stderr, done.stderr


def test_the_lab_ntp_server_serves_the_ipv6_network_too_and_chronyd_reads_it(tmp_path: Path) -> None:
    text = time_scripts.chrony_config(LAB)
    assert text.splitlines()[2:6] == ["bindaddress 192.168.16.1", "allow 192.168.16.0/24", "bindaddress fd00:16::1",
                                      "allow fd00:16::/64"]
    conf = tmp_path / "chrony.conf"
    conf.write_text(text)
    done = subprocess.run([require_tool("chronyd", "chrony"), "-p", "-f", str(conf)], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0 and "allow fd00:16::/64" in done.stdout, done.stderr


def test_only_a_dual_stack_clusters_removal_drops_dhcpv6_leases_so_deployed_ipv4_clusters_keep_their_script() -> None:
    assert "ip6s" not in remove_script("ipi1"), "an IPv4 cluster's delete script is what deployed stacks hold"
    dual = remove_script("ipi1", dual_stack=True)
    assert dual.index("ip6s=") < dual.index('rm -f "$dhcp_file"'), "its reservations are read before they go"
