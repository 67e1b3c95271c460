"""The environment for client tools (pulumi, virsh, ssh) run against the simlab.

Offline Pulumi with the simulated lab's file backend (.simlab/pulumi-state), the project's engine
binaries first on PATH, and the lab's SSH key and known_hosts for code that reads OCPLAB_SSH_KEY/OCPLAB_KNOWN_HOSTS.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from simlab.paths import StatePaths


def client_env(paths: StatePaths | None = None,
               base: Mapping[str, str] | None = None) -> dict[str, str]:
    """A copy of `base` (default os.environ) with the simlab client settings applied."""
    paths = paths or StatePaths()
    env = dict(os.environ if base is None else base)
    repo = paths.repo
    # .venv/bin holds uv, which the language host runs (Pulumi.yaml `toolchain: uv`).
    env["PATH"] = os.pathsep.join([str(repo / ".engine" / "bin"), str(repo / ".venv" / "bin"),
                                   env.get("PATH", os.defpath)])
    env["PULUMI_BACKEND_URL"] = f"file://{paths.pulumi_state}"
    env["PULUMI_HOME"] = str(repo / ".pulumi-home")
    env["PULUMI_CONFIG_PASSPHRASE"] = env.get("PULUMI_CONFIG_PASSPHRASE", "")
    env["PULUMI_SKIP_UPDATE_CHECK"] = "true"
    env["PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION"] = "true"
    # Before each python it runs, the language host runs `uv sync --inexact`: exactly uv.lock (`make venv`
    # installed it), never the network, never a downloaded Python.
    env["UV_FROZEN"] = "1"
    env["UV_OFFLINE"] = "1"
    env["UV_PYTHON_DOWNLOADS"] = "never"
    env["OCPLAB_SSH_KEY"] = str(paths.key)
    env["OCPLAB_KNOWN_HOSTS"] = str(paths.known_hosts)
    return env
