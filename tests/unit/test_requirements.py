"""One set of Python pins: pyproject.toml declares them, uv.lock locks exactly those versions (what `make venv`
installs and what the language host lists, Pulumi.yaml `toolchain: uv`), and requirements.txt repeats the
runtime ones for a pip user."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

PROJECT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"([A-Za-z0-9_.-]+)==([A-Za-z0-9_.+-]+)\Z")


def _name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins(lines: list[str]) -> dict[str, str]:
    pins = {}
    for line in lines:
        match = PIN.match(line.strip())
        assert match, f"{line!r} is not an exact pin (name==version)"
        pins[_name(match[1])] = match[2]
    return pins


def _pyproject() -> dict[str, object]:
    return tomllib.loads((PROJECT / "pyproject.toml").read_text())


def _locked() -> dict[str, str]:
    lock = tomllib.loads((PROJECT / "uv.lock").read_text())
    return {_name(p["name"]): p["version"] for p in lock["package"] if "version" in p}


def test_requirements_txt_is_the_projects_runtime_pins() -> None:
    project = _pyproject()["project"]
    assert isinstance(project, dict)
    lines = [line for line in (PROJECT / "requirements.txt").read_text().splitlines() if line.strip()]
    assert _pins(lines) == _pins(project["dependencies"])


def test_uv_lock_holds_every_pin_at_its_version() -> None:
    pyproject = _pyproject()
    project, groups = pyproject["project"], pyproject["dependency-groups"]
    assert isinstance(project, dict) and isinstance(groups, dict)
    wanted = _pins([*project["dependencies"], *groups["dev"]])
    locked = _locked()
    assert {name: locked.get(name) for name in wanted} == wanted, "run `uv lock` after changing a pin"


def test_the_language_host_uses_uv_from_the_venv() -> None:
    runtime = yaml.safe_load((PROJECT / "Pulumi.yaml").read_text())["runtime"]
    assert runtime["options"] == {"toolchain": "uv", "virtualenv": ".venv"}
    assert "uv" in _pins(_pyproject()["dependency-groups"]["dev"]), "make venv installs uv from the dev group"  # type: ignore[index]
