"""On the simulated lab: many clusters at once, and faults in the middle of `pulumi up`, survived.

Ten SNO cluster stacks (defined, not started) go up at the same time and then down at the same
time while a client keeps asking the jumphost's dnsmasq for every name: every file right, every
answer given, no lock timeout; the same ten one after the other give the comparison. Then faults,
each ending in a rerun of `pulumi up` that converges to the planned lab, proven by `ocplab doctor`
finding no orphan, duplicate or missing piece: libvirtd killed in the middle of a cluster's `up`,
the hypervisor's SSH sessions cut in the middle of one, and the jumphost dnsmasq killed while a
neighbour is destroyed.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import pytest
import yaml

from simlab.clients import ssh_run
from simlab.lab import load as load_lab
from simlab.pulumi_engine import PulumiError, require_engine
from tests.e2e.lab_helpers import JUMPHOST, PROJECT, LabSession, dig

pytestmark = pytest.mark.simlab

HV = {"hv1": "192.168.16.11", "hv2": "192.168.16.12"}
TEAM = [f"t{i:02d}" for i in range(1, 11)]  # ten SNO clusters, two addresses each from .56
CUT_HANG = 120  # s after the SSH cut past which the up is taken as hung (and killed, as a CI timeout would)


def team_slices() -> dict[str, Any]:
    return {name: {"hypervisor": "hv1" if i % 2 == 0 else "hv2",
                   "range": f"192.168.16.{56 + 2 * i}-192.168.16.{57 + 2 * i}"} for i, name in enumerate(TEAM)}


def write_team_stacks(lab: LabSession) -> None:
    sno = yaml.safe_load((lab.project / "stacks" / "Pulumi.sno1.yaml").read_text())
    for name, piece in team_slices().items():
        config = {**sno["config"], "ocplab:hypervisor": piece["hypervisor"], "ocplab:start": False}
        (lab.project / "stacks" / f"Pulumi.{name}.yaml").write_text(
            yaml.safe_dump({"config": config, "encryptionsalt": sno["encryptionsalt"]}, sort_keys=False))


def doctor(lab: LabSession) -> tuple[int, list[dict[str, Any]]]:
    result = lab.jumphost([str(PROJECT / "bin" / "ocplab"), "doctor", "--lab", "simlab", "--json"], timeout=300)
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, json.loads(result.stdout)["findings"]


@contextmanager
def asking(lab: LabSession, names: Callable[[], list[str]]) -> Iterator[dict[str, Any]]:
    """A client asking the jumphost for `names()` (the deployed ones) in a loop: failures and count."""
    seen: dict[str, Any] = {"answers": 0, "failures": []}
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            for name in names():
                if not dig(lab, name):
                    seen["failures"].append(name)
                seen["answers"] += 1
            time.sleep(0.05)

    thread = threading.Thread(target=loop)
    thread.start()
    try:
        yield seen
    finally:
        stop.set()
        thread.join()


def dns_files(lab: LabSession) -> dict[str, list[str]]:
    """Each cluster's dhcp-hosts file on the jumphost: its reservation lines."""
    listing = lab.ssh(JUMPHOST, "cd /etc/ocplab/dhcp-hosts && for f in *; do "
                                "[ -f \"$f\" ] && echo \"$f $(grep -v '^#' \"$f\" | tr '\\n' ' ')\"; done; true")
    return {name: rest.split() for name, _, rest in (line.partition(" ") for line in listing.splitlines() if line)}


@pytest.fixture(scope="module", autouse=True)
def team_lab(lab: LabSession) -> None:
    """The lab stack deployed with ten more slices (the team's), so each test here runs on its own."""
    lab.edit_stack("simlab", {"ocplab:slices": {**yaml.safe_load(
        (lab.project / "stacks" / "Pulumi.simlab.yaml").read_text())["config"]["ocplab:slices"], **team_slices()}})
    write_team_stacks(lab)
    lab.up("simlab")


def test_ten_clusters_up_and_down_at_once_lose_no_entry_and_no_answer(lab: LabSession) -> None:
    for name in TEAM:
        lab.pulumi.ensure_stack(name)
    deployed: list[str] = []
    with asking(lab, lambda: ["hv1.simlab.test", *deployed]) as seen, ThreadPoolExecutor(len(TEAM)) as pool:
        started = time.monotonic()
        list(pool.map(lab.up, TEAM))
        lab.note("10 SNO stacks: pulumi up at once (s)", time.monotonic() - started)
        deployed += [f"sno.{name}.simlab.test" for name in TEAM]
        time.sleep(2)
    assert seen["failures"] == [] and seen["answers"] > 20, seen
    files = dns_files(lab)
    for i, name in enumerate(TEAM):
        out = lab.outputs(name)
        assert out["nodes"][0]["ip"] == f"192.168.16.{56 + 2 * i}"
        assert files[name] == [f"{out['nodes'][0]['macs']['baremetal']},{out['nodes'][0]['ip']},sno.{name}.simlab.test"]
        assert dig(lab, f"sno.{name}.simlab.test") == [out["nodes"][0]["ip"]]
    assert doctor(lab) == (0, [])

    with asking(lab, lambda: ["hv1.simlab.test"]) as seen, ThreadPoolExecutor(len(TEAM)) as pool:
        started = time.monotonic()
        list(pool.map(lab.pulumi.destroy, TEAM))
        lab.note("10 SNO stacks: pulumi destroy at once (s)", time.monotonic() - started)
    assert seen["failures"] == [], seen
    assert not set(TEAM) & set(dns_files(lab)) and all(dig(lab, f"sno.{n}.simlab.test") == [] for n in TEAM)
    assert doctor(lab) == (0, [])

    # Kept although nothing is asserted on its figure: without it, the libvirtd test that follows the ten
    # parallel destroys failed 2 of 4 full runs (hv1's libvirtd stopped answering; an orphan autostarted by
    # the restarted libvirtd that `virsh destroy` refused) and passed 2; not understood yet (docs/tests.md).
    started = time.monotonic()
    for name in TEAM:
        lab.up(name)
    lab.note("10 SNO stacks: pulumi up one after the other (s)", time.monotonic() - started)
    started = time.monotonic()
    for name in TEAM:
        lab.pulumi.destroy(name)
    lab.note("10 SNO stacks: pulumi destroy one after the other (s)", time.monotonic() - started)
    assert doctor(lab) == (0, [])


def converges(lab: LabSession, stack: str, fault: str) -> None:
    """A rerun of `pulumi up` gives the planned cluster: a clean preview after it and nothing for doctor. When
    the rerun fails (a create libvirt did that the state never recorded), the README's recovery runs:
    `ocplab doctor --remove-orphans`, then `pulumi up` again. What was left before, and which sufficed, are noted."""
    _, left = doctor(lab)
    lab.note(f"{fault}: doctor findings before the rerun", float(len(left)))
    print(f"{fault}: left before the rerun:", json.dumps([(f["kind"], f["host"], f["what"], f["owner"])
                                                           for f in left]))
    started = time.monotonic()
    rerun = lab.pulumi.run("up", "--yes", "--skip-preview", "--suppress-progress", "-s", stack, check=False)
    if rerun.returncode != 0:
        print(f"{fault}: the plain rerun failed:", "\n".join((rerun.stdout + rerun.stderr).splitlines()[-15:]))
        removed = lab.jumphost([str(PROJECT / "bin" / "ocplab"), "doctor", "--lab", "simlab", "--remove-orphans"],
                               timeout=300)
        print(f"{fault}: ocplab doctor --remove-orphans (exit {removed.returncode}):", removed.stdout, removed.stderr)
        assert removed.returncode in (0, 1), removed.stderr
        try:
            lab.up(stack)
        except PulumiError:
            print(f"{fault}: what the state of {stack} holds:", json.dumps(state_domains(lab, stack)))
            for name, hv in HV.items():
                print(f"{fault}: domains on {name}:", lab.virsh(hv, "list", "--all", "--uuid", "--name"))
            raise
    lab.note(f"{fault}: rerun converged (s; plain rerun enough = {int(rerun.returncode == 0)})",
             time.monotonic() - started)
    lab.pulumi.preview(stack, "--expect-no-changes")
    assert doctor(lab) == (0, [])


def state_domains(lab: LabSession, stack: str) -> list[tuple[str, str]]:
    """(name, id) of each domain the stack's state records."""
    state = json.loads(lab.pulumi.run("stack", "export", "-s", stack).stdout)
    return [((r.get("outputs") or r.get("inputs") or {}).get("name", "?"), r.get("id", "?"))
            for r in state["deployment"].get("resources") or [] if r["type"] == "libvirt:index/domain:Domain"]


def wait_for_domains(hv: str, prefix: str, count: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = ssh_run(hv, "virsh -q list --all --name", timeout=60)
        if len([n for n in result.stdout.split() if n.startswith(prefix)]) >= count:
            return
        time.sleep(0.2)
    raise AssertionError(f"fewer than {count} {prefix}* domains on {hv} after {timeout} s")


def background_up(lab: LabSession, stack: str) -> subprocess.Popen[str]:
    """`pulumi up` started in the background, as a job would run it."""
    lab.pulumi.ensure_stack(stack)
    argv = ["ip", "netns", "exec", "ocplab-jh", str(require_engine()), "up", "--yes", "--skip-preview",
            "--suppress-progress", "--non-interactive", "-s", stack]
    return subprocess.Popen(argv, env=lab.pulumi.env(), cwd=str(lab.project), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def kill_engine_tree() -> list[str]:
    """As a killed CI job goes: the background `pulumi up` and everything it started (language host, providers),
    at once, with SIGKILL; the engine's pids."""
    engine = subprocess.run(["pgrep", "-f", f"{require_engine()} up --yes"], capture_output=True, text=True,
                            check=False).stdout.split()
    assert engine, "the background pulumi up runs"
    tree = engine + [child for pid in engine for child in subprocess.run(
        ["pgrep", "-P", pid], capture_output=True, text=True, check=False).stdout.split()]
    subprocess.run(["kill", "-9", *tree], capture_output=True, check=False)
    return engine


def test_libvirtd_killed_in_the_middle_of_an_up_then_a_rerun_converges(lab: LabSession) -> None:
    lab.edit_stack("ipi1", {"ocplab:start": False})
    job = background_up(lab, "ipi1")
    wait_for_domains(HV["hv1"], "ipi1-", 2)
    lab.ssh(HV["hv1"], "kill -9 $(cat /run/libvirt/libvirtd.pid)")  # hv1's own: pkill would see every host's
    try:
        output, _ = job.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        job.kill()
        raise AssertionError("pulumi up did not end within 300 s of libvirtd's death") from None
    lab.note("ipi1: exit status of the up whose libvirtd was killed", float(job.returncode))
    lab.ssh(HV["hv1"], "rm -f /run/libvirt/libvirtd.pid; setsid -f libvirtd -p /run/libvirt/libvirtd.pid "
                       "</dev/null >/dev/null 2>&1; i=0; while ! virsh -q list >/dev/null 2>&1 && [ $i -lt 100 ]; do "
                       "sleep 0.1; i=$((i+1)); done; virsh -q list >/dev/null")
    left = lab.virsh(HV["hv1"], "list", "--all", "--name").split()
    lab.note("ipi1: domains left by the broken up", float(len([d for d in left if d.startswith("ipi1-")])))
    converges(lab, "ipi1", "libvirtd killed")
    assert "ipi1" in output


def test_the_ssh_link_to_the_hypervisor_cut_in_the_middle_of_an_up_then_a_rerun_converges(lab: LabSession) -> None:
    """Every SSH session hv1's sshd serves (the libvirt connection, the BMC script) is killed mid-`up`."""
    lab.pulumi.ensure_stack("ipi1")  # run alone, the stack is new
    lab.pulumi.destroy("ipi1")
    job = background_up(lab, "ipi1")
    wait_for_domains(HV["hv1"], "ipi1-", 2)
    sshd = next(h for h in load_lab().hosts if h.name == "hv1").pids["sshd"]
    cut = subprocess.run(["pkill", "-9", "-P", str(sshd)], capture_output=True, text=True, timeout=60, check=False)
    assert cut.returncode == 0, "hv1's sshd had sessions to cut"
    started = time.monotonic()
    try:
        # An up that survives the cut ends within seconds (its other creates fail or finish); one still running
        # after CUT_HANG s waits on a call that never returns, and waiting longer only costs CI minutes.
        job.communicate(timeout=CUT_HANG)
        lab.note("ipi1: exit status of the up whose SSH sessions were cut", float(job.returncode))
        lab.note("ipi1: the up's end after the cut (s)", time.monotonic() - started)
    except subprocess.TimeoutExpired:
        # Seen once in CI: terraform-provider-libvirt waited for good on volume creates whose connection had died.
        # Nothing of ours can end that call; the job is killed as a CI timeout would, then the README's
        # recovery for a killed `pulumi up` runs (cancel the lock, drop the pending creates), as shown below.
        lab.note("ipi1: the up hung after the cut and was killed (count)", 1.0)
        kill_engine_tree()
        job.communicate(timeout=60)
        lab.pulumi.run("cancel", "--yes", "-s", "ipi1")
        lab.pulumi.run("refresh", "--yes", "--skip-preview", "--clear-pending-creates", "-s", "ipi1")
    converges(lab, "ipi1", "SSH cut")


def test_dnsmasq_killed_while_a_neighbour_is_destroyed(lab: LabSession) -> None:
    lab.edit_stack("sno1", {"ocplab:start": False})
    lab.up("sno1")
    job = threading.Thread(target=lambda: lab.pulumi.destroy("sno1", check=False))
    job.start()
    lab.ssh(JUMPHOST, "sleep 1; kill -9 $(cat /run/ocplab-dnsmasq.pid) || true")
    job.join()
    lab.up("simlab")  # the lab stack's own script restarts its dnsmasq
    assert dig(lab, "hv1.simlab.test") == [HV["hv1"]]
    lab.up("sno1")
    lab.pulumi.destroy("sno1")
    converges(lab, "ipi1", "dnsmasq killed")
    assert "sno1" not in dns_files(lab)


def test_a_cluster_remove_retried_after_a_cut_never_leaves_dnsmasq_stopped(lab: LabSession) -> None:
    """A destroy whose remove script was cut between its `stop` and its `start` left the cluster's files gone
    and dnsmasq stopped; the retried destroy used to find no wildcard, swallow the failed reload and report
    success with the lab's DNS down. Now every cluster script starts dnsmasq on its way out if it is down."""
    lab.edit_stack("sno1", {"ocplab:start": False})
    lab.up("sno1")
    lab.ssh(JUMPHOST, "rm -f /etc/ocplab/dhcp-hosts/sno1 /etc/ocplab/hosts/sno1 /etc/ocplab/dnsmasq.d/sno1.conf && "
                      "/etc/ocplab/bin/ocplab-dnsmasq stop")
    lab.pulumi.destroy("sno1")
    assert ssh_run(JUMPHOST, "/etc/ocplab/bin/ocplab-dnsmasq status", timeout=30).returncode == 0
    assert dig(lab, "hv1.simlab.test") == [HV["hv1"]]
    assert lab.ssh(JUMPHOST, "stat -c '%a %U' /run/ocplab/lock").split() == ["700", "root"], \
        "the cluster scripts' lock lives where only root can write"
    lab.up("sno1")


def test_pulumi_killed_with_sigkill_in_the_middle_recovers_as_documented(lab: LabSession) -> None:
    """SIGKILL while `up` adds a worker: the stack stays locked by a dead process (the next `up` is refused
    with Pulumi's lock message naming that pid and `pulumi cancel`, and changes nothing) and may hold a
    pending create; the README's recovery (cancel, refresh --clear-pending-creates, then the rerun) converges."""
    lab.up("ipi1")
    lab.edit_stack("ipi1", {"ocplab:workers": 3})
    job = background_up(lab, "ipi1")
    wait_for_domains(HV["hv1"], "ipi1-worker-2", 1)
    engine = kill_engine_tree()
    job.communicate(timeout=60)
    # Which domains exist, not their order: `virsh list` puts running ones first, and a start or stop the killed
    # provider had already sent may still land (CI saw worker-2 go from running to shut off across the refusal).
    def domains() -> list[str]:
        return sorted(lab.virsh(HV["hv1"], "list", "--all", "--uuid", "--name").splitlines())

    before = domains()
    locked = lab.pulumi.run("up", "--yes", "--skip-preview", "-s", "ipi1", check=False)
    said = locked.stdout + locked.stderr
    assert locked.returncode != 0 and "the stack is currently locked by 1 lock(s)" in said, said
    assert f"(pid {engine[0]})" in said and "pulumi cancel" in said, said
    assert domains() == before, "the refused up created or deleted no domain"
    lab.pulumi.run("cancel", "--yes", "-s", "ipi1")
    lab.pulumi.run("refresh", "--yes", "--skip-preview", "--clear-pending-creates", "-s", "ipi1")
    converges(lab, "ipi1", "pulumi SIGKILLed")
    assert len(lab.outputs("ipi1")["nodes"]) == 7
