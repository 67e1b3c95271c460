"""Reading stacks through the `pulumi` CLI, with the caller's backend settings: what every tool shows
comes from the same state `pulumi up` wrote."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

from core.errors import OcplabError

PROJECT = Path(__file__).resolve().parent.parent


class StackError(OcplabError):
    """A stack can't be read; one line saying why and what to do."""


def project_name() -> str:
    """The project's name (Pulumi.yaml), the second part of every URN its stacks hold."""
    return str(yaml.safe_load((PROJECT / "Pulumi.yaml").read_text())["name"])


def pulumi_cli() -> str:
    found = shutil.which("pulumi") or (str(PROJECT / ".engine/bin/pulumi")
                                       if (PROJECT / ".engine/bin/pulumi").exists() else None)
    if not found:
        raise StackError("pulumi not found: put the Pulumi CLI on PATH (make engine)")
    return found


def _pulumi(*args: str) -> str:
    result = subprocess.run([pulumi_cli(), *args, "--non-interactive"], capture_output=True, text=True,
                            check=False, cwd=PROJECT, stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["pulumi failed"])[-1]
        raise StackError(f"pulumi {args[0]} {args[1]} failed: {last}")
    return result.stdout


def stack_outputs(stack: str, show_secrets: bool = False) -> dict[str, Any]:
    """`pulumi stack output --json -s STACK` (empty for a stack never brought up)."""
    args = ["stack", "output", "--json", "-s", stack] + (["--show-secrets"] if show_secrets else [])
    try:
        return dict(json.loads(_pulumi(*args) or "{}"))
    except StackError as exc:
        raise StackError(f"stack {stack}: {exc}") from None


def stack_resources(stack: str) -> list[dict[str, Any]]:
    """The resources `pulumi stack export -s STACK` holds (secrets stay encrypted: only names are read)."""
    try:
        state = json.loads(_pulumi("stack", "export", "-s", stack) or "{}")
    except StackError as exc:
        raise StackError(f"stack {stack}: {exc}") from None
    return [dict(r) for r in (state.get("deployment") or {}).get("resources") or []]


def stack_list() -> list[dict[str, Any]]:
    """`pulumi stack ls --json`: one entry per stack of the project in the backend (name, resourceCount,
    updateInProgress, ...)."""
    return [dict(entry) for entry in json.loads(_pulumi("stack", "ls", "--json") or "[]")]


def short_name(entry: dict[str, Any]) -> str:
    """A `stack ls` entry's stack name without its organization and project."""
    return str(entry["name"]).split("/")[-1]

