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


def version_2() -> dict[str, Any]:
    outputs = sample()
    outputs["version"] = 2
    outputs["network"].update(routing="nat", ntp=["192.168.16.1"], ntp_upstream=["198.51.100.2", "ntp.example.com"])
    return outputs


def test_a_version_1_lab_reads_as_one_without_routing_or_time_of_ours() -> None:
    assert sample()["version"] == 1
    network = parse_lab_outputs("simlab", sample()).network
    assert (network.routing, network.ntp, network.ntp_upstream) == ("none", [], [])


def test_version_2_says_who_routes_the_lab_and_where_time_comes_from() -> None:
    network = parse_lab_outputs("simlab", version_2()).network
    assert (network.routing, network.ntp, network.ntp_upstream) == \
        ("nat", ["192.168.16.1"], ["198.51.100.2", "ntp.example.com"])


@pytest.mark.parametrize(("change", "message"), [
    (lambda n: n.update(ntp=["10.0.0.1"]), r"output network\.ntp: 10\.0\.0\.1 is outside 192\.168\.16\.0/24"),
    (lambda n: n.update(gateway="192.168.16.254"), r"output network\.gateway: 192\.168\.16\.254 is not the jumphost"),
    (lambda n: n.update(ntp_upstream=["pool.ntp.org\nserver evil"]), r"output network\.ntp_upstream\[0\]: .* is not an "
                                                                       r"NTP server"),
    (lambda n: n.update(routing="masquerade"), r"output network\.routing: "),
])
def test_a_version_2_lab_with_a_bad_time_or_routing_field_is_refused(change: Any, message: str) -> None:
    outputs = version_2()
    change(outputs["network"])
    with pytest.raises(ConfigError, match=message):
        parse_lab_outputs("simlab", outputs)


def test_the_test_data_follows_the_contract() -> None:
    parsed = parse_lab_outputs("simlab", sample())
    assert isinstance(parsed, LabOutputs)
    assert parsed.hypervisors["hv1"].capacity == Capacity(vcpus=2, memory_mib=4096)
    assert parsed.slices["sno1"].bmc_ports == "6240-6249"


@pytest.mark.parametrize(("change", "message"), [
    (lambda o: o.clear(), r"stack 'simlab' has no outputs: name a deployed lab stack \(pulumi up -s simlab\)"),
    (lambda o: o.update(kind="cluster"), r"stack 'simlab' is not a lab stack \(its kind is 'cluster'\)"),
    (lambda o: o.pop("version"), r"exports contract version None, this ocplab reads versions 1, 2, 3: run pulumi up "
                                 r"-s simlab with this ocplab first"),
    (lambda o: o.update(version=4), r"exports contract version 4"),
    (lambda o: o.update(version=True), r"exports contract version True"),
    (lambda o: o["network"].update(ntp=["192.168.16.1"]), r"output network\.ntp: version 1 has no ntp"),
    (lambda o: o.update(version=2), r"output network\.routing: missing \(contract version 2 has it\)"),
    (lambda o: o["hypervisors"]["hv2"].pop("bridge"), r"'simlab' output hypervisors\.hv2\.bridge: is required"),
    (lambda o: o["slices"].update(ipi1="hv1"), r"output slices\.ipi1: 'hv1' is not a mapping"),
    (lambda o: o["jumphost"].update(extra=1), r"output jumphost\.extra: is not a known key"),
])
def test_older_foreign_or_broken_outputs_are_one_clear_error(change: Any, message: str) -> None:
    outputs = sample()
    change(outputs)
    with pytest.raises(ConfigError, match=message):
        parse_lab_outputs("simlab", outputs)


MIRROR = {"host": "mirror.simlab.test", "address": "192.168.16.1", "port": 8443, "user": "ocplab",
          "ca_certificate": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"}
RHCOS = {"url": "http://cache.simlab.test:8080/rhcos.iso", "sha256": "ab" * 32}
CACHE: dict[str, Any] = {"url": "http://cache.simlab.test:8080", "address": "192.168.16.1", "port": 8080,
                         "images": {"rhcos.iso": RHCOS}}


def test_version_2_may_carry_a_mirror_and_a_cache_and_a_lab_without_them_still_reads() -> None:
    """`mirror` and `cache` (added in 2) are only where the lab has them; the secret mirror_password is no part of
    the contract (a reader without the passphrase sees "[secret]")."""
    assert parse_lab_outputs("simlab", version_2()).mirror is None
    parsed = parse_lab_outputs("simlab", {**version_2(), "mirror": MIRROR, "cache": CACHE,
                                          "mirror_password": "[secret]"})
    assert parsed.mirror is not None and parsed.mirror.port == 8443
    assert parsed.cache is not None and parsed.cache.images["rhcos.iso"].sha256 == "ab" * 32


@pytest.mark.parametrize(("change", "message"), [
    (lambda o: o.update(mirror=MIRROR), r"output mirror: version 1 has no mirror; a version-2 lab exports version 2"),
    (lambda o: o.update(cache=CACHE), r"output cache: version 1 has no cache"),
])
def test_a_version_1_lab_carrying_a_mirror_or_a_cache_is_refused(change: Any, message: str) -> None:
    outputs = sample()
    change(outputs)
    with pytest.raises(ConfigError, match=message):
        parse_lab_outputs("simlab", outputs)


@pytest.mark.parametrize(("change", "message"), [
    (lambda o: o.update(mirror={**MIRROR, "host": "mirror.simlab.test\naddress=/x/1.2.3.4"}),
     r"output mirror\.host: .* is not a DNS domain"),
    (lambda o: o.update(mirror={**MIRROR, "ca_certificate": "{{ lookup('pipe', 'id') }}"}),
     r"output mirror\.ca_certificate: .* is not a PEM certificate"),
    (lambda o: o.update(cache={**CACHE, "images": {"a": {"url": "http://evil.example:80/a;rm", "sha256": "0" * 64}}}),
     r"output cache\.images\.a\.url: .* is not an http URL of the lab's cache"),
    (lambda o: o.update(cache={**CACHE, "images": {"a": {**RHCOS, "sha256": "AB" * 32}}}),
     r"output cache\.images\.a\.sha256: .* is not a sha256"),
])
def test_a_version_2_lab_with_a_bad_mirror_or_cache_field_is_refused(change: Any, message: str) -> None:
    outputs = version_2()
    change(outputs)
    with pytest.raises(ConfigError, match=message):
        parse_lab_outputs("simlab", outputs)
