"""Stack config is untrusted input: mutated lab and cluster configs (from the example stacks, with
hostile values of every kind put anywhere) are either accepted or refused with a ConfigError whose
every problem names an `ocplab:` field; nothing else is ever raised. What is accepted renders
scripts that `sh -n` parses, where a mutated value only ever appears inside a quoted assignment,
and dnsmasq files that `dnsmasq --test` accepts. `make test` runs 1,200 examples per config kind."""

from __future__ import annotations

import copy
import json
import re
import subprocess
from pathlib import Path
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from core.cluster_design import design_cluster
from core.clusterconfig import parse_cluster_config
from core.errors import ConfigError
from core.labconfig import parse_lab_config
from core.stack_files import read_stack_values, stack_path
from renderers.bridge_scripts import bridge_create_script, bridge_delete_script
from renderers.dnsmasq_base import render_base_config
from renderers.dnsmasq_cluster import apply_script, remove_script, render_cluster_dns
from renderers.vbmc_scripts import vbmc_sync_script, vbmcd_install_script
from tests.tools import require_tool

LAB_OUTPUTS = json.loads((Path(__file__).parent.parent / "data" / "lab-outputs-simlab.json").read_text())
BASES = {name: read_stack_values(stack_path(name)) for name in ("simlab", "telco-lab", "ipi1", "sno1", "server")}
ASSIGNMENT = re.compile(r"[a-z_][a-z0-9_]*='([^']|'\"'\"')*'")

HOSTILE_TEXT = st.sampled_from([
    "br0; touch /tmp/owned", "eth0\ndhcp-script=/tmp/x", "hv2\n", "root@10.0.0.9/system?no_verify=1#",
    "$(reboot)", "`id`", "a'b", 'a"b', "x\x00y", "~nosuchuser/key", "", " ", "A" * 300, "../../etc/passwd",
    "52:54:00:00:02:00\n", "1e308", "nan", "-1", "9" * 400, "192.168.16.0/8", "0.0.0.0-255.255.255.255",
    "6230-70000", "ipi", "kvm", "true", "MASTER-0", "ssh-ed25519 AAAA x\nmalicious", "1h\nport=0",
])
# Values a careful user would write: they keep part of the examples accepted, so the renderers run too.
PLAUSIBLE = st.sampled_from(["hv1", "br1", "eth1", "ens3f0", "admin", "192.168.16.60", "2G", "512M", 4, 1, 0,
                             "virtio", "unsafe", "host-model", "1h", "30m", "/var/lib/libvirt/pool2", True, False])
HOSTILE = st.one_of(
    PLAUSIBLE, PLAUSIBLE, HOSTILE_TEXT, st.text(max_size=30), st.booleans(), st.none(),
    st.integers(min_value=-(10**12), max_value=10**12), st.sampled_from([10**400, -(10**400), 10_000_000]),
    st.floats(allow_nan=True, allow_infinity=True), st.lists(st.text(max_size=5), max_size=3),
    st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=2),
)


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in the config a value could be replaced (containers and leaves)."""
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += paths(item, (*prefix, index))
    return found


@st.composite
def mutated(draw: st.DrawFn, base: str) -> tuple[dict[str, Any], Any]:
    config = copy.deepcopy(BASES[base])
    hostile = None
    for _ in range(draw(st.sampled_from([1, 1, 1, 2, 3]))):
        where = draw(st.sampled_from(paths(config)))
        hostile = draw(HOSTILE)
        target: Any = config
        for part in where[:-1]:
            target = target[part]
        if draw(st.booleans()) and isinstance(target, dict):
            target[draw(st.sampled_from(["nicc", "rang", "workerz", str(where[-1]) + "_"]))] = hostile
        else:
            target[where[-1]] = hostile
    return config, hostile


def assert_only_field_problems(error: ConfigError) -> None:
    assert error.problems, "a ConfigError names at least one problem"
    for problem in error.problems:
        assert problem.startswith("ocplab:") and ": " in problem, problem


def assert_inert(script: str, hostile: Any) -> None:
    result = subprocess.run([require_tool("dash", "dash"), "-n"], input=script, capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stderr
    if isinstance(hostile, str) and len(hostile) >= 3 and re.search(r"[;$`'\"\n&|<>()\\ ]", hostile):
        for line in script.splitlines():
            assert hostile not in line or ASSIGNMENT.fullmatch(line), f"{hostile!r} outside a quoted assignment"


def dnsmasq_accepts(text: str, tmp: Path) -> None:
    conf = tmp / "t.conf"
    conf.write_text(text.replace("/etc/ocplab/", f"{tmp}/"))
    result = subprocess.run([require_tool("dnsmasq", "dnsmasq-base"), "--test", f"--conf-file={conf}"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


@given(st.sampled_from(["simlab", "telco-lab"]).flatmap(mutated))
@example(({**BASES["simlab"], "hypervisors": [{**BASES["simlab"]["hypervisors"][0], "bridge": "br0;id"}]}, "br0;id"))
@example(({**BASES["simlab"], "jumphost": {**BASES["simlab"]["jumphost"], "interface": "eth0\nport=0"}}, ""))
@example(({**BASES["simlab"], "defaults": "x", "overcommit": {"cpu": float("nan")}}, None))
@example(({**BASES["simlab"], "network": {**BASES["simlab"]["network"], "reserved": "192.168.16.1"}}, None))
def test_mutated_lab_configs_are_accepted_or_refused_by_field(case: tuple[dict[str, Any], Any]) -> None:
    config, hostile = case
    try:
        lab = parse_lab_config("fuzz", config)
    except ConfigError as error:
        assert_only_field_problems(error)
        return
    for hv in lab.hypervisors:
        assert_inert(bridge_create_script(hv.bridge_backend, hv.nic, hv.bridge), hostile)
        assert_inert(bridge_delete_script(hv.bridge_backend, hv.nic, hv.bridge), hostile)
    assert_inert(vbmcd_install_script([s.bmc_ports for s in lab.slices if s.bmc_ports]), hostile)
    for line in render_base_config(lab).splitlines():
        assert not (isinstance(hostile, str) and "\n" in hostile and hostile in line)


@given(st.sampled_from(["ipi1", "sno1", "server"]).flatmap(mutated))
@example(({**BASES["ipi1"], "masters": 10_000_000}, None))
@example(({**BASES["ipi1"], "sizes": {"worker": {"disk_size": "1e308"}}}, None))
@example(({**BASES["ipi1"], "provisionhost": {"users": "dci"}}, None))
@example(({**BASES["sno1"], "hypervisor": "hv2\n"}, "hv2\n"))
@example(({**BASES["ipi1"], "sizes": {**BASES["ipi1"]["sizes"], "master": None}}, None))  # found: TypeError
@example(({**BASES["sno1"], "sizes": {"sno": None}}, None))
def test_mutated_cluster_configs_are_accepted_or_refused_by_field(case: tuple[dict[str, Any], Any]) -> None:
    config, hostile = case
    try:
        name = config.get("cluster")
        cluster = parse_cluster_config(name if isinstance(name, str) else "fuzz", config)
        piece = {"hypervisor": cluster.hypervisor, "range": "192.168.16.56-192.168.16.120", "bmc_ports": "6300-6399"}
        design = design_cluster(cluster, {**LAB_OUTPUTS, "slices": {**LAB_OUTPUTS["slices"], cluster.name: piece},
            "hypervisors": {**LAB_OUTPUTS["hypervisors"], cluster.hypervisor: {
                **LAB_OUTPUTS["hypervisors"]["hv1"], "name": cluster.hypervisor,
                "base_volumes": {n.image: "/x" for n in cluster.nodes},
                "capacity": {"vcpus": 4096, "memory_mib": 64 * 1024 * 1024}}}}, None)
    except ConfigError as error:
        assert_only_field_problems(error)
        return
    assert_inert(apply_script(cluster.name, render_cluster_dns(design)), hostile)
    assert_inert(remove_script(cluster.name), hostile)
    assert_inert(vbmc_sync_script(cluster.name, design.bmc), hostile)
