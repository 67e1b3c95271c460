"""The lab description: example stacks are valid, and each mistake is named before anything exists."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from core.errors import ConfigError
from core.labconfig import parse_lab_config
from core.stack_files import read_stack_values, stack_path


def simlab() -> dict[str, Any]:
    return read_stack_values(stack_path("simlab"))


def problems_of(values: dict[str, Any], has_key_secret: bool = False) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        parse_lab_config("test", values, has_key_secret=has_key_secret)
    return raised.value.problems


def test_simlab_stack_describes_two_hypervisors_and_two_slices() -> None:
    lab = parse_lab_config("simlab", simlab())
    assert [hv.name for hv in lab.hypervisors] == ["hv1", "hv2"]
    sizes = {s.cluster: (s.hypervisor, s.range and s.range.size) for s in lab.slices}
    assert sizes == {"ipi1": ("hv1", 16), "sno1": ("hv2", 8)}
    assert lab.hypervisors[0].network_name == "ocplab-br0"


def test_real_lab_stack_has_nine_hypervisors_and_ten_slices() -> None:
    lab = parse_lab_config("telco-lab", read_stack_values(stack_path("telco-lab")))
    assert len(lab.hypervisors) == 9
    assert len(lab.slices) == 10
    assert lab.slice_of("server") is not None and str(lab.slice_of("server").range) == "192.168.16.20-192.168.16.31"  # type: ignore[union-attr]


def test_overlapping_slices_name_both() -> None:
    values = simlab()
    values["slices"]["sno1"]["range"] = "192.168.16.40-192.168.16.50"
    assert any("ocplab:slices.sno1.range" in p and "overlaps slice ipi1" in p for p in problems_of(values))


@pytest.mark.parametrize(("rng", "what"), [
    ("192.168.17.10-192.168.17.20", "outside the lab network"),
    ("192.168.16.1-192.168.16.5", "the jumphost"),
    ("192.168.16.10-192.168.16.11", "hypervisor hv1"),
    ("192.168.16.199-192.168.16.201", "reserved range 0"),
    ("192.168.16.0/28", "the network address"),
])
def test_slice_over_infrastructure_is_refused(rng: str, what: str) -> None:
    values = simlab()
    values["slices"]["ipi1"]["range"] = rng
    assert any(p.startswith("ocplab:slices.ipi1.range") and what in p for p in problems_of(values))


def test_slice_on_jumphost_address_is_refused() -> None:
    values = simlab()
    values["jumphost"]["address"] = "192.168.16.33"
    assert any("ocplab:slices.ipi1.range" in p and "the jumphost" in p for p in problems_of(values))


def test_unknown_hypervisor_in_slice_lists_known_ones() -> None:
    values = simlab()
    values["slices"]["sno1"]["hypervisor"] = "hv9"
    assert "ocplab:slices.sno1.hypervisor: unknown hypervisor 'hv9'; known: hv1, hv2" in problems_of(values)


def test_duplicate_hypervisor_names_and_addresses() -> None:
    values = simlab()
    values["hypervisors"].append(copy.deepcopy(values["hypervisors"][0]))
    found = problems_of(values)
    assert "ocplab:hypervisors: name 'hv1' is used twice; names must be unique" in found
    assert "ocplab:hypervisors: address 192.168.16.11 is used twice" in found


@pytest.mark.parametrize("bad", ["HV1", "hv_1", "-hv", "a" * 64, ""])
def test_names_must_be_dns_labels(bad: str) -> None:
    values = simlab()
    values["hypervisors"][0]["name"] = bad
    assert any(p.startswith("ocplab:hypervisors[0].name") for p in problems_of(values))


def test_cluster_names_must_be_dns_labels() -> None:
    values = simlab()
    values["slices"]["Bad_Name"] = values["slices"].pop("sno1")
    assert any(p.startswith("ocplab:slices.Bad_Name") and "not a DNS label" in p for p in problems_of(values))


def test_missing_key_says_how_to_provide_one() -> None:
    values = simlab()
    del values["jumphost"]["ssh_key_path"]
    found = problems_of(values)
    assert any(p.startswith("ocplab:jumphost.ssh_key_path") and "--secret ocplab:sshPrivateKey" in p for p in found)
    assert parse_lab_config("test", values, has_key_secret=True).jumphost.key_path is None


def fields_of(values: dict[str, Any]) -> set[str]:
    return {p.split(":", 2)[1].split(" ")[0] for p in problems_of(values)}


def test_every_problem_is_reported_at_once() -> None:
    """The schema's problems all at once; once it passes, those of the checks that span fields all at once."""
    values = simlab()
    values["domain"] = "Not A Domain"
    values["jumphost"]["port"] = 0
    values["hypervisors"][1]["bridge_backend"] = "ovs"
    assert fields_of(values) >= {"domain", "jumphost.port", "hypervisors[1].bridge_backend"}
    values = simlab()
    values["network"]["gateway"] = "10.0.0.1"
    values["slices"]["sno1"]["hypervisor"] = "hv9"
    assert fields_of(values) >= {"network.gateway", "slices.sno1.hypervisor"}


def test_missing_sections_are_named() -> None:
    found = problems_of({})
    for field in ("ocplab:domain", "ocplab:network", "ocplab:jumphost", "ocplab:hypervisors"):
        assert any(p.startswith(field) for p in found), field


def test_overcommit_must_be_positive_numbers() -> None:
    values = simlab()
    values["overcommit"] = {"cpu": "lots", "memory": 0}
    found = problems_of(values)
    assert "ocplab:overcommit.cpu: 'lots' is not a number" in found
    assert "ocplab:overcommit.memory: 0 must be above 0" in found


# --- the way out: routing and time ----------------------------------------------------------------

def test_the_simlab_jumphost_routes_the_lab_out_of_its_uplink_and_is_its_gateway() -> None:
    lab = parse_lab_config("simlab", simlab())
    assert (lab.network.routing, lab.jumphost.uplink, str(lab.network.gateway)) == ("nat", "uplink0", "192.168.16.1")
    assert lab.network.ntp_upstream == ("198.51.100.2",)


def test_a_lab_with_its_own_router_names_it_and_needs_no_uplink() -> None:
    values = simlab()
    values["network"] = {**values["network"], "routing": "none", "gateway": "192.168.16.254"}
    values["network"]["reserved"] = ["192.168.16.200-192.168.16.253"]
    del values["jumphost"]["uplink"]
    lab = parse_lab_config("test", values)
    assert (lab.network.routing, lab.jumphost.uplink, str(lab.network.gateway)) == ("none", None, "192.168.16.254")


@pytest.mark.parametrize(("change", "field", "says"), [
    (lambda v: v["jumphost"].pop("uplink"), "ocplab:jumphost.uplink", "routing nat needs the jumphost's interface"),
    (lambda v: v["jumphost"].update(uplink="eth0"), "ocplab:jumphost.uplink", "'eth0' is the jumphost's lab interface"),
    (lambda v: v["jumphost"].update(uplink="eth 1"), "ocplab:jumphost.uplink", "is not an interface name"),
    (lambda v: v["network"].update(routing="none"), "ocplab:network.gateway",
     "no gateway: name the lab network's router"),
    (lambda v: v["network"].update(gateway="192.168.16.254"), "ocplab:network.gateway",
     "with routing nat the jumphost (192.168.16.1) is the lab's gateway, not 192.168.16.254"),
    (lambda v: v["network"].update(routing="none", gateway="10.0.0.1"), "ocplab:network.gateway",
     "10.0.0.1 is outside 192.168.16.0/24"),
    (lambda v: v["network"].update(routing="masquerade"), "ocplab:network.routing", "is not one of nat, none"),
    (lambda v: v["network"].update(ntp_upstream=["ntp.example.com iburst"]), "ocplab:network.ntp_upstream[0]",
     "is not an NTP server's IPv4 address or host name"),
    (lambda v: v["network"].update(ntp_upstream=["300.1.1.1"]), "ocplab:network.ntp_upstream[0]",
     "is not an NTP server's IPv4 address or host name"),
    (lambda v: v["network"].update(ntp_upstream="198.51.100.2"), "ocplab:network.ntp_upstream", "list"),
])
def test_a_bad_way_out_is_refused_naming_the_field(change: Any, field: str, says: str) -> None:
    values = simlab()
    change(values)
    found = [p for p in problems_of(values) if p.startswith(field + ":")]
    assert found and says in found[0], problems_of(values)
