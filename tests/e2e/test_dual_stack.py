"""On the simulated lab: a deployed IPv4 lab and SNO cluster become dual-stack through `pulumi up` (issue 27).

The lab stack gets `network.cidr6`, `jumphost.address6` (the simulated jumphost holds fd00:16::1, as a real
dual-stack jumphost would) and a `range6` per slice; the jumphost's dnsmasq then sends router advertisements with
the managed flag, and the running node's DHCPv6 client (dhcpcd in the guest image) takes the IPv6 address the
cluster stack planned for its MAC, while every IPv4 address stays. dnsmasq answers AAAA and IPv6 PTR for the
node, api, api-int and *.apps; a preview after `up` wants no change; destroy + up gives the same addresses.
Then an IPv6-only SNO cluster (sno6, a slice with range6 alone) comes up beside it, its stack written by `ocplab
import` from an inventory and the IPv6 reservation an older dnsmasq served (the address pinned, `ip: fd00:16::45`):
its node takes that DHCPv6 lease and no IPv4 one, dnsmasq answers AAAA/PTR and no A, and its destroy + up keeps
its address and leaves sno1's answers alone. `ocplab doctor` then reads the real lease file's DHCPv6 lines: the
planned leases are silent, a stray one is an orphan it removes, a node's lease on another address differs and its
printed fix removes it.
Then the hypervisors get their IPv6 addresses (`hypervisors[].address6`; the simulated ones hold them in their
NIC's profile): `pulumi up` keeps them on br0 beside the IPv4 ones, dnsmasq names them in both families, a
hypervisor's BMCs answer IPMI and Redfish on its IPv6 address, and the lab's destroy gives each NIC both back.
Steps build on each other in file order.
"""

from __future__ import annotations

import json
import re
import secrets
import subprocess
import sys
import time
from functools import partial
from pathlib import Path
from typing import Any

import netaddr
import pytest
import yaml

from core.bmc_plan import BmcPlan
from renderers.bridge_scripts import bridge_create_script, bridge_delete_script
from renderers.install_config import render_install_config
from renderers.sushy_scripts import sushy_remove_script, sushy_sync_script
from renderers.vbmc_scripts import vbmc_remove_script, vbmc_sync_script
from simlab.clients import run_in_jumphost, ssh_run
from simlab.guest.console import GuestReport
from tests.e2e.lab_helpers import JUMPHOST, PROJECT, LabSession, dig, stack_value, wait_for
from tests.e2e.test_doctor import doctor, rows, run_fix
from tests.tools import require_tool

pytestmark = pytest.mark.simlab

HV2 = "192.168.16.12"
DOMAIN = "sno1-sno"
NODE = "sno.sno1.simlab.test"
CIDR6, JUMPHOST6 = "fd00:16::/64", "fd00:16::1"
RANGES6 = {"ipi1": "fd00:16::20-fd00:16::2f", "sno1": "fd00:16::30-fd00:16::37"}
PLANNED6 = "fd00:16::30"  # the first address of sno1's range6: its node, its API and its ingress


def aaaa(lab: LabSession, name: str, server: str = JUMPHOST) -> list[str]:
    """AAAA answers from the jumphost's dnsmasq, asked from the jumphost namespace (over IPv4 or IPv6)."""
    result = lab.jumphost(["dig", f"@{server}", "+short", "+tries=3", "+time=1", name, "AAAA"], timeout=30)
    return [line for line in result.stdout.split() if line and not line.startswith(";")]


def node(lab: LabSession) -> dict[str, Any]:
    found: dict[str, Any] = lab.outputs("sno1")["nodes"][0]
    return found


def console(lab: LabSession) -> GuestReport:
    return lab.console(HV2, DOMAIN)


def leased6(lab: LabSession) -> bool:
    lease6 = console(lab).leases6.get("eth0")
    return lease6 is not None and lease6.ip6 == PLANNED6


def make_dual_stack(lab: LabSession) -> None:
    network = {**stack_value(lab, "simlab", "ocplab:network"), "cidr6": CIDR6}
    jumphost = {**stack_value(lab, "simlab", "ocplab:jumphost"), "address6": JUMPHOST6}
    slices = stack_value(lab, "simlab", "ocplab:slices")
    for name, range6 in RANGES6.items():
        slices[name]["range6"] = range6
    lab.edit_stack("simlab", {"ocplab:network": network, "ocplab:jumphost": jumphost, "ocplab:slices": slices})


def test_an_ipv4_lab_and_sno_cluster_come_up(lab: LabSession) -> None:
    lab.up("simlab")
    started = time.monotonic()
    lab.up("sno1")
    lab.note("IPv4: pulumi up -s sno1 (s)", time.monotonic() - started)
    ip = node(lab)["ip"]
    wait_for("the IPv4 lease", lambda: (lease := console(lab).leases.get("eth0")) is not None and lease.ip == ip,
             300, 1)
    lab.note("IPv4: from pulumi up -s sno1 to the node's lease (s)", time.monotonic() - started)
    assert "ip6" not in node(lab) and "api_vip6" not in lab.outputs("sno1")
    assert not console(lab).leases6, "an IPv4 lab sends no router advertisement: no DHCPv6 lease"


def test_adding_ipv6_keeps_every_ipv4_address_and_the_running_node_takes_its_planned_ipv6_lease(
        lab: LabSession) -> None:
    before = lab.outputs("sno1")
    make_dual_stack(lab)
    lab.up("simlab")
    started = time.monotonic()
    lab.up("sno1")
    after = lab.outputs("sno1")
    assert [(n["ip"], n["macs"]) for n in after["nodes"]] == [(n["ip"], n["macs"]) for n in before["nodes"]]
    assert (after["api_vip"], after["ingress_vip"]) == (before["api_vip"], before["ingress_vip"])
    assert (node(lab)["ip6"], after["api_vip6"], after["ingress_vip6"]) == (PLANNED6, PLANNED6, PLANNED6)
    assert lab.outputs("simlab")["slices"]["sno1"]["range6"] == RANGES6["sno1"]
    wait_for("the DHCPv6 lease", lambda: leased6(lab), 300, 1)
    lab.note("adding IPv6: from pulumi up -s sno1 to the running node's DHCPv6 lease (s)", time.monotonic() - started)
    lease6 = console(lab).leases6["eth0"]
    assert lease6.mac == node(lab)["macs"]["baremetal"] and lease6.dns == (JUMPHOST6,)
    assert lease6.domain == "simlab.test" and lease6.router.startswith("fe80::"), lease6
    assert console(lab).leases["eth0"].ip == before["nodes"][0]["ip"], "the IPv4 lease is kept"


def test_dnsmasq_answers_aaaa_and_ipv6_ptr_for_the_node_api_and_apps(lab: LabSession) -> None:
    for name in (NODE, "api.sno1.simlab.test", "api-int.sno1.simlab.test", "console.apps.sno1.simlab.test"):
        assert aaaa(lab, name) == [PLANNED6], name
        assert aaaa(lab, name, server=JUMPHOST6) == [PLANNED6], f"{name}, asked over IPv6"
        assert dig(lab, name) == [node(lab)["ip"]], f"{name}: its A answer is kept"
    assert dig(lab, PLANNED6, reverse=True) == [f"{NODE}."]
    assert aaaa(lab, "jumphost.simlab.test") == [JUMPHOST6]
    unknown = lab.jumphost(["dig", f"@{JUMPHOST}", "+tries=3", "+time=1", "-x", "fd00:16::99"], timeout=30).stdout
    assert "status: NXDOMAIN" in unknown, "the lab's ip6.arpa zone is answered here, never upstream"


def test_a_preview_after_up_wants_no_change(lab: LabSession) -> None:
    for stack in ("simlab", "sno1"):
        lab.pulumi.preview(stack, "--expect-no-changes")


def test_destroy_and_up_give_the_same_addresses_in_both_families(lab: LabSession) -> None:
    before = node(lab)
    lab.pulumi.destroy("sno1")
    assert aaaa(lab, NODE) == [], "destroy takes the node's AAAA away"
    lab.ssh(HV2, f"rm -f /var/log/libvirt/qemu/{DOMAIN}-console.log")  # so only the new boot's lines are read
    started = time.monotonic()
    lab.up("sno1")
    lab.note("dual-stack: pulumi up -s sno1 (s)", time.monotonic() - started)
    after = node(lab)
    assert (after["ip"], after["ip6"], after["macs"]) == (before["ip"], before["ip6"], before["macs"])
    wait_for("the IPv4 lease", lambda: "eth0" in console(lab).leases, 300, 1)
    lab.note("dual-stack: from pulumi up -s sno1 to the node's IPv4 lease (s)", time.monotonic() - started)
    wait_for("the DHCPv6 lease", lambda: leased6(lab), 300, 1)
    lab.note("dual-stack: from pulumi up -s sno1 to the node's DHCPv6 lease (s)", time.monotonic() - started)
    assert console(lab).leases["eth0"].ip == before["ip"]
    assert aaaa(lab, NODE) == [PLANNED6]


# --- an IPv6-only SNO cluster beside the dual-stack one ------------------------------------------------------------

def within(address: str, text_range: str) -> bool:
    first, _, last = text_range.partition("-")
    return netaddr.IPAddress(address) in netaddr.IPRange(first, last)


def provisionhost_leased_both(lab: LabSession, provisionhost: dict[str, Any]) -> bool:
    report = lab.console(HV1, "ipi1-provisionhost")
    lease, lease6 = report.leases.get("eth0"), report.leases6.get("eth0")
    return lease is not None and lease.ip == provisionhost["ip"] and lease6 is not None \
        and lease6.ip6 == provisionhost["ip6"]


def test_a_dual_stack_ipi_cluster_gets_both_families_and_its_provisionhost_both_leases(lab: LabSession) -> None:
    """The IPI side: every node, both VIPs and the bootstrap VM in both families, each in its slice's range; the
    provisionhost (the node started before the installer) takes both planned leases; names in both; the preview
    after up wants no change, and its destroy leaves the neighbour's answers as they were."""
    started = time.monotonic()
    lab.up("ipi1")
    lab.note("dual-stack IPI: pulumi up -s ipi1 (s)", time.monotonic() - started)
    out = lab.outputs("ipi1")
    ranges = stack_value(lab, "simlab", "ocplab:slices")["ipi1"]
    addresses4 = [n["ip"] for n in out["nodes"]] + [out["api_vip"], out["ingress_vip"], out["bootstrap"]["ip"]]
    addresses6 = [n["ip6"] for n in out["nodes"]] + [out["api_vip6"], out["ingress_vip6"],
                                                     out["assignments"]["bootstrap"]["ip6"]]
    assert all(within(a, ranges["range"]) for a in addresses4) and len(set(addresses4)) == len(addresses4)
    assert all(within(a, ranges["range6"]) for a in addresses6) and len(set(addresses6)) == len(addresses6)
    for name, ip, ip6 in [(n["fqdn"], n["ip"], n["ip6"]) for n in out["nodes"]] + [
            ("api.ipi1.simlab.test", out["api_vip"], out["api_vip6"]),
            ("api-int.ipi1.simlab.test", out["api_vip"], out["api_vip6"]),
            ("console.apps.ipi1.simlab.test", out["ingress_vip"], out["ingress_vip6"])]:
        assert (dig(lab, name), aaaa(lab, name)) == ([ip], [ip6]), name
    provisionhost = next(n for n in out["nodes"] if n["role"] == "provisionhost")
    wait_for("the provisionhost's two leases", partial(provisionhost_leased_both, lab, provisionhost), 300, 1)
    lab.note("dual-stack IPI: from pulumi up -s ipi1 to the provisionhost's DHCPv6 lease (s)",
             time.monotonic() - started)
    lab.pulumi.preview("ipi1", "--expect-no-changes")
    neighbour = answers_of_sno1(lab)
    lab.pulumi.destroy("ipi1")
    assert answers_of_sno1(lab) == neighbour
    assert (dig(lab, "api.ipi1.simlab.test"), aaaa(lab, "api.ipi1.simlab.test")) == ([], [])


HV1 = "192.168.16.11"
DOMAIN6 = "sno6-sno"
NODE6 = "sno.sno6.simlab.test"
# sno6's address where an older dnsmasq reserved it (ocplab alone would plan fd00:16::40), with the inventory's MAC
RANGE6_ONLY, PLANNED6_ONLY, MAC6_ONLY = "fd00:16::40-fd00:16::47", "fd00:16::45", "52:54:00:10:00:46"
LEGACY6 = f"dhcp-host={MAC6_ONLY},[fd00:16:0::0045],{NODE6}\nhost-record={NODE6},fd00:16::45\n"
LEGACY6_FILE, DNSMASQ = "/etc/ocplab/dnsmasq.d/legacy6.conf", "/etc/ocplab/bin/ocplab-dnsmasq"


def node6(lab: LabSession) -> dict[str, Any]:
    found: dict[str, Any] = lab.outputs("sno6")["nodes"][0]
    return found


def leased6_only(lab: LabSession) -> bool:
    lease6 = lab.console(HV1, DOMAIN6).leases6.get("eth0")
    return lease6 is not None and lease6.ip6 == PLANNED6_ONLY


def dhcpv4_leases_of(lab: LabSession, mac: str) -> list[str]:
    """The jumphost's DHCPv4 lease lines for `mac` (`<expiry> <mac> <ip> ...`; DHCPv6 lines name a DUID there),
    read on the jumphost over SSH: the file is in its own mount namespace, not the one `ip netns exec` keeps."""
    leases = lab.ssh(JUMPHOST, "cat /var/lib/ocplab/dnsmasq.leases").splitlines()
    assert any(line.startswith("duid ") for line in leases), f"not a dual-stack lab's lease file: {leases}"
    return [line for line in leases if line.split()[1:2] == [mac]]


def answers_of_sno1(lab: LabSession) -> list[list[str]]:
    names = (NODE, "api.sno1.simlab.test", "console.apps.sno1.simlab.test")
    return [ask(lab, name) for name in names for ask in (dig, aaaa)]


def import_sno6(lab: LabSession, tmp_path: Path) -> None:
    """sno6's stack by `ocplab import`: an inventory's one host and the reservation the legacy dnsmasq file gives,
    which the jumphost's dnsmasq first serves (AAAA answered), then no more."""
    legacy = tmp_path / "legacy6.conf"
    legacy.write_text(LEGACY6)
    lab.ssh(JUMPHOST, f"cat > {LEGACY6_FILE} <<'EOF'\n{LEGACY6}EOF\n{DNSMASQ} restart")
    assert aaaa(lab, NODE6) == [PLANNED6_ONLY], "the old lab's answer"
    lab.ssh(JUMPHOST, f"rm {LEGACY6_FILE} && {DNSMASQ} restart")
    assert aaaa(lab, NODE6) == []
    host = {"name": "sno", "role": "master", "memory": 384, "vcpus": 1, "disk_size": "1G", "cpu_mode": "maximum",
            "networks": [{"name": "baremetal", "type": "network", "mac": MAC6_ONLY}]}
    (source := tmp_path / "sno6.yml").write_text(yaml.safe_dump(
        {"all": {"vars": {"cluster": "sno6", "domain": "simlab.test", "hosts": [host]}}}))
    stack = lab.project / "stacks" / "Pulumi.sno6.yaml"
    result = subprocess.run([sys.executable, "-m", "tools", "import", str(source), "--lab", "simlab", "--hypervisor",
                             "hv1", "--image", "guest", "--dnsmasq", str(legacy), "--out", str(stack)], cwd=PROJECT,
                            env=lab.env(), capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    nic = stack_value(lab, "sno6", "ocplab:hosts")[0]["networks"][0]
    assert nic == {"name": "baremetal", "mac": MAC6_ONLY, "ip": PLANNED6_ONLY}, "kept, written as ocplab writes it"
    lab.edit_stack("sno6", {"ocplab:domain_type": "qemu", "ocplab:uefi": stack_value(lab, "sno1", "ocplab:uefi")})


def test_an_ipv6_only_sno_cluster_imported_keeps_its_ipv6_address_and_takes_no_ipv4_lease(
        lab: LabSession, tmp_path: Path) -> None:
    slices = stack_value(lab, "simlab", "ocplab:slices")
    lab.edit_stack("simlab", {"ocplab:slices": {**slices, "sno6": {"hypervisor": "hv1", "range6": RANGE6_ONLY}}})
    lab.up("simlab")
    import_sno6(lab, tmp_path)
    started = time.monotonic()
    lab.up("sno6")
    lab.note("IPv6-only: pulumi up -s sno6 (s)", time.monotonic() - started)
    out = lab.outputs("sno6")
    assert "ip" not in node6(lab) and (node6(lab)["ip6"], node6(lab)["macs"]["baremetal"]) == (PLANNED6_ONLY,
                                                                                             MAC6_ONLY)
    assert "api_vip" not in out and (out["api_vip6"], out["ingress_vip6"]) == (PLANNED6_ONLY, PLANNED6_ONLY)
    wait_for("the IPv6-only node's DHCPv6 lease", lambda: leased6_only(lab), 300, 1)
    lab.note("IPv6-only: from pulumi up -s sno6 to the node's DHCPv6 lease (s)", time.monotonic() - started)
    report = lab.console(HV1, DOMAIN6)
    assert report.leases6["eth0"].mac == node6(lab)["macs"]["baremetal"] and report.leases6["eth0"].dns == (JUMPHOST6,)
    assert "eth0" not in report.leases, "no DHCPv4 lease: its MAC has no IPv4 reservation"
    assert dhcpv4_leases_of(lab, node6(lab)["macs"]["baremetal"]) == []


def test_dnsmasq_answers_the_ipv6_only_cluster_in_ipv6_alone(lab: LabSession) -> None:
    for name in (NODE6, "api.sno6.simlab.test", "api-int.sno6.simlab.test", "console.apps.sno6.simlab.test"):
        assert aaaa(lab, name) == [PLANNED6_ONLY], name
        assert dig(lab, name) == [], f"{name}: no A answer"
    assert dig(lab, PLANNED6_ONLY, reverse=True) == [f"{NODE6}."]
    for stack in ("simlab", "sno6"):
        lab.pulumi.preview(stack, "--expect-no-changes")


def test_the_ipv6_only_clusters_destroy_and_up_keep_its_address_and_its_neighbours_answers(lab: LabSession) -> None:
    before, neighbour = node6(lab), answers_of_sno1(lab)
    assert all(neighbour), neighbour
    lab.pulumi.destroy("sno6")
    assert aaaa(lab, NODE6) == [] and answers_of_sno1(lab) == neighbour
    lab.ssh(HV1, f"rm -f /var/log/libvirt/qemu/{DOMAIN6}-console.log")
    started = time.monotonic()
    lab.up("sno6")
    after = node6(lab)
    assert (after.get("ip"), after["ip6"], after["macs"]) == (None, before["ip6"], before["macs"])
    wait_for("the DHCPv6 lease after destroy + up", lambda: leased6_only(lab), 300, 1)
    lab.note("IPv6-only: destroy + up, from pulumi up -s sno6 to the DHCPv6 lease (s)", time.monotonic() - started)
    assert aaaa(lab, NODE6) == [PLANNED6_ONLY] and answers_of_sno1(lab) == neighbour


LEASES = "/var/lib/ocplab/dnsmasq.leases"


def lease6_rows(lab: LabSession) -> set[tuple[str, str, str, str | None]]:
    """doctor's findings on DHCPv6 leases (an IPv4 lease of ipi1, destroyed above, may not have expired yet)."""
    return {row for row in rows(doctor(lab)[1]) if row[2].startswith("lease fd00:")}


def test_doctor_checks_the_real_dhcpv6_leases_against_the_plan(lab: LabSession) -> None:
    """sno1's and sno6's DHCPv6 leases, as dnsmasq wrote them, are planned: silent. A stray lease (an address no
    stack plans) and sno1's node on another address, written into the lease file with dnsmasq stopped as a killed
    cluster or a hand edit would leave them, are found; --remove-orphans removes the stray one, the printed fix
    the other, and the lease file holds the planned leases alone again."""
    started = time.monotonic()
    lines = lab.ssh(JUMPHOST, f"cat {LEASES}").splitlines()
    v6 = lines[next(i for i, line in enumerate(lines) if line.startswith("duid ")) + 1:]
    sno1 = next(line.split() for line in v6 if line.split()[2] == PLANNED6)
    assert {line.split()[2] for line in v6} >= {PLANNED6, PLANNED6_ONLY}
    assert lease6_rows(lab) == set()
    stray = "0 4242 fd00:16::46 stray 00:01:00:01:2e:b8:37:c1:52:54:00:0b:0b:0b"
    moved = f"0 {sno1[1]} fd00:16::35 {sno1[3]} {sno1[4]}"  # the node's own DUID: another address than planned
    lab.ssh(JUMPHOST, f"{DNSMASQ} stop && printf '%s\n' '{stray}' '{moved}' >> {LEASES} && {DNSMASQ} start")
    node_mac, name = node(lab)["macs"]["baremetal"], "" if sno1[3] == "*" else f" {sno1[3]}"
    assert lease6_rows(lab) == {
        ("orphan", "jumphost", "lease fd00:16::46 stray 52:54:00:0b:0b:0b", None),
        ("differs", "jumphost", f"lease fd00:16::35{name} of sno ({node_mac}), planned {PLANNED6}", "sno1")}
    _, report = doctor(lab, "--remove-orphans")
    assert [r["what"] for r in report["removed"] if r["ok"] and r["what"].startswith("lease fd00:")] == [
        "lease fd00:16::46 stray 52:54:00:0b:0b:0b"]
    (differs,) = [f for f in report["findings"] if f["kind"] == "differs" and f["what"].startswith("lease fd00:")]
    run_fix(lab, differs["fix"])
    assert lease6_rows(lab) == set()
    left = lab.ssh(JUMPHOST, f"cat {LEASES}")
    assert "fd00:16::46" not in left and "fd00:16::35" not in left and f" {PLANNED6} " in left
    lab.note("doctor on the DHCPv6 leases: the step (s)", time.monotonic() - started)


def test_ocplab_plan_counts_the_ipv6_addresses_of_the_deployed_slices(lab: LabSession) -> None:
    result = lab.jumphost([str(PROJECT / "bin" / "ocplab"), "plan", "--lab", "simlab", "--json"], timeout=120)
    assert result.returncode == 0, result.stderr
    slices = {s["cluster"]: s for s in json.loads(result.stdout)["slices"]}
    assert {k: slices["sno1"][k] for k in ("used", "range6", "used6", "size6", "free6")} == {
        "used": 1, "range6": RANGES6["sno1"], "used6": 1, "size6": 8, "free6": 7}
    assert (slices["ipi1"]["used6"], slices["ipi1"]["size6"]) == (0, 16), "destroyed above: free in both"
    assert (slices["sno6"]["range"], slices["sno6"]["used"]) == (RANGE6_ONLY, 1) and "range6" not in slices["sno6"]


# --- the hypervisors in IPv6 (issue 27, item 3): address6 on br0, in DNS, and BMCs on it ------------------------

HV6 = {"hv1": "fd00:16::b", "hv2": "fd00:16::c"}  # what simlab/topology.py gives each hypervisor's eth0 profile
# A Redfish slice on hv2 with no cluster: the lab stack installs sushy-tools there and its certificate.
RF6 = {"hypervisor": "hv2", "range": "192.168.16.56-192.168.16.63", "bmc": "redfish", "bmc_ports": "8100-8100"}
PROBE, PROBE_NODE = "v6probe", "node"  # a BMC of the probe's own domain (v6probe-node), as a cluster stack makes it
PROBE_XML = ("<domain type='qemu'><name>v6probe-node</name><memory unit='MiB'>16</memory><vcpu>1</vcpu>"
             "<os><type arch='x86_64'>hvm</type></os></domain>")


def addresses(lab: LabSession, host: str, device: str) -> set[str]:
    """The global addresses on a device of a lab host, in both families (`ip -o addr`)."""
    shown = lab.ssh(host, f"ip -o addr show dev {device} scope global")
    return set(re.findall(r"\binet6? (\S+)", shown))


def holds(lab: LabSession, host: str, device: str, wanted: set[str]) -> bool:
    return addresses(lab, host, device) == wanted


def pings6(lab: LabSession, address: str) -> bool:
    return lab.jumphost(["ping", "-6", "-c", "1", "-W", "1", address], timeout=30).returncode == 0


def test_hypervisors_given_address6_carry_it_on_br0_and_are_named_in_both_families(lab: LabSession) -> None:
    hypervisors = stack_value(lab, "simlab", "ocplab:hypervisors")
    for hv in hypervisors:
        hv["address6"] = HV6[hv["name"]]
    lab.edit_stack("simlab", {"ocplab:hypervisors": hypervisors,
                              "ocplab:slices": {**stack_value(lab, "simlab", "ocplab:slices"), "rf6": RF6}})
    started = time.monotonic()
    lab.up("simlab")
    lab.note("hypervisors' address6 (and sushy-tools on hv2): pulumi up -s simlab (s)", time.monotonic() - started)
    for name, ip in (("hv1", HV1), ("hv2", HV2)):
        assert addresses(lab, ip, "br0") == {f"{ip}/24", f"{HV6[name]}/64"}, name
        assert addresses(lab, ip, "eth0") == set(), f"{name}: eth0 is br0's port, with no address of its own"
        wait_for(f"{name} answering ping over IPv6", partial(pings6, lab, HV6[name]), 30, 0.5)
        assert lab.outputs("simlab")["hypervisors"][name]["address6"] == HV6[name]
        assert aaaa(lab, f"{name}.simlab.test") == [HV6[name]]
        assert dig(lab, f"{name}.simlab.test") == [ip], "its A answer is kept"
        assert dig(lab, HV6[name], reverse=True) == [f"{name}.simlab.test."]
    cert = lab.ssh(HV2, "openssl x509 -in /etc/ocplab/sushy/tls/cert.pem -noout -ext subjectAltName")
    assert f"IP Address:{HV2}, IP Address:FD00:16:0:0:0:0:0:C" in cert, cert


def test_bmcs_answer_on_a_hypervisors_ipv6_address(lab: LabSession, tmp_path: Path) -> None:
    """The scripts a cluster stack runs for its BMCs, with the hypervisor's IPv6 address (an IPv6-only cluster's):
    virtualbmc answers IPMI and sushy-tools Redfish there, from the jumphost, over IPv6."""
    password = secrets.token_urlsafe(12)
    lab.ssh(HV2, f"printf '%s' \"{PROBE_XML}\" > /tmp/v6probe.xml && virsh -q define /tmp/v6probe.xml")
    uuid = lab.virsh(HV2, "domuuid", "v6probe-node").strip()
    ipmi = BmcPlan(address=HV6["hv2"], ports={PROBE_NODE: 6249})
    redfish = BmcPlan(address=HV6["hv2"], ports={PROBE_NODE: 8100}, kind="redfish", port=8100)
    try:
        for sync in (vbmc_sync_script(PROBE, ipmi), sushy_sync_script(PROBE, redfish, [uuid])):
            done = ssh_run(HV2, sync, input=password + "\n", timeout=120)
            assert done.returncode == 0, done.stderr
        argv = [require_tool("ipmitool", "the Debian package ipmitool"), "-I", "lanplus", "-H", HV6["hv2"], "-p",
                "6249", "-U", "admin", "-E", "power", "status"]
        answered = run_in_jumphost(argv, env={**lab.env(), "IPMI_PASSWORD": password}, timeout=120)
        assert (answered.returncode, answered.stdout.strip()) == (0, "Chassis Power is off"), answered.stderr
        cafile = tmp_path / "hv2-cert.pem"
        cafile.write_text(lab.ssh(HV2, "cat /etc/ocplab/sushy/tls/cert.pem"))
        argv = [require_tool("curl", "the Debian package curl"), "-sS", "-g", "--cacert", str(cafile), "-K", "-",
                f"https://[{HV6['hv2']}]:8100/redfish/v1/Systems"]
        listed = run_in_jumphost(argv, input=f'user = "admin:{password}"\n', timeout=120)
        assert listed.returncode == 0, listed.stderr
        assert [m["@odata.id"] for m in json.loads(listed.stdout)["Members"]] == [f"/redfish/v1/Systems/{uuid}"]
    finally:
        for remove in (vbmc_remove_script(PROBE), sushy_remove_script(PROBE)):
            ssh_run(HV2, remove, timeout=120)
        lab.virsh(HV2, "undefine", "v6probe-node")


def test_a_preview_after_the_hypervisors_address6_wants_no_change(lab: LabSession) -> None:
    for stack in ("simlab", "sno1", "sno6"):
        lab.pulumi.preview(stack, "--expect-no-changes")


IPI6_RANGE, IPI6_BMC_PORTS = "fd00:16::50-fd00:16::5f", "6250-6259"


def test_an_ipv6_only_ipi_clusters_bmcs_answer_on_its_hypervisors_ipv6_address(lab: LabSession) -> None:
    """Through pulumi up: an IPv6-only IPI cluster (defined, not started) on hv1, which now has address6: its
    planned BMCs listen there, IPMI answers over IPv6 from the jumphost, and its preview wants no change."""
    slices = stack_value(lab, "simlab", "ocplab:slices")
    lab.edit_stack("simlab", {"ocplab:slices": {**slices, "ipi6": {"hypervisor": "hv1", "range6": IPI6_RANGE,
                                                                   "bmc_ports": IPI6_BMC_PORTS}}})
    lab.up("simlab")
    ipi = yaml.safe_load((lab.project / "stacks" / "Pulumi.ipi1.yaml").read_text())
    (lab.project / "stacks" / "Pulumi.ipi6.yaml").write_text(yaml.safe_dump(
        {"config": {**ipi["config"], "ocplab:start": False}, "encryptionsalt": ipi["encryptionsalt"]},
        sort_keys=False))
    lab.pulumi.ensure_stack("ipi6")
    started = time.monotonic()
    lab.up("ipi6")
    lab.note("IPv6-only IPI, defined only: pulumi up -s ipi6 (s)", time.monotonic() - started)
    out = lab.outputs("ipi6", show_secrets=True)
    assert out["bmc"]["address"] == HV6["hv1"] and "api_vip" not in out
    assert all("ip" not in n and n["ip6"].startswith("fd00:16::5") for n in out["nodes"])
    port = out["bmc"]["nodes"]["master-0"]["port"]
    argv = [require_tool("ipmitool", "the Debian package ipmitool"), "-I", "lanplus", "-H", HV6["hv1"], "-p",
            str(port), "-U", out["bmc"]["user"], "-E", "power", "status"]
    answered = run_in_jumphost(argv, env={**lab.env(), "IPMI_PASSWORD": out["bmc"]["password"]}, timeout=120)
    assert (answered.returncode, answered.stdout.strip()) == (0, "Chassis Power is off"), answered.stderr
    key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKu3 e2e"
    document = yaml.safe_load(render_install_config(out, '{"auths": {}}', key))
    bmcs = {host["name"]: host["bmc"]["address"] for host in document["platform"]["baremetal"]["hosts"]}
    assert bmcs["master-0"] == f"ipmi://[{HV6['hv1']}]:{port}"
    lab.pulumi.preview("ipi6", "--expect-no-changes")
    lab.pulumi.destroy("ipi6")


def test_the_labs_destroy_puts_both_addresses_back_on_each_hypervisors_nic(lab: LabSession) -> None:
    for cluster in ("sno1", "sno6"):
        lab.pulumi.destroy(cluster)
    started = time.monotonic()
    lab.pulumi.destroy("simlab")
    lab.note("dual-stack lab with the hypervisors' address6: pulumi destroy -s simlab (s)", time.monotonic() - started)
    for name, ip in (("hv1", HV1), ("hv2", HV2)):
        both = {f"{ip}/24", f"{HV6[name]}/64"}
        wait_for(f"{name}'s eth0 holding both addresses", partial(holds, lab, ip, "eth0", both), 30, 0.5)
        assert lab.ssh(ip, "ls /sys/class/net").split().count("br0") == 0


def test_the_iproute2_backend_moves_the_ipv6_address_to_br0_and_back(lab: LabSession) -> None:
    """Hosts without NetworkManager: the same scripts over SSH, as test_lab_and_clusters does for IPv4."""
    lab.ssh(HV1, "nmcli dev set eth0 managed no")
    try:
        lab.ssh(HV1, bridge_create_script("iproute2", "eth0", "br0", HV6["hv1"]))
        assert addresses(lab, HV1, "br0") == {f"{HV1}/24", f"{HV6['hv1']}/64"}
        assert addresses(lab, HV1, "eth0") == set()
        lab.ssh(HV1, bridge_create_script("iproute2", "eth0", "br0", HV6["hv1"]))  # again: nothing changes
        assert addresses(lab, HV1, "br0") == {f"{HV1}/24", f"{HV6['hv1']}/64"}
        assert "carries its IPv6 addresses again" in lab.ssh(HV1, bridge_delete_script("iproute2", "eth0", "br0",
                                                                                        HV6["hv1"]))
        assert addresses(lab, HV1, "eth0") == {f"{HV1}/24", f"{HV6['hv1']}/64"}
    finally:
        lab.ssh(HV1, "nmcli dev set eth0 managed yes")


def test_a_lab_made_with_the_hypervisors_address6_bridges_both_and_its_destroy_gives_both_back(
        lab: LabSession) -> None:
    """The create path (the steps above took the update path: address6 added to deployed bridges)."""
    wait_for("hv1's eth0 managed by NetworkManager again", partial(holds, lab, HV1, "eth0", {
        f"{HV1}/24", f"{HV6['hv1']}/64"}), 30, 0.5)
    started = time.monotonic()
    lab.up("simlab")
    lab.note("a lab made with the hypervisors' address6: pulumi up -s simlab (s)", time.monotonic() - started)
    for name, ip in (("hv1", HV1), ("hv2", HV2)):
        assert addresses(lab, ip, "br0") == {f"{ip}/24", f"{HV6[name]}/64"}, name
        wait_for(f"{name} answering ping over IPv6", partial(pings6, lab, HV6[name]), 30, 0.5)
    lab.pulumi.preview("simlab", "--expect-no-changes")
    lab.pulumi.destroy("simlab")
    for name, ip in (("hv1", HV1), ("hv2", HV2)):
        wait_for(f"{name}'s eth0 holding both addresses", partial(holds, lab, ip, "eth0", {
            f"{ip}/24", f"{HV6[name]}/64"}), 30, 0.5)
