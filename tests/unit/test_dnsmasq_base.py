"""The lab's base dnsmasq config forwards only what is not the lab's: the lab's zone and every reverse
zone of the lab network are answered locally (NXDOMAIN when unknown), and `dnsmasq --test` accepts it."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import netaddr
import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.labconfig import parse_lab_config
from core.stack_files import read_stack_values, stack_path
from renderers.dnsmasq_base import render_base_config, reverse_zones
from tests.tools import require_tool

SIMLAB = read_stack_values(stack_path("simlab"))


def rendered(**network: Any) -> str:
    """The simlab lab's base config with `network` fields replaced."""
    values = {**SIMLAB, "network": {**SIMLAB["network"], **network}}
    return render_base_config(parse_lab_config("simlab", values))


@pytest.mark.parametrize(("cidr", "zones"), [
    ("192.168.16.0/24", ["16.168.192.in-addr.arpa"]),
    ("10.1.0.0/16", ["1.10.in-addr.arpa"]),
    ("192.168.16.0/23", ["16.168.192.in-addr.arpa", "17.168.192.in-addr.arpa"]),
    ("192.168.16.64/30", [f"{d}.16.168.192.in-addr.arpa" for d in range(64, 68)]),
])
def test_reverse_zones_of_octet_and_other_prefixes(cidr: str, zones: list[str]) -> None:
    assert reverse_zones(netaddr.IPNetwork(cidr)) == zones


def test_a_slash_20_is_sixteen_slash_24_zones() -> None:
    zones = reverse_zones(netaddr.IPNetwork("172.20.16.0/20"))
    assert zones == [f"{c}.20.172.in-addr.arpa" for c in range(16, 32)]


@given(st.integers(min_value=0, max_value=2**32 - 1), st.integers(min_value=16, max_value=30))
def test_zones_cover_every_address_of_the_network_and_no_other(value: int, prefixlen: int) -> None:
    cidr = netaddr.IPNetwork(f"{netaddr.IPAddress(value)}/{prefixlen}").cidr
    zones = reverse_zones(cidr)

    def covered(ip: netaddr.IPAddress) -> bool:
        name = ip.reverse_dns.rstrip(".")
        return any(name == zone or name.endswith("." + zone) for zone in zones)

    assert all(covered(cidr[i]) for i in (0, 1, len(cidr) // 2, -2, -1))
    outside = [cidr.first - 1, cidr.last + 1]
    assert not any(covered(netaddr.IPAddress(v)) for v in outside if 0 <= v < 2**32)


def test_the_lab_zones_are_local_and_the_upstream_gets_the_rest() -> None:
    lines = rendered(dns_upstream=["198.51.100.2", "198.51.100.3"]).splitlines()
    assert "local=/simlab.test/" in lines and "local=/16.168.192.in-addr.arpa/" in lines
    assert [line for line in lines if line.startswith("server=")] == ["server=198.51.100.2", "server=198.51.100.3"]
    assert "no-resolv" in lines, "only the configured upstream servers, never the jumphost's resolv.conf"


def test_no_upstream_means_no_server_line_but_the_same_local_zones() -> None:
    lines = rendered(dns_upstream=[]).splitlines()
    assert not [line for line in lines if line.startswith("server=")]
    assert "local=/16.168.192.in-addr.arpa/" in lines


def test_every_node_is_told_the_jumphost_is_its_router_and_its_time_source() -> None:
    lines = rendered().splitlines()
    assert {"dhcp-option=option:router,192.168.16.1", "dhcp-option=option:ntp-server,192.168.16.1"} <= set(lines)


def dnsmasq_test(text: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    for sub in ("dnsmasq.d", "dhcp-hosts", "hosts"):
        (tmp_path / sub).mkdir(exist_ok=True)
    conf = tmp_path / "dnsmasq.conf"
    conf.write_text(text.replace("/etc/ocplab/", f"{tmp_path}/"))
    return subprocess.run([require_tool("dnsmasq", "dnsmasq-base"), "--test", f"--conf-file={conf}"],
                          capture_output=True, text=True, check=False)


@pytest.mark.parametrize("network", [
    {"dns_upstream": ["198.51.100.2"]},
    {"cidr": "192.168.16.0/20", "dns_upstream": ["198.51.100.2"]},
    {"cidr": "192.168.16.0/25", "reserved": [], "dns_upstream": ["198.51.100.2"]},
])
def test_dnsmasq_accepts_the_rendered_config(network: dict[str, Any], tmp_path: Path) -> None:
    text = rendered(**network)
    result = dnsmasq_test(text, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "syntax check OK" in result.stderr
    assert text.count("local=/") == 1 + len(reverse_zones(netaddr.IPNetwork(network.get("cidr", "192.168.16.0/24"))))
