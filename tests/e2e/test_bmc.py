"""On the simulated lab: the IPI nodes' virtual BMCs (virtualbmc, IPMI) and the hand-off to DCI, for real.

`pulumi up` of the lab stack starts vbmcd on each hypervisor, and of the cluster stack adds one BMC
per master and worker (password on stdin). From the jumphost namespace,
ipmitool reads and switches each node's power, which must stop and start exactly that libvirt
domain; a wrong password is refused. The hand-off writes the inventory ansible-inventory reads,
with BMC fields that work. Destroying the cluster closes its BMC ports. Steps build on each other.
"""

from __future__ import annotations

import json
import re
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from simlab.clients import run_in_jumphost
from tests.e2e.lab_helpers import PROJECT, LabSession, inventory_listing, wait_for
from tests.tools import require_tool

pytestmark = pytest.mark.simlab

HV1 = "192.168.16.11"
# hv1's own vbmcd processes: the simulated hosts share one PID namespace (pgrep alone also lists hv2's), each host
# has its own mount namespace.
OWN_VBMCD = ("for p in $(pgrep -f '[b]in/vbmcd'); do [ \"$(readlink /proc/$p/ns/mnt)\" = "
             "\"$(readlink /proc/self/ns/mnt)\" ] && echo $p; done; true")
VBMC_LIST = "VIRTUALBMC_CONFIG=/etc/ocplab/vbmc/virtualbmc.conf /opt/ocplab/vbmc/bin/vbmc list -f value"


def ipmitool(lab: LabSession, port: int, password: str, *command: str, user: str = "admin",
             options: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    """ipmitool over IPMI 2.0 (lanplus) from the jumphost; the password goes in IPMI_PASSWORD (-E), not argv.
    Its default retransmissions matter: vbmc answers `power off` once virsh destroy is done (~2 s under TCG)."""
    argv = [require_tool("ipmitool", "the Debian package ipmitool"), "-I", "lanplus", "-H", HV1, "-p", str(port),
            "-U", user, "-E", *options, *command]
    return run_in_jumphost(argv, env={**lab.env(), "IPMI_PASSWORD": password}, timeout=120, cwd=str(PROJECT))


def secret_outputs(lab: LabSession, stack: str) -> dict[str, Any]:
    return lab.outputs(stack, show_secrets=True)


def domstate(lab: LabSession, domain: str) -> str:
    return lab.virsh(HV1, "domstate", domain).strip()


def state_is(lab: LabSession, domain: str, state: str) -> Callable[[], bool]:
    return lambda: domstate(lab, domain) == state


def vbmc_list(lab: LabSession) -> dict[str, tuple[str, str]]:
    """vbmc's own view on hv1: domain -> (status, port)."""
    rows = [line.split() for line in lab.ssh(HV1, VBMC_LIST).splitlines() if line.strip()]
    return {row[0]: (row[1], row[-1]) for row in rows}


def bmc_ports(lab: LabSession) -> dict[str, int]:
    return {node: int(entry["port"]) for node, entry in secret_outputs(lab, "ipi1")["bmc"]["nodes"].items()}


def test_lab_and_ipi_cluster_come_up_with_one_running_bmc_per_master_and_worker(lab: LabSession) -> None:
    lab.up("simlab")
    assert "vbmcd" in lab.ssh(HV1, "pgrep -af '[b]in/vbmcd'")
    started = time.monotonic()
    lab.up("ipi1")
    lab.note("pulumi up -s ipi1, 6 nodes + 5 BMCs (s)", time.monotonic() - started)
    assert lab.outputs("ipi1")["bmc"] == "[secret]"
    bmc = secret_outputs(lab, "ipi1")["bmc"]
    assert {k: v for k, v in bmc.items() if k != "password"} == {"kind": "ipmi", "address": HV1, "user": "admin",
                                                                  "nodes": {
        "master-0": {"port": 6230}, "master-1": {"port": 6231}, "master-2": {"port": 6232},
        "worker-0": {"port": 6233}, "worker-1": {"port": 6234}}}
    listed = vbmc_list(lab)
    assert listed == {f"ipi1-{node}": ("running", str(port)) for node, port in bmc_ports(lab).items()}


def test_secrets_are_nowhere_in_state_exports_logs_or_process_listings(lab: LabSession) -> None:
    password = secret_outputs(lab, "ipi1")["bmc"]["password"]
    assert len(password) == 20
    key = (PROJECT / ".simlab/ssh/id_ed25519").read_text()
    key_body = "".join(key.strip().splitlines()[1:-1])
    state_files = [p for p in lab.pulumi.backend.rglob("*") if p.is_file()]
    assert state_files
    for secret in (password, key_body[80:140]):  # past the header every ed25519 key shares
        for path in state_files:
            assert secret not in path.read_text(errors="replace"), f"a secret in plaintext in {path}"
        for stack in ("simlab", "ipi1"):
            assert secret not in json.dumps(lab.pulumi.export(stack)), f"a secret in pulumi stack export -s {stack}"
        shown = [t for t in lab.pulumi.transcript if "--show-secrets" not in t.split("\n", 1)[0]]
        assert secret not in "".join(shown), "a secret in the output of a pulumi command"
    assert password not in lab.ssh(HV1, "cat /var/log/ocplab-vbmcd.log; ps -eo args")
    # The entries (with their passwords) are vbmcd's user's alone; the helper's records root's.
    assert lab.ssh(HV1, "cd /etc/ocplab/vbmc && stat -c '%n %a %U %G' . domains clusters").splitlines() == [
        ". 750 root ocplab-vbmc", "domains 700 ocplab-vbmc ocplab-vbmc", "clusters 700 root root"]


def test_vbmcd_and_its_bmcs_run_as_its_user_without_privileges(lab: LabSession) -> None:
    uid = lab.ssh(HV1, "id -u ocplab-vbmc").strip()
    assert uid != "0"
    pids = lab.ssh(HV1, OWN_VBMCD).split()
    assert len(pids) >= 6, pids  # vbmcd and one process per BMC
    for pid in pids:
        status = dict(line.split(":", 1) for line in lab.ssh(HV1, f"cat /proc/{pid}/status").splitlines())
        assert status["Uid"].split() == [uid] * 4, (pid, status["Uid"])  # real, effective, saved, filesystem
        assert status["CapEff"].strip() == "0000000000000000" and status["NoNewPrivs"].strip() == "1"


def test_each_bmc_reports_power_on(lab: LabSession) -> None:
    password = secret_outputs(lab, "ipi1")["bmc"]["password"]
    took = []
    for node, port in bmc_ports(lab).items():
        started = time.monotonic()
        result = ipmitool(lab, port, password, "power", "status")
        took.append(time.monotonic() - started)
        assert result.returncode == 0, f"{node}: {result.stderr}"
        assert result.stdout.strip() == "Chassis Power is on", node
    lab.note("ipmitool power status round trip incl. ip netns exec, mean (ms)", 1000 * sum(took) / len(took))


def test_power_off_stops_exactly_that_domain_and_power_on_starts_it(lab: LabSession) -> None:
    password = secret_outputs(lab, "ipi1")["bmc"]["password"]
    domains = [f"ipi1-{name}" for name in ("provisionhost", *bmc_ports(lab))]
    delays = []
    for node, port in bmc_ports(lab).items():
        target = f"ipi1-{node}"
        started = time.monotonic()
        result = ipmitool(lab, port, password, "power", "off")
        assert result.returncode == 0, result.stderr
        wait_for(f"{target} to be shut off", state_is(lab, target, "shut off"))
        delays.append(time.monotonic() - started)
        states = {d: domstate(lab, d) for d in domains}
        assert states == {d: "shut off" if d == target else "running" for d in domains}, states
        assert ipmitool(lab, port, password, "power", "status").stdout.strip() == "Chassis Power is off"
        result = ipmitool(lab, port, password, "power", "on")
        assert result.returncode == 0, result.stderr
        wait_for(f"{target} to run again", state_is(lab, target, "running"))
    lab.note("ipmitool power off -> virsh domstate shut off, mean (ms)", 1000 * sum(delays) / len(delays))
    lab.note("ipmitool power off -> virsh domstate shut off, worst (ms)", 1000 * max(delays))


def test_a_wrong_password_or_user_is_refused(lab: LabSession) -> None:
    password = secret_outputs(lab, "ipi1")["bmc"]["password"]
    wrong = password[:-1] + ("x" if password[-1] != "x" else "y")
    refused = ipmitool(lab, 6230, wrong, "power", "off", options=("-v",))
    assert refused.returncode != 0 and "RAKP 2 HMAC is invalid" in refused.stderr, refused.stderr
    assert domstate(lab, "ipi1-master-0") == "running"
    other_user = ipmitool(lab, 6230, password, "power", "off", user="root", options=("-R", "1", "-N", "1"))
    assert other_user.returncode != 0
    assert domstate(lab, "ipi1-master-0") == "running"


def test_a_second_up_keeps_every_bmc_and_its_password(lab: LabSession) -> None:
    before = secret_outputs(lab, "ipi1")["bmc"]
    listed = vbmc_list(lab)
    lab.pulumi.preview("ipi1", "--expect-no-changes")
    lab.up("ipi1", "--expect-no-changes")
    assert secret_outputs(lab, "ipi1")["bmc"] == before
    assert vbmc_list(lab) == listed


def test_handoff_writes_an_inventory_whose_bmc_fields_work(lab: LabSession, tmp_path: Path) -> None:
    root = tmp_path / "inventories"
    result = lab.jumphost([sys.executable, "-m", "tools.dci_handoff", "ipi1", "--pool", "simlab",
                           "--root", str(root)])
    assert result.returncode == 0, result.stderr
    path = root / "simlab" / "ipi1"
    assert f"{path} written" in result.stdout
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    listed = inventory_listing(lab, path)
    outputs = secret_outputs(lab, "ipi1")
    bmc = outputs["bmc"]
    nodes = {n["name"]: n for n in outputs["nodes"]}
    assert listed["masters"]["hosts"] == ["master-0", "master-1", "master-2"]
    assert listed["workers"]["hosts"] == ["worker-0", "worker-1"]
    assert listed["provisioner"]["hosts"] == ["provisionhost"]
    for name, entry in bmc["nodes"].items():
        got = listed["_meta"]["hostvars"][name]
        assert (got["ipmi_address"], got["ipmi_port"], got["ipmi_user"], got["ipmi_password"]) == (
            HV1, entry["port"], "admin", bmc["password"])
        assert (got["ansible_host"], got["provision_mac"]) == (nodes[name]["ip"], nodes[name]["macs"]["provisioning"])
    worker = listed["_meta"]["hostvars"]["worker-1"]
    answer = ipmitool(lab, worker["ipmi_port"], worker["ipmi_password"], "power", "status")
    assert answer.stdout.strip() == "Chassis Power is on", answer.stderr


@pytest.mark.parametrize(("stack", "message"), [
    ("sno1", "dci_handoff: stack sno1: pulumi stack output failed: error: no stack named 'sno1' found"),
    ("simlab", "dci_handoff: stack simlab is a lab stack; name a cluster stack"),
])
def test_handoff_refuses_undeployed_and_lab_stacks(lab: LabSession, tmp_path: Path, stack: str, message: str) -> None:
    result = lab.jumphost([sys.executable, "-m", "tools.dci_handoff", stack, "--pool", "simlab",
                           "--root", str(tmp_path / "inv")])
    assert result.returncode == 2
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1, result.stderr
    assert not (tmp_path / "inv").exists()


def udp_ports(lab: LabSession) -> set[int]:
    return {int(m) for m in re.findall(r":(\d+)\s", lab.ssh(HV1, "ss -Hunl"))}


def test_destroying_the_cluster_removes_its_bmcs_and_closes_their_ports(lab: LabSession) -> None:
    ports = set(bmc_ports(lab).values())
    assert ports <= udp_ports(lab)
    password = secret_outputs(lab, "ipi1")["bmc"]["password"]
    lab.pulumi.destroy("ipi1")
    assert vbmc_list(lab) == {}
    wait_for("the BMC processes to exit", lambda: not ports & udp_ports(lab), timeout=10)
    assert ipmitool(lab, 6230, password, "power", "status", options=("-R", "1", "-N", "1")).returncode != 0


def test_lab_destroy_stops_vbmcd_and_removes_its_files(lab: LabSession) -> None:
    lab.pulumi.destroy("simlab")
    left = lab.ssh(HV1, "ls -A /etc/ocplab/vbmc 2>/dev/null | wc -l; pgrep -f '[b]in/vbmcd' || echo none")
    assert left.split() == ["0", "none"]
    assert "ocplab-vbmc" not in lab.ssh(HV1, "getent passwd; getent group")
