"""The cluster program: volumes on the base image, domains with planned MACs, DNS before boot."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from components.cluster_stack import cluster_program
from core.bmc_plan import bmc_password
from core.dci_user import public_key_of
from core.errors import ConfigError
from core.stack_files import read_stack_values, stack_path
from tests.unit.pulumi_mocks import RecordingMocks, recorded_waits, use_mocks

DATA = Path(__file__).resolve().parent.parent / "data"
# A real key: the provisionhost's DCI user gets its public half (core.dci_user).
LAB_KEY = Ed25519PrivateKey.generate().private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()).decode()


def lab_outputs(tmp_path: Path) -> dict[str, Any]:
    text = (DATA / "lab-outputs-simlab.json").read_text()
    (tmp_path / "key").write_text(LAB_KEY)
    (tmp_path / "known").write_text("192.168.16.1 ssh-ed25519 AAAAjump\n192.168.16.11 ssh-ed25519 AAAAhv1\n"
                                     "192.168.16.12 ssh-ed25519 AAAAhv2\n")
    return dict(json.loads(text.replace('"/lab/key"', json.dumps(str(tmp_path / "key")))
                           .replace('"/lab/known_hosts"', json.dumps(str(tmp_path / "known")))))


def mock_cluster(stack: str, lab: dict[str, Any], previous: dict[str, Any] | None = None) -> RecordingMocks:
    outputs = {"simlab": lab, stack: {"assignments": previous} if previous else {}}
    return use_mocks(stack, read_stack_values(stack_path(stack)), outputs)


@pulumi.runtime.test  # type: ignore[untyped-decorator]
def declare() -> pulumi.Output[Any]:
    assert RecordingMocks.active is not None
    cluster_program(RecordingMocks.active.read_outputs)
    return pulumi.Output.from_input(None)


def run_cluster(stack: str, lab: dict[str, Any], previous: dict[str, Any] | None = None) -> RecordingMocks:
    mocks = mock_cluster(stack, lab, previous)
    declare()
    return mocks


def test_ipi_cluster_declares_nodes_on_overlays_with_planned_macs(tmp_path: Path) -> None:
    mocks = run_cluster("ipi1", lab_outputs(tmp_path))
    domains = {d.inputs["name"]: d.inputs for d in mocks.of_type("libvirt:index/domain:Domain")}
    assert sorted(domains) == ["ipi1-master-0", "ipi1-master-1", "ipi1-master-2", "ipi1-provisionhost",
                               "ipi1-worker-0", "ipi1-worker-1"]
    master = domains["ipi1-master-0"]
    assert master["type"] == "qemu" and master["memory"] == 160 and master["running"] is True
    assert [nic.get("mac") for nic in master["networkInterfaces"]] == ["52:54:00:a8:10:23", "52:54:01:a8:10:23"]
    assert master["networkInterfaces"][0]["bridge"] == "br0" and "networkName" not in master["networkInterfaces"][0]
    assert "/var/log/libvirt/qemu/ipi1-master-0-console.log" in master["xml"]["xslt"]
    roots = [v.inputs for v in mocks.of_type("libvirt:index/volume:Volume") if v.inputs["name"].endswith("-root.qcow2")]
    assert len(roots) == 6 and {r["baseVolumeId"] for r in roots} == {"/var/lib/libvirt/ocplab/base-guest.qcow2"}
    assert len([v for v in mocks.of_type("libvirt:index/volume:Volume") if "disk2" in v.inputs["name"]]) == 2
    assert mocks.of_type("libvirt:index/cloudInitDisk:CloudInitDisk") == [], "no seed goes through a libvirt stream"
    seeds = [c for c in mocks.of_type("command:remote:Command") if c.name.endswith("-seed")]
    assert [c.name for c in seeds] == ["ipi1-provisionhost-seed"]
    iso = "/var/lib/libvirt/ocplab/ipi1-provisionhost-cidata.iso"  # the pool's directory, the volume's old name
    assert f"iso='{iso}'" in seeds[0].inputs["create"] and "pool='ocplab'" in seeds[0].inputs["create"]
    assert seeds[0].inputs["connection"]["value"]["host"] == "192.168.16.11", "made on the node's hypervisor"
    assert domains["ipi1-provisionhost"]["disks"][-1] == {"file": iso}
    assert all(len(d["disks"]) <= 2 for name, d in domains.items() if name != "ipi1-provisionhost")
    seed = yaml.safe_load(seeds[0].inputs["stdin"])  # user-data on stdin, not in the script
    assert "#cloud-config" not in seeds[0].inputs["create"]
    assert seed["fqdn"] == "provisionhost.ipi1.simlab.test"
    dci = next(u for u in seed["users"] if u["name"] == "dci")  # DCI's user accepts the lab key (core.dci_user)
    assert dci["ssh_authorized_keys"] == [public_key_of(LAB_KEY)] and dci["sudo"] == "ALL=(ALL) NOPASSWD:ALL"
    assert not [p for p in mocks.of_type("pulumi:providers:libvirt") if "-iso" in p.name], "no provider per seed"
    assert all("ipi1-libvirt::" in str(d.provider) for d in mocks.of_type("libvirt:index/domain:Domain"))
    network = mocks.of_type("libvirt:index/network:Network")
    assert [(n.inputs["name"], n.inputs["mode"]) for n in network] == [("ipi1-provisioning", "none")]
    dns = mocks.of_type("command:remote:Command")[0].inputs
    assert "flock -w 300 9" in dns["create"] and "cluster='ipi1'" in dns["create"]
    assert "entries removed from dnsmasq" in dns["delete"] and "cluster='ipi1'" in dns["delete"]


def test_previous_assignments_are_kept(tmp_path: Path) -> None:
    previous = {"api_vip": "192.168.16.40", "ingress_vip": "192.168.16.41",
                "nodes": {"master-0": {"ip": "192.168.16.45", "macs": {"baremetal": "52:54:00:a8:10:2d",
                                                                       "provisioning": "52:54:01:a8:10:2d"}}}}
    mocks = run_cluster("ipi1", lab_outputs(tmp_path), previous)
    domains = {d.inputs["name"]: d.inputs for d in mocks.of_type("libvirt:index/domain:Domain")}
    assert domains["ipi1-master-0"]["networkInterfaces"][0]["mac"] == "52:54:00:a8:10:2d"
    assert domains["ipi1-provisionhost"]["networkInterfaces"][0]["mac"] == "52:54:00:a8:10:20"


@pytest.mark.parametrize(("change", "message"), [
    (lambda lab: lab["slices"].pop("ipi1"), "has no address slice for cluster 'ipi1'"),
    (lambda lab: lab["hypervisors"]["hv1"]["capacity"].update(memory_mib=512), "needs 992 MiB of memory"),
    (lambda lab: lab.update(kind="cluster"), "is not a lab stack"),
    # Unpinned access is named first, whatever else the lab gets wrong.
    (lambda lab: (lab["jumphost"].update(known_hosts="/dev/null"), lab["slices"].pop("ipi1")),
     "output jumphost.known_hosts: /dev/null has no host key for 192.168.16.1"),
])
def test_refused_design_creates_nothing(tmp_path: Path, change: Any, message: str) -> None:
    lab = lab_outputs(tmp_path)
    change(lab)
    mocks = mock_cluster("ipi1", lab)
    with pytest.raises(ConfigError, match=message):
        declare()
    assert mocks.resources == [], "the design is refused before anything is declared"


SECRET_SIG, SECRET_VALUE = "4dabf18193072939515e22adb298388d", "1b47061264138c4ac30d75fd1eb44270"


def test_bmcs_are_synced_on_the_hypervisor_after_the_nodes_with_a_secret_password(tmp_path: Path) -> None:
    mocks = run_cluster("ipi1", lab_outputs(tmp_path))
    commands = {c.name: c for c in mocks.of_type("command:remote:Command")}
    bmc = commands["ipi1-bmc"].inputs
    assert "entries='ipi1-master-0=6230 ipi1-master-1=6231 ipi1-master-2=6232 ipi1-worker-0=6233 " \
           "ipi1-worker-1=6234'" in bmc["create"] and "address='192.168.16.11'" in bmc["create"]
    assert bmc["update"] == bmc["create"] and "cluster='ipi1'" in bmc["delete"] and '" remove "' in bmc["delete"]
    password = bmc_password((tmp_path / "key").read_text(), "ipi1")
    assert bmc["stdin"] == {SECRET_SIG: SECRET_VALUE, "value": password}, "the password goes on stdin, as a secret"
    assert all(password not in str(c.inputs.get(k)) for c in commands.values() for k in ("create", "update", "delete"))
    assert bmc["logging"] == "stderr"
    connection = bmc["connection"]
    assert connection.get(SECRET_SIG) == SECRET_VALUE, "the connection holds the key: it must be a secret"
    assert (connection["value"]["host"], connection["value"]["hostKey"]) == ("192.168.16.11", "ssh-ed25519 AAAAhv1")
    order = [r.name for r in mocks.resources]
    domains = [order.index(d.name) for d in mocks.of_type("libvirt:index/domain:Domain")]
    assert len(domains) == 6 and max(domains) < order.index("ipi1-bmc"), "vbmc add needs the domains to exist"


def test_exported_bmc_is_a_secret_with_the_derived_password(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    exported: dict[str, Any] = {}
    monkeypatch.setattr(pulumi, "export", lambda name, value: exported.__setitem__(name, value))
    lab = lab_outputs(tmp_path)
    mock_cluster("sno1", lab)

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def check() -> pulumi.Output[Any]:
        assert RecordingMocks.active is not None
        cluster_program(RecordingMocks.active.read_outputs)
        bmc = exported["bmc"]

        def verify(args: list[Any]) -> None:
            value, secret = args
            assert secret is True
            assert value == {"kind": "ipmi", "address": "192.168.16.12", "user": "admin",
                             "password": bmc_password((tmp_path / "key").read_text(), "sno1"),
                             "nodes": {"sno": {"port": 6240}}}
        return pulumi.Output.all(bmc, pulumi.Output.from_input(bmc.is_secret())).apply(verify)

    check()
    assert "bmc" in exported and "password" not in str(exported.get("nodes"))


def test_exhausted_bmc_range_creates_nothing(tmp_path: Path) -> None:
    lab = lab_outputs(tmp_path)
    lab["slices"]["ipi1"]["bmc_ports"] = "6230-6233"
    mocks = mock_cluster("ipi1", lab)
    with pytest.raises(Exception, match=r"ocplab:slices\.ipi1\.bmc_ports: cluster ipi1 needs 5 BMC ports"):
        declare()
    assert {r.typ for r in mocks.resources if not r.typ.startswith(("ocplab:", "pulumi:pulumi:StackReference"))} \
        == set()


def test_a_stack_deployed_with_seed_volumes_keeps_them_as_they_were(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Its provisionhost's disk list stays as deployed (a seed file would replace the running domain: ForceNew);
    the previous outputs, read before anything is declared, say how it was deployed (core.seed_media)."""
    lab = lab_outputs(tmp_path)
    deployed = {"nodes": [{"name": "provisionhost"}], "provisionhost_user": "dci"}  # no seed_media: before files
    mocks = use_mocks("ipi1", read_stack_values(stack_path("ipi1")), {"simlab": lab, "ipi1": deployed})
    declare()
    cidata = mocks.of_type("libvirt:index/cloudInitDisk:CloudInitDisk")
    assert [c.inputs["name"] for c in cidata] == ["ipi1-provisionhost-cidata.iso"]
    assert "ipi1-provisionhost-libvirt-iso" in str(cidata[0].provider), "the ISO keeps its own libvirt connection"
    assert [c.name for c in mocks.of_type("command:remote:Command") if c.name.endswith("-seed")] == []
    domain = next(d.inputs for d in mocks.of_type("libvirt:index/domain:Domain")
                  if d.inputs["name"] == "ipi1-provisionhost")
    assert domain["cloudinit"] == "ipi1-provisionhost-cidata-id" and all("file" not in d for d in domain["disks"])
    root = next(v for v in mocks.of_type("libvirt:index/volume:Volume") if v.name == "ipi1-provisionhost-root")
    assert root.inputs and cidata[0].name == "ipi1-provisionhost-cidata"


def test_only_domains_wait_for_the_clusters_dns_and_a_seeded_domain_for_its_seed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A started node asks for its lease at once, so its domain comes after the jumphost's entries; volumes and
    seeds are made meanwhile (the jumphost's round trip is off the critical path)."""
    waits = recorded_waits(monkeypatch)
    run_cluster("ipi1", lab_outputs(tmp_path))
    assert waits["ipi1-master-0-domain"] == ["ipi1-dns"]
    assert waits["ipi1-provisionhost-domain"] == ["ipi1-dns", "ipi1-provisionhost-seed"]
    assert waits["ipi1-master-0-root"] == [] and waits["ipi1-provisionhost-seed"] == []
    use_mocks("ipi1", {**read_stack_values(stack_path("ipi1")), "start": False},
              {"simlab": lab_outputs(tmp_path), "ipi1": {}})
    declare()
    assert waits["ipi1-master-0-domain"] == [], "a domain declared off asks for no lease: it waits for nothing"
    assert waits["ipi1-provisionhost-domain"] == ["ipi1-provisionhost-seed"]
