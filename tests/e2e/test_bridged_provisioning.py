"""On the simulated lab: a hub cluster whose provisioning network is bridged to the lab's second switch.

Each simulated hypervisor has a second NIC (eth1) on a second switch. With `provisioning_nic: eth1`
the lab stack bridges it (br1, no address); the hub IPI cluster on hv1 (`provisioning_network:
bridged`) puts its provisioning NICs there instead of a libvirt network of its own. A VM that stands
in for a bare-metal spoke, defined by hand on hv2 on br1, reaches the hub's provisionhost (ping over
172.22.0.0/24, its console says so); ipi1's isolated provisioning network on hv1 sees none of it.
Steps build on each other.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from core.resource_facts import provisioning_bridge
from tests.e2e.lab_helpers import PROJECT, LabSession, wait_for
from tests.tools import require_tool

pytestmark = pytest.mark.simlab

HV = {"hv1": "192.168.16.11", "hv2": "192.168.16.12"}
HUB_IP, SPOKE_IP = "172.22.0.2", "172.22.0.50"
SPOKE = "spoke"


def runcmds(lab: LabSession, host: str, domain: str) -> list[tuple[int, str]]:
    return [(r.rc, r.cmd) for r in lab.console(host, domain).cloud_init.runcmds]


def write_hub_stack(lab: LabSession) -> None:
    ipi = yaml.safe_load((lab.project / "stacks" / "Pulumi.ipi1.yaml").read_text())
    config = {**ipi["config"], "ocplab:workers": 0, "ocplab:provisioning_network": "bridged",
              "ocplab:provisionhost": {"run_commands": [
                  "pkill -f 'udhcpc -f -i eth1' || true", f"ip addr add {HUB_IP}/24 dev eth1"]}}
    (lab.project / "stacks" / "Pulumi.hub.yaml").write_text(
        yaml.safe_dump({"config": config, "encryptionsalt": ipi["encryptionsalt"]}, sort_keys=False))


def spoke_xml(overlay: Path, iso: Path) -> str:
    return f"""<domain type='qemu'>
  <name>{SPOKE}</name>
  <memory unit='MiB'>160</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type><boot dev='hd'/></os>
  <devices>
    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='{overlay}'/>
      <target dev='vda' bus='virtio'/></disk>
    <disk type='file' device='cdrom'><driver name='qemu' type='raw'/><source file='{iso}'/>
      <target dev='hdc' bus='ide'/><readonly/></disk>
    <interface type='bridge'><source bridge='br1'/><model type='virtio'/></interface>
    <serial type='pty'><log file='/var/log/libvirt/qemu/{SPOKE}-console.log' append='off'/></serial>
    <console type='pty'/>
  </devices>
</domain>
"""


@pytest.fixture(scope="module")
def hub(lab: LabSession) -> Iterator[LabSession]:
    """The lab with a second NIC bridged on both hypervisors, the hub up (bridged) and ipi1 defined (isolated)."""
    simlab = yaml.safe_load((lab.project / "stacks" / "Pulumi.simlab.yaml").read_text())["config"]
    lab.edit_stack("simlab", {
        "ocplab:hypervisors": [{**hv, "provisioning_nic": "eth1"} for hv in simlab["ocplab:hypervisors"]],
        "ocplab:slices": {**simlab["ocplab:slices"],
                          "hub": {"hypervisor": "hv1", "range": "192.168.16.80-192.168.16.95"}}})
    write_hub_stack(lab)
    # ipi1 without DCI's user, as a stack deployed before it was the default (see test_a_stack_deployed_before_...)
    # and with its seed as a libvirt volume, as stacks deployed before seeds were files (core.seed_media)
    lab.edit_stack("ipi1", {"ocplab:workers": 0, "ocplab:start": False, "ocplab:dci": {"user": None},
                            "ocplab:seed_media": "volume"})
    lab.up("simlab")
    lab.pulumi.ensure_stack("hub")
    lab.pulumi.ensure_stack("ipi1")
    started = time.monotonic()
    lab.up_parallel(["hub", "ipi1"])
    lab.note("pulumi up hub (bridged, 4 VMs started) + ipi1 (isolated, defined) at once (s)",
             time.monotonic() - started)
    yield lab


def test_the_lab_bridges_each_second_nic_with_no_address(hub: LabSession) -> None:
    for address in HV.values():
        listed = hub.ssh(address, "ip -br link show master br1").splitlines()
        ports = [line.split()[0].split("@")[0] for line in listed if line.strip()]  # veths show as eth1@if6
        assert "eth1" in ports, ports
        assert hub.ssh(address, "ip -4 -o addr show dev br1; ip -4 -o addr show dev eth1").strip() == ""


def test_the_hub_has_no_network_of_its_own_and_no_drift(hub: LabSession) -> None:
    networks = hub.virsh(HV["hv1"], "net-list", "--all", "--name").split()
    assert "hub-provisioning" not in networks and "ipi1-provisioning" in networks
    nics = hub.virsh(HV["hv1"], "domiflist", "hub-master-0").split("\n")
    assert [line.split()[2] for line in nics if line.strip()] == ["br0", "br1"]
    assert hub.outputs("hub")["provisioning"] == {"mode": "bridged", "bridge": "br1"}
    hub.pulumi.preview("hub", "--expect-no-changes")
    hub.pulumi.preview("hub", "--refresh", "--expect-no-changes")


def test_a_spoke_on_the_other_hypervisor_reaches_the_hub_and_no_isolated_network_sees_it(hub: LabSession) -> None:
    wait_for("the hub provisionhost's address on its provisioning NIC",
             lambda: (0, f"ip addr add {HUB_IP}/24 dev eth1") in runcmds(hub, HV["hv1"], "hub-provisionhost"),
             timeout=300, every=2)
    isolated = provisioning_bridge("ipi1")

    def isolated_packets() -> int:
        counts = hub.ssh(HV["hv1"], f"cat /sys/class/net/{isolated}/statistics/rx_packets "
                                    f"/sys/class/net/{isolated}/statistics/tx_packets").split()
        return sum(int(c) for c in counts)

    before = isolated_packets()
    where = Path(tempfile.mkdtemp(prefix="spoke-", dir=PROJECT / ".simlab"))  # outside the hosts' private /tmp
    try:
        seed = where / "seed"
        seed.mkdir()
        (seed / "meta-data").write_text(f"instance-id: {SPOKE}\nlocal-hostname: {SPOKE}\n")
        (seed / "user-data").write_text("#cloud-config\n" + yaml.safe_dump({"runcmd": [
            "pkill -f 'udhcpc -f -i eth0' || true", f"ip addr add {SPOKE_IP}/24 dev eth0",
            f"ping -c 3 -W 2 {HUB_IP}"]}))
        iso = where / "cidata.iso"
        subprocess.run([require_tool("genisoimage", "the Debian package genisoimage"), "-quiet", "-o", str(iso),
                        "-V", "cidata", "-J", "-r", str(seed)], check=True)
        overlay = where / "spoke.qcow2"
        hub.ssh(HV["hv2"], f"qemu-img create -q -f qcow2 -F qcow2 -b /var/lib/libvirt/ocplab/base-guest.qcow2 "
                           f"{overlay}")
        (where / "spoke.xml").write_text(spoke_xml(overlay, iso))
        hub.virsh(HV["hv2"], "create", str(where / "spoke.xml"))
        started = time.monotonic()
        wait_for("the spoke's ping to the hub", lambda: any(
            cmd.startswith("ping") for _, cmd in runcmds(hub, HV["hv2"], SPOKE)), timeout=300, every=2)
        hub.note("spoke boot to ping done (s)", time.monotonic() - started)
        results = dict((cmd, rc) for rc, cmd in runcmds(hub, HV["hv2"], SPOKE))
        assert results[f"ping -c 3 -W 2 {HUB_IP}"] == 0, results
        assert isolated_packets() == before, f"{isolated} saw traffic"
    finally:
        hub.ssh(HV["hv2"], f"virsh -q destroy {SPOKE} >/dev/null 2>&1; true")
        shutil.rmtree(where, ignore_errors=True)


def without_config(lab: LabSession, stack: str, key: str) -> None:
    path = lab.project / "stacks" / f"Pulumi.{stack}.yaml"
    document = yaml.safe_load(path.read_text())
    document["config"].pop(key)
    path.write_text(yaml.safe_dump(document, sort_keys=False))


def test_a_stack_deployed_with_a_seed_volume_keeps_it_and_the_hub_seed_is_a_file(hub: LabSession) -> None:
    """ipi1's seed was uploaded as a libvirt volume (ocplab:seed_media: volume, what every stack deployed before
    seed files has): with the setting gone, the default keeps it, so its provisionhost is not replaced."""
    deployed = json.loads(hub.pulumi.run("stack", "export", "-s", "ipi1").stdout)["deployment"]["resources"]
    assert [r["urn"].rsplit("::", 1)[-1] for r in deployed
            if r["type"] == "libvirt:index/cloudInitDisk:CloudInitDisk"] == ["ipi1-provisionhost-cidata"]
    assert hub.outputs("ipi1")["seed_media"] == "volume" and hub.outputs("hub")["seed_media"] == "file"
    without_config(hub, "ipi1", "ocplab:seed_media")
    hub.pulumi.preview("ipi1", "--expect-no-changes")
    # The hub's provisionhost booted from the seed file its hypervisor made (its runcmds ran: the spoke test).
    assert "/var/lib/libvirt/ocplab/hub-provisionhost-cidata.iso" in hub.virsh(
        HV["hv1"], "domblklist", "hub-provisionhost").split()


def test_a_stack_deployed_before_the_dci_default_keeps_its_provisionhost(hub: LabSession) -> None:
    """ipi1 was deployed without DCI's user; with the default back (no ocplab:dci), nothing changes and the
    preview says why and how to opt in; opting in swaps the provisionhost's seed ISO and nothing else (ipi1's seed
    is a volume here: the provider's in-place swap is what a stack deployed so sees)."""
    assert "provisionhost_user" not in hub.outputs("ipi1")
    without_config(hub, "ipi1", "ocplab:dci")
    kept = hub.pulumi.preview("ipi1", "--expect-no-changes")
    said = kept.stdout + kept.stderr
    assert "was created before ocplab gave it DCI's user by default" in said
    rebuild = re.search(r"pulumi up --replace '([^']+)'", said)
    hub.edit_stack("ipi1", {"ocplab:dci": {"user": "dci"}})
    opting = hub.pulumi.preview("ipi1")
    assert "reaches it only when it is rebuilt" in opting.stdout + opting.stderr
    steps = json.loads(hub.pulumi.preview("ipi1", "--json").stdout)["steps"]
    deployed = json.loads(hub.pulumi.run("stack", "export", "-s", "ipi1").stdout)["deployment"]["resources"]
    assert rebuild is not None and rebuild.group(1) in {r["urn"] for r in deployed}  # the warning's URN exists
    changed = {(step["op"], step["urn"].rsplit("::", 1)[-1]) for step in steps if step["op"] not in ("same", "read")}
    # terraform-provider-libvirt swaps a domain's cloud-init disk in place: the domain and its disk stay
    assert changed == {("replace", "ipi1-provisionhost-cidata"), ("update", "ipi1-provisionhost-domain")}, changed
    hub.edit_stack("ipi1", {"ocplab:dci": {"user": None}})


def test_destroy_and_a_lab_without_second_nics_leave_nothing(hub: LabSession) -> None:
    hub.pulumi.destroy("hub")
    hub.pulumi.destroy("ipi1")
    simlab: dict[str, Any] = yaml.safe_load((hub.project / "stacks" / "Pulumi.simlab.yaml").read_text())["config"]
    hub.edit_stack("simlab", {"ocplab:hypervisors": [
        {k: v for k, v in hv.items() if k != "provisioning_nic"} for hv in simlab["ocplab:hypervisors"]]})
    hub.up("simlab")
    for address in HV.values():
        assert hub.ssh(address, "ip -br link show br1 2>/dev/null; true").strip() == ""
