"""On the simulated lab: the lab's bridges and dnsmasq, then an IPI and an SNO cluster, for real.

`pulumi up`/`preview`/`refresh`/`destroy` (the engine `make engine` builds, with the libvirt and
command providers) run from the jumphost namespace against real NetworkManager, libvirtd/QEMU
guests, sshd and dnsmasq. The steps build on each other in file order, like a lab admin's day.
"""

from __future__ import annotations

import hashlib
import json
import re
import shlex
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from components.checkpoint_reader import checkpoint_outputs
from core.dci_user import keypair_command
from renderers.bridge_scripts import bridge_create_script, bridge_delete_script
from simlab.guest.console import GuestReport, parse_console
from simlab.outside import HTTP_BODY
from tests.e2e.lab_helpers import (
    JUMPHOST,
    PROJECT,
    SNTP_QUERY,
    LabSession,
    dig,
    dig_status,
    outside,
    stack_value,
    stand_in_node,
)
from tests.tools import require_tool

pytestmark = pytest.mark.simlab

HV = {"hv1": "192.168.16.11", "hv2": "192.168.16.12"}


def wait_for(what: str, check: Callable[[], bool], timeout: float = 240, every: float = 2) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def lease_of(session: LabSession, hv: str, domain: str) -> GuestReport:
    report: list[GuestReport] = []

    def leased() -> bool:
        report[:] = [session.console(HV[hv], domain)]
        return report[0].ready and "eth0" in report[0].leases

    wait_for(f"{domain} to get a lease and report ready", leased)
    return report[0]


# --- the lab stack ------------------------------------------------------------------------------

def test_lab_up_puts_each_hypervisor_ip_on_br0_and_keeps_ssh(lab: LabSession) -> None:
    started = time.monotonic()
    lab.up("simlab")
    lab.note("pulumi up -s simlab (s)", time.monotonic() - started)
    for name, ip in HV.items():
        links = lab.ssh(ip, "ip -4 -o addr show; ip -o link show eth0; cat /sys/class/net/br0/bridge/stp_state "
                            "/sys/class/net/br0/bridge/forward_delay; nmcli -t -f NAME,DEVICE con show --active")
        assert re.search(rf"br0\s+inet {re.escape(ip)}/24", links), f"{name}: lab IP not on br0:\n{links}"
        assert not re.search(r"eth0\s+inet ", links), f"{name}: eth0 still has an address"
        assert "master br0" in links
        assert "\n0\n0\n" in f"\n{links}", f"{name}: STP or forward delay not off:\n{links}"
        assert "ocplab-br0:br0" in links and "ocplab-br0-port:eth0" in links
        nets = lab.virsh(ip, "net-list", "--name")
        assert "ocplab-br0" in nets
        assert "base-guest.qcow2" in lab.virsh(ip, "vol-list", "ocplab")
    outputs = lab.outputs("simlab")
    assert outputs["hypervisors"]["hv1"]["capacity"]["vcpus"] >= 1
    assert outputs["hypervisors"]["hv2"]["base_volumes"]["guest"] == "/var/lib/libvirt/ocplab/base-guest.qcow2"


def test_lab_preview_and_second_up_change_nothing(lab: LabSession) -> None:
    before = {ip: lab.ssh(ip, "nmcli -t -f UUID,NAME con show; virsh -q net-uuid ocplab-br0; "
                              "stat -c %Y /var/lib/libvirt/ocplab/base-guest.qcow2") for ip in HV.values()}
    dnsmasq_pid = lab.ssh(JUMPHOST, "cat /run/ocplab-dnsmasq.pid")
    started = time.monotonic()
    lab.pulumi.preview("simlab", "--expect-no-changes")
    lab.note("pulumi preview -s simlab, no changes (s)", time.monotonic() - started)
    started = time.monotonic()
    lab.up("simlab", "--expect-no-changes")
    lab.note("pulumi up -s simlab, no-op (s)", time.monotonic() - started)
    assert lab.ssh(JUMPHOST, "cat /run/ocplab-dnsmasq.pid") == dnsmasq_pid
    after = {ip: lab.ssh(ip, "nmcli -t -f UUID,NAME con show; virsh -q net-uuid ocplab-br0; "
                             "stat -c %Y /var/lib/libvirt/ocplab/base-guest.qcow2") for ip in HV.values()}
    assert after == before


def test_jumphost_dnsmasq_answers_for_the_lab_domain(lab: LabSession) -> None:
    assert dig(lab, "hv1.simlab.test") == [HV["hv1"]]
    assert dig(lab, "jumphost.simlab.test") == [JUMPHOST]
    assert dig(lab, HV["hv2"], reverse=True) == ["hv2.simlab.test."]
    answer = lab.jumphost(["dig", f"@{JUMPHOST}", "+tries=2", "+time=2", "nothing-here.simlab.test", "A"])
    assert "status: NXDOMAIN" in answer.stdout, answer.stdout
    status = lab.ssh(JUMPHOST, "/etc/ocplab/bin/ocplab-dnsmasq status && echo running")
    assert "running" in status


# --- the cluster stacks -------------------------------------------------------------------------

def test_ipi_and_sno_clusters_come_up_together_with_planned_leases(lab: LabSession) -> None:
    started = time.monotonic()
    lab.up_parallel(["ipi1", "sno1"])
    lab.note("pulumi up -s ipi1 and -s sno1 at once (s)", time.monotonic() - started)
    for stack, hv in (("ipi1", "hv1"), ("sno1", "hv2")):
        outputs = lab.outputs(stack)
        for node in outputs["nodes"]:
            report = lease_of(lab, hv, f"{stack}-{node['name']}")
            lease = report.leases["eth0"]
            assert (lease.ip, lease.mac) == (node["ip"], node["macs"]["baremetal"])
            assert lease.hostname == node["name"] and lease.domain == f"{stack}.simlab.test"
    lab.note("cluster ups to all leases", time.monotonic() - started)


def test_names_resolve_forward_and_reverse_from_the_jumphost(lab: LabSession) -> None:
    for stack in ("ipi1", "sno1"):
        outputs = lab.outputs(stack)
        zone = f"{stack}.simlab.test"
        for node in outputs["nodes"]:
            assert dig(lab, node["fqdn"]) == [node["ip"]]
        first = outputs["nodes"][0]
        assert dig(lab, first["ip"], reverse=True) == [f"{first['fqdn']}."]
        assert dig(lab, f"api.{zone}") == [outputs["api_vip"]]
        assert dig(lab, f"api-int.{zone}") == [outputs["api_vip"]]
        assert dig(lab, f"console-openshift-console.apps.{zone}") == [outputs["ingress_vip"]]
        assert dig(lab, f"anything.apps.{zone}") == [outputs["ingress_vip"]]
    sno = lab.outputs("sno1")
    assert sno["api_vip"] == sno["ingress_vip"] == sno["nodes"][0]["ip"]
    assert dig(lab, sno["api_vip"], reverse=True) == ["sno.sno1.simlab.test."]


def test_ocplab_plan_and_map_show_the_deployed_lab(lab: LabSession, tmp_path: Path) -> None:
    ocplab = str(PROJECT / "bin" / "ocplab")
    started = time.monotonic()
    result = lab.jumphost([ocplab, "plan", "--lab", "simlab", "--json"])
    lab.note("ocplab plan (s)", time.monotonic() - started)
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    ipi, sno = lab.outputs("ipi1"), lab.outputs("sno1")
    used = {s["cluster"]: s["used"] for s in plan["slices"]}
    assert used == {"ipi1": len(ipi["nodes"]) + 2, "sno1": 1}
    hosts = {h["name"]: h for h in plan["hypervisors"]}
    assert hosts["hv1"]["vcpus_committed"] == sum(n["vcpus"] for n in ipi["nodes"])
    assert hosts["hv2"]["clusters"] == ["sno1"] and hosts["hv1"]["vcpus"] == lab.outputs("simlab")[
        "hypervisors"]["hv1"]["capacity"]["vcpus"]
    assert plan["fits"]["ipi 3+3 (seed sizes)"]["total"] == 0, "seed-sized nodes do not fit 2-CPU hosts"
    for suffix in ("svg", "png"):
        picture = tmp_path / f"simlab.{suffix}"
        started = time.monotonic()
        result = lab.jumphost([ocplab, "map", "--lab", "simlab", "--output", str(picture)])
        lab.note(f"ocplab map --output {suffix} (s)", time.monotonic() - started)
        assert result.returncode == 0, result.stderr
        assert picture.stat().st_size > 1000
    assert "master&#45;0" in (tmp_path / "simlab.svg").read_text()
    tree = lab.jumphost([ocplab, "map", "--lab", "simlab"])
    assert "sno1 (sno)" in tree.stdout and sno["nodes"][0]["ip"] in tree.stdout


def test_ocplab_console_reaches_a_guest_shell_through_a_real_terminal(lab: LabSession) -> None:
    """tmux is the terminal: type into the SNO node's serial console, read its answer, leave with Ctrl+]."""
    tmux = require_tool("tmux", "the Debian package tmux")
    env = " ".join(f"{k}={shlex.quote(v)}" for k, v in lab.env().items()
                   if k.startswith(("PULUMI", "OCPLAB")) or k in ("PATH", "PYTHONPATH", "HOME"))
    command = f"ip netns exec ocplab-jh env {env} {PROJECT / 'bin' / 'ocplab'} console sno1 sno"
    session = "ocplab-console-test"
    subprocess.run([tmux, "kill-session", "-t", session], capture_output=True, check=False)
    subprocess.run([tmux, "new-session", "-d", "-s", session, "-x", "160", "-y", "40", command], check=True)

    def screen() -> str:
        return subprocess.run([tmux, "capture-pane", "-p", "-t", session], capture_output=True, text=True,
                              check=False).stdout

    try:
        wait_for("the console to attach", lambda: "Escape character is ^]" in screen(), timeout=60, every=0.5)
        subprocess.run([tmux, "send-keys", "-t", session, "", "Enter"], check=True)
        subprocess.run([tmux, "send-keys", "-t", session, "echo ocplab-$((6*7)) $(hostname)", "Enter"], check=True)
        wait_for("the guest's answer", lambda: "ocplab-42 sno" in screen(), timeout=60, every=0.5)
        subprocess.run([tmux, "send-keys", "-t", session, "C-]"], check=True)
        wait_for("the console to close", lambda: subprocess.run(
            [tmux, "has-session", "-t", session], capture_output=True, check=False).returncode != 0, timeout=30)
    finally:
        subprocess.run([tmux, "kill-session", "-t", session], capture_output=True, check=False)


def test_console_logs_are_gathered_on_the_jumphost_across_reboots_and_dropped_links(lab: LabSession) -> None:
    """The jumphost keeps a copy of every node's console (one folder per cluster), which a guest reset and a
    cut SSH link neither lose nor duplicate."""
    hv_log = "cat /var/log/libvirt/qemu/sno1-sno-console.log"
    jump_log = "cat /var/log/ocplab/consoles/sno1/sno.log"

    def same() -> bool:
        return lab.ssh(JUMPHOST, jump_log) == lab.ssh(HV["hv2"], hv_log)

    wait_for("the jumphost's copy of sno1's console", same, timeout=60)
    assert parse_console(lab.ssh(JUMPHOST, jump_log)).leases, "the copy holds the guest's report"
    first = lab.ssh(JUMPHOST, jump_log)
    lab.virsh(HV["hv2"], "reset", "sno1-sno")
    wait_for("the second boot in the copy", lambda: parse_console(lab.ssh(JUMPHOST, jump_log)).boots == 2)
    lab.ssh(JUMPHOST, "pkill -f 'ssh .*[f]ollow /var/log' || true")  # every follower's link at once
    wait_for("the copy after the cut link", same, timeout=90)
    copy = lab.ssh(JUMPHOST, jump_log)
    assert copy.startswith(first) and parse_console(copy).boots == 2, "nothing lost, nothing twice"
    assert lab.ssh(JUMPHOST, "/etc/ocplab/bin/ocplab-consoles status sno1 && echo running").strip() == "running"


BOOTSTRAP_XML = """<domain type='qemu'><name>ipi1-bootstrap-test</name><memory unit='MiB'>160</memory><vcpu>1</vcpu>
<os><type arch='x86_64'>hvm</type><boot dev='hd'/></os><devices>
<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>
<source file='/var/lib/libvirt/ocplab/bootstrap-test.qcow2'/><target dev='vda' bus='virtio'/></disk>
<interface type='bridge'><source bridge='br0'/><mac address='{mac}'/><model type='virtio'/></interface>
<serial type='pty'><log file='/var/log/libvirt/qemu/ipi1-bootstrap-test-console.log' append='off'/></serial>
<console type='pty'/></devices></domain>"""


def test_the_bootstrap_reservation_leases_its_ip_to_a_vm_with_its_mac(lab: LabSession) -> None:
    """What the installer's bootstrap VM (externalMACAddress) will get: a guest with that MAC on br0."""
    bootstrap = lab.outputs("ipi1")["bootstrap"]
    assert bootstrap["ip"] not in {n["ip"] for n in lab.outputs("ipi1")["nodes"]}
    assert dig(lab, bootstrap["fqdn"]) == [bootstrap["ip"]]
    xml = BOOTSTRAP_XML.format(mac=bootstrap["mac"])
    lab.ssh(HV["hv1"], "virsh -q vol-create-as ocplab bootstrap-test.qcow2 1G --format qcow2 "
                       "--backing-vol base-guest.qcow2 --backing-vol-format qcow2 >/dev/null && "
                       f"cat > /tmp/bootstrap-test.xml <<'XML'\n{xml}\nXML\nvirsh -q create /tmp/bootstrap-test.xml")
    try:
        lease = lease_of(lab, "hv1", "ipi1-bootstrap-test").leases["eth0"]
        assert (lease.ip, lease.mac, lease.hostname) == (bootstrap["ip"], bootstrap["mac"], "bootstrap")
    finally:
        lab.ssh(HV["hv1"], "virsh -q destroy ipi1-bootstrap-test; virsh -q vol-delete --pool ocplab "
                           "bootstrap-test.qcow2; rm -f /tmp/bootstrap-test.xml "
                           "/var/log/libvirt/qemu/ipi1-bootstrap-test-console.log")


def test_the_lab_lists_each_slices_vrrp_ids_and_the_ipi_cluster_exports_its_own(lab: LabSession) -> None:
    slices = lab.outputs("simlab")["slices"]
    assert slices["ipi1"]["vrrp"] == lab.outputs("ipi1")["vrrp"] and set(slices["sno1"]["vrrp"]) == {"api", "ingress"}
    assert lab.outputs("sno1").get("vrrp") is None  # pulumi drops a null output


def test_provisionhost_cloud_init_ran(lab: LabSession) -> None:
    report = lab.console(HV["hv1"], "ipi1-provisionhost")
    assert report.cloud_init.hostname == "provisionhost"
    # DCI's user (core.dci_user) accepts the lab key, the controller's in the simulated lab: the guest
    # reports the sha256 of each authorized key line it wrote, compared with what ssh-keygen derives here.
    key = lab.outputs("simlab")["jumphost"]["ssh_key_path"]
    derived = subprocess.run(["ssh-keygen", "-y", "-f", key], check=True, capture_output=True, text=True).stdout
    public = " ".join(derived.split()[:2])
    assert report.cloud_init.users["dci"].key_sha256 == [hashlib.sha256(public.encode()).hexdigest()]
    assert lab.outputs("ipi1")["provisionhost_user"] == "dci"
    runcmds = report.cloud_init.runcmds
    assert [(r.rc, r.cmd) for r in runcmds[:2]] == [
        (0, "mkdir -p /home/dci/.ssh"), (0, "echo provisioned > /tmp/ocplab-provisioned")]
    # The key pair command ran after the stack's own; the test guest (busybox) has no runuser or ssh-keygen, so
    # its result is not the point here: tests/unit/test_dci_user.py runs it for real.
    assert [r.rc for r in runcmds[2:3]] == [0], "the way out (test_a_node_reaches_the_outside_...)"
    assert [r.cmd for r in runcmds[3:]] == [keypair_command("dci")]
    # The seed is a file the hypervisor made (components/node.py): in the pool's directory under the CloudInitDisk's
    # old name, listed by libvirt, attached as the domain's CD-ROM; no provider of its own, no libvirt volume upload.
    iso = "/var/lib/libvirt/ocplab/ipi1-provisionhost-cidata.iso"
    assert iso in lab.virsh(HV["hv1"], "domblklist", "ipi1-provisionhost").split()
    assert "ipi1-provisionhost-cidata.iso" in lab.virsh(HV["hv1"], "vol-list", "ocplab").split()
    assert lab.outputs("ipi1")["seed_media"] == "file"
    state = json.loads(lab.pulumi.run("stack", "export", "-s", "ipi1").stdout)["deployment"]["resources"]
    assert not [r["urn"] for r in state if r["type"] == "libvirt:index/cloudInitDisk:CloudInitDisk"
                or r["urn"].endswith("-libvirt-iso")]
    worker = lab.console(HV["hv1"], "ipi1-worker-0")
    assert worker.disk("vdb") is not None and worker.disk("vdb").bytes == 64 * 1024**2  # type: ignore[union-attr]


def test_the_checkpoint_gives_what_pulumi_stack_output_prints(lab: LabSession) -> None:
    """The cluster programs read outputs from the file backend's checkpoint (components.checkpoint_reader)."""
    for stack in ("simlab", "ipi1", "sno1"):
        assert checkpoint_outputs(lab.pulumi.backend, "ocplab", stack) == lab.outputs(stack), stack
    assert checkpoint_outputs(lab.pulumi.backend, "ocplab", "ipi1")["bmc"] == "[secret]"  # type: ignore[index]


def test_preview_and_second_up_of_each_cluster_change_nothing(lab: LabSession) -> None:
    for stack, hv in (("ipi1", "hv1"), ("sno1", "hv2")):
        before = lab.outputs(stack)
        uuids = lab.virsh(HV[hv], "list", "--all", "--uuid")
        files = lab.ssh(JUMPHOST, f"stat -c '%n %Y' /etc/ocplab/*/{stack}*")
        started = time.monotonic()
        lab.pulumi.preview(stack, "--expect-no-changes")
        lab.note(f"pulumi preview -s {stack}, no changes (s)", time.monotonic() - started)
        started = time.monotonic()
        lab.up(stack, "--expect-no-changes")
        lab.note(f"pulumi up -s {stack}, no-op (s)", time.monotonic() - started)
        assert lab.outputs(stack) == before
        assert lab.virsh(HV[hv], "list", "--all", "--uuid") == uuids
        assert lab.ssh(JUMPHOST, f"stat -c '%n %Y' /etc/ocplab/*/{stack}*") == files


def deployed_state(lab: LabSession, stack: str) -> list[tuple[str, str]]:
    """Every resource's URN, inputs and outputs, decrypted (each checkpoint write encrypts secrets anew)."""
    state = json.loads(lab.pulumi.run("stack", "export", "--show-secrets", "-s", stack).stdout)
    return [(r["urn"], json.dumps([r.get("inputs"), r.get("outputs")], sort_keys=True))
            for r in state["deployment"].get("resources") or []]


@pytest.mark.parametrize(("stack", "changes", "field"), [
    ("simlab", {"ocplab:hypervisors": "from-a-test"}, "ocplab:hypervisors: 'from-a-test' is not a list"),
    ("ipi1", {"ocplab:hypervisor": "hv1\n"}, "ocplab:hypervisor: 'hv1\\n' is not a DNS label"),
    ("ipi1", {"ocplab:workers": 10_000_000}, "ocplab:workers: 10000000 is above the limit of 100"),
])
def test_a_hostile_value_is_refused_and_touches_nothing_deployed(lab: LabSession, stack: str,
                                                                 changes: dict[str, object], field: str) -> None:
    path = lab.project / "stacks" / f"Pulumi.{stack}.yaml"
    original = path.read_text()
    before = deployed_state(lab, stack)
    domains = {ip: lab.virsh(ip, "list", "--all", "--uuid") for ip in HV.values()}
    lab.edit_stack(stack, changes)
    try:
        result = lab.pulumi.run("up", "--yes", "--skip-preview", "-s", stack, check=False)
    finally:
        path.write_text(original)
    output = result.stdout + result.stderr
    assert result.returncode != 0 and field in output, output
    assert "Traceback" not in output, output
    assert deployed_state(lab, stack) == before, "a refused config changed the state"
    assert {ip: lab.virsh(ip, "list", "--all", "--uuid") for ip in HV.values()} == domains
    lab.pulumi.preview(stack, "--expect-no-changes")


def lab_stack_with_outputs(lab: LabSession, name: str, change: Callable[[dict[str, Any]], None]) -> None:
    """A lab stack `name` whose outputs are simlab's with `change` made: what another person's lab stack
    could export in a team backend (made with `pulumi stack import`: nothing is deployed for it)."""
    deployment = lab.pulumi.export("simlab")
    root = next(r for r in deployment["deployment"]["resources"] if r["type"] == "pulumi:pulumi:Stack")
    change(root["outputs"])
    root["urn"] = root["urn"].replace("::simlab::", f"::{name}::")
    deployment["deployment"]["resources"] = [root]
    deployment["deployment"].pop("pending_operations", None)
    path = lab.project / f"{name}.json"
    path.write_text(json.dumps(deployment))
    (lab.project / "stacks" / f"Pulumi.{name}.yaml").write_text("config:\n  ocplab:kind: lab\n")
    lab.pulumi.ensure_stack(name)
    lab.pulumi.run("stack", "import", "--force", "-s", name, "--file", str(path))


@pytest.mark.parametrize(("change", "refusal"), [
    (lambda o: o.update(domain="simlab.test\naddress=/quay.io/192.168.16.66"),
     "ocplab:lab: lab stack 'evillab' output domain: 'simlab.test\\naddress=/quay.io/192.168.16.66' is not a DNS "
     "domain"),
    (lambda o: o["network"].update(gateway="#jinja2:variable_start_string:'[['\n[[ lookup('pipe','id') ]]"),
     "ocplab:lab: lab stack 'evillab' output network.gateway: "),
    (lambda o: o["jumphost"].update(known_hosts=None), "ocplab:lab: lab stack 'evillab' output jumphost.known_hosts: "
                                                       "is required"),
    (lambda o: o["jumphost"].update(known_hosts="/dev/null"),
     "ocplab:lab: lab stack 'evillab' output jumphost.known_hosts: /dev/null has no host key for 192.168.16.1"),
])
def test_hostile_lab_outputs_are_refused_before_anything_is_created(
        lab: LabSession, change: Callable[[dict[str, Any]], None], refusal: str) -> None:
    """In a team lab the lab stack is another person's: its outputs are input, checked where they are read."""
    lab_stack_with_outputs(lab, "evillab", change)
    (lab.project / "stacks" / "Pulumi.sno9.yaml").write_text(
        (lab.project / "stacks" / "Pulumi.sno1.yaml").read_text().replace("ocplab:lab: simlab", "ocplab:lab: evillab"))
    lab.pulumi.ensure_stack("sno9")
    try:
        result = lab.pulumi.run("up", "--yes", "--skip-preview", "-s", "sno9", check=False)
    finally:
        lab.pulumi.run("stack", "rm", "--yes", "--force", "-s", "evillab")
        lab.pulumi.known_stacks.discard("evillab")
    output = result.stdout + result.stderr
    assert result.returncode != 0 and refusal in output, output
    assert "Traceback" not in output, output
    assert real_resources(lab, "sno9") == []


def test_a_changed_host_key_stops_up_before_any_script_runs(lab: LabSession) -> None:
    """The jumphost's key in the lab's known_hosts replaced by another: the SSH handshake refuses it, so
    the cluster's DNS script never runs, and nothing on the jumphost changes."""
    known = PROJECT / ".simlab" / "ssh" / "known_hosts"
    original = known.read_text()
    other = lab.project / "other_key"
    subprocess.run([require_tool("ssh-keygen", "openssh-client"), "-q", "-t", "ed25519", "-N", "", "-f", str(other)],
                   check=True)
    wrong = " ".join(other.with_suffix(".pub").read_text().split()[:2])
    swapped = [f"{line.split()[0]} {wrong}" if JUMPHOST in line.split()[0].split(",") else line
               for line in original.splitlines()]
    dns = next(r["urn"] for r in lab.pulumi.export("sno1")["deployment"]["resources"]
               if r["type"] == "command:remote:Command" and r["urn"].endswith("-dns"))
    files = lab.ssh(JUMPHOST, "stat -c '%n %Y' /etc/ocplab/*/sno1*")
    known.write_text("\n".join(swapped) + "\n")
    try:
        result = lab.pulumi.run("up", "--yes", "--skip-preview", "-s", "sno1", "--replace", dns, check=False)
    finally:
        known.write_text(original)
    output = result.stdout + result.stderr
    assert result.returncode != 0 and "host key mismatch" in output, output
    assert lab.ssh(JUMPHOST, "stat -c '%n %Y' /etc/ocplab/*/sno1*") == files
    lab.up("sno1")
    lab.pulumi.preview("sno1", "--expect-no-changes")


def test_refresh_finds_no_drift_and_preview_stays_clean_after_it(lab: LabSession) -> None:
    for stack in ("simlab", "ipi1", "sno1"):
        lab.pulumi.refresh(stack, "--expect-no-changes")
        lab.pulumi.preview(stack, "--expect-no-changes")


def test_adding_a_worker_keeps_every_other_address(lab: LabSession) -> None:
    before = {n["name"]: n for n in lab.outputs("ipi1")["nodes"]}
    lab.edit_stack("ipi1", {"ocplab:workers": 3})
    lab.up("ipi1")
    after = {n["name"]: n for n in lab.outputs("ipi1")["nodes"]}
    assert {k: v for k, v in after.items() if k != "worker-2"} == before
    report = lease_of(lab, "hv1", "ipi1-worker-2")
    assert report.leases["eth0"].ip == after["worker-2"]["ip"]
    assert dig(lab, after["worker-2"]["fqdn"]) == [after["worker-2"]["ip"]]


def test_destroying_one_cluster_costs_the_other_no_dns_answer_or_renewal(lab: LabSession) -> None:
    ipi = lab.outputs("ipi1")
    names = [n["fqdn"] for n in ipi["nodes"]] + [f"api.{ipi['cluster_domain']}", f"x.apps.{ipi['cluster_domain']}"]

    def renewals() -> dict[str, int]:
        return {n["name"]: len(lab.console(HV["hv1"], f"ipi1-{n['name']}").renewals) for n in ipi["nodes"]}

    renewals_before = renewals()
    failures: list[str] = []
    answers = 0
    stop = threading.Event()

    def query_loop() -> None:
        nonlocal answers
        while not stop.is_set():
            for name in names:
                got = dig(lab, name)
                if not got:
                    failures.append(name)
                answers += 1

    loop = threading.Thread(target=query_loop)
    loop.start()

    def renewed_after_destroy() -> bool:
        now = renewals()
        return answers > 50 and all(now[name] > count for name, count in renewals_after.items())

    try:
        lab.pulumi.destroy("sno1")
        # Leases are 2 min: every guest renews within 60 s of its last renewal, so each one's next renewal,
        # after the destroy, comes within 60 s (no fixed sleep: the wait ends with the last one).
        renewals_after = renewals()
        wait_for("a renewal of every ipi1 node after sno1's destroy", renewed_after_destroy, timeout=90)
    finally:
        stop.set()
        loop.join()
    assert failures == [] and answers > 50, f"{len(failures)} of {answers} DNS queries failed: {failures[:5]}"
    for node in ipi["nodes"]:
        report = lab.console(HV["hv1"], f"ipi1-{node['name']}")
        assert len(report.renewals) > renewals_before[node["name"]], f"{node['name']} did not renew"
        assert all(r.ip == node["ip"] for r in report.renewals) and report.lost == []
    assert "sno1" not in lab.virsh(HV["hv2"], "list", "--all", "--name")
    assert dig(lab, "sno.sno1.simlab.test") == []
    gathered = "ls -A /var/log/ocplab/consoles; /etc/ocplab/bin/ocplab-consoles status sno1 || echo stopped"
    assert lab.ssh(JUMPHOST, gathered).split() == ["ipi1", "stopped"], "sno1's console logs went with it"
    lab.note("DNS answers during sno1 destroy", answers)


def test_destroy_then_up_restores_the_same_addresses(lab: LabSession) -> None:
    before = lab.outputs("ipi1")
    lab.pulumi.destroy("ipi1")
    assert "ipi1" not in lab.virsh(HV["hv1"], "list", "--all", "--name")
    assert dig(lab, before["nodes"][0]["fqdn"]) == []
    assert lab.outputs("ipi1") == {}
    lab.up("ipi1")
    after = lab.outputs("ipi1")
    assert [(n["name"], n["ip"], n["macs"]) for n in after["nodes"]] == \
        [(n["name"], n["ip"], n["macs"]) for n in before["nodes"]]
    assert (after["api_vip"], after["ingress_vip"]) == (before["api_vip"], before["ingress_vip"])
    assert lease_of(lab, "hv1", "ipi1-master-1").leases["eth0"].ip == after["nodes"][2]["ip"]


def test_names_from_upstream_come_from_the_outside_and_the_lab_zones_never_go_there(lab: LabSession) -> None:
    """The lab's dnsmasq asks `dns_upstream` (the simulated outside's DNS server, behind the jumphost's
    uplink) for names that are not the lab's; the lab's zone and reverse zone stay local (NXDOMAIN)."""
    out = outside()
    log = Path(out.query_log)
    seen = len(log.read_bytes())
    assert f"server={out.ip}" in lab.ssh(JUMPHOST, "cat /etc/ocplab/dnsmasq.conf").splitlines()
    assert dig(lab, out.name) == [out.ip]
    node = lab.outputs("ipi1")["nodes"][0]
    assert dig(lab, node["fqdn"]) == [node["ip"]], "the lab's own names are still answered here"
    unassigned = "192.168.16.199"  # neither a host, a slice nor a reservation of the simlab stack
    assert {name: dig_status(lab, name) for name in ("nosuch.simlab.test", "nosuch.ipi1.simlab.test")} == \
        {"nosuch.simlab.test": "NXDOMAIN", "nosuch.ipi1.simlab.test": "NXDOMAIN"}
    assert dig_status(lab, unassigned, reverse=True) == "NXDOMAIN"
    asked = log.read_bytes()[seen:].decode()
    print(f"\nthe outside DNS server's query log during this test:\n{asked}")
    assert f"query[A] {out.name} from {out.uplink_ip}" in asked, asked
    assert "simlab.test" not in asked and "in-addr.arpa" not in asked, asked


# --- the way out: NAT through the jumphost, time from it ----------------------------------------

def test_a_node_reaches_the_outside_through_the_jumphost_and_is_told_its_time_source(lab: LabSession) -> None:
    """ipi1's provisionhost (stacks/Pulumi.ipi1.yaml run_commands) fetches the outside's file by name at first
    boot: the name through the jumphost's dnsmasq, the file through its NAT (the outside's HTTP server sees the
    jumphost's uplink, not the node)."""
    out = outside()
    text: list[str] = [""]

    def fetched() -> bool:
        text[0] = lab.console_text(HV["hv1"], "ipi1-provisionhost")
        return "fetched uptime=" in text[0] or "runcmd rc=1" in text[0]

    wait_for("ipi1's provisionhost to fetch from the outside", fetched)
    assert HTTP_BODY.strip() in text[0], text[0][-2000:]
    lease = parse_console(text[0]).leases["eth0"]
    assert (lease.router, lease.ntp) == (JUMPHOST, (JUMPHOST,)), "DHCP names the jumphost as gateway and NTP server"
    found = re.search(r"fetched uptime=([\d.]+)", text[0])
    assert found and lease.uptime is not None
    lab.note("a node's first lease to its first fetch from outside (s)", float(found.group(1)) - lease.uptime)
    clients = Path(out.http_log).read_text()
    assert f"{out.uplink_ip}:" in clients and "192.168.16." not in clients, "masqueraded: the outside sees the uplink"


def test_a_stand_in_node_on_a_hypervisor_takes_its_time_from_the_jumphost(lab: LabSession) -> None:
    """busybox in the guest image has no NTP client: a namespace on hv1's br0 stands in for a node and asks the
    jumphost's chronyd, which takes its time from the outside's (stratum 8) and so serves stratum 9."""
    chronyd = require_tool("chronyd", "chrony")
    with stand_in_node("ocplab-hv1", "br0", "192.168.16.250/24") as run_in:
        done = subprocess.run([*run_in, chronyd, "-Q", "-d", "-t", "30", f"server {JUMPHOST} iburst maxsamples 4",
                               "pidfile /run/ocplab-standin-chronyd.pid"], capture_output=True, text=True,
                              timeout=60, check=False)
        asked = subprocess.run([*run_in, sys.executable, "-c", SNTP_QUERY, JUMPHOST], capture_output=True,
                               text=True, timeout=30, check=False)
    print(f"\nchronyd -Q against the jumphost:\n{done.stdout}{done.stderr}\nSNTP: {asked.stdout}{asked.stderr}")
    found = re.search(r"System clock wrong by (-?[\d.]+) seconds", done.stdout + done.stderr)
    assert found, done.stdout + done.stderr
    lab.note("NTP client's offset against the jumphost (ms)", 1000 * float(found.group(1)))
    assert asked.returncode == 0 and asked.stdout.split()[0] == "stratum=9", asked.stdout + asked.stderr


def test_nothing_from_the_outside_opens_a_connection_into_the_lab(lab: LabSession) -> None:
    """A router outside that sends the lab's addresses to the jumphost's uplink still reaches nobody: the
    jumphost's forward rule drops every new connection from the uplink (its counter says so)."""
    out = outside()
    in_outside = ["ip", "netns", "exec", out.netns]
    node = lab.outputs("ipi1")["nodes"][0]
    subprocess.run([*in_outside, "ip", "route", "add", "192.168.16.0/24", "via", out.uplink_ip], check=True)
    try:
        before = _dropped(lab)
        ssh = subprocess.run([*in_outside, "timeout", "5", "bash", "-c", f"echo > /dev/tcp/{HV['hv1']}/22"],
                             capture_output=True, text=True, check=False)
        ping = subprocess.run([*in_outside, "ping", "-c", "2", "-W", "2", node["ip"]], capture_output=True,
                              text=True, check=False)
        assert ssh.returncode != 0 and ping.returncode != 0, "the outside reached into the lab"
        assert _dropped(lab) >= before + 3, "the jumphost's rule dropped them"
        assert "SSH" in lab.ssh(JUMPHOST, f"timeout 5 bash -c 'head -c 7 < /dev/tcp/{HV['hv1']}/22'"), \
            "the lab side reaches hv1's sshd"
    finally:
        subprocess.run([*in_outside, "ip", "route", "del", "192.168.16.0/24"], check=False)


def _dropped(lab: LabSession) -> int:
    rule = lab.ssh(JUMPHOST, "nft list chain ip ocplab forward | grep 'counter packets'")
    found = re.search(r"counter packets (\d+)", rule)
    assert found, rule
    return int(found.group(1))


def test_an_uplink_the_jumphost_lacks_stops_up_before_anything_changes(lab: LabSession) -> None:
    jumphost = stack_value(lab, "simlab", "ocplab:jumphost")
    network = stack_value(lab, "simlab", "ocplab:network")
    before = lab.ssh(JUMPHOST, "nft list table ip ocplab; cat /etc/ocplab/dnsmasq.conf /etc/ocplab/chrony.conf")
    lab.edit_stack("simlab", {"ocplab:jumphost": {**jumphost, "uplink": "wan9"},
                              "ocplab:network": {**network, "ntp_upstream": ["198.51.100.3"]}})
    try:
        result = lab.pulumi.run("up", "--yes", "--skip-preview", "-s", "simlab", check=False)
    finally:
        lab.edit_stack("simlab", {"ocplab:jumphost": jumphost, "ocplab:network": network})
    output = result.stdout + result.stderr
    assert result.returncode != 0 and "ocplab:jumphost.uplink: the jumphost has no interface 'wan9'" in output, output
    assert lab.ssh(JUMPHOST, "nft list table ip ocplab; cat /etc/ocplab/dnsmasq.conf /etc/ocplab/chrony.conf") == \
        before, "the NTP change waited for the uplink check, and nothing else changed"
    lab.pulumi.preview("simlab", "--expect-no-changes")


def test_turning_nat_off_takes_the_way_out_away_and_on_again_brings_it_back(lab: LabSession) -> None:
    network, jumphost = stack_value(lab, "simlab", "ocplab:network"), stack_value(lab, "simlab", "ocplab:jumphost")
    lab.pulumi.preview("simlab", "--expect-no-changes")
    off = {**{k: v for k, v in network.items() if k not in ("routing", "dns_upstream")}, "gateway": JUMPHOST}
    lab.edit_stack("simlab", {"ocplab:network": off})
    try:
        started = time.monotonic()
        lab.up("simlab")
        lab.note("pulumi up -s simlab, NAT and upstream DNS off (s)", time.monotonic() - started)
        state = lab.ssh(JUMPHOST, "nft list tables | wc -l; cat /proc/sys/net/ipv4/ip_forward; "
                                  "ls -d /var/lib/ocplab-route 2>/dev/null | wc -l")
        assert state.split() == ["0", "0", "0"], "no table, forwarding back off, no state kept"
        assert dig_status(lab, outside().name) == "REFUSED", "with no upstream, nothing but the lab's names"
        assert dig(lab, "hv1.simlab.test") == [HV["hv1"]]
    finally:
        lab.edit_stack("simlab", {"ocplab:network": network, "ocplab:jumphost": jumphost})
        started = time.monotonic()
        lab.up("simlab")
        lab.note("pulumi up -s simlab, NAT back on (s)", time.monotonic() - started)
    assert "table ip ocplab" in lab.ssh(JUMPHOST, "nft list tables")
    assert lab.ssh(JUMPHOST, "cat /proc/sys/net/ipv4/ip_forward").strip() == "1"
    lab.pulumi.preview("simlab", "--expect-no-changes")


def test_lab_destroy_refuses_while_a_cluster_has_entries(lab: LabSession) -> None:
    resources = len(lab.pulumi.export("simlab")["deployment"]["resources"])
    result = lab.pulumi.destroy("simlab", check=False)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "cluster stacks still have entries on the jumphost" in output and "ipi1" in output, output
    for ip in HV.values():
        assert f"inet {ip}/24" in lab.ssh(ip, "ip -4 -o addr show br0")
        assert "ocplab-br0" in lab.virsh(ip, "net-list", "--name")
    assert len(lab.pulumi.export("simlab")["deployment"]["resources"]) == resources, "nothing was deleted"
    assert dig(lab, "hv1.simlab.test") == [HV["hv1"]]


def test_lab_destroy_restores_each_hypervisor_network(lab: LabSession) -> None:
    lab.pulumi.destroy("ipi1")
    lab.pulumi.destroy("simlab")
    for name, ip in HV.items():
        state = lab.ssh(ip, "ip -4 -o addr show; ls /sys/class/net; nmcli -t -f NAME,DEVICE con show --active")
        assert re.search(rf"eth0\s+inet {re.escape(ip)}/24", state), f"{name}: IP not back on eth0:\n{state}"
        assert "br0" not in state.split("\n", 1)[1]
        assert "eth0:eth0" in state
    files = lab.ssh(JUMPHOST, "ls -A /etc/ocplab 2>/dev/null | wc -l; /etc/ocplab/bin/ocplab-dnsmasq status "
                              "2>/dev/null && echo running || echo stopped")
    assert files.split() == ["0", "stopped"]
    way_out = lab.ssh(JUMPHOST, "nft list tables | wc -l; cat /proc/sys/net/ipv4/ip_forward; "
                                "ls -d /var/lib/ocplab-route /run/ocplab-chrony 2>/dev/null | wc -l; "
                                "pgrep -c -u _chrony chronyd || true")
    assert way_out.split() == ["0", "0", "0", "0"], "no rule, no forwarding, no chrony of ours"


def real_resources(lab: LabSession, stack: str) -> list[str]:
    """Resources a provider made (component resources are only names in the state)."""
    types = [r["type"] for r in lab.pulumi.export(stack)["deployment"].get("resources") or []]
    made_by_providers = ("libvirt:", "command:", "pulumi:providers:libvirt", "pulumi:providers:command")
    return [t for t in types if t.startswith(made_by_providers)]


def test_a_cluster_on_a_destroyed_lab_is_refused_before_anything_is_created(lab: LabSession) -> None:
    result = lab.pulumi.run("up", "--yes", "--skip-preview", "-s", "sno1", check=False)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "ocplab:lab: stack 'simlab' has no outputs: name a deployed lab stack (pulumi up -s simlab)" in output
    assert "Traceback" not in output, output
    assert real_resources(lab, "sno1") == []
    assert lab.virsh(HV["hv2"], "list", "--all", "--name").strip() == ""


def test_a_cluster_on_a_lab_stack_that_never_existed_is_refused_in_one_line(lab: LabSession) -> None:
    sno9 = lab.project / "stacks" / "Pulumi.sno9.yaml"
    sno9.write_text((lab.project / "stacks" / "Pulumi.sno1.yaml").read_text().replace(
        "ocplab:lab: simlab", "ocplab:lab: nolab"))
    lab.pulumi.ensure_stack("sno9")
    result = lab.pulumi.run("up", "--yes", "--skip-preview", "-s", "sno9", check=False)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "ocplab:lab: the lab stack 'nolab' does not exist in this backend: deploy it first" in output, output
    assert "Traceback" not in output and "KeyboardInterrupt" not in output, output
    assert real_resources(lab, "sno9") == []


def test_iproute2_backend_bridges_a_host_without_networkmanager(lab: LabSession) -> None:
    """Hosts without NetworkManager get the bridge from iproute2, over the same SSH session."""
    ip = HV["hv2"]
    lab.ssh(ip, "nmcli dev set eth0 managed no")
    try:
        first = lab.ssh(ip, bridge_create_script("iproute2", "eth0", "br0"))
        assert f"br0 now carries eth0 and {ip}/24" in first
        state = lab.ssh(ip, "ip -4 -o addr show; ip -o link show eth0; cat /sys/class/net/br0/bridge/forward_delay")
        assert re.search(rf"br0\s+inet {re.escape(ip)}/24", state) and "master br0" in state
        assert state.rstrip().endswith("\n0")
        assert "already carries eth0" in lab.ssh(ip, bridge_create_script("iproute2", "eth0", "br0"))
        assert "carries its own address again" in lab.ssh(ip, bridge_delete_script("iproute2", "eth0", "br0"))
        back = lab.ssh(ip, "ip -4 -o addr show; ls /sys/class/net")
        assert re.search(rf"eth0\s+inet {re.escape(ip)}/24", back) and "br0" not in back.split("\n", 1)[1]
    finally:
        lab.ssh(ip, "nmcli dev set eth0 managed yes")
