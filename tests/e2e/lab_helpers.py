"""A simulated lab session for end-to-end tests: `pulumi` and every client run from the jumphost namespace."""

from __future__ import annotations

import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from simlab.clients import run_in_jumphost, ssh_run
from simlab.guest.console import GuestReport, parse_console
from simlab.pulumi_engine import Workspace, copy_project, require_engine, set_stack_config

JUMPHOST = "192.168.16.1"
PROJECT = Path(__file__).resolve().parent.parent.parent


class LabSession:
    """A copy of the project (its stack files may change) and a private file backend, driven with the
    real engine from the jumphost namespace, so tests never touch a user's stacks or state."""

    def __init__(self, workdir: Path) -> None:
        self.project = copy_project(workdir / "project")
        self.pulumi = Workspace(project=self.project, backend=workdir / "pulumi-state")
        self.figures: dict[str, float] = {}

    def env(self) -> dict[str, str]:
        env = self.pulumi.env()
        env["PYTHONPATH"] = str(PROJECT)
        env["OCPLAB_STACKS_DIR"] = str(self.project / "stacks")  # what tools read as the stack files
        return env

    def jumphost(self, argv: list[str], timeout: float = 900) -> subprocess.CompletedProcess[str]:
        return run_in_jumphost(argv, env=self.env(), timeout=timeout, cwd=str(PROJECT))

    def up(self, stack: str, *extra: str) -> subprocess.CompletedProcess[str]:
        """`pulumi up` (raises PulumiError with the output's tail when it fails)."""
        return self.pulumi.up(stack, *extra)

    def up_parallel(self, stacks: list[str]) -> list[subprocess.CompletedProcess[str]]:
        with ThreadPoolExecutor(max_workers=len(stacks)) as pool:
            return list(pool.map(self.up, stacks))

    def outputs(self, stack: str, show_secrets: bool = False) -> dict[str, Any]:
        return self.pulumi.outputs(stack, show_secrets=show_secrets)

    def edit_stack(self, stack: str, changes: dict[str, Any]) -> None:
        set_stack_config(self.project, stack, changes)

    def ssh(self, host: str, command: str) -> str:
        result = ssh_run(host, command, timeout=120)
        assert result.returncode == 0, f"on {host}: {command}\n{result.stderr}"
        return result.stdout

    def virsh(self, host: str, *args: str) -> str:
        return self.ssh(host, "virsh -q " + " ".join(args))

    def console(self, host: str, domain: str) -> GuestReport:
        result = ssh_run(host, f"cat /var/log/libvirt/qemu/{domain}-console.log", timeout=60)
        return parse_console(result.stdout if result.returncode == 0 else "")

    def note(self, what: str, value: float) -> None:
        """Figures the run prints at the end (times, counts): measured, never asserted on."""
        self.figures[what] = value


def dig(session: LabSession, name: str, reverse: bool = False) -> list[str]:
    """Answers from the jumphost's dnsmasq, as a client in the jumphost namespace sees them."""
    argv = ["dig", f"@{JUMPHOST}", "+short", "+tries=3", "+time=1"]
    argv += ["-x", name] if reverse else [name, "A"]
    result = session.jumphost(argv, timeout=30)
    return [line for line in result.stdout.split() if line and not line.startswith(";")]


def require_root_and_engine() -> None:
    """Fail loudly, with the fix, where the simulated lab or the engine cannot run."""
    if os.geteuid() != 0:
        raise RuntimeError("the simulated lab tests need root (network namespaces, libvirtd): run them as root")
    require_engine()
