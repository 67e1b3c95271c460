"""`ocplab plan --planned` / `map --planned`: the lab and its cluster stacks from the stack files alone,
as a first `pulumi up` of each would make them, with the capacity the lab admin declares; no pulumi
needed. Refused cluster stacks carry pulumi up's message; a ten-hypervisor, twenty-cluster lab stays
readable."""

from __future__ import annotations

import copy
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pulumi
import pulumi_command as command
import pytest
import yaml
from typer.testing import CliRunner

from components.hypervisor import Hypervisor, HypervisorArgs
from core.address_plan import plan_addresses
from core.addresses import AddressRange
from core.clusterconfig import parse_cluster_config
from core.errors import ConfigError
from core.lab_contract import PLANNED, Capacity, parse_lab_outputs
from core.labconfig import parse_lab_config
from core.stack_files import DEFAULT_STACKS_DIR, read_stack_values, stack_path
from tests.unit.big_lab import HYPERVISORS, IPI, SNO, write_big_lab
from tests.unit.pulumi_mocks import use_mocks
from tools.cli import app
from tools.lab_view import LabViewError, checked_cluster, planned_lab

runner = CliRunner()


@pytest.fixture
def no_pulumi(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A planned view reads stack files only: any pulumi call fails the test."""
    fake = tmp_path / "bin" / "pulumi"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'planned views must not run pulumi' >&2\nexit 99\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}:/usr/bin:/bin")


@pytest.fixture
def stacks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_pulumi: None) -> Path:
    """A copy of stacks/ that a test may add cluster stack files to."""
    directory = tmp_path / "stacks"
    shutil.copytree(DEFAULT_STACKS_DIR, directory)
    monkeypatch.setenv("OCPLAB_STACKS_DIR", str(directory))
    return directory


@pytest.fixture
def big_lab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_pulumi: None) -> Path:
    directory = tmp_path / "big"
    directory.mkdir()
    write_big_lab(directory)
    monkeypatch.setenv("OCPLAB_STACKS_DIR", str(directory))
    return directory


def cluster_stack(directory: Path, stack: str, **values: Any) -> None:
    config = {f"ocplab:{key}": value for key, value in {"kind": "cluster", **values}.items()}
    (directory / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump({"config": config}))


# --- the planned view ---------------------------------------------------------------------------

def test_server_gets_the_addresses_the_address_plan_gives_on_a_first_pulumi_up(stacks: Path) -> None:
    view = planned_lab("telco-lab")
    server = view.clusters["server"]
    cluster = parse_cluster_config("server", read_stack_values(stack_path("server")))
    plan = plan_addresses(cluster, AddressRange.parse("192.168.16.20-192.168.16.31"), None)
    assert (server["api_vip"], server["ingress_vip"]) == (plan.api_vip, plan.ingress_vip) == \
        ("192.168.16.20", "192.168.16.21")
    assert {n["name"]: (n["ip"], n["macs"]) for n in server["nodes"]} == \
        {name: (a.ip, dict(a.macs)) for name, a in plan.nodes.items()}
    master = next(n for n in server["nodes"] if n["name"] == "dciokd-master-0")
    assert (master["ip"], master["macs"]["baremetal"], master["uuid"]) == \
        ("192.168.16.23", "52:54:00:00:02:01", PLANNED)
    assert server["bmc"]["nodes"]["dciokd-master-0"]["port"] == 6230 and view.refused == {}


def test_planned_lab_outputs_follow_the_contract_cluster_stacks_read(stacks: Path) -> None:
    outputs = planned_lab("telco-lab").outputs
    assert parse_lab_outputs("telco-lab", outputs.as_outputs()) == outputs
    hv01 = outputs.hypervisors["hv01"]
    assert hv01.capacity == Capacity(vcpus=112, memory_mib=512 * 1024)
    assert hv01.base_volumes == {"centos8": "/var/lib/libvirt/ocplab/base-centos8.qcow2",
                                 "rhcos": "/var/lib/libvirt/ocplab/base-rhcos.qcow2"}
    assert hv01.network_id == PLANNED and outputs.jumphost.dnsmasq == PLANNED


def test_only_the_labs_own_cluster_stacks_are_planned(stacks: Path) -> None:
    assert set(planned_lab("telco-lab").clusters) == {"server"}
    assert set(planned_lab("simlab").clusters) == {"ipi1", "sno1"}


def test_a_refused_cluster_stack_carries_pulumi_ups_message(stacks: Path) -> None:
    cluster_stack(stacks, "cluster08", lab="telco-lab", topology="sno", hypervisor="hv08")
    cluster_stack(stacks, "cluster02", lab="telco-lab", topology="ipi", hypervisor="hv02", workers=12)
    cluster_stack(stacks, "cluster03", lab="telco-lab", topology="ipi", hypervisor="hv03", workers=3,
                  sizes={"worker": {"vcpus": 80}})
    view = planned_lab("telco-lab")
    assert set(view.clusters) == {"server"}
    assert view.refused["cluster08"] == str(ConfigError([  # what pulumi up prints, its RunError's text
        "ocplab:cluster: lab telco-lab has no address slice for cluster 'cluster08'; add ocplab:slices.cluster08 "
        "to the lab stack and run pulumi up on it"]))
    assert "the slice of cluster cluster02 (192.168.16.32-192.168.16.47, 16 addresses)" in view.refused["cluster02"]
    assert "cluster cluster03 needs 272 vCPUs but hypervisor hv03 has 112 (x2.0 over-commit = 224)" \
        in view.refused["cluster03"]
    tree = runner.invoke(app, ["map", "--planned", "--lab", "telco-lab"], env={"COLUMNS": "200"})
    assert tree.exit_code == 0, tree.output
    assert "cluster stack cluster08: pulumi up would refuse it" in tree.output
    assert "lab telco-lab has no address slice for cluster 'cluster08'" in tree.output
    plan = runner.invoke(app, ["plan", "--planned", "--lab", "telco-lab", "--json"])
    assert plan.exit_code == 0, plan.output
    assert json.loads(plan.output)["refused"] == view.refused


def test_a_vrrp_clash_is_refused_as_pulumi_up_refuses_it(big_lab: Path) -> None:
    values = read_stack_values(big_lab / "Pulumi.big.yaml")
    values["slices"]["ipi06"] = {"hypervisor": "hv10", "range": "192.168.16.3-192.168.16.10"}
    (big_lab / "Pulumi.big.yaml").write_text(yaml.safe_dump({"config": {f"ocplab:{k}": v for k, v in values.items()}}))
    cluster_stack(big_lab, "ipi06", lab="big", topology="ipi", hypervisor="hv10", workers=0)
    assert "keepalived VRRP ids" in planned_lab("big").refused["ipi06"]


# --- the declared capacity ----------------------------------------------------------------------

def telco(capacity: Any) -> dict[str, Any]:
    values = copy.deepcopy(read_stack_values(stack_path("telco-lab")))
    values["hypervisors"][2]["capacity"] = capacity
    return values


def test_capacity_takes_mib_or_a_size_and_a_disk() -> None:
    lab = parse_lab_config("telco-lab", telco({"vcpus": 64, "memory": 262144}))
    declared = lab.hypervisors[2].capacity
    assert declared is not None and (declared.vcpus, declared.memory_mib, declared.disk_bytes) == (64, 262144, None)
    seed = parse_lab_config("telco-lab", read_stack_values(stack_path("telco-lab"))).hypervisors[0].capacity
    assert seed is not None and (seed.memory_mib, seed.disk_bytes) == (512 * 1024, int(3.5 * 1024**4))


@pytest.mark.parametrize(("capacity", "problem"), [
    ({"vcpus": 0, "memory": "512G"}, "ocplab:hypervisors[2].capacity.vcpus: 0 is below the minimum of 1"),
    ({"vcpus": 5000, "memory": "512G"}, "ocplab:hypervisors[2].capacity.vcpus: 5000 is above the limit of 4096"),
    ({"vcpus": True, "memory": "512G"}, "ocplab:hypervisors[2].capacity.vcpus: True is not a whole number"),
    ({"vcpus": 112, "memory": 512}, "ocplab:hypervisors[2].capacity.memory: 512 is below the minimum of 1024"),
    ({"vcpus": 112, "memory": "512"}, "ocplab:hypervisors[2].capacity.memory: '512' is not a memory size like 512G"),
    ({"vcpus": 112, "memory": "65T"}, "ocplab:hypervisors[2].capacity.memory: '65T' is not between 1G and 64T"),
    ({"vcpus": 112, "memory": "512G", "disk": "2000T"}, "ocplab:hypervisors[2].capacity.disk: '2000T' is not "
                                                         "between 1G and 1P"),
    ({"vcpus": 112, "memory": "512G", "disk": "2P"}, "ocplab:hypervisors[2].capacity.disk: '2P' is not a disk size"),
    ({"vcpus": 112, "memory": "512G", "disk": 0}, "ocplab:hypervisors[2].capacity.disk: 0 is below the minimum of 1"),
    ({"vcpus": 112}, "ocplab:hypervisors[2].capacity.memory: is required"),
    ({"cpus": 112, "memory": "512G"}, "ocplab:hypervisors[2].capacity.cpus: is not a known key; did you mean 'vcpus'?"),
    ("112 vCPUs", "ocplab:hypervisors[2].capacity: '112 vCPUs' is not a mapping"),
])
def test_a_bad_capacity_names_its_field(capacity: Any, problem: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_lab_config("telco-lab", telco(capacity))
    assert any(p.startswith(problem) for p in raised.value.problems), raised.value.problems


def test_a_declared_capacity_does_not_change_what_the_deployed_lab_exports() -> None:
    values = telco({"vcpus": 64, "memory": "256G"})
    use_mocks("telco-lab", values)  # libvirt's node info: 8 vCPUs, 16384 MiB
    lab = parse_lab_config("telco-lab", values)

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def exported() -> pulumi.Output[Any]:
        hv = Hypervisor("hv03", HypervisorArgs(lab=lab, config=lab.hypervisors[2], libvirt_uri="qemu:///system",
                                               connection=command.remote.ConnectionArgs(host="192.168.16.13"),
                                               images={}))
        return hv.outputs.apply(lambda out: _same(out.capacity, Capacity(vcpus=8, memory_mib=16384)))

    exported()


def _same(found: object, wanted: object) -> None:
    assert found == wanted


# --- the command --------------------------------------------------------------------------------

def test_plan_planned_answers_for_the_seed_sized_telco_lab_without_pulumi(stacks: Path) -> None:
    result = runner.invoke(app, ["plan", "--planned", "--lab", "telco-lab", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert {s["cluster"]: s["deployed"] for s in data["slices"]}["server"] is True
    hv01 = next(h for h in data["hypervisors"] if h["name"] == "hv01")
    assert (hv01["vcpus_committed"], hv01["vcpu_limit"], hv01["clusters"]) == (80, 224, ["server"])
    ipi = data["fits"]["ipi 3+3 (seed sizes)"]
    # 8 free IPI-sized slices + 76 unallocated addresses // 9 = 16; the vCPUs would allow 1 + 8 x 2 = 17
    assert (ipi["total"], ipi["limited_by"]) == (16, "addresses (free slices + unallocated lab addresses)")
    assert {f["hypervisor"]: f["by_vcpus"] for f in ipi["per_hypervisor"]}["hv01"] == 1
    assert data["fits"]["sno (seed sizes)"]["total"] == 93


def test_plan_planned_without_a_declared_capacity_is_one_line_and_exit_2(stacks: Path) -> None:
    result = runner.invoke(app, ["plan", "--planned", "--lab", "simlab"])
    assert result.exit_code == 2
    assert result.stderr.startswith("ocplab: capacity unknown: declare ocplab:hypervisors[0].capacity (hv1), "
                                    "ocplab:hypervisors[1].capacity (hv2) in ")
    assert result.stderr.count("\n") == 1


def test_map_planned_draws_a_lab_of_unknown_capacity(stacks: Path) -> None:
    result = runner.invoke(app, ["map", "--planned", "--lab", "simlab"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "hv1 192.168.16.11 br0: 6 vCPU, 1.0 GiB (capacity unknown: not declared)" in result.output
    assert "ipi1 (ipi, planned)" in result.output and "sno1 (sno, planned)" in result.output


@pytest.mark.parametrize("command", ["plan", "map"])
def test_planned_unknown_lab_is_one_line_and_exit_2(stacks: Path, command: str) -> None:
    result = runner.invoke(app, [command, "--planned", "--lab", "nolab"])
    assert result.exit_code == 2 and result.stderr.startswith("ocplab: no stack file")


# --- readable at ten hypervisors and twenty clusters ---------------------------------------------

def test_ten_hypervisors_and_twenty_clusters_render(big_lab: Path, tmp_path: Path) -> None:
    view = planned_lab("big")
    assert (len(view.outputs.hypervisors), len(view.clusters), view.refused) == (10, 20, {})
    tree = runner.invoke(app, ["map", "--planned", "--lab", "big"], env={"COLUMNS": "200"})
    assert tree.exit_code == 0, tree.output
    assert all(f"{name} (ipi, planned)" in tree.output for name in IPI)
    assert all(f"{name} (sno, planned)" in tree.output for name in SNO)
    plan = runner.invoke(app, ["plan", "--planned", "--lab", "big"], env={"COLUMNS": "200"})
    assert plan.exit_code == 0 and all(hv in plan.output for hv in HYPERVISORS), plan.output
    svg = tmp_path / "big.svg"
    drawn = runner.invoke(app, ["map", "--planned", "--lab", "big", "--output", str(svg)])
    assert drawn.exit_code == 0, drawn.output
    text = svg.read_text()
    assert all(f">{name} ({topology}, planned)<" in text for names, topology in ((IPI, "ipi"), (SNO, "sno"))
               for name in names)
    # One table per cluster, grouped in its hypervisor's box: a few screens, not one box per node (~6000pt).
    match = re.search(r'<svg width="(\d+)pt" height="(\d+)pt"', text)
    assert match is not None
    width, height = int(match[1]), int(match[2])
    assert width < 1800 and height < 3000, (width, height)


@pytest.mark.parametrize(("change", "field"), [
    (lambda o: o.update(cluster="ipi1\n[evil]"), "output cluster"),
    (lambda o: o["nodes"][0].update(ip="192.168.16.34; reboot"), "output nodes[0].ip"),
    (lambda o: o["network"].update(gateway="#jinja2:x"), "output network.gateway"),
])
def test_map_and_doctor_read_a_deployed_clusters_outputs_through_the_contract(change: Any, field: str) -> None:
    """In a team lab a cluster stack is another person's: what `ocplab map` shows and `ocplab doctor` runs
    is typed first, and a hostile value stops the tool naming the stack and the field."""
    outputs = json.loads((Path(__file__).parent.parent / "data" / "cluster-outputs-ipi.json").read_text())
    assert checked_cluster(outputs, "ipi1") is outputs
    change(outputs)
    with pytest.raises(LabViewError, match=rf"stack ipi1: {re.escape(field)}"):
        checked_cluster(outputs, "ipi1")
