"""A lab stack's outputs are another person's in a team lab: a cluster stack reads them as untrusted
input. Mutated outputs (hostile values of every kind put anywhere) and mutated previous assignments are
either parsed into typed values or refused with a ConfigError whose every problem names the lab stack's
(or this stack's) output and field; nothing else is raised. What parses renders dnsmasq lines, scripts
and libvirt URIs in which a mutated value can never become a new directive, a word or a URI part."""

from __future__ import annotations

import copy
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from hypothesis import example, given
from hypothesis import strategies as st

from core.cluster_design import design_cluster
from core.clusterconfig import parse_cluster_config
from core.errors import ConfigError
from core.lab_contract import parse_lab_outputs
from core.stack_files import read_stack_values, stack_path
from renderers.dnsmasq_cluster import ClusterDns, apply_script, render_cluster_dns
from renderers.vbmc_scripts import vbmc_sync_script
from tests.unit.test_config_fuzz import HOSTILE, LAB_OUTPUTS, assert_inert, paths

IPI1 = parse_cluster_config("ipi1", read_stack_values(stack_path("ipi1")))
PREVIOUS = {"api_vip": "192.168.16.32", "ingress_vip": "192.168.16.33",
            "nodes": {"master-0": {"ip": "192.168.16.35", "macs": {"baremetal": "52:54:00:10:10:23",
                                                                    "provisioning": "52:54:01:10:10:23"}}},
            "bootstrap": {"ip": "192.168.16.47", "macs": {"baremetal": "52:54:00:10:10:2f"}}}


@st.composite
def mutated(draw: st.DrawFn, base: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    outputs = copy.deepcopy(base)
    hostile = None
    for _ in range(draw(st.sampled_from([1, 1, 2]))):
        where = draw(st.sampled_from(paths(outputs)))
        hostile = draw(HOSTILE)
        target: Any = outputs
        for part in where[:-1]:
            target = target[part]
        target[where[-1]] = hostile
    return outputs, hostile


ENTRY = {  # what each of a cluster's dnsmasq files may hold, line by line
    "dhcp": re.compile(r"([0-9a-f]{2}:){5}[0-9a-f]{2},[0-9.]+,[a-z0-9.-]+"),
    "hosts": re.compile(r"[0-9.]+( [a-z0-9.-]+)+"),
    "wildcards": re.compile(r"address=/apps\.[a-z0-9.-]+/[0-9.]+|domain=[a-z0-9.-]+,[0-9.]+,[0-9.]+"),
}


def assert_one_entry_per_line(dns: ClusterDns) -> None:
    for name, text in dns.as_dict().items():
        for line in text.splitlines():
            assert line.startswith("# ocplab cluster ") or ENTRY[name].fullmatch(line), (name, line)


def assert_designed_inert_or_refused(lab: Any, previous: dict[str, Any] | None, hostile: Any) -> None:
    """ipi1 designed on these outputs renders entries and scripts a hostile value cannot break, or is refused
    naming its field."""
    try:
        design = design_cluster(IPI1, lab, previous)
    except ConfigError as error:
        assert_named(error, "ocplab:")
        return
    dns = render_cluster_dns(design)
    assert_one_entry_per_line(dns)
    assert_inert(apply_script(IPI1.name, dns), hostile)
    assert_inert(vbmc_sync_script(IPI1.name, design.bmc), hostile)


def assert_named(error: ConfigError, prefix: str) -> None:
    assert error.problems
    for problem in error.problems:
        assert problem.startswith(prefix) and ": " in problem, problem


@given(mutated(LAB_OUTPUTS))
@example(({**LAB_OUTPUTS, "domain": "simlab.test\naddress=/quay.io/192.168.16.66"}, "simlab.test\naddress=/quay.io/"))
@example(({**LAB_OUTPUTS, "network": {**LAB_OUTPUTS["network"], "gateway": "#jinja2:x\n[[ 1 ]]"}}, None))
@example(({**LAB_OUTPUTS, "jumphost": {**LAB_OUTPUTS["jumphost"], "known_hosts": None}}, None))
@example(({**LAB_OUTPUTS, "slices": {**LAB_OUTPUTS["slices"], "ipi1": {  # the pattern alone let it through
    **LAB_OUTPUTS["slices"]["ipi1"], "bmc_ports": "6230-70000"}}}, "6230-70000"))
@example(({**LAB_OUTPUTS, "hypervisors": {**LAB_OUTPUTS["hypervisors"], "hv1": {
    **LAB_OUTPUTS["hypervisors"]["hv1"], "libvirt_uri": "qemu+ssh://root@10.9.9.9/system?no_verify=1"}}}, None))
def test_mutated_lab_outputs_are_parsed_or_refused_by_output_and_field(case: tuple[dict[str, Any], Any]) -> None:
    outputs, hostile = case
    try:
        lab = parse_lab_outputs("simlab", outputs)
    except ConfigError as error:
        assert_named(error, "ocplab:lab: ")
        return
    for hv in lab.hypervisors.values():  # rebuilt from the checked parts: the host, our key and known_hosts
        uri = urlsplit(hv.libvirt_uri)
        assert uri.hostname == hv.address and parse_qs(uri.query)["knownhosts"] == [lab.jumphost.known_hosts]
        assert "no_verify" not in uri.query
    assert_designed_inert_or_refused(lab, None, hostile)


@given(mutated(PREVIOUS))
@example(({**PREVIOUS, "bootstrap": {"ip": "192.168.16.47", "macs": {"baremetal": "x\ndhcp-script=/tmp/x"}}}, None))
def test_mutated_previous_assignments_are_kept_or_refused_by_field(case: tuple[dict[str, Any], Any]) -> None:
    previous, hostile = case
    assert_designed_inert_or_refused(LAB_OUTPUTS, previous, hostile)
