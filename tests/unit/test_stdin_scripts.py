"""Every remote script a component gives stdin reads it to the end before it exits, even on paths that do
not need it: pulumi-command fails a command that exited 0 with `EOF` when the SSH session closes before
its stdin was written (pulumi/pulumi-command#553; the bench's 100-domain `up` lost 2 of 10 stacks to it)."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from renderers import sushy_scripts, vbmc_scripts
from renderers.seed_iso_scripts import seed_iso_remove_script


def _scripts(tmp: Path) -> dict[str, str]:
    """The scripts run with stdin attached, each pointed at a helper that is not there (its quickest exit)."""
    gone = str(tmp / "no-helper")
    return {
        "vbmc remove (bmc delete)": vbmc_scripts.vbmc_remove_script("c1").replace(
            f"helper='{vbmc_scripts.HELPER}'", f"helper='{gone}'"),
        "vbmc sync without an IPMI plan (bmc create of a cluster without bmc_ports)":
            vbmc_scripts.vbmc_sync_script("c1", None).replace(f"helper='{vbmc_scripts.HELPER}'", f"helper='{gone}'"),
        "sushy remove (redfish delete)": sushy_scripts.sushy_remove_script("c1").replace(
            f"helper='{sushy_scripts.HELPER}'", f"helper='{gone}'"),
        "seed remove (seed delete)": seed_iso_remove_script(str(tmp / "c1-node-cidata.iso"), "no-such-pool"),
    }


@pytest.mark.parametrize("name", list(_scripts(Path("/nonexistent"))))
def test_a_script_given_stdin_waits_for_its_end_then_succeeds(name: str, tmp_path: Path) -> None:
    script = _scripts(tmp_path)[name]
    assert f"'{tmp_path}" in script, "the helper path was not redirected: the renderer's inputs changed"
    proc = subprocess.Popen(["sh", "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(0.5)
        assert proc.poll() is None, f"{name} exited before its stdin ended: {proc.communicate()}"
        _, err = proc.communicate("s3cret-Passw0rd\n", timeout=30)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == 0, err
