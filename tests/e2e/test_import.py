"""On the simulated lab: a lab taken over with `ocplab import` serves exactly what it served before.

A DCI lab's jumphost dnsmasq already gives cluster ipi1's nodes their addresses (dhcp-host lines,
host-records, the API record and the `*.apps` wildcard), at places ocplab would not pick. Its
answers are recorded: DHCP offers for every MAC (a real client on the lab switch) and DNS for every
name, reverse and VIP. The old file goes; nothing answers. `ocplab import` reads the inventory and
the old file, `pulumi up` deploys the stack it wrote, and the answers are the recorded ones.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.lab_helpers import PROJECT, LabSession, dhcp_offer, dig

pytestmark = pytest.mark.simlab

JUMPHOST = "192.168.16.1"
ZONE = "ipi1.simlab.test"
# Where the old lab put ipi1 inside its slice (192.168.16.32-47); ocplab alone would put the VIPs at
# .32/.33 and the nodes from .34.
LEGACY = {"provisionhost": ("52:54:00:10:00:00", "192.168.16.40"),
          "master-0": ("52:54:00:10:00:01", "192.168.16.41"),
          "master-1": ("52:54:00:10:00:02", "192.168.16.42"),
          "master-2": ("52:54:00:10:00:03", "192.168.16.43"),
          "worker-0": ("52:54:00:10:00:04", "192.168.16.44"),
          "worker-1": ("52:54:00:10:00:05", "192.168.16.36")}
API_VIP, INGRESS_VIP = "192.168.16.38", "192.168.16.39"
LEGACY_FILE = "/etc/ocplab/dnsmasq.d/legacy.conf"


def legacy_dnsmasq() -> str:
    lines = ["# the old jumphost's entries for cluster ipi1"]
    lines += [f"dhcp-host={mac},{ip},{name}.{ZONE}" for name, (mac, ip) in LEGACY.items()]
    lines += [f"host-record={name}.{ZONE},{ip}" for name, (_, ip) in LEGACY.items()]
    lines += [f"host-record=api.{ZONE},api-int.{ZONE},{API_VIP}", f"address=/apps.{ZONE}/{INGRESS_VIP}"]
    return "\n".join(lines) + "\n"


def inventory() -> dict[str, Any]:
    """The cluster as dci-openshift-agent's libvirt inventory has it: names, sizes, MACs, no addresses."""
    def host(name: str, role: str) -> dict[str, Any]:
        return {"name": name, "role": role, "memory": 160, "vcpus": 1, "disk_size": "1G", "cpu_mode": "maximum",
                "disk_bus": "virtio",
                "networks": [{"name": "provisioning", "type": "network"},
                             {"name": "baremetal", "type": "network", "mac": LEGACY[name][0]}]}
    roles = {"provisionhost": "provisionhost", "master": "master", "worker": "worker"}
    return {"all": {"vars": {"cluster": "ipi1", "domain": "simlab.test",
                             "hosts": [host(name, roles[name.split("-")[0]]) for name in LEGACY]}}}


def answers(lab: LabSession, workdir: Path) -> dict[str, Any]:
    """Everything a client of the lab can ask the jumphost about ipi1: DNS first, then DHCP (whose leases
    would add names of their own)."""
    seen: dict[str, Any] = {}
    for name, (_, ip) in LEGACY.items():
        seen[f"A {name}.{ZONE}"] = dig(lab, f"{name}.{ZONE}")
        seen[f"PTR {ip}"] = dig(lab, ip, reverse=True)
    for name in (f"api.{ZONE}", f"api-int.{ZONE}", f"console-openshift-console.apps.{ZONE}"):
        seen[f"A {name}"] = dig(lab, name)
    for mac, _ in LEGACY.values():
        seen[f"dhcp {mac}"] = dhcp_offer(mac, workdir)
    return seen


def restart_dnsmasq(lab: LabSession) -> None:
    """A restart that forgets the probes' leases, so each round of answers starts from the files alone."""
    lab.ssh(JUMPHOST, "/etc/ocplab/bin/ocplab-dnsmasq stop && rm -f /var/lib/ocplab/dnsmasq.leases && "
                      "/etc/ocplab/bin/ocplab-dnsmasq start")


def test_an_imported_cluster_serves_what_the_lab_served_before(lab: LabSession, tmp_path: Path) -> None:
    lab.up("simlab")
    legacy = tmp_path / "legacy.conf"
    legacy.write_text(legacy_dnsmasq())
    lab.ssh(JUMPHOST, f"cat > {LEGACY_FILE} <<'EOF'\n{legacy.read_text()}EOF")
    restart_dnsmasq(lab)
    before = answers(lab, tmp_path)
    assert before[f"dhcp {LEGACY['master-0'][0]}"] == ("192.168.16.41", "master-0")
    assert before[f"A console-openshift-console.apps.{ZONE}"] == [INGRESS_VIP]
    assert before[f"PTR {LEGACY['worker-1'][1]}"] == [f"worker-1.{ZONE}."]

    lab.ssh(JUMPHOST, f"rm {LEGACY_FILE}")
    restart_dnsmasq(lab)
    left = {what: answer for what, answer in answers(lab, tmp_path).items() if answer}
    assert left == {}, "the old entries answer no more"

    source = tmp_path / "inventory.yml"
    source.write_text(yaml.safe_dump(inventory(), sort_keys=False))
    stack = lab.project / "stacks" / "Pulumi.ipi1.yaml"
    result = subprocess.run([sys.executable, "-m", "tools", "import", str(source), "--lab", "simlab",
                             "--hypervisor", "hv1", "--image", "guest", "--dnsmasq", str(legacy),
                             "--out", str(stack), "--force"], cwd=PROJECT, env=lab.env(), capture_output=True,
                            text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    lab.edit_stack("ipi1", {"ocplab:domain_type": "qemu", "ocplab:start": False})  # TCG, and defined is enough
    lab.up("ipi1")

    restart_dnsmasq(lab)  # the probes' leases of the first round go; ocplab's files stay
    assert answers(lab, tmp_path) == before
    outputs = lab.outputs("ipi1")
    assert {n["name"]: (n["macs"]["baremetal"], n["ip"]) for n in outputs["nodes"]} == LEGACY
    assert (outputs["api_vip"], outputs["ingress_vip"]) == (API_VIP, INGRESS_VIP)
    lab.pulumi.preview("ipi1", "--expect-no-changes")
