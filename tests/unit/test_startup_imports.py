"""Each stack's program loads what its kind needs, and builds no validator at import that a run may not use
(issue 29): checked in a fresh interpreter, by what it holds after the import, never by time."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]
LAB_MODULES = ["components.lab_stack", "components.hypervisor", "components.jumphost", "renderers.jumphost_scripts",
               "renderers.bridge_scripts", "renderers.dnsmasq_base"]
CLUSTER_MODULES = ["components.cluster_stack", "components.cluster", "components.node", "core.cluster_design",
                   "core.cluster_outputs"]
# Validators a cluster program never uses (the lab's config, the tools' reading of cluster outputs), or only once
# it reads something (its previous assignments, its lab's outputs): none is built by importing the program.
UNBUILT = {"core.config_schema": ["LabSchema", "NetworkSchema", "JumphostSchema", "HypervisorSchema", "SliceSchema",
                                  "ClusterSchema", "HostSchema", "UserSchema"],
           "core.cluster_outputs": ["_Outputs", "_Node", "_Bmc"],
           "core.address_plan": ["_PlanKept", "_NodeKept"]}


def loaded_after(module: str) -> tuple[list[str], dict[str, bool]]:
    """The modules a fresh interpreter holds after `import pulumi` and `module`, and which UNBUILT models it built."""
    code = f"""
import importlib, json, sys
import pulumi
importlib.import_module({module!r})
built = {{f"{{m}}.{{n}}": getattr(sys.modules[m], n).__pydantic_complete__
         for m, names in {UNBUILT!r}.items() if m in sys.modules for n in names}}
print(json.dumps({{"modules": sorted(sys.modules), "built": built}}))
"""
    done = subprocess.run([sys.executable, "-c", code], cwd=PROJECT, capture_output=True, text=True, check=True)
    found = json.loads(done.stdout)
    return list(found["modules"]), dict(found["built"])


def test_a_cluster_stack_loads_no_lab_stack_module_and_builds_no_validator_at_import() -> None:
    modules, built = loaded_after("components.cluster_stack")
    assert [m for m in LAB_MODULES if m in modules] == []
    assert len(built) == sum(map(len, UNBUILT.values()))
    assert [name for name, complete in built.items() if complete] == []


def test_a_lab_stack_loads_no_cluster_stack_module() -> None:
    modules, _built = loaded_after("components.lab_stack")
    assert [m for m in CLUSTER_MODULES if m in modules] == []


def test_no_locked_package_is_a_pydantic_plugin() -> None:
    """__main__.py turns pydantic's plugin search off: it would find nothing in this environment."""
    assert list(entry_points(group="pydantic")) == []
