"""On the simulated lab: `ocplab doctor` against deliberately made debris, and the faults it helps undo.

The lab and both clusters (defined, not started) are deployed with `pulumi up`. A clean lab has no
findings. Then debris is made by hand, as people and killed jobs leave it: a stray domain, volume
and provisioning network, a dnsmasq file of a cluster that has no stack, a hand-edited dnsmasq
file, and a cluster VM deleted by hand. doctor lists exactly those, with owners and fixes, and
changes nothing; `--remove-orphans` removes only what no stack owns; the printed fixes of the
rest, run as printed, bring the lab back: the deleted VM returns with its IP and MAC, and doctor
then finds nothing.
"""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from simlab.clients import run_in_jumphost
from simlab.pulumi_engine import ENGINE_BIN
from simlab.topology import SWITCH_NETNS
from tests.e2e.lab_helpers import JUMPHOST, PROJECT, LabSession, dig

pytestmark = pytest.mark.simlab

HV1 = "192.168.16.11"
STRAY_XML = """<domain type='qemu'><name>ipi1-worker-9</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>
<os><type arch='x86_64'>hvm</type></os><devices/></domain>"""
STRAY_NET = """<network><name>sno1-provisioning</name><bridge name='ocplab-stray0'/></network>"""


def doctor(lab: LabSession, *args: str) -> tuple[int, dict[str, Any]]:
    result = lab.jumphost([str(PROJECT / "bin" / "ocplab"), "doctor", "--lab", "simlab", "--json", *args],
                          timeout=300)
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, json.loads(result.stdout)


def rows(report: dict[str, Any]) -> set[tuple[str, str, str, str | None]]:
    return {(f["kind"], f["host"], f["what"], f["owner"]) for f in report["findings"]}


def run_fix(lab: LabSession, fix: str) -> None:
    """A printed fix, run as a user would paste it in their checkout on the jumphost (here the test's copy and
    backend; with no terminal to confirm on, `pulumi up` gets --yes)."""
    command = fix + (" --yes" if fix.startswith("pulumi up") else "")
    env = {**lab.env(), "PATH": f"{ENGINE_BIN}:{lab.env()['PATH']}"}
    result = run_in_jumphost(["sh", "-c", command], env=env, timeout=600, cwd=str(lab.project))
    assert result.returncode == 0, f"{fix}\n{result.stdout}\n{result.stderr}"


def test_a_clean_lab_has_no_findings(lab: LabSession) -> None:
    for stack in ("ipi1", "sno1"):
        lab.edit_stack(stack, {"ocplab:start": False})
    lab.up("simlab")
    lab.up_parallel(["ipi1", "sno1"])
    code, report = doctor(lab)
    assert (code, report["findings"]) == (0, [])


def test_debris_is_listed_with_owners_and_fixes_and_left_alone(lab: LabSession) -> None:
    lab.ssh(HV1, f"cat > /tmp/stray.xml <<'XML'\n{STRAY_XML}\nXML\nvirsh -q define /tmp/stray.xml >/dev/null")
    lab.ssh(HV1, "virsh -q vol-create-as ocplab ipi1-worker-9-root.qcow2 1M --format qcow2 >/dev/null")
    lab.ssh(HV1, f"cat > /tmp/stray-net.xml <<'XML'\n{STRAY_NET}\nXML\n"
                 "virsh -q net-define /tmp/stray-net.xml >/dev/null && virsh -q net-start sno1-provisioning >/dev/null")
    lab.ssh(JUMPHOST, "echo '# left by a killed job' > /etc/ocplab/dhcp-hosts/ipi9")
    lab.ssh(JUMPHOST, "echo '192.168.16.99 extra.ipi1.simlab.test' >> /etc/ocplab/hosts/ipi1")
    lab.ssh(HV1, "virsh -q undefine ipi1-master-2 >/dev/null")  # a cluster VM deleted by hand

    code, report = doctor(lab)
    assert code == 1
    assert rows(report) == {
        ("orphan", "hv1", "domain ipi1-worker-9", None),
        ("orphan", "hv1", "volume ipi1-worker-9-root.qcow2", None),
        ("orphan", "hv1", "network sno1-provisioning", None),
        ("orphan", "jumphost", "file /etc/ocplab/dhcp-hosts/ipi9", None),
        ("differs", "jumphost", "file /etc/ocplab/hosts/ipi1 (not the stack's output dnsmasq.hosts)", "ipi1"),
        ("missing", "hv1", "domain ipi1-master-2", "ipi1"),
    }
    assert "ipi1-worker-9" in lab.virsh(HV1, "list", "--all", "--name"), "doctor alone changes nothing"
    assert dig(lab, "extra.ipi1.simlab.test") == ["192.168.16.99"]


def test_remove_orphans_removes_only_what_no_stack_owns(lab: LabSession) -> None:
    code, report = doctor(lab, "--remove-orphans")
    assert code == 1
    assert sorted(r["what"] for r in report["removed"] if r["ok"]) == [
        "domain ipi1-worker-9", "file /etc/ocplab/dhcp-hosts/ipi9", "network sno1-provisioning",
        "volume ipi1-worker-9-root.qcow2"]
    assert {kind for kind, *_ in rows(report)} == {"differs", "missing"}
    assert "ipi1-worker-9" not in lab.virsh(HV1, "list", "--all", "--name")
    assert "sno1-provisioning" not in lab.virsh(HV1, "net-list", "--all", "--name")
    assert "ipi1-master-0" in lab.virsh(HV1, "list", "--all", "--name"), "nothing a stack owns is touched"


def test_the_printed_fixes_bring_the_lab_back(lab: LabSession) -> None:
    before = {n["name"]: (n["ip"], n["macs"]) for n in lab.outputs("ipi1")["nodes"]}
    _, report = doctor(lab)
    fixes = {f["kind"]: f["fix"] for f in report["findings"]}
    run_fix(lab, fixes["differs"])
    assert dig(lab, "extra.ipi1.simlab.test") == []
    run_fix(lab, fixes["missing"])
    assert "ipi1-master-2" in lab.virsh(HV1, "list", "--all", "--name")
    assert {n["name"]: (n["ip"], n["macs"]) for n in lab.outputs("ipi1")["nodes"]} == before, "same IP and MAC"
    code, report = doctor(lab)
    assert (code, report["findings"]) == (0, [])
    lab.pulumi.preview("ipi1", "--expect-no-changes")


def test_an_unreachable_hypervisor_is_one_finding_and_the_rest_is_audited(lab: LabSession) -> None:
    cable = ["ip", "-n", SWITCH_NETNS, "link", "set", "hv2"]  # hv2's port on the lab switch
    subprocess.run([*cable, "down"], check=True, capture_output=True)
    try:
        code, report = doctor(lab)
    finally:
        subprocess.run([*cable, "up"], check=True, capture_output=True)
    assert code == 1
    assert [(f["kind"], f["host"]) for f in report["findings"]] == [("unreachable", "hv2")]
    assert report["findings"][0]["what"].startswith("ssh root@192.168.16.12")
