"""Every libvirt object the lab and cluster programs declare is deleted before it is replaced (libvirt
refuses a second object of the same name) and is replaced when a cut-short create left it half made
(components/fixed_names.py; shown on the simulated lab by tests/e2e/test_faults.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import pytest

from core.stack_files import read_stack_values, stack_path
from tests.unit.test_cluster_stack_mocks import lab_outputs, run_cluster
from tests.unit.test_lab_stack_mocks import project, run_lab

__all__ = ["project"]  # the lab mocks' fixture, used below


@pytest.fixture
def declared(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, pulumi.ResourceOptions | None]]:
    """(type, name, options) of every custom resource declared while the test runs."""
    seen: list[tuple[str, str, pulumi.ResourceOptions | None]] = []
    original = pulumi.CustomResource.__init__

    def recording(self: pulumi.CustomResource, t: str, name: str, props: Any = None,
                  opts: pulumi.ResourceOptions | None = None, *args: Any, **kwargs: Any) -> None:
        seen.append((t, name, opts))
        original(self, t, name, props, opts, *args, **kwargs)

    monkeypatch.setattr(pulumi.CustomResource, "__init__", recording)
    return seen


def libvirt_objects(seen: list[tuple[str, str, pulumi.ResourceOptions | None]]) -> dict[str, Any]:
    return {f"{t.split(':')[-1]} {name}": opts for t, name, opts in seen if t.startswith("libvirt:index/")}


def test_the_lab_programs_libvirt_objects(declared: list[Any], project: Path) -> None:
    run_lab(read_stack_values(stack_path("simlab")), project)
    objects = libvirt_objects(declared)
    assert {kind.split()[0] for kind in objects} == {"Network", "Pool", "Volume"}
    for what, opts in objects.items():
        assert opts is not None and opts.delete_before_replace, what
        assert "#initerror" in (opts.replace_on_changes or []), what


def test_the_cluster_programs_libvirt_objects(declared: list[Any], tmp_path: Path) -> None:
    run_cluster("ipi1", lab_outputs(tmp_path))
    objects = libvirt_objects(declared)
    assert {kind.split()[0] for kind in objects} == {"Network", "Volume", "Domain"}
    for what, opts in objects.items():
        assert opts is not None and opts.delete_before_replace, what
        assert "#initerror" in (opts.replace_on_changes or []), what
