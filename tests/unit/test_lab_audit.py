"""core.lab_audit: the lab as found against its stacks. A clean lab gives nothing; each piece of debris
gives exactly one finding with the command that fixes it; what is not ocplab's is never reported."""

from __future__ import annotations

import copy
import json
import shlex
from pathlib import Path
from typing import Any

import pytest

from core.clusterconfig import ClusterConfig, parse_cluster_config
from core.lab_audit import (
    JUMPHOST,
    Finding,
    FoundHypervisor,
    FoundJumphost,
    FoundLab,
    Lease,
    audit,
    held_pieces,
)
from core.lab_contract import LabOutputs, parse_lab_outputs
from core.stack_files import read_stack_values, stack_path
from renderers.lab_audit_scripts import PATHS
from renderers.urns import ClusterUrns

DATA = Path(__file__).parent.parent / "data"
URNS = ClusterUrns("ocplab")
NOW = 1_800_000_000
SSH = "ssh -o StrictHostKeyChecking=yes -o UserKnownHostsFile=/lab/known_hosts -i /lab/key"
RELOAD = "/etc/ocplab/bin/ocplab-dnsmasq reload"
VBMC = "VIRTUALBMC_CONFIG=/etc/ocplab/vbmc/virtualbmc.conf /opt/ocplab/vbmc/bin/vbmc"


def lab_outputs(extra_slices: dict[str, Any] | None = None) -> LabOutputs:
    raw = json.loads((DATA / "lab-outputs-simlab.json").read_text())
    raw["slices"].update(extra_slices or {})
    return parse_lab_outputs("simlab", raw)


def cluster_outputs() -> dict[str, dict[str, Any]]:
    """ipi1 (redfish BMCs: no vbmc entries) on hv1 and sno1 (one ipmi BMC) on hv2, as deployed."""
    return {"ipi1": json.loads((DATA / "cluster-outputs-ipi.json").read_text()),
            "sno1": json.loads((DATA / "cluster-outputs-sno.json").read_text())}


def configs() -> dict[str, ClusterConfig]:
    return {name: parse_cluster_config(name, read_stack_values(stack_path(name))) for name in ("ipi1", "sno1")}


def clean_lab() -> FoundLab:
    """What a healthy simlab with ipi1 and sno1 holds, with things of others that are not ocplab's."""
    ipi = [f"ipi1-{n}" for n in ("provisionhost", "master-0", "master-1", "master-2", "worker-0", "worker-1")]
    ipi_volumes = ["ipi1-provisionhost-root.qcow2", "ipi1-provisionhost-cidata.iso",
                   *(f"ipi1-master-{i}-root.qcow2" for i in range(3)),
                   *(f"ipi1-worker-{i}-{d}.qcow2" for i in range(2) for d in ("root", "disk2"))]
    hv1 = FoundHypervisor(domains=[*ipi, "web01"], running=ipi, pools=["default", "ocplab"],
                          volumes=["base-guest.qcow2", *ipi_volumes],
                          networks=["default", "ipi1-provisioning", "ocplab-br0", "lab-provisioning"],
                          active_networks=["default", "ipi1-provisioning", "ocplab-br0"], bmcs=[], bmc_records=[],
                          redfish=["ipi1"])
    hv2 = FoundHypervisor(domains=["sno1-sno"], running=["sno1-sno"], pools=["ocplab"],
                          volumes=["base-guest.qcow2", "sno1-sno-root.qcow2"], networks=["ocplab-br0"],
                          active_networks=["ocplab-br0"], bmcs=["sno1-sno"], bmc_records=["sno1"], redfish=[])
    files = {}
    for stack, outputs in cluster_outputs().items():
        for key, path in PATHS.cluster_files(stack).items():
            files[path] = outputs["dnsmasq"][key]
    leases = [Lease(NOW + 3600, n["macs"]["baremetal"], n["ip"], n["name"])
              for outputs in cluster_outputs().values() for n in outputs["nodes"]]
    leases.append(Lease(NOW - 10, "52:54:00:99:99:99", "192.168.16.40", "gone"))  # expired: dnsmasq drops it
    return FoundLab(hypervisors={"hv1": hv1, "hv2": hv2},
                    jumphost=FoundJumphost(files=files, leases=leases, consoles=["ipi1", "sno1"], now=NOW))


def run_audit(found: FoundLab, lab: LabOutputs | None = None, clusters: dict[str, Any] | None = None,
              busy: dict[str, str] | None = None) -> list[Finding]:
    return audit("simlab", lab or lab_outputs(), cluster_outputs() if clusters is None else clusters, found, PATHS,
                 URNS, configs(), busy)


def rows(findings: list[Finding]) -> set[tuple[str, str, str, str | None]]:
    return {(f.kind, f.host, f.what, f.owner) for f in findings}


def test_a_clean_lab_has_no_findings() -> None:
    assert run_audit(clean_lab()) == []


def test_the_debris_gives_exactly_its_findings_with_their_fixes() -> None:
    found = clean_lab()
    hv1, hv2, jump = found.hypervisors["hv1"], found.hypervisors["hv2"], found.jumphost
    assert hv1.domains and hv1.running and hv1.volumes and hv1.networks and hv1.active_networks and hv2.bmcs
    assert jump is not None and jump.files is not None
    hv1.domains.append("ipi1-worker-9")  # a stray domain, running
    hv1.running.append("ipi1-worker-9")
    hv1.volumes.append("ipi1-worker-9-root.qcow2")  # a stray volume
    hv1.networks.append("ipi2-provisioning")  # the provisioning network of a destroyed cluster
    hv1.active_networks.append("ipi2-provisioning")
    jump.files["/etc/ocplab/dhcp-hosts/ipi2"] = "# ocplab cluster ipi2\n"  # a file of a cluster with no stack
    jump.files["/etc/ocplab/hosts/ipi1"] += "192.168.16.99 extra.ipi1.simlab.test\n"  # edited by hand
    hv1.domains.remove("ipi1-master-2")  # a missing domain
    hv2.bmcs.append("sno1-worker-0")  # the BMC of a node sno1 no longer has
    findings = run_audit(found, lab_outputs({"ipi2": {"hypervisor": "hv1", "range": "192.168.16.56-192.168.16.63"}}))

    on_hv1, on_hv2, on_jump = (f"{SSH} root@192.168.16.{n}" for n in (11, 12, 1))
    reapply = ("pulumi stack export -s ipi1 | python3 -c " + shlex.quote(
        "import json,sys; print(next(r['inputs']['create'] for r in json.load(sys.stdin)['deployment']['resources'] "
        "if r['type'] == 'command:remote:Command' and r['urn'].endswith('::ipi1-dns')))")
        + " | ssh -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=/lab/known_hosts -i /lab/key "
        "root@192.168.16.1 sh")
    assert {(f.kind, f.host, f.what, f.owner, f.fix) for f in findings} == {
        ("orphan", "hv1", "domain ipi1-worker-9", None,
         f"{on_hv1} 'virsh destroy ipi1-worker-9 && virsh undefine --nvram ipi1-worker-9'"),
        ("orphan", "hv1", "volume ipi1-worker-9-root.qcow2", None,
         f"{on_hv1} 'virsh vol-delete --pool ocplab ipi1-worker-9-root.qcow2'"),
        ("orphan", "hv1", "network ipi2-provisioning", None,
         f"{on_hv1} 'virsh net-destroy ipi2-provisioning && virsh net-undefine ipi2-provisioning'"),
        ("orphan", JUMPHOST, "file /etc/ocplab/dhcp-hosts/ipi2", None,
         f"{on_jump} 'rm -f -- /etc/ocplab/dhcp-hosts/ipi2 && {RELOAD}'"),
        ("differs", JUMPHOST, "file /etc/ocplab/hosts/ipi1 (not the stack's output dnsmasq.hosts)", "ipi1", reapply),
        ("missing", "hv1", "domain ipi1-master-2", "ipi1", "pulumi up -s ipi1 --refresh"),
        ("orphan", "hv2", "BMC sno1-worker-0", None, f"{on_hv2} '{VBMC} delete sno1-worker-0'"),
    }
    assert [f.remote for f in findings if f.removable] == [  # the audit's order: what --remove-orphans runs
        "virsh destroy ipi1-worker-9 && virsh undefine --nvram ipi1-worker-9",
        "virsh vol-delete --pool ocplab ipi1-worker-9-root.qcow2",
        "virsh net-destroy ipi2-provisioning && virsh net-undefine ipi2-provisioning",
        f"{VBMC} delete sno1-worker-0",
        f"rm -f -- /etc/ocplab/dhcp-hosts/ipi2 && {RELOAD}"]


def test_a_destroyed_cluster_leaves_orphans_no_stack_owns() -> None:
    """sno1 destroyed by hand on a lab that still has its slice: everything of it is an orphan."""
    found = clean_lab()
    findings = run_audit(found, clusters={"ipi1": cluster_outputs()["ipi1"]})
    assert rows(findings) == {
        ("orphan", "hv2", "domain sno1-sno", None), ("orphan", "hv2", "volume sno1-sno-root.qcow2", None),
        ("orphan", "hv2", "BMC sno1-sno", None), ("orphan", "hv2", "BMC record /etc/ocplab/vbmc/clusters/sno1", None),
        ("orphan", JUMPHOST, "file /etc/ocplab/dhcp-hosts/sno1", None),
        ("orphan", JUMPHOST, "file /etc/ocplab/hosts/sno1", None),
        ("orphan", JUMPHOST, "file /etc/ocplab/dnsmasq.d/sno1.conf", None),
        ("orphan", JUMPHOST, "lease 192.168.16.48 52:54:00:a8:10:30 sno", None),
        ("orphan", JUMPHOST, "console logs of sno1", None),
    }
    fixes = {f.what: f.remote for f in findings}
    assert fixes["file /etc/ocplab/dnsmasq.d/sno1.conf"] == (  # a wildcard goes only with a restart
        "rm -f -- /etc/ocplab/dnsmasq.d/sno1.conf && /etc/ocplab/bin/ocplab-dnsmasq restart")
    assert fixes["BMC record /etc/ocplab/vbmc/clusters/sno1"] == (
        "VIRTUALBMC_CONFIG=/etc/ocplab/vbmc/virtualbmc.conf /opt/ocplab/vbmc/bin/python "
        "/etc/ocplab/vbmc/bin/ocplab_vbmc.py remove sno1")
    assert fixes["lease 192.168.16.48 52:54:00:a8:10:30 sno"] == (
        "/etc/ocplab/bin/ocplab-dnsmasq stop && sed -i '/^[0-9]* 52:54:00:a8:10:30 /d' "
        "/var/lib/ocplab/dnsmasq.leases && /etc/ocplab/bin/ocplab-dnsmasq start")


def test_a_busy_stacks_pieces_are_its_own_and_never_removable() -> None:
    """A first `pulumi up` of sno1 that failed: its state holds what its outputs do not show."""
    findings = run_audit(clean_lab(), clusters={"ipi1": cluster_outputs()["ipi1"]},
                         busy={"sno1": "this stack holds resources but no outputs (a pulumi up failed?)"})
    assert findings and {f.owner for f in findings} == {"sno1"}
    assert not any(f.removable for f in findings)
    assert all(f.fix.startswith("pulumi up -s sno1 (this stack holds resources") for f in findings)


def test_what_is_not_ocplabs_is_never_reported() -> None:
    found = clean_lab()
    hv1 = found.hypervisors["hv1"]
    assert hv1.domains is not None and hv1.networks is not None
    hv1.domains += ["web01", "ipi1", "ipi10-master-0"]  # no `<slice>-` prefix (ipi10 is no slice)
    hv1.networks += ["web-provisioning", "ipi1-provisioning-old"]
    assert run_audit(found) == []


def test_pieces_on_the_wrong_hypervisor_are_orphans_there() -> None:
    found = clean_lab()
    hv2 = found.hypervisors["hv2"]
    assert hv2.domains is not None
    hv2.domains.append("ipi1-master-0")  # ipi1 lives on hv1
    assert rows(run_audit(found)) == {("orphan", "hv2", "domain ipi1-master-0", None)}
    assert run_audit(found)[0].remote == "virsh undefine --nvram ipi1-master-0"  # not running: no destroy


def test_missing_lab_pieces_are_the_lab_stacks() -> None:
    found = clean_lab()
    hv1, hv2 = found.hypervisors["hv1"], found.hypervisors["hv2"]
    assert hv1.networks is not None and hv2.volumes is not None
    hv1.networks.remove("ocplab-br0")
    hv2.volumes.remove("base-guest.qcow2")
    hv2.pools = ["default"]
    hv2.errors["volumes"] = "error: failed to get pool 'ocplab'"  # vol-list of a pool that is gone
    assert {(f.kind, f.host, f.what, f.owner, f.fix) for f in run_audit(found)} == {
        ("missing", "hv1", "network ocplab-br0", "simlab", "pulumi up -s simlab --refresh"),
        ("missing", "hv2", "pool ocplab", "simlab", "pulumi up -s simlab --refresh"),
    }


def test_missing_volumes_follow_the_cluster_config() -> None:
    found = clean_lab()
    hv1 = found.hypervisors["hv1"]
    assert hv1.volumes is not None
    hv1.volumes.remove("ipi1-worker-1-disk2.qcow2")
    hv1.volumes.remove("ipi1-provisionhost-cidata.iso")
    assert rows(run_audit(found)) == {("missing", "hv1", "volume ipi1-worker-1-disk2.qcow2", "ipi1"),
                                      ("missing", "hv1", "volume ipi1-provisionhost-cidata.iso", "ipi1")}


def test_a_missing_bmc_and_dnsmasq_file_are_made_again_by_the_stacks_own_commands() -> None:
    found = clean_lab()
    assert found.hypervisors["hv2"].bmcs is not None and found.jumphost and found.jumphost.files
    found.hypervisors["hv2"].bmcs.remove("sno1-sno")
    del found.jumphost.files["/etc/ocplab/dnsmasq.d/sno1.conf"]
    fixes = {f.what: (f.kind, f.owner, f.fix) for f in run_audit(found)}
    assert set(fixes) == {"BMC sno1-sno", "file /etc/ocplab/dnsmasq.d/sno1.conf"}
    urn = "urn:pulumi:sno1::ocplab::ocplab:cluster:Cluster$command:remote:Command::sno1-bmc"
    assert URNS.cluster_command("sno1", "sno1-bmc") == urn
    assert fixes["BMC sno1-sno"] == ("missing", "sno1",
                                     f"pulumi state delete -s sno1 '{urn}' --yes && pulumi up -s sno1")
    kind, owner, fix = fixes["file /etc/ocplab/dnsmasq.d/sno1.conf"]
    assert (kind, owner) == ("missing", "sno1")
    assert fix.startswith("pulumi stack export -s sno1 | python3 -c ") and "::sno1-dns" in fix and fix.endswith(" sh")


def test_a_redfish_emulator_of_no_cluster_is_an_orphan_and_a_missing_one_is_made_again() -> None:
    found = clean_lab()
    hv1, hv2 = found.hypervisors["hv1"], found.hypervisors["hv2"]
    assert hv1.redfish is not None and hv2.redfish is not None
    hv1.redfish.remove("ipi1")
    hv2.redfish.append("rf9")  # a destroyed cluster's emulator left behind
    fixes = {f.what: (f.kind, f.host, f.owner, f.fix) for f in run_audit(found)}
    urn = URNS.cluster_command("ipi1", "ipi1-redfish")
    assert fixes == {
        "Redfish emulator ipi1": ("missing", "hv1", "ipi1", f"pulumi state delete -s ipi1 '{urn}' --yes && "
                                                            "pulumi up -s ipi1"),
        "Redfish emulator rf9": ("orphan", "hv2", None, fixes["Redfish emulator rf9"][3])}
    assert fixes["Redfish emulator rf9"][3].endswith(
        "'OCPLAB_SUSHY_ROOT=/etc/ocplab/sushy /opt/ocplab/sushy/bin/python /etc/ocplab/sushy/bin/ocplab_sushy.py "
        "remove rf9'")


def test_a_host_that_does_not_answer_is_one_finding() -> None:
    found = clean_lab()
    del found.hypervisors["hv2"]
    found.unreachable["hv2"] = "ssh: connect to host 192.168.16.12 port 22: No route to host"
    found.hypervisors["hv1"].errors["bmcs"] = "Failed to connect to the vbmcd server on port 50991"
    found.hypervisors["hv1"].bmcs = None
    assert rows(run_audit(found)) == {
        ("unreachable", "hv2", "ssh root@192.168.16.12: ssh: connect to host 192.168.16.12 port 22: No route to host",
         None),
        ("unreachable", "hv1", "bmcs: Failed to connect to the vbmcd server on port 50991", None)}
    assert not any(f.removable for f in run_audit(found))


def test_a_hostile_name_stays_one_quoted_word_in_its_fix() -> None:
    found = clean_lab()
    assert found.jumphost and found.jumphost.files is not None
    found.jumphost.files["/etc/ocplab/hosts/ipi1-x; reboot"] = ""
    (finding,) = run_audit(found)
    assert finding.remote == f"rm -f -- '/etc/ocplab/hosts/ipi1-x; reboot' && {RELOAD}"
    assert shlex.split(finding.fix)[-1] == finding.remote


@pytest.mark.parametrize("mac", ["52:54:00:a8:10:30", "52:54:00:a8:10:2f"])
def test_leases_of_reserved_macs_are_not_orphans(mac: str) -> None:
    """A node's MAC and ipi1's bootstrap VM's."""
    found = clean_lab()
    assert found.jumphost and found.jumphost.leases is not None
    found.jumphost.leases.append(Lease(0, mac, "192.168.16.47", "*"))
    assert run_audit(found) == []
    found.jumphost.leases.append(Lease(0, "52:54:00:0b:0b:0b", "192.168.16.41", "*"))
    assert rows(run_audit(found)) == {("orphan", JUMPHOST, "lease 192.168.16.41 52:54:00:0b:0b:0b", None)}


def test_outputs_without_dnsmasq_texts_only_need_the_files() -> None:
    clusters = cluster_outputs()
    for outputs in clusters.values():
        del outputs["dnsmasq"]
    found = clean_lab()
    assert found.jumphost and found.jumphost.files is not None
    found.jumphost.files["/etc/ocplab/hosts/ipi1"] = "edited"
    assert run_audit(copy.deepcopy(found), clusters=clusters) == []


def test_console_logs_of_no_cluster_are_an_orphan_and_a_clusters_missing_ones_come_from_its_stack() -> None:
    found = clean_lab()
    assert found.jumphost is not None
    found.jumphost.consoles = ["ipi1", "ipi9"]  # sno1's went by hand; ipi9 was destroyed without its collector
    findings = {f.what: f for f in run_audit(found)}
    assert findings["console logs of ipi9"].kind == "orphan" and findings["console logs of ipi9"].owner is None
    assert findings["console logs of ipi9"].remote == "/etc/ocplab/bin/ocplab-consoles remove ipi9"
    missing = findings["console logs of sno1"]
    assert (missing.kind, missing.owner) == ("missing", "sno1")
    assert "pulumi stack export -s sno1" in missing.fix and "::sno1-consoles" in missing.fix
    assert len(findings) == 2


def test_the_collector_reads_the_consoles_listing() -> None:
    from tools.lab_collect import parse_jumphost
    found = parse_jumphost("### now 0\n1700000000\n### leases 0\n### consoles 0\nipi1\nsno1\n")
    assert found.consoles == ["ipi1", "sno1"]
    assert parse_jumphost("### now 0\n1\n### leases 0\n").consoles is None, "an older host: not audited"


def test_after_a_failed_first_up_what_the_state_holds_is_the_stacks_and_the_rest_is_no_ones() -> None:
    """sno1's first `up` was killed: its state holds the DNS command, the volume and the domain, not yet the
    BMC or the console collector. Those, and its lease, were made by creates the state never recorded."""
    dns_urn = "urn:pulumi:sno1::ocplab::ocplab:cluster:Cluster$command:remote:Command::sno1-dns"
    state: list[dict[str, Any]] = [{"type": "command:remote:Command", "urn": dns_urn},
                                   {"type": "libvirt:index/volume:Volume", "outputs": {"name": "sno1-sno-root.qcow2"}},
                                   {"type": "libvirt:index/domain:Domain", "inputs": {"name": "sno1-sno"}}]
    held = {"sno1": held_pieces("sno1", state, PATHS)}
    findings = audit("simlab", lab_outputs(), {"ipi1": cluster_outputs()["ipi1"]}, clean_lab(), PATHS, URNS, configs(),
                     None, held)
    assert rows(findings) == {("orphan", "hv2", "BMC sno1-sno", None),
                              ("orphan", "hv2", "BMC record /etc/ocplab/vbmc/clusters/sno1", None),
                              ("orphan", JUMPHOST, "lease 192.168.16.48 52:54:00:a8:10:30 sno", None),
                              ("orphan", JUMPHOST, "console logs of sno1", None)}
    assert all(f.removable for f in findings)


def test_a_redfish_command_in_the_state_holds_its_emulator() -> None:
    urn = URNS.cluster_command("rf1", "rf1-redfish")
    assert held_pieces("rf1", [{"type": "command:remote:Command", "urn": urn}], PATHS) == {"Redfish emulator rf1"}


def test_a_missing_seed_file_is_made_again_by_replacing_its_command_a_seed_volume_by_a_refresh() -> None:
    """A seed file (core.seed_media) is its command's work, which no refresh reads back; a seed volume is the
    provider's, which a refresh finds gone."""
    found = clean_lab()
    assert found.hypervisors["hv1"].volumes is not None
    found.hypervisors["hv1"].volumes.remove("ipi1-provisionhost-cidata.iso")
    outputs = cluster_outputs()
    as_files = {**outputs, "ipi1": {**outputs["ipi1"], "seed_media": "file"}}
    [seed_file] = audit("simlab", lab_outputs(), as_files, found, PATHS, URNS, configs())
    assert seed_file.fix == ("pulumi up -s ipi1 --replace 'urn:pulumi:ipi1::ocplab::ocplab:cluster:Cluster"
                             "$ocplab:cluster:Node$command:remote:Command::ipi1-provisionhost-seed'")
    [seed_volume] = audit("simlab", lab_outputs(), outputs, found, PATHS, URNS, configs())  # deployed before seed files
    assert seed_volume.fix == "pulumi up -s ipi1 --refresh"


def test_a_seed_command_in_the_state_holds_its_file() -> None:
    """A first `up` killed after the seed was made: the ISO is the stack's, not an orphan to remove (removing it
    left the domain's create failing on a missing file: seen in test_faults)."""
    urn = ("urn:pulumi:ipi1::ocplab::ocplab:cluster:Cluster$ocplab:cluster:Node$command:remote:Command"
           "::ipi1-provisionhost-seed")
    assert held_pieces("ipi1", [{"type": "command:remote:Command", "urn": urn}], PATHS) == {
        "volume ipi1-provisionhost-cidata.iso"}
