"""Driving the real Pulumi engine against the simulated lab, from the jumphost's network namespace.

The demo, the end-to-end tests and the benchmarks all run `pulumi` the same way: the CLI that
`make engine` built (.engine/bin), the project's PULUMI_HOME with the two provider plugins
installed, a file backend, no update checks or plugin downloads. A `Workspace` is one project
directory (the checkout, or a test's copy of it) and one backend folder.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from core.registry_build import engine_pin
from simlab.clients import run_in_jumphost
from simlab.env import client_env
from simlab.paths import REPO, StatePaths

ENGINE_BIN = REPO / ".engine" / "bin"
PULUMI_HOME = REPO / ".pulumi-home"


def pinned_version() -> str:
    """PULUMI_VERSION from engine/versions.env, the one place it is pinned."""
    return engine_pin(REPO, "PULUMI_VERSION")


class EngineMissingError(RuntimeError):
    """No engine of the pinned version: says how to make one."""


def require_engine() -> Path:
    """The pinned pulumi CLI with its language host and both plugins, or an error with the fix."""
    pulumi = ENGINE_BIN / "pulumi"
    want = f"v{pinned_version()}"
    got = subprocess.run([str(pulumi), "version"], capture_output=True, text=True, check=False).stdout.strip() \
        if pulumi.exists() else ""
    plugins = PULUMI_HOME / "plugins"
    if got != want or not (ENGINE_BIN / "pulumi-language-python").exists() or \
            not any(plugins.glob("resource-libvirt-*")) or not any(plugins.glob("resource-command-*")):
        raise EngineMissingError(
            f"the Pulumi engine {want} is not ready in {ENGINE_BIN} (found {got or 'no pulumi'}): run `make engine` "
            "(about 10 minutes cold; it needs Go and ../shared/goproxy)")
    return pulumi


# A remote Command's error quotes its whole script; our scripts' own messages start "ocplab <part>:".
_SCRIPT = re.compile(r'running "((?:[^"\\]|\\.)*)":')
_OUR_MESSAGE = re.compile(r"\bocplab [a-z-]+: ")


def failure_summary(output: str) -> str:
    """The lines that say what failed (wherever they are: an output diff can push them far up), then the tail."""
    lines = [_SCRIPT.sub(lambda m: f"running <{m.group(1).count(chr(92) + 'n')}-line script>:", line)
             for line in output.strip().splitlines()]
    errors = [line for line in lines if "error" in line.lower() or _OUR_MESSAGE.search(line)][:30]
    return "\n".join([*errors, "...", *lines[-15:]])


class PulumiError(RuntimeError):
    """A pulumi command failed; the message holds its command line and its output's last lines."""


@dataclass
class Workspace:
    """One Pulumi project directory and one backend (a file backend folder, or `backend_url` such as
    postgres://...), driven from the jumphost namespace. `home` is the PULUMI_HOME (plugins)."""

    project: Path = REPO
    backend: Path = field(default_factory=lambda: StatePaths().pulumi_state)
    backend_url: str | None = None
    home: Path = PULUMI_HOME
    extra_env: dict[str, str] = field(default_factory=dict)
    timings: list[tuple[str, float]] = field(default_factory=list)
    transcript: list[str] = field(default_factory=list)
    known_stacks: set[str] = field(default_factory=set)  # stacks seen in the backend: no `stack ls` per up

    def env(self) -> dict[str, str]:
        env = client_env()
        env["PULUMI_BACKEND_URL"] = self.backend_url or f"file://{self.backend}"
        env["PULUMI_HOME"] = str(self.home)
        # The programs' bytecode in .simlab/cache (kept across down/up), never beside the checkout's sources. The
        # prefix hides every other .pyc (the venv's, the stdlib's), so it must be written: with a caller's
        # PYTHONDONTWRITEBYTECODE each command compiled them all again, 1.3 s more per no-op (bench/RESULTS.md).
        env["PYTHONPYCACHEPREFIX"] = str(StatePaths().cache / "pycache")
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PULUMI_CONFIG_PASSPHRASE"] = ""  # the simulated lab's stack files carry the salt of ""
        env.update(self.extra_env)
        return env

    def run(self, *args: str, timeout: float = 900, check: bool = True,
            input: str | None = None) -> subprocess.CompletedProcess[str]:
        """`pulumi ARGS` in the project dir; raises PulumiError when `check` and it fails."""
        if self.backend_url is None:
            self.backend.mkdir(parents=True, exist_ok=True)  # the file backend does not make its folder
        argv = [str(require_engine()), *args, "--non-interactive"]
        started = time.monotonic()
        result = run_in_jumphost(argv, env=self.env(), timeout=timeout, cwd=str(self.project), input=input)
        self.timings.append((" ".join(args), time.monotonic() - started))
        self.transcript.append(f"$ pulumi {' '.join(args)}\n{result.stdout}{result.stderr}")
        if check and result.returncode != 0:
            raise PulumiError(f"pulumi {' '.join(args)} failed (exit {result.returncode}):\n"
                              f"{failure_summary(result.stdout + result.stderr)}")
        return result

    def has_stack(self, stack: str) -> bool:
        listed = self.run("stack", "ls", "--json", check=False)
        return listed.returncode == 0 and any(s.get("name") == stack for s in json.loads(listed.stdout or "[]"))

    def ensure_stack(self, stack: str) -> None:
        """Create the stack in the backend if needed. The example stack files are committed in the form
        Pulumi writes them (its quoting, and the `encryptionsalt` of the empty passphrase), so neither
        this nor any later command changes them."""
        if stack in self.known_stacks:
            return
        if not self.has_stack(stack):
            self.run("stack", "init", stack)
        self.known_stacks.add(stack)

    def up(self, stack: str, *extra: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
        self.ensure_stack(stack)
        return self.run("up", "--yes", "--skip-preview", "--suppress-progress", "-s", stack, *extra, timeout=timeout)

    def preview(self, stack: str, *extra: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        self.ensure_stack(stack)
        return self.run("preview", "--suppress-progress", "-s", stack, *extra, check=check)

    def refresh(self, stack: str, *extra: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.run("refresh", "--yes", "--skip-preview", "--suppress-progress", "-s", stack, *extra,
                        check=check)

    def destroy(self, stack: str, *extra: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.run("destroy", "--yes", "--skip-preview", "--suppress-progress", "-s", stack, *extra,
                        check=check)

    def outputs(self, stack: str, show_secrets: bool = False) -> dict[str, Any]:
        args = ["stack", "output", "--json", "-s", stack] + (["--show-secrets"] if show_secrets else [])
        return dict(json.loads(self.run(*args).stdout or "{}"))

    def export(self, stack: str) -> dict[str, Any]:
        """`pulumi stack export`: the stack's state as the backend keeps it."""
        return dict(json.loads(self.run("stack", "export", "-s", stack).stdout))


def copy_project(destination: Path, stacks: Sequence[str] | None = None) -> Path:
    """A copy of the project's program and stack files for a test: its stack files may change freely.

    The code (components/, core/, renderers/, tools/), the simlab state (.simlab: keys, known_hosts, the guest
    image) and the pins and builds of engine/ and .engine/ (the mirror's registry build) are symlinked, so the copy
    runs the checkout's code against the running simulated lab.
    """
    destination.mkdir(parents=True, exist_ok=True)
    project = yaml.safe_load((REPO / "Pulumi.yaml").read_text())
    project["runtime"]["options"]["virtualenv"] = str(REPO / ".venv")
    (destination / "Pulumi.yaml").write_text(yaml.safe_dump(project, sort_keys=False))
    shutil.copy2(REPO / "__main__.py", destination / "__main__.py")
    # uv.lock: the language host (toolchain uv) lists the program's packages from it.
    for linked in ("components", "core", "renderers", "tools", ".simlab", "uv.lock", "engine", ".engine"):
        link = destination / linked
        if not link.exists():
            link.symlink_to(REPO / linked)
    (destination / "stacks").mkdir(exist_ok=True)
    for path in (REPO / "stacks").glob("Pulumi.*.yaml"):
        if stacks is None or path.name[len("Pulumi."):-len(".yaml")] in stacks:
            shutil.copy2(path, destination / "stacks" / path.name)
    return destination


def set_stack_config(project: Path, stack: str, changes: Mapping[str, Any]) -> None:
    """Edit a stack file's ocplab config the way a user edits it (by hand, in YAML)."""
    path = project / "stacks" / f"Pulumi.{stack}.yaml"
    document = yaml.safe_load(path.read_text())
    document["config"].update(changes)
    path.write_text(yaml.safe_dump(document, sort_keys=False))
