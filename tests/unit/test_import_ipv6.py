"""`ocplab import --dnsmasq` of a dual-stack or IPv6 lab: a reservation's bracketed IPv6 address
(`<mac>,[<ipv6>],<name>`, `<mac>,<ipv4>,[<ipv6>],<name>`, or a line per family) is kept as the node's pin
(`ip: [<ipv4>, <ipv6>]`), AAAA records keep the VIPs, every kept IPv6 address must be in the cluster's own range6,
and odd or hostile values are refused naming the file and line (their cases: test_import_addresses.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from core.address_plan import plan_addresses
from core.addresses import AddressRange
from core.clusterconfig import parse_cluster_config
from core.stack_files import read_stack_values, stack_path
from tests.unit.test_import_addresses import ARGS, NODES, ROOT, SEED, SERVER_SLICE
from tools.dnsmasq_existing import ExistingDnsError, read_existing_dns

RANGES6 = {"server": "fd00:16::20-fd00:16::2f", "cluster02": "fd00:16::30-fd00:16::3f"}
SERVER6 = AddressRange.parse(RANGES6["server"], 6)
ZONE = "server.our.pretty.lab"


def dual_stack_lab(tmp_path: Path) -> Path:
    """A copy of the telco lab's stack files with an IPv6 prefix and a range6 for server and cluster02."""
    stacks = tmp_path / "stacks"
    stacks.mkdir(exist_ok=True)
    document = yaml.safe_load(stack_path("telco-lab").read_text())
    config = document["config"]
    config["ocplab:network"]["cidr6"] = "fd00:16::/64"
    for name, range6 in RANGES6.items():
        config["ocplab:slices"][name]["range6"] = range6
    (stacks / "Pulumi.telco-lab.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    return stacks


def dual_lines(skip: int = 99) -> str:
    """The seed's seven reservations, each in both families on one line."""
    return "".join(f"dhcp-host=52:54:00:00:02:0{i},192.168.16.{20 + i},[fd00:16::{20 + i}],{NODES[i]}.{ZONE}\n"
                   for i in range(7) if i != skip)


def ocplab_import(tmp_path: Path, *texts: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    out = tmp_path / "Pulumi.server.yaml"
    files = []
    for index, text in enumerate(texts):
        (path := tmp_path / f"dnsmasq-{index}.conf").write_text(text)
        files.append(str(path))
    argv = [sys.executable, "-m", "tools", "import", str(SEED), *ARGS, "--out", str(out), "--force",
            "--dnsmasq", *files]
    env = {**os.environ, "OCPLAB_STACKS_DIR": str(dual_stack_lab(tmp_path))}
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False, env=env), out


def planned(out: Path) -> dict[str, Any]:
    plan = plan_addresses(parse_cluster_config("server", read_stack_values(out)), SERVER_SLICE, None, SERVER6)
    return {"api": (plan.api_vip, plan.api_vip6), "ingress": (plan.ingress_vip, plan.ingress_vip6),
            **{name: (n.ip, n.ip6, n.macs["baremetal"]) for name, n in plan.nodes.items()}}


def test_dual_stack_reservations_keep_every_node_in_both_families(tmp_path: Path) -> None:
    result, out = ocplab_import(tmp_path, dual_lines())
    assert result.returncode == 0, result.stderr
    plan = planned(out)
    assert [plan[name] for name in NODES] == [(f"192.168.16.{20 + i}", f"fd00:16::{20 + i}",
                                               f"52:54:00:00:02:0{i}") for i in range(7)]
    nics = read_stack_values(out)["hosts"][0]["networks"]
    assert nics[-1] == {"name": "baremetal", "mac": "52:54:00:00:02:00", "ip": ["192.168.16.20", "fd00:16::20"]}


def test_a_reservation_per_family_and_ipv6_alone_are_kept_too(tmp_path: Path) -> None:
    conf = "".join(f"dhcp-host=52:54:00:00:02:0{i},192.168.16.{20 + i},{NODES[i]}\n" for i in range(7))
    conf += f"dhcp-host=52:54:00:00:02:01,[FD00:16:0::002B],{NODES[1]},infinite\n"  # any spelling dnsmasq takes
    conf += f"dhcp-host=[fd00:16::2a],{NODES[2]}.{ZONE}\n"  # by name alone
    result, out = ocplab_import(tmp_path, conf)
    assert result.returncode == 0, result.stderr
    plan = planned(out)
    assert plan[NODES[1]][:2] == ("192.168.16.21", "fd00:16::2b") and plan[NODES[2]][:2] == ("192.168.16.22",
                                                                                              "fd00:16::2a")
    assert plan[NODES[0]][1] == "fd00:16::22", "unreserved in IPv6: planned around the kept ones"


def test_aaaa_records_keep_the_vips_and_a_node_named_only(tmp_path: Path) -> None:
    records = (f"host-record=api.{ZONE},api-int.{ZONE},192.168.16.30,fd00:16::2e\n"
               f"address=/apps.{ZONE}/192.168.16.29\naddress=/apps.{ZONE}/fd00:16::2d\n")
    hosts = f"fd00:16::26 {NODES[6]}.{ZONE}\n"
    result, out = ocplab_import(tmp_path, dual_lines(skip=6), records, hosts)
    assert result.returncode == 0, result.stderr
    plan = planned(out)
    assert (plan["api"], plan["ingress"]) == (("192.168.16.30", "fd00:16::2e"), ("192.168.16.29", "fd00:16::2d"))
    assert plan[NODES[6]][1] == "fd00:16::26"
    assert read_stack_values(out)["vips"] == {"api": ["192.168.16.30", "fd00:16::2e"],
                                              "ingress": ["192.168.16.29", "fd00:16::2d"]}


def test_an_ipv6_address_in_a_neighbours_range6_is_refused_naming_both(tmp_path: Path) -> None:
    result, out = ocplab_import(tmp_path, dual_lines().replace("[fd00:16::24]", "[fd00:16::38]"))
    assert result.returncode == 2 and not out.exists()
    assert result.stderr.strip() == (
        f"ocplab: --dnsmasq: {NODES[4]} (IPv6) is at fd00:16::38, inside cluster cluster02's range6 "
        "(fd00:16::30-fd00:16::3f), not in cluster server's range6 (fd00:16::20-fd00:16::2f); widen or move "
        "ocplab:slices.server in the lab stack, or drop --dnsmasq to renumber the cluster")


def test_an_ipv6_reservation_for_a_slice_without_range6_is_refused_naming_the_field(tmp_path: Path) -> None:
    conf = dual_lines()
    result, _ = ocplab_import(tmp_path, conf)
    assert result.returncode == 0
    lab = tmp_path / "stacks" / "Pulumi.telco-lab.yaml"
    argv = [sys.executable, "-m", "tools", "import", str(SEED), *ARGS, "--out", "-", "--dnsmasq",
            str(tmp_path / "dnsmasq-0.conf")]
    env = {**os.environ, "OCPLAB_STACKS_DIR": str(tmp_path / "other")}
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "Pulumi.telco-lab.yaml").write_text(lab.read_text().replace(
        f"range6: {RANGES6['server']}", "bmc: ipmi"))
    result = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False, env=env)
    assert result.returncode == 2
    assert (f"{NODES[0]} (IPv6) is at fd00:16::20 and cluster server's slice has no range6; add "
            "ocplab:slices.server.range6 to the lab stack") in result.stderr


def test_a_long_hostile_value_is_cut_in_the_message(tmp_path: Path) -> None:
    conf = tmp_path / "bad.conf"
    conf.write_text("dhcp-host=52:54:00:00:00:01,[" + "f" * 100_000 + "]\n")
    with pytest.raises(ExistingDnsError) as raised:
        read_existing_dns([conf])
    assert len(str(raised.value)) < 400


def test_an_ipv4_import_writes_the_stack_file_it_wrote_before(tmp_path: Path) -> None:
    seed = (ROOT / "tests" / "data" / "seed-dnsmasq.conf").read_text()
    result, out = ocplab_import(tmp_path, seed)
    assert result.returncode == 0, result.stderr
    assert all(isinstance(nic.get("ip", ""), str) for host in read_stack_values(out)["hosts"]
               for nic in host["networks"]), "an IPv4 reservation stays `ip: <ipv4>`"
    assert "ip: 192.168.16.20\n" in out.read_text()
