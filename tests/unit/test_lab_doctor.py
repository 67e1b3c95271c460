"""`ocplab doctor`: the audit scripts' output parsed as virsh, vbmc and dnsmasq print it, one SSH
session per host with the lab's pinned access, --remove-orphans running only the fixes of orphans no
stack owns, and the exit codes scripts rely on (a stand-in `pulumi` and `ssh` answer)."""

from __future__ import annotations

import base64
import json
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from core.lab_audit import Lease
from core.lab_contract import parse_lab_outputs
from renderers.lab_audit_scripts import hypervisor_audit_script, jumphost_audit_script
from tests.tools import require_tool
from tests.unit.test_cli import DATA, fake_stacks
from tests.unit.test_lab_audit import NOW, clean_lab, cluster_outputs
from tools import lab_doctor
from tools.cli import app
from tools.lab_collect import Result, collect, parse_hypervisor, parse_jumphost, sections
from tools.lab_view import LabView

# What the hypervisor script printed on hv2 of the simulated lab (virsh -q ends a listing with an empty line).
HV2_OUTPUT = """\
### domains 0
sno1-sno
sno1-worker-9

### running 0
sno1-sno

### pools 0
ocplab

### volumes 0
 base-guest.qcow2      /var/lib/libvirt/ocplab/base-guest.qcow2
 sno1-sno-root.qcow2   /var/lib/libvirt/ocplab/sno1-sno-root.qcow2

### networks 0
default
ocplab-br0

### active-networks 0
ocplab-br0

### bmcs 0
sno1-sno running 192.168.16.12 6230
### bmc-records 0
sno1
### redfish 0
"""

JUMP_FILES = {
    "/etc/ocplab/dhcp-hosts/sno1": "# ocplab cluster sno1\n52:54:00:a8:10:30,192.168.16.48,sno.sno1.simlab.test\n",
    "/etc/ocplab/hosts/sno1": ""}
JUMP_OUTPUT = f"### now 0\n{NOW}\n" + "".join(
    f"### file {path} 0\n" + (base64.b64encode(text.encode()).decode() + "\n" if text else "")
    for path, text in JUMP_FILES.items()) + f"""\
### leases 0
{NOW + 3600} 52:54:00:a8:10:30 192.168.16.48 sno 01:52:54:00:a8:10:30
0 52:54:00:a8:10:23 192.168.16.35 * *
"""


def test_sections_split_on_headers_and_keep_the_status() -> None:
    parts = sections("### a 0\nx\n### b c 2\nerror: no\n")
    assert parts == {"a": (0, ["x"]), "b c": (2, ["error: no"])}


def test_the_hypervisor_output_parses_to_names() -> None:
    found = parse_hypervisor(HV2_OUTPUT)
    assert found.domains == ["sno1-sno", "sno1-worker-9"] and found.running == ["sno1-sno"]
    assert found.volumes == ["base-guest.qcow2", "sno1-sno-root.qcow2"]
    assert found.networks == ["default", "ocplab-br0"] and found.active_networks == ["ocplab-br0"]
    assert found.pools == ["ocplab"] and found.bmcs == ["sno1-sno"] and found.bmc_records == ["sno1"]
    assert found.errors == {}


def test_a_failed_listing_is_an_error_not_an_empty_list() -> None:
    text = HV2_OUTPUT.replace("### bmcs 0\nsno1-sno running 192.168.16.12 6230",
                              "### bmcs 1\nFailed to connect to the vbmcd server on port 50991, please make sure the "
                              "server is running")
    found = parse_hypervisor(text.replace("### bmc-records 0\nsno1\n", ""))
    assert found.bmcs is None and found.errors["bmcs"].startswith("Failed to connect to the vbmcd server")
    assert found.bmc_records is None and "bmc-records" in found.errors
    no_vbmc = parse_hypervisor(HV2_OUTPUT.replace("### bmcs 0\nsno1-sno running 192.168.16.12 6230",
                                                  "### bmcs 3\nno vbmc at /opt/ocplab/vbmc/bin/vbmc"))
    assert no_vbmc.bmcs == [] and no_vbmc.errors == {}  # no vbmc installed: no entries


def test_the_jumphost_output_parses_to_files_and_leases() -> None:
    found = parse_jumphost(JUMP_OUTPUT)
    assert found.now == NOW and found.files == JUMP_FILES and found.errors == {}
    assert found.leases == [Lease(NOW + 3600, "52:54:00:a8:10:30", "192.168.16.48", "sno"),
                            Lease(0, "52:54:00:a8:10:23", "192.168.16.35", "*")]


@pytest.mark.parametrize("make", [lambda: hypervisor_audit_script("ocplab"), jumphost_audit_script])
def test_the_audit_scripts_pass_shellcheck_as_rendered(make: Any) -> None:
    result = subprocess.run([require_tool("shellcheck", "the Debian package shellcheck"), "-s", "sh", "-e", "SC2034",
                             "-"], input=make(), capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout


def test_the_jumphost_script_reads_files_and_leases_and_changes_nothing(tmp_path: Path) -> None:
    """Run for real under sh against a directory tree standing in for /etc/ocplab."""
    dirs = [tmp_path / d for d in ("dhcp-hosts", "hosts", "dnsmasq.d")]
    for d in dirs:
        d.mkdir()
    (dirs[0] / "ipi1").write_text("a,b\n### not a header\n")
    (dirs[2] / "ipi1 x.conf").write_text("")
    (dirs[0] / ".ipi1.ocplab-new").write_text("staged")
    leases = tmp_path / "leases"
    leases.write_text("0 52:54:00:a8:10:23 192.168.16.35 * *\n")
    text = jumphost_audit_script()
    for name, value in (("dirs", " ".join(map(str, dirs))), ("lease_file", str(leases))):
        text = text.replace(f"\n{name}='", f"\n{name}='{value}'\n_{name}='")
    before = {p: p.read_text() for p in tmp_path.rglob("*") if p.is_file()}
    done = subprocess.run(["sh", "-s"], input=text, capture_output=True, text=True, check=True)
    found = parse_jumphost(done.stdout)
    assert found.files == {f"{dirs[0]}/ipi1": "a,b\n### not a header\n", f"{dirs[2]}/ipi1 x.conf": ""}
    assert found.leases == [Lease(0, "52:54:00:a8:10:23", "192.168.16.35", "*")] and found.now > 0
    assert {p: p.read_text() for p in tmp_path.rglob("*") if p.is_file()} == before


class FakeHosts:
    """Answers each ssh argv as the host named by its destination would."""

    def __init__(self, outputs: dict[str, str], down: set[str] | None = None) -> None:
        self.outputs, self.down = outputs, down or set()
        self.calls: list[tuple[list[str], str]] = []

    def __call__(self, argv: Sequence[str], stdin: str) -> Result:
        self.calls.append((list(argv), stdin))
        address = next(a for a in argv if "@" in a).split("@")[1]
        if address in self.down:
            return Result(255, "", f"ssh: connect to host {address} port 22: No route to host\n")
        if list(argv[-2:]) == ["sh", "-s"]:
            return Result(0, self.outputs[address], "")
        return Result(0, "ok\n", "")


def test_one_ssh_session_per_host_with_the_labs_pinned_access() -> None:
    lab = parse_lab_outputs("simlab", json.loads((DATA / "lab-outputs-simlab.json").read_text()))
    hosts = FakeHosts({"192.168.16.11": HV2_OUTPUT, "192.168.16.1": JUMP_OUTPUT}, down={"192.168.16.12"})
    found = collect(lab, hosts)
    assert sorted(argv[-3] for argv, _ in hosts.calls) == ["root@192.168.16.1", "root@192.168.16.11",
                                                          "root@192.168.16.12"]
    for argv, stdin in hosts.calls:
        assert argv[:9] == ["ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "-o", "StrictHostKeyChecking=yes",
                            "-o", "UserKnownHostsFile=/lab/known_hosts"] and argv[9:11] == ["-i", "/lab/key"]
        assert stdin.startswith("set -eu") and "listing" in stdin
    assert found.unreachable == {"hv2": "ssh: connect to host 192.168.16.12 port 22: No route to host"}
    assert found.hypervisors["hv1"].domains == ["sno1-sno", "sno1-worker-9"] and found.jumphost is not None


def view_of(clusters: dict[str, Any]) -> LabView:
    lab = parse_lab_outputs("simlab", json.loads((DATA / "lab-outputs-simlab.json").read_text()))
    return LabView(config=None, outputs=lab, clusters=clusters)  # type: ignore[arg-type]  # doctor reads no config


def test_remove_orphans_runs_only_the_fixes_of_orphans_no_stack_owns(monkeypatch: pytest.MonkeyPatch) -> None:
    found = clean_lab()
    hv1 = found.hypervisors["hv1"]
    assert hv1.domains is not None and hv1.volumes is not None
    hv1.domains += ["ipi1-worker-9", "sno1-extra"]  # no stack's / the busy sno1's
    hv1.domains.remove("ipi1-master-0")  # missing: never "fixed" by --remove-orphans
    hv1.volumes.append("ipi1-worker-9-root.qcow2")
    audits = [found, clean_lab()]
    monkeypatch.setattr(lab_doctor, "collect", lambda lab, run: audits.pop(0))
    monkeypatch.setattr(lab_doctor, "stack_resources", lambda stack: [])  # ipi1's state: nothing beyond its outputs
    ran: list[tuple[str, str]] = []

    def fake_run(argv: Sequence[str], stdin: str) -> Result:
        ran.append((argv[-2], argv[-1]))
        return Result(0, "Domain 'ipi1-worker-9' has been undefined\n", "")

    view = view_of({"ipi1": cluster_outputs()["ipi1"]})
    view.busy["sno1"] = "an update of this stack runs now"
    report = lab_doctor.doctor("simlab", view, remove=True, run=fake_run)
    assert ran == [("root@192.168.16.11", "virsh undefine --nvram ipi1-worker-9"),
                   ("root@192.168.16.11", "virsh vol-delete --pool ocplab ipi1-worker-9-root.qcow2")]
    assert [(r.finding.what, r.ok, r.output) for r in report.removed] == [
        ("domain ipi1-worker-9", True, "Domain 'ipi1-worker-9' has been undefined"),
        ("volume ipi1-worker-9-root.qcow2", True, "Domain 'ipi1-worker-9' has been undefined")]
    assert audits == []  # audited again afterwards; what is left is what that audit found
    assert {f.what for f in report.findings} == {"domain sno1-sno", "volume sno1-sno-root.qcow2", "BMC sno1-sno",
                                                  "BMC record /etc/ocplab/vbmc/clusters/sno1",
                                                  "file /etc/ocplab/dhcp-hosts/sno1", "file /etc/ocplab/hosts/sno1",
                                                  "file /etc/ocplab/dnsmasq.d/sno1.conf",
                                                  "lease 192.168.16.48 52:54:00:a8:10:30 sno",
                                                  "console logs of sno1"}


def test_what_a_deployed_stacks_state_holds_beyond_its_outputs_is_never_removed(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A killed `up` adding worker-9 to the deployed ipi1 recorded its volume and domain, not yet its outputs."""
    found = clean_lab()
    hv1 = found.hypervisors["hv1"]
    assert hv1.domains is not None and hv1.volumes is not None
    hv1.domains += ["ipi1-worker-9", "ipi1-worker-8"]
    hv1.volumes += ["ipi1-worker-9-root.qcow2", "ipi1-worker-8-root.qcow2"]
    monkeypatch.setattr(lab_doctor, "collect", lambda lab, run: found)
    read: list[str] = []

    def state_of(stack: str) -> list[dict[str, Any]]:
        read.append(stack)
        return [] if stack != "ipi1" else [{"type": "libvirt:index/volume:Volume", "urn": "urn:...::ipi1-worker-9-root",
                 "outputs": {"name": "ipi1-worker-9-root.qcow2"}},
                {"type": "libvirt:index/domain:Domain", "urn": "urn:...::ipi1-worker-9-domain",
                 "inputs": {"name": "ipi1-worker-9"}}]

    monkeypatch.setattr(lab_doctor, "stack_resources", state_of)
    ran: list[str] = []

    def fix(argv: Sequence[str], stdin: str) -> Result:
        ran.append(argv[-1])
        return Result(0, "done\n", "")

    report = lab_doctor.doctor("simlab", view_of(cluster_outputs()), remove=True, run=fix)
    assert set(read) == {"ipi1", "sno1"}  # every deployed stack, before the removal and in the audit after it
    assert ran == ["virsh undefine --nvram ipi1-worker-8", "virsh vol-delete --pool ocplab ipi1-worker-8-root.qcow2"]
    assert "domain ipi1-worker-9" not in {f.what for f in report.findings}


def test_a_clean_lab_reads_no_state(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lab_doctor, "collect", lambda lab, run: clean_lab())
    monkeypatch.setattr(lab_doctor, "stack_resources", lambda stack: pytest.fail(f"{stack}'s state was read"))
    assert lab_doctor.doctor("simlab", view_of(cluster_outputs())).findings == []


def test_a_failed_fix_is_reported_with_its_error(monkeypatch: pytest.MonkeyPatch) -> None:
    found = clean_lab()
    assert found.hypervisors["hv1"].domains is not None
    found.hypervisors["hv1"].domains.append("ipi1-worker-9")
    monkeypatch.setattr(lab_doctor, "collect", lambda lab, run: found)
    report = lab_doctor.doctor("simlab", view_of(cluster_outputs()), remove=True,
                               run=lambda argv, stdin: Result(1, "", "error: failed to get domain 'ipi1-worker-9'\n"))
    assert [(r.ok, r.output) for r in report.removed] == [(False, "error: failed to get domain 'ipi1-worker-9'")]
    assert [f.what for f in report.findings] == ["domain ipi1-worker-9"]


# -- the command, with a stand-in pulumi (the stacks) and ssh (the hosts) on PATH --------------------------

def fake_ssh(directory: Path, outputs: dict[str, str]) -> Path:
    """Prints the recorded script output of the host it is sent to; logs every other command it is given."""
    (directory / "hosts.json").write_text(json.dumps(outputs))
    log = directory / "ssh.log"
    script = directory / "ssh"
    script.write_text(f"""#!/usr/bin/env python3
import json, sys
args = sys.argv[1:]
address = next(a for a in args if "@" in a).split("@")[1]
if args[-2:] == ["sh", "-s"]:
    sys.stdin.read()
    sys.exit(print(json.load(open({str(directory / "hosts.json")!r}))[address], end=""))
open({str(log)!r}, "a").write(address + " " + args[-1] + "\\n")
""")
    script.chmod(0o755)
    return log


def script_output(found: Any, jump: bool = False) -> str:
    """The audit script's output for a FoundHypervisor or FoundJumphost, as the hosts print it."""
    if jump:
        return f"### now 0\n{found.now}\n" + "".join(
            f"### file {p} 0\n{base64.b64encode(t.encode()).decode()}\n" for p, t in found.files.items()) + \
            "### leases 0\n" + "".join(f"{x.expiry} {x.mac} {x.ip} {x.hostname} *\n" for x in found.leases)
    names = {"domains": found.domains, "running": found.running, "pools": found.pools, "volumes": found.volumes,
             "networks": found.networks, "active-networks": found.active_networks, "bmcs": found.bmcs,
             "bmc-records": found.bmc_records, "redfish": found.redfish or []}
    return "".join(f"### {k} 0\n" + "".join(f"{v}\n" for v in values) + "\n" for k, values in names.items())


@pytest.fixture
def lab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """simlab with ipi1 and sno1 deployed, and hosts that hold what clean_lab() says."""
    outputs = {"simlab": json.loads((DATA / "lab-outputs-simlab.json").read_text()), **cluster_outputs()}
    fake_stacks(tmp_path, outputs)
    found = clean_lab()
    hosts = {"192.168.16.11": script_output(found.hypervisors["hv1"]),
             "192.168.16.12": script_output(found.hypervisors["hv2"]),
             "192.168.16.1": script_output(found.jumphost, jump=True)}
    log = fake_ssh(tmp_path, hosts)
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    return {"hosts": hosts, "log": log, "dir": tmp_path}


def test_a_clean_lab_exits_0(lab: dict[str, Any]) -> None:
    result = CliRunner().invoke(app, ["doctor", "--lab", "simlab"])
    assert result.exit_code == 0, result.output
    assert "lab simlab: no findings" in result.output


def test_findings_exit_1_and_json_lists_them(lab: dict[str, Any]) -> None:
    lab["hosts"]["192.168.16.11"] = lab["hosts"]["192.168.16.11"].replace("### running 0\n", "ipi1-worker-9\n"
                                                                          "### running 0\n", 1)
    (lab["dir"] / "hosts.json").write_text(json.dumps(lab["hosts"]))
    result = CliRunner().invoke(app, ["doctor", "--lab", "simlab", "--json"])
    assert result.exit_code == 1, result.output
    (finding,) = json.loads(result.output)["findings"]
    assert (finding["kind"], finding["what"], finding["owner"], finding["remote"]) == (
        "orphan", "domain ipi1-worker-9", None, "virsh undefine --nvram ipi1-worker-9")
    assert not lab["log"].exists()  # read-only without --remove-orphans


def test_remove_orphans_runs_the_fix_over_ssh(lab: dict[str, Any]) -> None:
    lab["hosts"]["192.168.16.11"] = lab["hosts"]["192.168.16.11"].replace("### running 0\n", "ipi1-worker-9\n"
                                                                          "### running 0\n", 1)
    (lab["dir"] / "hosts.json").write_text(json.dumps(lab["hosts"]))
    result = CliRunner().invoke(app, ["doctor", "--lab", "simlab", "--remove-orphans"])
    assert lab["log"].read_text() == "192.168.16.11 virsh undefine --nvram ipi1-worker-9\n"
    assert "removed orphans: 1 of 1" in result.output
    assert result.exit_code == 1  # the stand-in host still lists it, so the second audit finds it again


def test_an_unreachable_host_is_a_finding_not_a_crash(lab: dict[str, Any]) -> None:
    ssh = lab["dir"] / "ssh"
    timed_out = "ssh: connect to host 192.168.16.12 port 22: Connection timed out"
    ssh.write_text(ssh.read_text().replace('if args[-2:]', f'if address == "192.168.16.12":\n'
                                           f'    sys.exit(print({timed_out!r}, file=sys.stderr) or 255)\n'
                                           'if args[-2:]', 1))
    result = CliRunner().invoke(app, ["doctor", "--lab", "simlab", "--json"])
    assert result.exit_code == 1, result.output
    assert [(f["kind"], f["host"], f["what"]) for f in json.loads(result.output)["findings"]] == [
        ("unreachable", "hv2", f"ssh root@192.168.16.12: {timed_out}")]


@pytest.mark.parametrize(("lab_outputs", "args", "message"), [
    (None, ["doctor", "--lab", "nolab"], "ocplab: no stack file"),
    ({}, ["doctor", "--lab", "simlab"], "ocplab: ocplab:lab: stack 'simlab' has no outputs"),
])
def test_bad_input_exits_2(lab: dict[str, Any], lab_outputs: dict[str, Any] | None, args: list[str],
                           message: str) -> None:
    if lab_outputs is not None:
        outputs = json.loads((lab["dir"] / "outputs.json").read_text())
        (lab["dir"] / "outputs.json").write_text(json.dumps({**outputs, "simlab": lab_outputs}))
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2 and result.stderr.startswith(message) and result.stderr.count("\n") == 1, \
        result.stderr
    assert not lab["log"].exists()


def test_a_lab_without_a_key_file_exits_2(lab: dict[str, Any]) -> None:
    outputs = json.loads((lab["dir"] / "outputs.json").read_text())
    outputs["simlab"]["jumphost"]["ssh_key_path"] = None
    (lab["dir"] / "outputs.json").write_text(json.dumps(outputs))
    result = CliRunner().invoke(app, ["doctor", "--lab", "simlab"])
    assert result.exit_code == 2 and "ssh_key_path" in result.stderr, result.stderr


def test_doctor_help_documents_the_exit_codes() -> None:
    result = CliRunner().invoke(app, ["doctor", "--help"])
    assert result.exit_code == 0
    assert "0 no findings" in result.output and "1 findings" in result.output and "2 bad input" in result.output
