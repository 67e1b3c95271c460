"""On a simulated lab in IPv6 alone (`simlab up --ipv6-only`): an IPv6-only lab stack and an SNO cluster through
`pulumi up` (issue 27, items 5 and 6).

The jumphost and the hypervisors hold their fd00:16::/64 addresses and no IPv4 one on the lab network, and are
reached (SSH with pinned keys, libvirt over qemu+ssh) at those alone. The lab stack, `network.cidr6` without
`network.cidr` and hosts named by `address6`, bridges each hypervisor from a NIC with no IPv4, runs dnsmasq with
DHCPv6 and router advertisements and no DHCPv4, and chrony; sno6 (a slice with `range6` alone) boots and takes its
planned DHCPv6 lease and no IPv4 one; dnsmasq answers AAAA and PTR and no A for the node, api, api-int and *.apps;
previews after each up want no change; destroy + up gives the same address and MAC; the lab's destroy gives each
hypervisor's NIC its IPv6 address back. Steps build on each other in file order.
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import yaml

from simlab.clients import run_in_jumphost
from simlab.lab import load
from tests.e2e.lab_helpers import SNTP_QUERY, LabSession, dig, lab_session, stack_value, wait_for

pytestmark = pytest.mark.simlab

JUMPHOST6, ROUTER6 = "fd00:16::1", "fd00:16::fe"  # simlab/topology.py: the jumphost, the lab's IPv6 router
HV6 = {"hv1": "fd00:16::b", "hv2": "fd00:16::c"}
CLUSTER, DOMAIN, NODE = "sno6", "sno6-sno", "sno.sno6.simlab.test"
RANGE6, PLANNED6 = "fd00:16::40-fd00:16::47", "fd00:16::40"  # the node, its API and its ingress: range6's first
MAC = r"([0-9a-f]{2}:){5}[0-9a-f]{2}"  # a DHCPv4 lease line's second field (DHCPv6 lines name an IAID there)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabSession]:
    yield from lab_session(tmp_path_factory, ipv6_only=True)


def addresses(lab: LabSession, host: str, device: str) -> set[str]:
    """The global addresses on a device of a lab host, in both families (`ip -o addr`)."""
    shown = lab.ssh(host, f"ip -o addr show dev {device} scope global")
    return set(re.findall(r"\binet6? (\S+)", shown))


def holds(lab: LabSession, host: str, device: str, wanted: set[str]) -> bool:
    return addresses(lab, host, device) == wanted


def answers(lab: LabSession, name: str) -> tuple[list[str], list[str]]:
    """(A, AAAA) answers of the jumphost's dnsmasq, asked over IPv6."""
    return dig(lab, name, server=JUMPHOST6), dig(lab, name, rtype="AAAA", server=JUMPHOST6)


def node(lab: LabSession) -> dict[str, Any]:
    found: dict[str, Any] = lab.outputs(CLUSTER)["nodes"][0]
    return found


def leased6(lab: LabSession) -> bool:
    lease6 = lab.console(HV6["hv1"], DOMAIN).leases6.get("eth0")
    return lease6 is not None and lease6.ip6 == PLANNED6


def lease_lines(lab: LabSession) -> list[list[str]]:
    """The jumphost's dnsmasq lease file (read on the jumphost), as fields per line."""
    return [line.split() for line in lab.ssh(JUMPHOST6, "cat /var/lib/ocplab/dnsmasq.leases").splitlines()]


def make_ipv6_only(lab: LabSession) -> None:
    """The session's simlab stack in IPv6 alone: the lab's /64, its router and the jumphost's and hypervisors'
    IPv6 addresses, no IPv4 key, no NAT (no NAT66), no upstream (the simulated outside is IPv4); one IPv6 slice."""
    jumphost = {k: v for k, v in stack_value(lab, "simlab", "ocplab:jumphost").items()
                if k not in ("address", "uplink")}
    hypervisors = [{**{k: v for k, v in hv.items() if k != "address"}, "address6": HV6[hv["name"]]}
                   for hv in stack_value(lab, "simlab", "ocplab:hypervisors")]
    lab.edit_stack("simlab", {
        "ocplab:network": {"cidr6": "fd00:16::/64", "gateway": ROUTER6, "lease_time": "2m"},
        "ocplab:jumphost": {**jumphost, "address6": JUMPHOST6},
        "ocplab:hypervisors": hypervisors,
        "ocplab:slices": {CLUSTER: {"hypervisor": "hv1", "range6": RANGE6}},
    })
    sno = yaml.safe_load((lab.project / "stacks" / "Pulumi.sno1.yaml").read_text())
    (lab.project / "stacks" / f"Pulumi.{CLUSTER}.yaml").write_text(yaml.safe_dump(
        {"config": {**sno["config"], "ocplab:hypervisor": "hv1"}, "encryptionsalt": sno["encryptionsalt"]},
        sort_keys=False))


def test_the_simulated_lab_holds_and_answers_on_its_ipv6_addresses_alone(lab: LabSession) -> None:
    state = load()
    assert state.ipv6_only and state.network == "fd00:16::/64"
    assert {h.name: h.ip for h in state.hosts} == {"jumphost": JUMPHOST6, **HV6}
    for host in state.hosts:
        assert lab.ssh(host.ip, "hostname").strip() == host.name, "SSH over IPv6, its host key pinned"
        assert addresses(lab, host.ip, "eth0") == {f"{host.ip}/64"}, f"{host.name}: no IPv4 on the lab NIC"
    known = Path(state.ssh.known_hosts).read_text()
    assert [line.split()[0] for line in known.splitlines()] == [f"{h.name},{h.ip}" for h in state.hosts]
    for hv in state.hosts[1:]:
        assert hv.libvirt_uri is not None and hv.libvirt_uri.startswith(f"qemu+ssh://root@[{hv.ip}]/system?")
        listed = run_in_jumphost(["virsh", "-c", hv.libvirt_uri, "hostname"], timeout=60)
        assert (listed.returncode, listed.stdout.strip()) == (0, hv.name), listed.stderr
    assert lab.jumphost(["ping", "-4", "-c", "1", "-W", "1", "192.168.16.11"], timeout=30).returncode != 0


def test_an_ipv6_only_lab_stack_bridges_each_nic_without_ipv4_and_serves_dhcpv6_alone(lab: LabSession) -> None:
    make_ipv6_only(lab)
    started = time.monotonic()
    lab.up("simlab")
    lab.note("IPv6-only lab: pulumi up -s simlab (s)", time.monotonic() - started)
    out = lab.outputs("simlab")
    assert out["version"] == 3 and "cidr" not in out["network"] and "address" not in out["jumphost"]
    assert {name: hv["address6"] for name, hv in out["hypervisors"].items()} == HV6
    assert all("address" not in hv for hv in out["hypervisors"].values())
    for name, ip in HV6.items():
        assert addresses(lab, ip, "br0") == {f"{ip}/64"}, f"{name}: br0 holds its IPv6 address alone"
        assert addresses(lab, ip, "eth0") == set(), f"{name}: eth0 is br0's port"
        assert answers(lab, f"{name}.simlab.test") == ([], [ip])
        assert dig(lab, ip, reverse=True, server=JUMPHOST6) == [f"{name}.simlab.test."]
    sockets = lab.jumphost(["ss", "-H", "-u", "-l", "-n"], timeout=30).stdout
    assert re.search(r":547\b", sockets), f"dnsmasq serves DHCPv6\n{sockets}"
    assert not re.search(r":67\b", sockets), f"no DHCPv4 server on the jumphost\n{sockets}"
    ntp = lab.jumphost([sys.executable, "-c", SNTP_QUERY, JUMPHOST6], timeout=60)
    assert ntp.returncode == 0 and ntp.stdout.startswith("stratum="), ntp.stdout + ntp.stderr
    lab.pulumi.preview("simlab", "--expect-no-changes")


def test_the_ipv6_only_sno_node_takes_its_planned_dhcpv6_lease_and_no_ipv4_one(lab: LabSession) -> None:
    started = time.monotonic()
    lab.up(CLUSTER)
    lab.note("IPv6-only lab: pulumi up -s sno6 (s)", time.monotonic() - started)
    out = lab.outputs(CLUSTER)
    assert "ip" not in node(lab) and node(lab)["ip6"] == PLANNED6
    assert (out["api_vip6"], out["ingress_vip6"]) == (PLANNED6, PLANNED6) and "api_vip" not in out
    wait_for("the node's DHCPv6 lease", partial(leased6, lab), 300, 1)
    lab.note("IPv6-only lab: from pulumi up -s sno6 to the node's DHCPv6 lease (s)", time.monotonic() - started)
    mac = node(lab)["macs"]["baremetal"]
    wait_for("the node's DHCPv4 client giving up", lambda: "eth0" in lab.console(HV6["hv1"], DOMAIN).no_lease, 60, 1)
    report = lab.console(HV6["hv1"], DOMAIN)
    assert report.leases6["eth0"].mac == mac and report.leases6["eth0"].dns == (JUMPHOST6,)
    assert "eth0" not in report.leases, "no DHCPv4 lease: the lab has no DHCPv4 server"
    leases = lease_lines(lab)
    assert any(fields[2:3] == [PLANNED6] for fields in leases), f"its DHCPv6 lease in the lease file: {leases}"
    assert not [fields for fields in leases if re.fullmatch(MAC, fields[1] if len(fields) > 1 else "")], \
        f"no DHCPv4 lease (a line naming a MAC) at all: {leases}"
    lab.pulumi.preview(CLUSTER, "--expect-no-changes")


def test_dnsmasq_names_the_cluster_in_ipv6_alone(lab: LabSession) -> None:
    for name in (NODE, f"api.{CLUSTER}.simlab.test", f"api-int.{CLUSTER}.simlab.test",
                 f"console.apps.{CLUSTER}.simlab.test"):
        assert answers(lab, name) == ([], [PLANNED6]), name
    assert dig(lab, PLANNED6, reverse=True, server=JUMPHOST6) == [f"{NODE}."]


def test_destroy_and_up_of_the_cluster_give_the_same_address_and_mac(lab: LabSession) -> None:
    before = node(lab)
    lab.pulumi.destroy(CLUSTER)
    assert answers(lab, NODE) == ([], []), "destroy takes the node's names away"
    lab.ssh(HV6["hv1"], f"rm -f /var/log/libvirt/qemu/{DOMAIN}-console.log")  # only the new boot's lines are read
    started = time.monotonic()
    lab.up(CLUSTER)
    after = node(lab)
    assert (after["ip6"], after["macs"]) == (before["ip6"], before["macs"])
    wait_for("the DHCPv6 lease after destroy + up", partial(leased6, lab), 300, 1)
    lab.note("IPv6-only lab: destroy + up, from pulumi up -s sno6 to the DHCPv6 lease (s)", time.monotonic() - started)
    assert answers(lab, NODE) == ([], [PLANNED6])
    lab.pulumi.preview(CLUSTER, "--expect-no-changes")


def test_the_labs_destroy_gives_each_hypervisors_nic_its_ipv6_address_back(lab: LabSession) -> None:
    lab.pulumi.destroy(CLUSTER)
    started = time.monotonic()
    lab.pulumi.destroy("simlab")
    lab.note("IPv6-only lab: pulumi destroy -s simlab (s)", time.monotonic() - started)
    for name, ip in HV6.items():
        wait_for(f"{name}'s eth0 holding its IPv6 address", partial(holds, lab, ip, "eth0", {f"{ip}/64"}), 30, 0.5)
        assert lab.ssh(ip, "ls /sys/class/net").split().count("br0") == 0
        assert lab.ssh(ip, "ip -6 route show default").split()[:3] == ["default", "via", ROUTER6], \
            f"{name}: its default route is back"
