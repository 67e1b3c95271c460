"""The lab-to-cluster contract: what the lab stack exports is what cluster stacks parse, typed and
versioned; an older, foreign or broken lab output is one ConfigError naming the lab and the fix."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from core.errors import ConfigError
from core.lab_contract import CONTRACT_VERSION, Capacity, LabOutputs, hypervisor_outputs, lab_outputs, parse_lab_outputs
from core.labconfig import parse_lab_config
from core.ssh_access import libvirt_uri
from core.stack_files import read_stack_values, stack_path

DATA = Path(__file__).parent.parent / "data" / "lab-outputs-simlab.json"


def sample() -> dict[str, Any]:
    return dict(json.loads(DATA.read_text()))


def test_what_the_lab_exports_parses_back_to_the_same_contract() -> None:
    lab = parse_lab_config("simlab", read_stack_values(stack_path("simlab")))
    hvs = {hv.name: hypervisor_outputs(lab, hv.name, libvirt_uri(hv.ssh, "/key", "/known"), "net", "ocplab",
                                       {"guest": "/var/lib/libvirt/ocplab/base-guest.qcow2"}, 2, 4096)
           for hv in lab.hypervisors}
    made = lab_outputs(lab, hvs, "/key", "/known", "dnsmasq-id")
    exported = json.loads(json.dumps(made.as_outputs()))  # what a StackReference hands over
    assert exported["kind"] == "lab" and exported["version"] == CONTRACT_VERSION
    assert parse_lab_outputs("simlab", exported) == made
    assert "bmc_ports" in exported["slices"]["ipi1"]


def test_the_test_data_follows_the_contract() -> None:
    parsed = parse_lab_outputs("simlab", sample())
    assert isinstance(parsed, LabOutputs)
    assert parsed.hypervisors["hv1"].capacity == Capacity(vcpus=2, memory_mib=4096)
    assert parsed.slices["sno1"].bmc_ports == "6240-6249"


@pytest.mark.parametrize(("change", "message"), [
    (lambda o: o.clear(), r"stack 'simlab' has no outputs: name a deployed lab stack \(pulumi up -s simlab\)"),
    (lambda o: o.update(kind="cluster"), r"stack 'simlab' is not a lab stack \(its kind is 'cluster'\)"),
    (lambda o: o.pop("version"), r"exports contract version None, this ocplab reads version 1: run pulumi up -s "
                                 r"simlab with this ocplab first"),
    (lambda o: o.update(version=2), r"exports contract version 2"),
    (lambda o: o["hypervisors"]["hv2"].pop("bridge"), r"'simlab' output hypervisors\.hv2\.bridge: is required"),
    (lambda o: o["slices"].update(ipi1="hv1"), r"output slices\.ipi1: 'hv1' is not a mapping"),
    (lambda o: o["jumphost"].update(extra=1), r"output jumphost\.extra: is not a known key"),
])
def test_older_foreign_or_broken_outputs_are_one_clear_error(change: Any, message: str) -> None:
    outputs = sample()
    change(outputs)
    with pytest.raises(ConfigError, match=message):
        parse_lab_outputs("simlab", outputs)
