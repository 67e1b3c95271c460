"""The benchmark's engine side, pure parts: traces, change summaries, process trees, SSH counters,
and the physical-limit plan."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from bench import otel
from bench.engine import change_summary, changes, history_changes
from bench.memory import Peak, Proc, category, descendants, parse_pss, parse_status, with_pss
from bench.physical_plan import make_plan, volume_xml
from bench.scenarios.scale import error_lines
from bench.sshcount import SshCount, parse_counters
from bench.stacks import ClusterPlan, write_stacks
from core.clusterconfig import parse_cluster_config
from core.lab_contract import planned_lab_outputs
from core.labconfig import parse_lab_config
from core.stack_files import read_stack_values

S = 1_000_000_000


def span(service: str, name: str, kind: int, start: float, end: float) -> dict[str, object]:
    return {"service": service, "name": name, "kind": kind, "startTimeUnixNano": str(int(start * S)),
            "endTimeUnixNano": str(int(end * S))}


def otlp(spans: list[dict[str, object]]) -> str:
    """One OTLP/JSON line per service, as `pulumi --otel-traces file://` writes them."""
    lines = []
    for service in sorted({str(s["service"]) for s in spans}):
        mine = [{k: v for k, v in s.items() if k != "service"} for s in spans if s["service"] == service]
        lines.append(json.dumps({"resourceSpans": [{
            "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]},
            "scopeSpans": [{"scope": {"name": "x"}, "spans": mine}]}]}))
    return "\n".join(lines) + "\n\n"


TRACE = otlp([
    span("pulumi-cli", "pulumi", 1, 0, 10),
    span("pulumi-cli", "pulumirpc.LanguageRuntime/Run", 3, 1, 9),
    span("pulumi-language-python", "pulumirpc.LanguageRuntime/Run", 2, 1, 9),
    span("pulumi-cli", "pulumirpc.ResourceMonitor/GetDeploymentInfo", 2, 2.25, 2.5),  # pulumi imported
    span("pulumi-cli", "pulumirpc.ResourceMonitor/RegisterResource", 2, 3, 3.5),
    span("pulumi-cli", "pulumirpc.ResourceMonitor/RegisterResource", 2, 4, 4.5),
    span("pulumi-cli", "pulumirpc.ResourceProvider/Create", 3, 4, 6),
    span("pulumi-cli", "pulumirpc.ResourceProvider/Create", 3, 5, 7),   # overlaps: 3 s of wall, 4 s of calls
    span("pulumi-cli", "pulumirpc.ResourceProvider/Check", 3, 0.5, 0.75),  # before the program: still the provider
    span("pulumi-cli", "gocloud.dev/blob.NewWriter", 1, 6.5, 8),          # half under a provider call
    span("pulumi-cli", "gocloud.dev/blob.Attributes", 1, 8, 8.5),         # a read: not a write
])


def test_trace_wall_is_split_once_with_provider_first() -> None:
    result = otel.breakdown(otel.read_spans(TRACE.splitlines()))
    assert result.wall == 10 and result.resources == 2 and result.state_writes == 1
    assert result.categories == pytest.approx({
        "provider calls": 3.25, "state writes": 1.0, "program start-up": 2.0, "engine + program": 2.0,
        "CLI outside the program": 1.75})
    assert sum(result.categories.values()) == pytest.approx(result.wall)
    assert result.provider_calls == {"Create": 2, "Check": 1}
    assert result.provider_seconds["Create"] == pytest.approx(4.0)
    assert result.methods() == "Create 2x 4.0 s, Check 1x 0.2 s"
    assert result.program_ours == pytest.approx(0.75)  # from the SDK's first call to the first registration
    assert result.shares().startswith("provider calls 32% (3.2 s), state writes 10% (1.0 s)")


def test_traces_of_several_stacks_add_up(tmp_path: Path) -> None:
    paths = []
    for name in ("a", "b"):
        (tmp_path / name).write_text(TRACE)
        paths.append(tmp_path / name)
    summed = otel.total(paths)
    assert summed.runs == 2 and summed.wall == 20 and summed.resources == 4
    assert summed.provider_calls["Create"] == 4 and summed.categories["state writes"] == pytest.approx(2.0)
    assert summed.program_ours == pytest.approx(1.5)


def test_a_trace_without_the_cli_root_is_refused() -> None:
    with pytest.raises(ValueError, match="root span"):
        otel.breakdown(otel.read_spans([otlp([span("pulumi-sdk-python", "x", 3, 0, 1)])]))


def test_change_summaries_of_preview_json_and_history() -> None:
    preview = json.dumps({"steps": [], "changeSummary": {"same": 32}, "duration": 1})
    assert change_summary(preview) == {"same": 32} and changes({"same": 32}) == 0
    assert change_summary("warning: x\n" + json.dumps({"changeSummary": {"same": 3, "update": 1}})) == {
        "same": 3, "update": 1}
    assert changes({"same": 3, "update": 1}) == 1 and change_summary("no json") is None
    history = json.dumps([{"version": 1, "resourceChanges": {"create": 32}},
                          {"version": 2, "resourceChanges": {"same": 32}}])
    assert history_changes(history) == {"same": 32} and history_changes("[]") is None


def test_process_tree_and_its_peak() -> None:
    status = "Name:\tpulumi-resource\nUmask:\t0022\nPPid:\t10\nVmRSS:\t  2048 kB\n"
    assert parse_status(11, status) == Proc(11, 10, 2 * 1024 * 1024, "pulumi-resource")
    assert parse_status(2, "Name:\tkthreadd\nPPid:\t0\n").rss == 0
    table = {p.pid: p for p in (Proc(1, 0, 5, "init"), Proc(10, 1, 1, "bench"), Proc(11, 10, 2, "pulumi"),
                                Proc(12, 11, 3, "python"), Proc(13, 1, 7, "other"))}
    assert sorted(p.pid for p in descendants(10, table)) == [11, 12]
    assert category("/x/.pulumi-home/plugins/resource-libvirt-v0.5.4/pulumi-resource-libvirt", "pulumi-resourc") == \
        "libvirt provider"
    assert category("/x/.engine/bin/pulumi", "pulumi") == "pulumi CLI (and `pulumi stack output` children)"
    assert category("pulumi-language-python", "pulumi-language") == "language host"
    assert category("/x/.venv/bin/python", "python") == "our program (python)"
    peak = Peak()
    peak.record([Proc(1, 0, 10, "a"), Proc(2, 0, 5, "b")], lambda p: p.name)
    peak.record([Proc(1, 0, 4, "a")], lambda p: p.name)
    assert (peak.total, peak.processes, peak.at_peak, peak.largest) == (15, 2, {"a": 10, "b": 5}, ("a", 10))
    assert peak.samples == 2 and peak.category_peak == {"a": 10, "b": 5}
    shared = Peak()  # two processes sharing 8 of their 10 resident bytes: PSS 6 each, the machine gives 12
    shared.record([Proc(1, 0, 10, "a", pss=6), Proc(2, 0, 10, "a", pss=6)], lambda p: p.name)
    assert (shared.total, shared.pss_total, shared.pss_at_peak) == (20, 12, {"a": 12})
    assert parse_pss("Rss:  2048 kB\nPss:  1024 kB\nPss_Anon: 512 kB\n") == 1024 * 1024
    me = with_pss(Proc(os.getpid(), 0, 1, "pytest"))
    assert 0 < me.pss <= parse_status(me.pid, Path(f"/proc/{me.pid}/status").read_text()).rss


def test_ssh_counters_from_iptables() -> None:
    listing = ("Chain OUTPUT (policy ACCEPT 0 packets, 0 bytes)\n"
               "    pkts      bytes target     prot opt in     out     source               destination\n"
               "      12     720 ACCEPT     6    --  *      *       0.0.0.0/0            0.0.0.0/0            "
               "/* ocplab-bench-ssh-syn */ tcp dpt:22 flags:0x17/0x02\n"
               "    4000  900000 ACCEPT     6    --  *      *       0.0.0.0/0            0.0.0.0/0            "
               "/* ocplab-bench-ssh-packets */ tcp dpt:22\n")
    count = parse_counters(listing)
    assert count == SshCount(12, 4000) and (count - SshCount(2, 1000)).describe() == \
        "10 SSH connections, 3000 packets to port 22"


def test_physical_plan_does_the_clusters_work(tmp_path: Path) -> None:
    assert volume_xml("v", 5, "raw") == ("<volume><name>v</name><capacity unit='bytes'>5</capacity>"
                                         "<target><format type='raw'/></target></volume>")
    seed = ClusterPlan("seed7", "hv1")
    write_stacks(tmp_path, "benchlab", 2, [seed])
    lab = parse_lab_config("benchlab", read_stack_values(tmp_path / "Pulumi.benchlab.yaml"))
    outputs = planned_lab_outputs(lab, Path(__file__).resolve().parents[2]).as_outputs()
    for hv in outputs["hypervisors"].values():  # what libvirt reports on the simulated lab
        hv["capacity"] = {"vcpus": 2, "memory_mib": 24000}
    cluster = parse_cluster_config("seed7", read_stack_values(tmp_path / "Pulumi.seed7.yaml"))
    plan = make_plan(cluster, outputs, str(tmp_path))
    hv = plan["hypervisors"][0]
    assert hv["uri"].startswith("qemu+ssh://root@192.168.16.11/system?") and hv["pool"] == "ocplab"
    assert len(hv["domains"]) == 7 and all(d["start"] for d in hv["domains"])
    assert len(hv["networks"]) == 1 and "seed7-provisioning" in hv["networks"][0]
    names = [v["name"] for v in hv["volumes"]]
    assert len([n for n in names if n.endswith("-root.qcow2")]) == 7 and len(
        [n for n in names if n.endswith("-disk2.qcow2")]) == 3
    iso = next(v for v in hv["volumes"] if v["name"].endswith("-cidata.iso"))
    assert Path(iso["upload"]).stat().st_size > 0
    root = next(v for v in hv["volumes"] if v["name"] == "seed7-master-0-root.qcow2")
    assert "@BASE@" in root["xml"] and root["base"] == "guest"
    assert all(f"@VOL:{n}@" in "".join(d["xml"] for d in hv["domains"]) for n in names)
    assert plan["jumphost"]["argv"][-3:] == ["root@192.168.16.1", "sh", "-s"]
    assert "seed7" in plan["jumphost"]["script"]


def test_left_out_scenarios_say_so_and_deadlines_are_today_utc() -> None:
    from datetime import UTC, datetime

    from bench.__main__ import SCENARIOS, _skipped, deadline

    for name in SCENARIOS:
        rows = _skipped(name, "left out of this run (--only)").rows
        assert rows and all(r.measured.startswith("not measured in this run: left out") and r.met is None
                            for r in rows)
    when = datetime.fromtimestamp(deadline("11:30"), UTC)
    assert (when.hour, when.minute, when.date()) == (11, 30, datetime.now(UTC).date())


def test_a_failed_ups_error_lines_come_before_its_tail() -> None:
    output = ("+ command:remote:Command s100-hv2-bmc creating (0s) error: EOF: running <33-line script>:\n"
              "  some script text\n    error: update failed\nResources:\n  + 43 created\n  2 errored\n")
    assert error_lines(output) == ("+ command:remote:Command s100-hv2-bmc creating (0s) error: EOF: running "
                                   "<33-line script>: error: update failed")
    assert error_lines("no failure words here\nDuration: 53s\n") == "no failure words here Duration: 53s"
