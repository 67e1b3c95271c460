"""An unfit machine or bad input gives one clear line and exit 2, and creates nothing."""

from __future__ import annotations

import subprocess

import pytest

from simlab.netns import lab_netns
from tests.simlab.conftest import simlab_cli

pytestmark = pytest.mark.simlab


def one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    return done.stderr


def test_not_root() -> None:
    before = lab_netns()
    done = simlab_cli("up", prefix=("setpriv", "--reuid=nobody", "--regid=nogroup",
                                    "--clear-groups", "--"))
    assert "needs root" in one_line_error(done)
    assert lab_netns() == before


def test_root_of_a_user_namespace_is_not_root() -> None:
    done = simlab_cli("up", prefix=("unshare", "--user", "--map-root-user", "--"))
    assert "user namespace" in one_line_error(done)


def test_no_namespace_permission() -> None:
    """Root without CAP_SYS_ADMIN, like an unprivileged container."""
    done = simlab_cli("up", prefix=("setpriv", "--bounding-set=-sys_admin", "--"))
    assert "cannot create network/mount namespaces" in one_line_error(done)


def test_bad_hypervisor_count() -> None:
    assert "between 1 and 20" in one_line_error(simlab_cli("up", "--hypervisors", "0"))
