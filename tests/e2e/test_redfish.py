"""On the simulated lab: Redfish BMCs (sushy-tools) for two SNO clusters on one hypervisor, for real.

`pulumi up` of the lab stack installs and health-checks sushy-tools on hv2 with a TLS certificate;
each cluster stack runs its own emulator on its slice's port, allowed only its domains. From the
jumphost namespace, curl (TLS checked against the hypervisor's certificate, credentials on stdin)
lists systems, powers the right domain off, on and reset, sets one-time boot to CD, inserts an ISO the
jumphost serves over HTTP and watches the guest boot it on its console, ejects it; a neighbour's
systems are neither listed nor powered with another cluster's credentials; wrong credentials are
refused. A hostile media server's `../` file name stays a plain name in the emulator's media dir,
and the emulator runs as its cluster's own user, unable to read its neighbour's files. Destroy stops
the emulator and closes its port. Steps build on each other.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from simlab.clients import jumphost_argv, run_in_jumphost, ssh_run
from tests.e2e.lab_helpers import JUMPHOST, PROJECT, LabSession, inventory_listing, wait_for
from tests.tools import require_tool

pytestmark = pytest.mark.simlab

HV2 = "192.168.16.12"
PORTS = {"rf1": 8101, "rf2": 8102}
ISO_PORT = 8088
HOSTILE_PORT = 8089
BOOT_MARK = "OCPLAB-VMEDIA-BOOTED"
OUTSIDE = "/tmp/ocplab-outside"
# sushy-tools 2.2.0 renames a download to the Content-Disposition filename as sent, under a temp dir of TMPDIR:
# enough `../` to reach / from any depth, then a dir the emulator could write.
HOSTILE_NAME = "../" * 8 + OUTSIDE.lstrip("/") + "/OUTSIDE"
HOSTILE_SERVER = """
import http.server, sys
class Hostile(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Disposition", 'attachment; filename="%s"' % sys.argv[3])
        self.send_header("Content-Length", "4096")
        self.end_headers()
        self.wfile.write(b"\\0" * 4096)
http.server.HTTPServer((sys.argv[1], int(sys.argv[2])), Hostile).serve_forever()
"""


class Redfish:
    """curl from the jumphost namespace: TLS verified against the hypervisor's certificate, the
    credentials in curl's config on stdin (never on a command line)."""

    def __init__(self, lab: LabSession, cafile: Path) -> None:
        self.lab, self.cafile = lab, cafile
        self.took: list[float] = []

    def call(self, port: int, path: str, password: str, method: str = "GET", body: dict[str, Any] | None = None,
             user: str = "admin") -> tuple[int, Any]:
        config = f'user = "{user}:{password}"\n'
        argv = [require_tool("curl", "the Debian package curl"), "-sS", "--cacert", str(self.cafile), "-K", "-",
                "-X", method, "-w", "\n%{http_code} %{time_total}", f"https://{HV2}:{port}{path}"]
        if body is not None:
            argv += ["-H", "Content-Type: application/json", "--data", json.dumps(body)]
        result = run_in_jumphost(argv, input=config, timeout=120, cwd=str(PROJECT))
        assert result.returncode == 0, result.stderr
        text, _, last = result.stdout.rpartition("\n")
        code, seconds = last.split()
        self.took.append(float(seconds))  # the request alone, as curl times it (TLS included)
        try:
            return int(code), json.loads(text) if text.strip() else None
        except json.JSONDecodeError:
            return int(code), text


def slices() -> dict[str, Any]:
    return {"rf1": {"hypervisor": "hv2", "range": "192.168.16.80-192.168.16.81", "bmc": "redfish",
                    "bmc_ports": f"{PORTS['rf1']}-{PORTS['rf1']}"},
            "rf2": {"hypervisor": "hv2", "range": "192.168.16.82-192.168.16.83", "bmc": "redfish",
                    "bmc_ports": f"{PORTS['rf2']}-{PORTS['rf2']}"}}


def write_cluster_stacks(lab: LabSession) -> None:
    sno = yaml.safe_load((lab.project / "stacks" / "Pulumi.sno1.yaml").read_text())
    for name in PORTS:
        (lab.project / "stacks" / f"Pulumi.{name}.yaml").write_text(yaml.safe_dump(
            {"config": {**sno["config"], "ocplab:hypervisor": "hv2"}, "encryptionsalt": sno["encryptionsalt"]},
            sort_keys=False))


def boot_iso(where: Path) -> Path:
    """A UEFI-bootable ISO (GRUB EFI by grub-mkrescue: an SNO node boots OVMF) whose kernel (this machine's, as in
    the guest image) prints BOOT_MARK on the serial console with its command line."""
    kernels = sorted(Path("/boot").glob("vmlinuz-*"))
    assert kernels, "no /boot/vmlinuz-*: install linux-image-amd64 (scripts/install-deps.sh does)"
    tree = where / "iso"
    (tree / "boot" / "grub").mkdir(parents=True)
    shutil.copy(kernels[-1], tree / "vmlinuz")
    # linuxefi: the kernel's own EFI stub (GRUB's `linux` runs out of memory under OVMF: simlab/guest/efi.py).
    (tree / "boot" / "grub" / "grub.cfg").write_text(
        f"set timeout=0\ninsmod linuxefi\nlinuxefi /vmlinuz console=ttyS0 ocplab.vmedia={BOOT_MARK}\nboot\n")
    iso = where / "www" / "boot.iso"
    iso.parent.mkdir()
    subprocess.run([require_tool("grub-mkrescue", "the Debian packages grub-common and grub-efi-amd64-bin"), "-o",
                    str(iso), str(tree)], check=True, capture_output=True)
    return iso


@pytest.fixture(scope="module")
def redfish(lab: LabSession, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Redfish]:
    """The lab stack with two Redfish slices on hv2, both SNO clusters up, the jumphost serving an ISO."""
    lab.edit_stack("simlab", {"ocplab:slices": {**yaml.safe_load(
        (lab.project / "stacks" / "Pulumi.simlab.yaml").read_text())["config"]["ocplab:slices"], **slices()}})
    write_cluster_stacks(lab)
    started = time.monotonic()
    lab.up("simlab")
    lab.note("pulumi up -s simlab with sushy-tools on hv2 (s)", time.monotonic() - started)
    for name in PORTS:
        lab.pulumi.ensure_stack(name)
    started = time.monotonic()
    lab.up_parallel(list(PORTS))
    lab.note("pulumi up rf1 + rf2 at once, each with its emulator (s)", time.monotonic() - started)
    where = tmp_path_factory.mktemp("redfish")
    cafile = where / "hv2-cert.pem"
    cafile.write_text(lab.ssh(HV2, "cat /etc/ocplab/sushy/tls/cert.pem"))
    iso = boot_iso(where)
    server = subprocess.Popen(jumphost_argv(["python3", "-m", "http.server", str(ISO_PORT), "--bind", JUMPHOST,
                                             "--directory", str(iso.parent)]),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    hostile = subprocess.Popen(jumphost_argv(["python3", "-c", HOSTILE_SERVER, JUMPHOST, str(HOSTILE_PORT),
                                              HOSTILE_NAME]), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield Redfish(lab, cafile)
    finally:
        for process in (server, hostile):
            process.terminate()
            process.wait(timeout=30)


def doctor(lab: LabSession) -> tuple[int, list[dict[str, Any]]]:
    result = lab.jumphost([str(PROJECT / "bin" / "ocplab"), "doctor", "--lab", "simlab", "--json"], timeout=300)
    assert result.returncode in (0, 1), result.stderr
    findings: list[dict[str, Any]] = json.loads(result.stdout)["findings"]
    return result.returncode, findings


def bmc(lab: LabSession, stack: str) -> dict[str, Any]:
    value: dict[str, Any] = lab.outputs(stack, show_secrets=True)["bmc"]
    return value


def uuid_of(lab: LabSession, stack: str) -> str:
    return str(lab.outputs(stack)["nodes"][0]["uuid"])


def domstate(lab: LabSession, stack: str) -> str:
    return lab.virsh(HV2, "domstate", f"{stack}-sno").strip()


def reset(rf: Redfish, stack: str, kind: str, port: int | None = None) -> int:
    lab = rf.lab
    code, _ = rf.call(port or PORTS[stack], f"/redfish/v1/Systems/{uuid_of(lab, stack)}/Actions/ComputerSystem.Reset",
                      bmc(lab, stack)["password"], "POST", {"ResetType": kind})
    return code


def test_each_cluster_exports_its_own_emulator_and_the_engine_sees_no_drift(redfish: Redfish) -> None:
    lab = redfish.lab
    assert lab.outputs("simlab")["slices"]["rf1"]["bmc"] == "redfish"
    for stack, port in PORTS.items():
        public = {k: v for k, v in bmc(lab, stack).items() if k != "password"}
        assert public == {"kind": "redfish", "address": HV2, "user": "admin", "port": port, "nodes": {"sno": {}}}
        assert lab.outputs(stack)["bmc"] == "[secret]"
        lab.pulumi.preview(stack, "--expect-no-changes")
    passwords = [bmc(lab, stack)["password"] for stack in PORTS]
    for path in (p for p in lab.pulumi.backend.rglob("*") if p.is_file()):
        assert not any(pw in path.read_text(errors="replace") for pw in passwords), f"a password in {path}"
    on_host = lab.ssh(HV2, "cat /etc/ocplab/sushy/clusters/*/emulator.conf /etc/ocplab/sushy/clusters/*/htpasswd "
                           "/var/log/ocplab-sushy/*.log; ps -eo args")
    assert not any(pw in on_host for pw in passwords), "a password in the emulators' files, logs or argv"
    assert sorted(lab.ssh(HV2, "/opt/ocplab/sushy/bin/python /etc/ocplab/sushy/bin/ocplab_sushy.py list").split()) \
        == ["rf1", "rf2"]
    code, findings = doctor(lab)
    assert (code, findings) == (0, []), json.dumps(findings, indent=1)


def test_doctor_names_an_emulator_no_cluster_owns(redfish: Redfish) -> None:
    lab = redfish.lab
    lab.ssh(HV2, "mkdir -p /etc/ocplab/sushy/clusters/rf9")
    code, findings = doctor(lab)
    assert code == 1 and [(f["kind"], f["what"]) for f in findings] == [("orphan", "Redfish emulator rf9")]
    removed = lab.jumphost([str(PROJECT / "bin" / "ocplab"), "doctor", "--lab", "simlab", "--remove-orphans"],
                           timeout=300)
    assert removed.returncode == 0, removed.stdout + removed.stderr
    code, findings = doctor(lab)
    assert (code, findings) == (0, []), json.dumps(findings, indent=1)


def test_credentials_list_exactly_their_clusters_systems(redfish: Redfish) -> None:
    lab = redfish.lab
    took = []
    for stack, port in PORTS.items():
        started = time.monotonic()
        code, body = redfish.call(port, "/redfish/v1/Systems", bmc(lab, stack)["password"])
        took.append(time.monotonic() - started)
        assert code == 200, body
        assert [m["@odata.id"] for m in body["Members"]] == [f"/redfish/v1/Systems/{uuid_of(lab, stack)}"]
    lab.note("Redfish GET /Systems round trip incl. ip netns exec + curl + TLS, mean (ms)", 1000 * sum(took) / 2)
    lab.note("Redfish GET /Systems, the request alone (curl time_total, TLS + bcrypt + libvirt), mean (ms)",
             1000 * sum(redfish.took[-2:]) / 2)


def test_a_neighbours_system_is_not_found_and_not_powered(redfish: Redfish) -> None:
    lab = redfish.lab
    mine, theirs = bmc(lab, "rf1")["password"], uuid_of(lab, "rf2")
    assert domstate(lab, "rf2") == "running"
    assert redfish.call(PORTS["rf1"], f"/redfish/v1/Systems/{theirs}", mine)[0] == 404
    code, _ = redfish.call(PORTS["rf1"], f"/redfish/v1/Systems/{theirs}/Actions/ComputerSystem.Reset", mine, "POST",
                           {"ResetType": "ForceOff"})
    assert code == 404
    assert redfish.call(PORTS["rf1"], "/redfish/v1/Systems/rf2-sno", mine)[0] == 404  # nor by domain name
    # sushy-tools 2.2.0 alone lists every domain under Managers and Chassis and lets VirtualMedia act on any.
    code, body = redfish.call(PORTS["rf1"], "/redfish/v1/Managers", mine)
    assert code == 200 and [m["@odata.id"] for m in body["Members"]] == [f"/redfish/v1/Managers/{uuid_of(lab, 'rf1')}"]
    code, body = redfish.call(PORTS["rf1"], "/redfish/v1/Chassis", mine)
    chassis = [redfish.call(PORTS["rf1"], m["@odata.id"], mine)[1] for m in body["Members"]]
    assert theirs not in json.dumps(chassis)
    insert = f"/redfish/v1/Systems/{theirs}/VirtualMedia/Cd/Actions/VirtualMedia.InsertMedia"
    code, _ = redfish.call(PORTS["rf1"], insert, mine, "POST",
                           {"Image": f"http://{JUMPHOST}:{ISO_PORT}/boot.iso", "Inserted": True})
    assert code == 404
    assert redfish.call(PORTS["rf2"], "/redfish/v1/Systems", mine)[0] == 401  # rf1's password on rf2's emulator
    time.sleep(1)
    assert domstate(lab, "rf2") == "running"


@pytest.mark.parametrize(("user", "password"), [("admin", "wrong-password"), ("root", None)])
def test_wrong_credentials_are_refused(redfish: Redfish, user: str, password: str | None) -> None:
    secret = password or bmc(redfish.lab, "rf1")["password"]
    assert redfish.call(PORTS["rf1"], "/redfish/v1/Systems", secret, user=user)[0] == 401


def test_power_off_on_and_reset_act_on_that_domain(redfish: Redfish) -> None:
    lab = redfish.lab
    started = time.monotonic()
    assert reset(redfish, "rf1", "ForceOff") == 204
    wait_for("rf1-sno shut off", lambda: domstate(lab, "rf1") == "shut off")
    lab.note("Redfish ForceOff to domain shut off (s)", time.monotonic() - started)
    assert domstate(lab, "rf2") == "running"
    code, body = redfish.call(PORTS["rf1"], f"/redfish/v1/Systems/{uuid_of(lab, 'rf1')}", bmc(lab, "rf1")["password"])
    assert code == 200 and body["PowerState"] == "Off"
    assert reset(redfish, "rf1", "On") == 204
    wait_for("rf1-sno running", lambda: domstate(lab, "rf1") == "running")
    assert reset(redfish, "rf1", "ForceRestart") == 204
    assert domstate(lab, "rf1") == "running"


def test_virtual_media_from_the_jumphost_boots_once_and_ejects(redfish: Redfish) -> None:
    lab = redfish.lab
    password, uuid = bmc(lab, "rf1")["password"], uuid_of(lab, "rf1")
    media = f"/redfish/v1/Systems/{uuid}/VirtualMedia/Cd"
    started = time.monotonic()
    code, body = redfish.call(PORTS["rf1"], f"{media}/Actions/VirtualMedia.InsertMedia", password, "POST",
                              {"Image": f"http://{JUMPHOST}:{ISO_PORT}/boot.iso", "Inserted": True})
    assert code == 204, body
    code, body = redfish.call(PORTS["rf1"], f"/redfish/v1/Systems/{uuid}", password, "PATCH",
                              {"Boot": {"BootSourceOverrideTarget": "Cd", "BootSourceOverrideEnabled": "Once"}})
    assert code == 204, body
    # A boot device set while the domain runs takes effect when QEMU starts again (ironic powers off, then on).
    assert reset(redfish, "rf1", "ForceOff") == 204
    wait_for("rf1-sno shut off", lambda: domstate(lab, "rf1") == "shut off")
    assert reset(redfish, "rf1", "On") == 204
    try:
        wait_for(f"{BOOT_MARK} on rf1-sno's console",
                 lambda: BOOT_MARK in lab.ssh(HV2, "cat /var/log/libvirt/qemu/rf1-sno-console.log"), timeout=180)
    except AssertionError:
        print(lab.ssh(HV2, "virsh dumpxml rf1-sno; tail -c 3000 /var/log/libvirt/qemu/rf1-sno-console.log; "
                           "tail -n 30 /var/log/ocplab-sushy/rf1.log; virsh -q vol-list --pool ocplab-vmedia"))
        raise
    lab.note("Redfish virtual media insert to boot message on the console (s)", time.monotonic() - started)
    code, body = redfish.call(PORTS["rf1"], media, password)
    assert code == 200 and body["Inserted"] is True and body["Image"].endswith("/boot.iso")
    code, body = redfish.call(PORTS["rf1"], f"{media}/Actions/VirtualMedia.EjectMedia", password, "POST", {})
    assert code == 204, body
    assert redfish.call(PORTS["rf1"], media, password)[1]["Inserted"] is False
    # What the BMC did to the domain (a CD drive, a boot order) is the installer's business: not drift.
    lab.pulumi.preview("rf1", "--refresh", "--expect-no-changes")


def emulator_status(lab: LabSession, stack: str) -> dict[str, list[str]]:
    """The emulator process' /proc status lines (the simulated lab has no systemd: its pid file says which)."""
    text = lab.ssh(HV2, f"cat /proc/$(cat /run/ocplab-sushy/{stack}.pid)/status")
    return {key: value.split() for key, _, value in (line.partition(":") for line in text.splitlines())}


def as_emulator_user(lab: LabSession, user: str, command: str) -> subprocess.CompletedProcess[str]:
    return ssh_run(HV2, f"setpriv --reuid={user} --regid={user} --init-groups -- {command}", timeout=60)


def test_a_hostile_media_server_cannot_name_a_file_outside_the_media_dir(redfish: Redfish) -> None:
    lab = redfish.lab
    password, uuid = bmc(lab, "rf1")["password"], uuid_of(lab, "rf1")
    media = f"/redfish/v1/Systems/{uuid}/VirtualMedia/Cd"
    lab.ssh(HV2, f"mkdir -p {OUTSIDE} && chmod 1777 {OUTSIDE}")  # a dir the traversal could have written to
    code, body = redfish.call(PORTS["rf1"], f"{media}/Actions/VirtualMedia.InsertMedia", password, "POST",
                              {"Image": f"http://{JUMPHOST}:{HOSTILE_PORT}/boot.iso", "Inserted": True})
    assert code == 204, body
    assert lab.ssh(HV2, f"ls -A {OUTSIDE}").split() == []
    # The download is in the emulator's media dir under the plain name, and in the pool under sushy's name.
    kept = lab.ssh(HV2, "find /etc/ocplab/sushy/clusters/rf1/media -type f").split()
    assert [Path(k).name for k in kept] == ["OUTSIDE"], kept
    assert Path(kept[0]).parent.parent == Path("/etc/ocplab/sushy/clusters/rf1/media")
    assert f"OUTSIDE-{uuid}.img" in lab.virsh(HV2, "vol-list", "--pool", "ocplab-vmedia")
    code, body = redfish.call(PORTS["rf1"], f"{media}/Actions/VirtualMedia.EjectMedia", password, "POST", {})
    assert code == 204, body
    assert lab.ssh(HV2, "find /etc/ocplab/sushy/clusters/rf1/media -type f").split() == []
    assert lab.ssh(HV2, f"ls -A {OUTSIDE}; rmdir {OUTSIDE}").split() == []


def test_each_emulator_runs_as_its_clusters_user_without_privileges(redfish: Redfish) -> None:
    lab = redfish.lab
    for stack in PORTS:
        uid = lab.ssh(HV2, f"id -u ocplab-bmc-{stack}").strip()
        status = emulator_status(lab, stack)
        assert status["Uid"] == [uid] * 4 and uid != "0", status["Uid"]  # real, effective, saved, filesystem
        assert status["CapEff"] == ["0000000000000000"] and status["NoNewPrivs"] == ["1"]
        assert set(status["Groups"]) == set(lab.ssh(HV2, f"id -G ocplab-bmc-{stack}").split())
    assert emulator_status(lab, "rf1")["Uid"] != emulator_status(lab, "rf2")["Uid"]


def test_a_neighbours_files_are_unreadable_to_an_emulator(redfish: Redfish) -> None:
    lab = redfish.lab
    mine, theirs = "/etc/ocplab/sushy/clusters/rf1", "/etc/ocplab/sushy/clusters/rf2"
    for path in (f"{mine}/htpasswd", f"{mine}/emulator.conf", "/etc/ocplab/sushy/tls/key.pem"):
        readable = as_emulator_user(lab, "ocplab-bmc-rf1", f"cat {path}")
        assert readable.returncode == 0, readable.stderr  # what it needs, so the refusals below are of access
    for command in (f"cat {theirs}/htpasswd", f"cat {theirs}/emulator.conf", f"ls -A {theirs}/state",
                    f"ls -A {theirs}/media", "ls -A /etc/ocplab/sushy/clusters", "cat /var/log/ocplab-sushy/rf2.log"):
        refused = as_emulator_user(lab, "ocplab-bmc-rf1", command)
        assert refused.returncode != 0 and "Permission denied" in refused.stderr, (command, refused)
    written = as_emulator_user(lab, "ocplab-bmc-rf1", f"touch {mine}/htpasswd")
    assert written.returncode != 0 and "Permission denied" in written.stderr


def serving(rf: Redfish, stack: str, password: str) -> bool:
    try:
        return rf.call(PORTS[stack], "/redfish/v1/Systems", password)[0] == 200
    except AssertionError:  # curl could not connect (yet)
        return False


def test_an_emulator_an_older_ocplab_ran_as_root_is_restarted_as_its_user(redfish: Redfish) -> None:
    lab, password = redfish.lab, bmc(redfish.lab, "rf2")["password"]
    conf, pidfile = "/etc/ocplab/sushy/clusters/rf2/emulator.conf", "/run/ocplab-sushy/rf2.pid"
    # What an older ocplab left running: sushy-emulator as root (its code unpatched), in the launcher's pid file.
    lab.ssh(HV2, f"p=$(cat {pidfile}); kill $p; while kill -0 $p 2>/dev/null; do sleep 0.1; done; "
                 f"setsid /opt/ocplab/sushy/bin/sushy-emulator --config {conf} </dev/null "
                 f">>/var/log/ocplab-sushy/rf2.log 2>&1 & echo $! > {pidfile}")
    wait_for("rf2's emulator as root", lambda: serving(redfish, "rf2", password), timeout=60, every=0.5)
    assert emulator_status(lab, "rf2")["Uid"][0] == "0"
    shown = lab.ssh(HV2, "/opt/ocplab/sushy/bin/python /etc/ocplab/sushy/bin/ocplab_sushy.py restart-root")
    assert shown.strip() == "ocplab sushy: cluster rf2: Redfish emulator restarted as ocplab-bmc-rf2"
    wait_for("rf2's emulator as its user", lambda: serving(redfish, "rf2", password), timeout=60, every=0.5)
    assert emulator_status(lab, "rf2")["Uid"] == [lab.ssh(HV2, "id -u ocplab-bmc-rf2").strip()] * 4
    assert lab.ssh(HV2, "/opt/ocplab/sushy/bin/python /etc/ocplab/sushy/bin/ocplab_sushy.py restart-root") == ""


def test_the_dci_handoff_gives_redfish_fields_that_work(redfish: Redfish, tmp_path: Path) -> None:
    lab = redfish.lab
    result = lab.jumphost([sys.executable, "-m", "tools.dci_handoff", "rf1", "--pool", "simlab",
                           "--root", str(tmp_path)])
    assert result.returncode == 0, result.stderr
    listed = inventory_listing(lab, tmp_path / "simlab" / "rf1")
    node = listed["_meta"]["hostvars"][listed["masters"]["hosts"][0]]
    assert (node["ipmi_address"], node["redfish_port"], node["kvm_uuid"]) == (HV2, PORTS["rf1"], uuid_of(lab, "rf1"))
    assert node["dnsmasq_enabled"] is False and node["bootmode"] == "uefi", "an SNO node boots OVMF (core/firmware.py)"
    code, body = redfish.call(node["redfish_port"], f"/redfish/v1/Systems/{node['kvm_uuid']}", node["ipmi_password"],
                              user=node["ipmi_user"])
    assert code == 200 and body["Id"] == node["kvm_uuid"]


def test_destroy_stops_the_emulator_and_closes_its_port(redfish: Redfish) -> None:
    lab = redfish.lab
    lab.pulumi.destroy("rf2")
    argv = [require_tool("curl", "the Debian package curl"), "-sS", "-k", f"https://{HV2}:{PORTS['rf2']}/redfish/v1/"]
    refused = run_in_jumphost(argv, timeout=60, cwd=str(PROJECT))
    assert refused.returncode == 7, refused  # curl: failed to connect
    assert lab.ssh(HV2, "ls /etc/ocplab/sushy/clusters").split() == ["rf1"]
    assert redfish.call(PORTS["rf1"], "/redfish/v1/Systems", bmc(lab, "rf1")["password"])[0] == 200
    code, findings = doctor(lab)
    assert (code, findings) == (0, []), json.dumps(findings, indent=1)


def test_the_last_destroy_and_the_lab_leave_nothing_behind(redfish: Redfish) -> None:
    lab = redfish.lab
    assert lab.ssh(HV2, "virsh -q vol-list --pool ocplab-vmedia").split()  # the ISO rf1 booted
    lab.pulumi.destroy("rf1")
    assert lab.ssh(HV2, "virsh -q vol-list --pool ocplab-vmedia").split() == []
    slices = yaml.safe_load((lab.project / "stacks" / "Pulumi.simlab.yaml").read_text())["config"]["ocplab:slices"]
    lab.edit_stack("simlab", {"ocplab:slices": {k: v for k, v in slices.items() if k not in PORTS}})
    lab.up("simlab")
    assert lab.ssh(HV2, "ls /etc/ocplab/sushy 2>/dev/null; virsh -q pool-list --all --name") .split() == ["ocplab"]
    assert lab.ssh(HV2, "getent passwd; getent group").count("ocplab-bmc") == 0  # the users and their group
