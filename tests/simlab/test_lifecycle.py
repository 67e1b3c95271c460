"""up, crash, up again, down: the lab recovers from leftovers and leaves nothing behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from simlab.boot import alive
from simlab.clients import ssh_run
from simlab.lab import Simlab, load
from simlab.mountns import mount_points
from simlab.netns import lab_netns
from simlab.paths import StatePaths
from simlab.teardown import lab_processes
from tests.simlab.conftest import REPO, simlab_cli

pytestmark = pytest.mark.simlab


def ns_id(path: str) -> tuple[int, int]:
    st = os.stat(path)
    return (st.st_dev, st.st_ino)


def test_crashed_up_and_dead_daemon_recover_then_down_leaves_nothing() -> None:
    paths = StatePaths()
    keep = paths.cache / f"simlab-test-keep-{os.getpid()}"
    foreign = f"ocplab-simlabtest-{os.getpid()}"
    bystander: subprocess.Popen[bytes] | None = None
    paths.cache.mkdir(parents=True, exist_ok=True)
    keep.write_text("kept across down\n")
    try:
        # 1. `up` killed mid-way: namespaces and daemons left behind, no lab.json.
        up = subprocess.Popen([sys.executable, "-m", "simlab", "up"], cwd=REPO,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while not (paths.host_dir("hv1") / "pids" / "udevd.pid").exists():
            assert time.monotonic() < deadline and up.poll() is None
            time.sleep(0.01)
        up.send_signal(signal.SIGKILL)
        up.wait()
        assert {"ocplab-hv1", "ocplab-out"} <= set(lab_netns())
        outside_pids = [int(p.read_text()) for p in (paths.outside_dir / "pids").glob("*.pid")]
        assert len(outside_pids) == 3 and all(alive(p) for p in outside_pids)

        # 2. `up` again tears that down and builds a working lab.
        first = Simlab(2).up()
        assert all(ssh_run(h.ip, "true").returncode == 0 for h in first.hosts)

        # 3. A crash inside the lab: hv1's sshd dies, the namespaces stay.
        hv1 = next(h for h in first.hosts if h.name == "hv1")
        os.kill(hv1.pids["sshd"], signal.SIGKILL)
        assert ssh_run(hv1.ip, "true", timeout=30).returncode != 0
        status = simlab_cli("status")
        assert status.returncode == 1 and "hv1" in status.stdout and "sshd" in status.stdout

        # 4. `up` recovers: old daemons gone, new ones serve.
        old_pids = [p for h in first.hosts for p in h.pids.values()]
        assert first.outside is not None
        old_pids += [*first.outside.pids.values(), *outside_pids]
        second = Simlab(2).up()
        assert not any(alive(p) for p in old_pids)
        assert ssh_run(hv1.ip, "hostname").stdout.strip() == "hv1"
        assert second.outside is not None
        net_ids = {ns_id(f"/run/netns/{n}") for n in [*(h.netns for h in second.hosts), second.outside.netns]}
        mnt_ids = {ns_id(h.mount_ns) for h in second.hosts}
        assert lab_processes(net_ids, mnt_ids)

        # 5. down leaves no process, namespace, mount or state; cache/ stays; twice is fine;
        # a namespace of another tool that merely shares the ocplab- prefix is left alone.
        subprocess.run(["ip", "netns", "add", foreign], check=True)
        bystander = subprocess.Popen(["ip", "netns", "exec", foreign, "sleep", "60"])
        down = simlab_cli("down")
        assert down.returncode == 0, down.stderr
        assert lab_processes(net_ids, mnt_ids) == []
        assert not any(alive(p) for h in second.hosts for p in h.pids.values())
        assert not any(alive(p) for p in second.outside.pids.values())
        assert lab_netns() == []
        assert [m for m in mount_points() if m.startswith(str(paths.state))] == []
        assert not Path("/etc/netns/ocplab-jh").exists()
        assert sorted(p.name for p in paths.state.iterdir()) == [".lock", "cache"]
        assert keep.read_text() == "kept across down\n"
        assert simlab_cli("down").returncode == 0
        with pytest.raises(Exception, match="no simlab is running"):
            load()
        assert bystander.poll() is None and foreign in os.listdir("/run/netns")
    finally:
        keep.unlink(missing_ok=True)
        Simlab().down()
        if bystander is not None:
            bystander.kill()
            bystander.wait()
        subprocess.run(["ip", "netns", "delete", foreign], check=False, capture_output=True)
