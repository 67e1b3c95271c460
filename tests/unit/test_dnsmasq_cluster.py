"""A cluster's dnsmasq entries: DHCP by MAC, node A+PTR, api/api-int, *.apps, valid for dnsmasq."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from core.addresses import AddressRange
from core.cluster_design import design_cluster
from core.clusterconfig import parse_cluster_config
from core.stack_files import read_stack_values, stack_path
from renderers.dnsmasq_cluster import apply_script, remove_script, render_cluster_dns
from renderers.shell import script as shell_script

LAB = json.loads((Path(__file__).parent.parent / "data" / "lab-outputs-simlab.json").read_text())
SLICE = AddressRange.parse(LAB["slices"]["ipi1"]["range"])


def dns_of(stack: str) -> tuple[str, str, str]:
    cluster = parse_cluster_config(stack, read_stack_values(stack_path(stack)))
    dns = render_cluster_dns(design_cluster(cluster, LAB, None))
    return dns.dhcp_hosts, dns.hosts, dns.wildcards


def test_dhcp_lines_give_each_mac_its_ip_and_fqdn() -> None:
    dhcp, _, _ = dns_of("ipi1")
    assert "52:54:00:a8:10:22,192.168.16.34,provisionhost.ipi1.simlab.test" in dhcp.splitlines()
    assert len([line for line in dhcp.splitlines() if not line.startswith("#")]) == 6 + 1, "6 nodes + the bootstrap VM"
    assert "52:54:00:a8:10:2f,192.168.16.47,bootstrap.ipi1.simlab.test" in dhcp.splitlines()


def test_hosts_put_node_fqdn_first_and_api_on_vip() -> None:
    _, hosts, wildcards = dns_of("ipi1")
    assert "192.168.16.34 provisionhost.ipi1.simlab.test" in hosts.splitlines()
    assert "192.168.16.32 api.ipi1.simlab.test api-int.ipi1.simlab.test" in hosts.splitlines()
    assert "address=/apps.ipi1.simlab.test/192.168.16.33" in wildcards.splitlines()
    assert "domain=ipi1.simlab.test,192.168.16.32,192.168.16.47" in wildcards.splitlines()


def test_sno_names_share_the_node_line_with_node_first() -> None:
    _, hosts, wildcards = dns_of("sno1")
    assert "192.168.16.48 sno.sno1.simlab.test api.sno1.simlab.test api-int.sno1.simlab.test" in hosts.splitlines()
    assert "address=/apps.sno1.simlab.test/192.168.16.48" in wildcards


def test_wildcard_file_passes_dnsmasq_test(tmp_path: Path) -> None:
    _, _, wildcards = dns_of("ipi1")
    conf = tmp_path / "c.conf"
    conf.write_text(wildcards)
    result = subprocess.run(["/usr/sbin/dnsmasq", "--test", f"--conf-file={conf}"], capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stderr


def test_scripts_parse_and_take_the_shared_lock() -> None:
    cluster = parse_cluster_config("ipi1", read_stack_values(stack_path("ipi1")))
    dns = render_cluster_dns(design_cluster(cluster, LAB, None))
    for script in (apply_script("ipi1", dns), remove_script("ipi1")):
        assert "flock -w 300 9" in script
        result = subprocess.run(["dash", "-n"], input=script, capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stderr


def test_removing_a_cluster_drops_its_leases_while_dnsmasq_is_stopped(tmp_path: Path) -> None:
    """A destroyed node's lease would keep its address bound (and show as debris in doctor) until it expires. A
    DHCPv6 lease names its address and the client's DUID, not the MAC: it goes by the address its reservation
    gives (else a destroy + up, whose node has a new DUID, would wait for it to expire)."""
    control, calls = tmp_path / "ocplab-dnsmasq", tmp_path / "calls"
    control.write_text(f"#!/bin/sh\necho \"$1 $(wc -l < {tmp_path}/leases)\" >> {calls}\n")
    control.chmod(0o755)
    files = {name: tmp_path / name for name in ("dhcp", "hosts", "wildcards")}
    files["dhcp"].write_text("# ocplab cluster rf2\n"
                             "52:54:00:A8:10:52,192.168.16.82,[fd00:16::52],sno.rf2.simlab.test\n")
    files["hosts"].write_text("")
    files["wildcards"].write_text("address=/apps.rf2.simlab.test/192.168.16.82\n")
    kept = ("1700000000 52:54:00:a8:10:50 192.168.16.80 sno 01:52:54:00:a8:10:50\n"
            "duid 00:01:00:01:32:a7:fe:2c:b2:28:86:fe:9b:7a\n"
            "1796555304 11014178 fd00:16::50 sno 00:01:00:01:32:a7:fe:2e:52:54:00:a8:10:50\n")
    gone6 = "1796555304 11014192 fd00:16::52 sno 00:01:00:01:32:a7:fe:2e:52:54:00:a8:10:52\n"
    (tmp_path / "leases").write_text("1700000000 52:54:00:a8:10:52 192.168.16.82 sno 01:52:54:00:a8:10:52\n" + kept
                                     + gone6)
    # A dual-stack cluster's parts (renderers.dnsmasq_cluster.remove_script), with the test's paths.
    text = shell_script("dnsmasq-cluster-lock", "dnsmasq-cluster-drop-leases6", "dnsmasq-cluster-remove",
                        cluster="rf2", control=str(control), lock_file=str(tmp_path / "lock"),
                        dhcp_file=str(files["dhcp"]), hosts_file=str(files["hosts"]),
                        wildcards_file=str(files["wildcards"]), lease_file=str(tmp_path / "leases"),
                        tftp_root=str(tmp_path / "tftp"))
    (tmp_path / "tftp" / "52-54-00-a8-10-52" / "images").mkdir(parents=True)
    (tmp_path / "tftp" / "52-54-00-a8-10-50").mkdir()
    done = subprocess.run(["sh", "-c", text], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (tmp_path / "tftp").iterdir()) == ["52-54-00-a8-10-50"], "only its node's TFTP root"
    assert calls.read_text().split("\n")[:4] == ["stop 5", "start 4", "stop 4", "start 3"]  # while dnsmasq was down
    assert (tmp_path / "leases").read_text() == kept
    assert not any(path.exists() for path in files.values())
