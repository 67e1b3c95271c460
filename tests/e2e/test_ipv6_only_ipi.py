"""On a simulated lab in IPv6 alone: an IPv6-only IPI cluster booted through `pulumi up` (issue 27, item 6).

ipi1's shape (a provisionhost, three masters, two workers, IPMI BMCs) on a slice with `range6` alone: the
provisionhost boots and takes its planned DHCPv6 lease and no DHCPv4 one; dnsmasq names every node, api, api-int
and *.apps in AAAA and PTR and no A; master-0's BMC listens on the hypervisor's IPv6 address and answers
`ipmitool -I lanplus` from the jumphost and from a stand-in on the cluster's own bridge at the bootstrap VM's
address (where the installer's provisioning services ask), and its power off/on stops and starts that domain;
install-config brackets the BMC addresses; the DCI hand-off's inventory is IPv6-only and its BMC fields answer;
the preview after up wants no change; the cluster's destroy leaves no domain, BMC or dnsmasq entry.
Steps build on each other in file order.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import yaml

from renderers.dnsmasq_layout import cluster_files
from renderers.install_config import render_install_config
from simlab.clients import run_in_jumphost
from tests.e2e.lab_helpers import LabSession, dig, inventory_listing, lab_session, stand_in_node, wait_for
from tests.e2e.test_ipv6_only_lab import HV6, JUMPHOST6, MAC, answers, lease_lines, make_ipv6_only
from tests.tools import require_tool

pytestmark = pytest.mark.simlab

CLUSTER, RANGE6, BMC_PORTS = "ipi6", "fd00:16::20-fd00:16::2f", "6230-6239"
HV1, HV2 = HV6["hv1"], HV6["hv2"]
# A one-node cluster on hv2 with a Redfish BMC (sushy-tools), defined and not started: its BMC starts it.
RF6, RF6_SLICE = "rf6", {"hypervisor": "hv2", "range6": "fd00:16::30-fd00:16::31", "bmc": "redfish",
                         "bmc_ports": "8100-8100"}
SUSHY_LIST = "/opt/ocplab/sushy/bin/python /etc/ocplab/sushy/bin/ocplab_sushy.py list"
OUTPUTS: dict[str, dict[str, Any]] = {}
UP_STARTED: dict[str, float] = {}  # when the clusters' `pulumi up` began: the lease step measures from there
VBMC_LIST = "VIRTUALBMC_CONFIG=/etc/ocplab/vbmc/virtualbmc.conf /opt/ocplab/vbmc/bin/vbmc list -f value"


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabSession]:
    yield from lab_session(tmp_path_factory, ipv6_only=True)


def outputs(lab: LabSession, stack: str = CLUSTER) -> dict[str, Any]:
    """A cluster stack's outputs, secrets shown, read once after its `up` (each read is a `pulumi stack output`;
    the previews show they do not change)."""
    if stack not in OUTPUTS:
        OUTPUTS[stack] = lab.outputs(stack, show_secrets=True)
    return OUTPUTS[stack]


def provisionhost(lab: LabSession) -> dict[str, Any]:
    found: dict[str, Any] = next(n for n in outputs(lab)["nodes"] if n["role"] == "provisionhost")
    return found


def ipmitool(lab: LabSession, port: int, *command: str, prefix: tuple[str, ...] = (),
             bmc: dict[str, Any] | None = None) -> subprocess.CompletedProcess[str]:
    """ipmitool over IPMI 2.0 to a BMC on hv1's IPv6 address (`bmc`: the stack's output, read if not given); the
    password in IPMI_PASSWORD (-E), never argv. From the jumphost namespace, or through `prefix` (a stand-in's)."""
    bmc = bmc or outputs(lab)["bmc"]
    argv = [require_tool("ipmitool", "the Debian package ipmitool"), "-I", "lanplus", "-H", HV1, "-p", str(port),
            "-U", bmc["user"], "-E", *command]
    if not prefix:
        return run_in_jumphost(argv, env={**lab.env(), "IPMI_PASSWORD": bmc["password"]}, timeout=120)
    return subprocess.run([*prefix, *argv], env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
                                                 "IPMI_PASSWORD": bmc["password"]},
                          capture_output=True, text=True, timeout=120, check=False)


def domstate(lab: LabSession, domain: str) -> str:
    return lab.virsh(HV1, "domstate", domain).strip()


def leased6(lab: LabSession) -> bool:
    lease6 = lab.console(HV1, f"{CLUSTER}-provisionhost").leases6.get("eth0")
    return lease6 is not None and lease6.ip6 == provisionhost(lab)["ip6"]


def test_an_ipv6_only_ipi_cluster_comes_up_on_the_ipv6_only_lab(lab: LabSession) -> None:
    make_ipv6_only(lab)
    lab.edit_stack("simlab", {"ocplab:slices": {CLUSTER: {"hypervisor": "hv1", "range6": RANGE6,
                                                          "bmc_ports": BMC_PORTS}, RF6: RF6_SLICE}})
    started = time.monotonic()
    lab.up("simlab")
    lab.note("IPv6-only lab with vbmcd on hv1 and sushy-tools on hv2: pulumi up -s simlab (s)",
             time.monotonic() - started)
    sno = yaml.safe_load((lab.project / "stacks" / "Pulumi.sno1.yaml").read_text())
    (lab.project / "stacks" / f"Pulumi.{RF6}.yaml").write_text(yaml.safe_dump(
        {"config": {**sno["config"], "ocplab:hypervisor": "hv2", "ocplab:start": False},
         "encryptionsalt": sno["encryptionsalt"]}, sort_keys=False))
    ipi = yaml.safe_load((lab.project / "stacks" / "Pulumi.ipi1.yaml").read_text())
    provision = {**ipi["config"]["ocplab:provisionhost"], "run_commands": [
        "echo provisioned > /tmp/ocplab-provisioned"]}  # ipi1's fetch from the outside: no way out in IPv6 alone
    (lab.project / "stacks" / f"Pulumi.{CLUSTER}.yaml").write_text(yaml.safe_dump(
        {"config": {**ipi["config"], "ocplab:provisionhost": provision}, "encryptionsalt": ipi["encryptionsalt"]},
        sort_keys=False))
    for stack in (CLUSTER, RF6):
        lab.pulumi.ensure_stack(stack)
    UP_STARTED[CLUSTER] = started = time.monotonic()
    lab.up_parallel([CLUSTER, RF6])
    lab.note("IPv6-only IPI: pulumi up ipi6 (6 nodes + 5 BMCs) and rf6 (1 node + Redfish) at once (s)",
             time.monotonic() - started)
    out = outputs(lab)
    assert "api_vip" not in out and out["bmc"]["address"] == HV1 and out["bmc"]["kind"] == "ipmi"
    assert [n["name"] for n in out["nodes"]] == ["provisionhost", "master-0", "master-1", "master-2", "worker-0",
                                                 "worker-1"]
    assert all("ip" not in n and n["ip6"].startswith("fd00:16::2") for n in out["nodes"])
    assert sorted(lab.virsh(HV1, "list", "--name").split()) == sorted(f"{CLUSTER}-{n['name']}" for n in out["nodes"])
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(lambda stack: lab.pulumi.preview(stack, "--expect-no-changes"), [CLUSTER, RF6]))


def test_dnsmasq_names_every_node_and_vip_in_aaaa_and_ptr_and_no_a(lab: LabSession) -> None:
    out = outputs(lab)
    named = [(n["fqdn"], n["ip6"]) for n in out["nodes"]] + [
        (f"api.{CLUSTER}.simlab.test", out["api_vip6"]), (f"api-int.{CLUSTER}.simlab.test", out["api_vip6"]),
        (f"console.apps.{CLUSTER}.simlab.test", out["ingress_vip6"])]
    for name, ip6 in named:
        assert answers(lab, name) == ([], [ip6]), name
    for name, ip6 in [*named[:len(out["nodes"])], named[-3]]:
        assert dig(lab, ip6, reverse=True, server=JUMPHOST6)[:1] == [f"{name}."], ip6


def test_master_0s_bmc_answers_on_the_hypervisors_ipv6_address_and_switches_its_domain(lab: LabSession) -> None:
    port = outputs(lab)["bmc"]["nodes"]["master-0"]["port"]
    answered = ipmitool(lab, port, "power", "status")
    assert (answered.returncode, answered.stdout.strip()) == (0, "Chassis Power is on"), answered.stderr
    bootstrap6 = outputs(lab)["assignments"]["bootstrap"]["ip6"]
    with stand_in_node("ocplab-hv1", "br0", f"{bootstrap6}/64") as run_in:
        wait_for("the stand-in's address past DAD", lambda: not subprocess.run(
            [*run_in, "ip", "-6", "addr", "show", "tentative"], capture_output=True, text=True, check=False,
            timeout=30).stdout.strip(), 10, 0.2)
        from_cluster = ipmitool(lab, port, "power", "status", prefix=tuple(run_in))
    assert (from_cluster.returncode, from_cluster.stdout.strip()) == (0, "Chassis Power is on"), from_cluster.stderr
    started = time.monotonic()
    assert ipmitool(lab, port, "power", "off").returncode == 0
    wait_for("master-0 to be shut off", lambda: domstate(lab, f"{CLUSTER}-master-0") == "shut off", 60, 0.2)
    lab.note("IPv6-only IPI: ipmitool power off -> domain shut off (s)", time.monotonic() - started)
    assert domstate(lab, f"{CLUSTER}-master-1") == "running"
    assert ipmitool(lab, port, "power", "status").stdout.strip() == "Chassis Power is off"
    assert ipmitool(lab, port, "power", "on").returncode == 0
    wait_for("master-0 to run again", lambda: domstate(lab, f"{CLUSTER}-master-0") == "running", 60, 0.2)


def redfish(lab: LabSession, cafile: Path, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    """curl from the jumphost namespace to rf6's emulator on hv2's IPv6 address, bracketed (-g); TLS checked
    against the hypervisor's certificate, the credentials in curl's config on stdin."""
    bmc = outputs(lab, RF6)["bmc"]
    argv = [require_tool("curl", "the Debian package curl"), "-sS", "-g", "--cacert", str(cafile), "-K", "-",
            "-w", "\n%{http_code}", f"https://[{HV2}]:{bmc['port']}{path}"]
    if body is not None:
        argv += ["-X", "POST", "-H", "Content-Type: application/json", "--data", json.dumps(body)]
    done = run_in_jumphost(argv, input=f'user = "{bmc["user"]}:{bmc["password"]}"\n', timeout=120)
    assert done.returncode == 0, done.stderr
    text, _, code = done.stdout.rpartition("\n")
    return int(code), json.loads(text) if text.strip() else None


def test_a_redfish_bmc_on_the_hypervisors_ipv6_address_powers_its_node_on_and_off(lab: LabSession,
                                                                                  tmp_path: Path) -> None:
    bmc = outputs(lab, RF6)["bmc"]
    assert (bmc["kind"], bmc["address"]) == ("redfish", HV2)
    cafile = tmp_path / "hv2-cert.pem"
    cafile.write_text(lab.ssh(HV2, "cat /etc/ocplab/sushy/tls/cert.pem"))
    uuid, domain = outputs(lab, RF6)["nodes"][0]["uuid"], f"{RF6}-sno"
    code, listed = redfish(lab, cafile, "/redfish/v1/Systems")
    assert code == 200 and [m["@odata.id"] for m in listed["Members"]] == [f"/redfish/v1/Systems/{uuid}"]
    assert lab.virsh(HV2, "domstate", domain).strip() == "shut off", "defined, not started"
    reset = f"/redfish/v1/Systems/{uuid}/Actions/ComputerSystem.Reset"
    assert redfish(lab, cafile, reset, {"ResetType": "On"})[0] == 204
    wait_for(f"{domain} running", lambda: lab.virsh(HV2, "domstate", domain).strip() == "running", 60, 0.2)
    assert redfish(lab, cafile, reset, {"ResetType": "ForceOff"})[0] == 204
    wait_for(f"{domain} shut off", lambda: lab.virsh(HV2, "domstate", domain).strip() == "shut off", 60, 0.2)


def test_install_config_brackets_the_ipv6_bmc_addresses(lab: LabSession) -> None:
    out = outputs(lab)
    key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKu3 e2e"
    document = yaml.safe_load(render_install_config(out, '{"auths": {}}', key))
    bmcs = {host["name"]: host["bmc"]["address"] for host in document["platform"]["baremetal"]["hosts"]}
    assert bmcs == {name: f"ipmi://[{HV1}]:{entry['port']}" for name, entry in out["bmc"]["nodes"].items()}
    assert document["platform"]["baremetal"]["apiVIPs"] == [out["api_vip6"]]


def test_the_dci_handoff_writes_an_ipv6_only_inventory_whose_bmc_fields_answer(lab: LabSession,
                                                                                tmp_path: Path) -> None:
    root = tmp_path / "inventories"
    result = lab.jumphost([sys.executable, "-m", "tools.dci_handoff", CLUSTER, "--pool", "simlab",
                           "--root", str(root)])
    assert result.returncode == 0, result.stderr
    listed = inventory_listing(lab, root / "simlab" / CLUSTER)
    out = outputs(lab)
    every = listed["_meta"]["hostvars"]
    assert (every["master-0"]["ipv6_enabled"], every["master-0"]["ipv4_baremetal"]) == (True, False)
    assert every["master-0"]["apivip"] == out["api_vip6"]
    for name, entry in out["bmc"]["nodes"].items():
        assert (every[name]["ipmi_address"], every[name]["ipmi_port"]) == (HV1, entry["port"]), name
    worker = every["worker-1"]
    answer = ipmitool(lab, worker["ipmi_port"], "power", "status")
    assert answer.stdout.strip() == "Chassis Power is on", answer.stderr


def test_the_provisionhost_takes_its_planned_dhcpv6_lease_and_no_dhcpv4_one(lab: LabSession) -> None:
    """Checked after the steps above, which run while the guests boot (about a minute under TCG)."""
    wait_for("the provisionhost's DHCPv6 lease", partial(leased6, lab), 300, 1)
    lab.note("IPv6-only IPI: from pulumi up -s ipi6 to the provisionhost's DHCPv6 lease (s)",
             time.monotonic() - UP_STARTED[CLUSTER])
    console = partial(lab.console, HV1, f"{CLUSTER}-provisionhost")
    wait_for("the provisionhost's DHCPv4 client giving up", lambda: "eth0" in console().no_lease, 60, 1)
    report = console()
    assert report.leases6["eth0"].mac == provisionhost(lab)["macs"]["baremetal"]
    assert report.leases6["eth0"].dns == (JUMPHOST6,) and "eth0" not in report.leases
    leases = lease_lines(lab)
    assert any(fields[2:3] == [provisionhost(lab)["ip6"]] for fields in leases), leases
    assert not [f for f in leases if re.fullmatch(MAC, f[1] if len(f) > 1 else "")], f"a DHCPv4 lease: {leases}"


def test_the_clusters_destroy_leaves_no_domain_bmc_or_dnsmasq_entry(lab: LabSession) -> None:
    out = outputs(lab)
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(lab.pulumi.destroy, [CLUSTER, RF6]))
    lab.note("IPv6-only IPI: pulumi destroy ipi6 and rf6 at once (s)", time.monotonic() - started)
    assert lab.virsh(HV1, "list", "--all", "--name").split() == []
    assert lab.ssh(HV1, VBMC_LIST).strip() == ""
    assert ipmitool(lab, out["bmc"]["nodes"]["master-0"]["port"], "-R", "1", "-N", "1", "power", "status",
                    bmc=out["bmc"]).returncode != 0, "its BMC's port is closed"
    files = " ".join([*cluster_files(CLUSTER).values(), *cluster_files(RF6).values()])
    assert lab.ssh(JUMPHOST6, f"ls {files} 2>/dev/null || true").strip() == "", "their dnsmasq files are gone"
    for name in [n["fqdn"] for n in out["nodes"]] + [f"{api}.{CLUSTER}.simlab.test" for api in ("api", "api-int")] \
            + [f"console.apps.{CLUSTER}.simlab.test"]:
        assert answers(lab, name) == ([], []), name
    planned = {n["ip6"] for n in out["nodes"]}
    assert not [f for f in lease_lines(lab) if f[2:3] and f[2] in planned], "its DHCPv6 leases are dropped"
    assert lab.virsh(HV2, "list", "--all", "--name").split() == []
    assert lab.ssh(HV2, SUSHY_LIST).strip() == "", "its emulator is gone"
