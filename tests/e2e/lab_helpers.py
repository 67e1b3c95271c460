"""A simulated lab session for end-to-end tests: clients run from the jumphost namespace."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import yaml

from simlab.clients import run_in_jumphost, ssh_run
from simlab.env import client_env
from simlab.guest.console import GuestReport, parse_console

JUMPHOST = "192.168.16.1"
PROJECT = Path(__file__).resolve().parent.parent.parent


class LabSession:
    """Copies of the stack files and a private baseline state, so tests never touch a user's."""

    def __init__(self, workdir: Path) -> None:
        self.stacks = workdir / "stacks"
        shutil.copytree(PROJECT / "stacks", self.stacks)
        self.state = workdir / "baseline-state"
        self.figures: dict[str, float] = {}

    def env(self) -> dict[str, str]:
        env = client_env()
        env["OCPLAB_STACKS_DIR"] = str(self.stacks)
        env["OCPLAB_BASELINE_STATE"] = str(self.state)
        env["PYTHONPATH"] = str(PROJECT)
        return env

    def jumphost(self, argv: list[str], timeout: float = 900) -> subprocess.CompletedProcess[str]:
        return run_in_jumphost(argv, env=self.env(), timeout=timeout, cwd=str(PROJECT))

    def baseline(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.jumphost([sys.executable, "-m", "baseline", *args])

    def baseline_parallel(self, calls: list[tuple[str, str]]) -> list[subprocess.CompletedProcess[str]]:
        with ThreadPoolExecutor(max_workers=len(calls)) as pool:
            return list(pool.map(lambda call: self.baseline(*call), calls))

    def outputs(self, stack: str) -> dict[str, Any]:
        path = self.state / f"{stack}.json"
        return dict(json.loads(path.read_text())) if path.exists() else {}

    def edit_stack(self, stack: str, changes: dict[str, Any]) -> None:
        path = self.stacks / f"Pulumi.{stack}.yaml"
        document = yaml.safe_load(path.read_text())
        document["config"].update(changes)
        path.write_text(yaml.safe_dump(document, sort_keys=False))

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


def require_root() -> None:
    if os.geteuid() != 0:
        raise RuntimeError("the simulated lab tests need root (network namespaces, libvirtd): run them as root")
