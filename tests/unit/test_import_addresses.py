"""`ocplab import --dnsmasq`: a lab taken over keeps the addresses its dnsmasq gives out now.

The seed's inventory alone would be renumbered (provisionhost at .22, VIPs first); with the seed's
own dhcp-host lines, every node stays where it is and the plan `pulumi up` makes agrees."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from core.address_plan import plan_addresses
from core.addresses import AddressRange
from core.clusterconfig import parse_cluster_config
from core.stack_files import read_stack_values, stack_path
from tools.dnsmasq_existing import ExistingDnsError, read_existing_dns

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "tests" / "data" / "seed-ipi-inventory.yml"
SEED_DNSMASQ = ROOT / "tests" / "data" / "seed-dnsmasq.conf"
CENTOS = "https://cloud.centos.org/centos/8-stream/x86_64/images/CentOS-Stream-GenericCloud-8-20210603.0.x86_64.qcow2"
ARGS = ("--lab", "telco-lab", "--hypervisor", "hv01", "--images-map", f"{CENTOS}=centos8", "--image", "rhcos")
SERVER_SLICE = AddressRange.parse(str(read_stack_values(stack_path("telco-lab"))["slices"]["server"]["range"]))
NODES = ["provisionhost"] + [f"dciokd-master-{i}" for i in range(3)] + [f"dciokd-worker-{i}" for i in range(3)]


def ocplab_import(tmp_path: Path, *files: Path) -> tuple[subprocess.CompletedProcess[str], Path]:
    out = tmp_path / "Pulumi.server.yaml"
    argv = [sys.executable, "-m", "tools", "import", str(SEED), *ARGS, "--out", str(out), "--force"]
    if files:
        argv += ["--dnsmasq", *map(str, files)]
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False), out


def planned(out: Path) -> dict[str, Any]:
    plan = plan_addresses(parse_cluster_config("server", read_stack_values(out)), SERVER_SLICE)
    return {"api": plan.api_vip, "ingress": plan.ingress_vip,
            **{name: (n.ip, n.macs["baremetal"]) for name, n in plan.nodes.items()}}


def test_without_the_dnsmasq_files_the_seed_would_be_renumbered(tmp_path: Path) -> None:
    result, out = ocplab_import(tmp_path)
    assert result.returncode == 0, result.stderr
    assert planned(out)["provisionhost"][0] == "192.168.16.22", "what issue 13 found: VIPs take .20 and .21"


def test_the_seeds_dhcp_host_lines_keep_every_node_where_it_is(tmp_path: Path) -> None:
    result, out = ocplab_import(tmp_path, SEED_DNSMASQ)
    assert result.returncode == 0, result.stderr
    plan = planned(out)
    assert [plan[name] for name in NODES] == [(f"192.168.16.{20 + i}", f"52:54:00:00:02:0{i}") for i in range(7)]
    assert (plan["api"], plan["ingress"]) == ("192.168.16.27", "192.168.16.28"), "no VIP records: the lowest free"
    assert "api VIP: no record for api.server.our.pretty.lab" in result.stderr


def test_vip_records_and_hosts_files_are_kept_too(tmp_path: Path) -> None:
    conf = tmp_path / "dnsmasq.conf"
    conf.write_text("host-record=api.server.our.pretty.lab,api-int.server.our.pretty.lab,192.168.16.30\n"
                    "address=/apps.server.our.pretty.lab/192.168.16.29  # the ingress VIP\n")
    hostsdir = tmp_path / "dhcp-hosts"
    hostsdir.write_text("52:54:00:00:02:00,192.168.16.25,provisionhost.server.our.pretty.lab,12h\n")
    hosts = tmp_path / "hosts"
    hosts.write_text("192.168.16.24 dciokd-master-2.server.our.pretty.lab\n")
    result, out = ocplab_import(tmp_path, conf, hostsdir, hosts)
    assert result.returncode == 0, result.stderr
    plan = planned(out)
    assert (plan["api"], plan["ingress"]) == ("192.168.16.30", "192.168.16.29")
    assert plan["provisionhost"] == ("192.168.16.25", "52:54:00:00:02:00")
    assert plan["dciokd-master-2"][0] == "192.168.16.24"
    assert "dciokd-master-0: not in the dnsmasq files" in result.stderr


def test_an_address_in_a_neighbours_slice_is_refused_naming_both(tmp_path: Path) -> None:
    conf = tmp_path / "dnsmasq.conf"
    conf.write_text(SEED_DNSMASQ.read_text().replace("192.168.16.24,", "192.168.16.40,"))
    result, out = ocplab_import(tmp_path, conf)
    assert result.returncode == 2 and not out.exists()
    assert result.stderr.strip() == (
        "ocplab: --dnsmasq: dciokd-worker-0 is at 192.168.16.40, inside cluster cluster02's slice "
        "(192.168.16.32-192.168.16.47), not in cluster server's slice (192.168.16.20-192.168.16.31); widen or move "
        "ocplab:slices.server in the lab stack, or drop --dnsmasq to renumber the cluster")


def test_a_mac_and_a_name_reserved_apart_is_a_stale_line(tmp_path: Path) -> None:
    conf = tmp_path / "dnsmasq.conf"
    conf.write_text(SEED_DNSMASQ.read_text() + "dhcp-host=52:54:00:99:99:99,192.168.16.29,dciokd-master-0\n")
    result, _ = ocplab_import(tmp_path, conf)
    assert result.returncode == 2
    assert f"{conf}:2 (192.168.16.21) but its name at {conf}:8 (192.168.16.29); remove the stale line" in result.stderr


def test_dnsmasq_lines_are_read_as_dnsmasq_reads_them(tmp_path: Path) -> None:
    conf = tmp_path / "lab.conf"
    conf.write_text("# a comment\ninterface=eno1\ndhcp-range=192.168.16.0,static\n"
                    "dhcp-host=52:54:00:AA:00:01,set:lab,192.168.16.50,node-a,infinite\n"
                    "dhcp-host=52:54:00:aa:00:02,ignore\n"
                    "address=/*.apps.c1.lab/192.168.16.60\naddress=/blocked.lab/\n")
    existing = read_existing_dns([conf])
    assert [(r.macs, r.ip, r.hostname) for r in existing.reservations] == [(("52:54:00:aa:00:01",), "192.168.16.50",
                                                                             "node-a")]
    assert existing.address_of("console.apps.c1.lab") == "192.168.16.60"
    assert existing.address_of("blocked.lab") is None


@pytest.mark.parametrize(("line", "message"), [
    ("dhcp-host=52:54:00:00:00:01,192.168.16.5,192.168.16.6", "has more than one address or hostname"),
    ("host-record=192.168.16.5", "needs a name and an address"),
    ("address=apps.lab/192.168.16.5", "is not /DOMAIN/.../ADDRESS"),
    ("192.168.16.5", "names no host"),
    ("what is this", "is not a dnsmasq option, a dhcp-hosts line or a hosts line"),
    # IPv6 (tests/unit/test_import_ipv6.py): bracketed, one unicast address a node is given
    ("dhcp-host=52:54:00:00:00:01,fd00:16::5,node-a", "is not a bracketed IPv6 address like [fd00:16::40]"),
    ("dhcp-host=52:54:00:00:00:01,[fd00:16::5,node-a", "is not a bracketed IPv6 address"),
    ("dhcp-host=52:54:00:00:00:01,[fd00:16::zz],node-a", "is not a bracketed IPv6 address"),
    ("dhcp-host=52:54:00:00:00:01,[fe80::5%eth0],node-a", "is not a bracketed IPv6 address"),
    ("dhcp-host=52:54:00:00:00:01,[fd00:16::/112],node-a", "gives an IPv6 prefix; ocplab keeps one address"),
    ("dhcp-host=52:54:00:00:00:01,[fe80::5],node-a", "[fe80::5] is not an address a node is given"),
    ("dhcp-host=52:54:00:00:00:01,[ff02::1],node-a", "is not an address a node is given"),
    ("dhcp-host=52:54:00:00:00:01,[::],node-a", "[::] is not an address a node is given"),
    ("dhcp-host=52:54:00:00:00:01,[::ffff:192.168.16.5],node-a", "is not an address a node is given"),
    ("dhcp-host=52:54:00:00:00:01,[fd00:16::5],[fd00:16::6],node-a", "has more than one address or hostname"),
    ("dhcp-host=52:54:00:00:00:01,[fd00:16::5]x,node-a", "is not a bracketed IPv6 address"),
    ("dhcp-host=52:54:00:00:00:01,[::45],node-a", "is a suffix for a dhcp-range constructor:"),
    ("fd00:16::5", "names no host"),
    ("host-record=fd00:16::5", "needs a name and an address"),
])
def test_a_line_dnsmasq_would_refuse_names_its_file_and_line(tmp_path: Path, line: str, message: str) -> None:
    conf = tmp_path / "bad.conf"
    conf.write_text(f"\n{line}\n")
    with pytest.raises(ExistingDnsError) as raised:
        read_existing_dns([conf])
    assert str(raised.value).startswith(f"{conf}:2: ") and message in str(raised.value)


def test_a_lab_slice_the_importer_cannot_read_is_one_line_naming_it(tmp_path: Path) -> None:
    """It was a ValueError traceback; the schema names it at `pulumi up`, the importer reads the file before that."""
    stacks = tmp_path / "stacks"
    stacks.mkdir()
    text = stack_path("telco-lab").read_text()
    assert "range: 192.168.16.20-192.168.16.31" in text
    (stacks / "Pulumi.telco-lab.yaml").write_text(text.replace("range: 192.168.16.20-192.168.16.31", "range: nowhere"))
    argv = [sys.executable, "-m", "tools", "import", str(SEED), *ARGS, "--out", "-", "--dnsmasq", str(SEED_DNSMASQ)]
    result = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
                            env={**os.environ, "OCPLAB_STACKS_DIR": str(stacks)})
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith("ocplab: ocplab:slices.server.range of the lab stack: 'nowhere' is not an IPv4")


def test_a_dnsmasq_file_larger_than_any_lab_has_is_refused_unread(tmp_path: Path) -> None:
    huge = tmp_path / "huge.conf"
    with huge.open("wb") as handle:
        handle.truncate(17 * 1024 * 1024)  # sparse: nothing is written, nothing should be read
    with pytest.raises(ExistingDnsError, match=rf"^{huge}: larger than 16 MiB; not a dnsmasq file"):
        read_existing_dns([huge])
