"""`ocplab doctor` on DHCPv6 leases: the lease file's lines after its `duid` line are read, and each unexpired
lease is checked against the plan: one on an address no stack plans is an orphan with its removal; a node holding
another address than planned, or a client holding a node's planned address, differs; a planned lease is silent."""

from __future__ import annotations

import json
import shlex
from typing import Any

from core.lab_audit import JUMPHOST, FoundLab, Lease6
from core.lab_contract import LabOutputs, parse_lab_outputs
from tests.unit.test_lab_audit import DATA, NOW, clean_lab, cluster_outputs, rows, run_audit
from tools.lab_collect import parse_jumphost

SNO_MAC, BOOT_MAC = "52:54:00:a8:10:30", "52:54:00:a8:10:2f"
CONTROL, LEASES = "/etc/ocplab/bin/ocplab-dnsmasq", "/var/lib/ocplab/dnsmasq.leases"


def duid_llt(mac: str) -> str:
    return f"00:01:00:01:2e:b8:37:c1:{mac}"  # what dhcpcd sends: type 1, Ethernet, a time, the MAC


def dual_stack_lab() -> LabOutputs:
    raw = json.loads((DATA / "lab-outputs-simlab.json").read_text())
    raw["network"].update(cidr6="fd00:16::/64", dns6="fd00:16::1")
    raw["slices"]["ipi1"]["range6"] = "fd00:16::20-fd00:16::2f"
    raw["slices"]["sno1"]["range6"] = "fd00:16::30-fd00:16::37"
    return parse_lab_outputs("simlab", raw)


def dual_stack_clusters() -> dict[str, dict[str, Any]]:
    """ipi1 and sno1 as deployed, with their IPv6 addresses: sno fd00:16::30, ipi1's bootstrap VM fd00:16::2f."""
    clusters = cluster_outputs()
    clusters["sno1"]["nodes"][0]["ip6"] = "fd00:16::30"
    for index, node in enumerate(clusters["ipi1"]["nodes"]):
        node["ip6"] = f"fd00:16::{0x22 + index:x}"
    clusters["ipi1"]["assignments"] = {"bootstrap": {"ip": "192.168.16.47", "ip6": "fd00:16::2f",
                                                     "macs": {"baremetal": BOOT_MAC}}}
    return clusters


def with_leases6(*leases: Lease6) -> FoundLab:
    found = clean_lab()
    assert found.jumphost is not None
    found.jumphost.leases6 = [Lease6(NOW + 3600, "fd00:16::30", "sno", duid_llt(SNO_MAC)),
                              Lease6(NOW + 3600, "fd00:16::2f", "*", duid_llt(BOOT_MAC)), *leases]
    return found


def audit6(found: FoundLab) -> Any:
    return run_audit(found, dual_stack_lab(), dual_stack_clusters())


def test_the_lease_files_dhcpv6_lines_are_read_after_its_duid_line() -> None:
    text = ("### now 0\n1800000000\n### leases 0\n"
            f"1800003600 {SNO_MAC} 192.168.16.48 sno 01:{SNO_MAC}\n"
            "duid 00:01:00:01:2e:b8:30:00:02:00:00:00:00:01\n"
            f"1800003600 1479812193 fd00:16::30 sno {duid_llt(SNO_MAC).upper()}\n"
            "0 T17 fd00:16::31 * 00:03:00:01:52:54:00:a8:10:31\n")
    found = parse_jumphost(text)
    assert [(lease.mac, lease.ip) for lease in found.leases or []] == [(SNO_MAC, "192.168.16.48")]
    assert [(lease.ip, lease.hostname, lease.mac) for lease in found.leases6] == [
        ("fd00:16::30", "sno", SNO_MAC), ("fd00:16::31", "*", "52:54:00:a8:10:31")]


def test_a_duid_without_a_mac_names_no_client() -> None:
    assert Lease6(0, "fd00:16::30", "*", "00:02:00:00:ab:11:aa:bb:cc:dd").mac is None  # DUID-EN
    assert Lease6(0, "fd00:16::30", "*", "00:04:01:02:03:04:05:06:07:08:09:0a:0b:0c:0d:0e:0f:10").mac is None  # UUID
    assert Lease6(0, "fd00:16::30", "*", "00:01:00:06:2e:b8:37:c1:52:54:00:a8:10:30").mac is None  # not Ethernet


def test_planned_dhcpv6_leases_give_no_finding() -> None:
    assert audit6(with_leases6()) == []


def test_a_dhcpv6_lease_on_an_address_no_stack_plans_is_an_orphan_with_its_removal() -> None:
    found = with_leases6(Lease6(NOW + 3600, "fd00:16::35", "old", duid_llt("52:54:00:0b:0b:0b")),
                         Lease6(0, "fd00:16::99", "*", "00:02:00:00:ab:11:aa:bb"),
                         Lease6(NOW - 10, "fd00:16::36", "gone", duid_llt("52:54:00:0c:0c:0c")))  # expired
    findings = audit6(found)
    assert rows(findings) == {("orphan", JUMPHOST, "lease fd00:16::35 old 52:54:00:0b:0b:0b", None),
                              ("orphan", JUMPHOST, "lease fd00:16::99", None)}
    first = next(f for f in findings if "fd00:16::35" in f.what)
    assert first.removable and first.remote == (f"{CONTROL} stop && sed -i '/^[0-9]* [^ ]* fd00:16::35 /d' {LEASES} "
                                                f"&& {CONTROL} start")
    assert shlex.split(first.fix)[-1] == first.remote


def test_a_node_leased_another_address_than_planned_differs_and_names_both() -> None:
    found = with_leases6()
    assert found.jumphost is not None
    found.jumphost.leases6[0] = Lease6(NOW + 3600, "fd00:16::33", "sno", duid_llt(SNO_MAC))
    (finding,) = audit6(found)
    assert (finding.kind, finding.what, finding.owner) == (
        "differs", f"lease fd00:16::33 sno of sno ({SNO_MAC}), planned fd00:16::30", "sno1")
    assert not finding.removable and "sed -i '/^[0-9]* [^ ]* fd00:16::33 /d'" in shlex.split(finding.fix)[-1]


def test_another_client_on_a_nodes_planned_address_differs() -> None:
    found = with_leases6()
    assert found.jumphost is not None
    found.jumphost.leases6[0] = Lease6(NOW + 3600, "fd00:16::30", "intruder", duid_llt("52:54:00:0d:0d:0d"))
    assert rows(audit6(found)) == {("differs", JUMPHOST, "lease fd00:16::30 intruder held by 52:54:00:0d:0d:0d, "
                                    f"planned for sno ({SNO_MAC})", "sno1")}


def test_an_odd_dhcpv6_lease_line_never_reaches_a_fix() -> None:
    found = with_leases6(Lease6(NOW + 3600, "fd00:16::35/d;e", "*", "x"), Lease6(0, "FD00:16::0035", "*", "x"))
    assert audit6(found) == []


def test_a_stack_without_ipv6_addresses_sees_its_neighbours_dhcpv6_lease_as_an_orphan_in_their_range6() -> None:
    clusters = dual_stack_clusters()
    del clusters["sno1"]  # destroyed: its lease stays until it expires
    findings = run_audit(with_leases6(), dual_stack_lab(), clusters)
    assert ("orphan", JUMPHOST, f"lease fd00:16::30 sno {SNO_MAC}", None) in rows(findings)


def test_a_client_whose_duid_holds_no_mac_is_known_by_the_duid_of_its_planned_lease() -> None:
    """dhcpcd (the simulated lab's guests) and NetworkManager send a DUID-UUID: the node is the one whose planned
    lease carries that DUID, so its lease on another address differs; an unknown DUID's lease is an orphan."""
    uuid = "00:04:6c:1f:0e:9a:41:2b:4c:5d:9e:8f:70:61:52:43:34:25"
    found = with_leases6(Lease6(0, "fd00:16::35", "*", uuid), Lease6(0, "fd00:16::36", "*", uuid[:-2] + "26"))
    assert found.jumphost is not None
    found.jumphost.leases6[0] = Lease6(NOW + 3600, "fd00:16::30", "*", uuid)
    assert rows(audit6(found)) == {
        ("differs", JUMPHOST, f"lease fd00:16::35 of sno ({SNO_MAC}), planned fd00:16::30", "sno1"),
        ("orphan", JUMPHOST, "lease fd00:16::36", None)}
