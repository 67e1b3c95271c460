"""`python -m bench.startup`: a cluster stack program's start-up, in fresh interpreters, without the engine.

Each run is a new python that imports pulumi (what the language host does before our program), then runs
__main__.py under Pulumi's mocks against a file backend that holds the lab's and the stack's last outputs (as
the checkpoints `pulumi up` writes), and prints three figures: `import pulumi`; ours, from then to the program's
first resource declaration; and ours to the end of the program's synchronous body, which is what an engine trace
counts as program start-up (the SDK sends its first registration only once the body returns). Also: how many
modules the program loaded, and whether pydantic, pulumi_libvirt or the lab stack's modules were among them.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from core.cluster_design import design_cluster
from core.cluster_outputs import cluster_outputs
from core.clusterconfig import parse_cluster_config
from core.stack_files import read_stack_values, stack_path
from renderers.dnsmasq_cluster import render_cluster_dns

PROJECT = Path(__file__).resolve().parent.parent
LAB_OUTPUTS = PROJECT / "tests" / "data" / "lab-outputs-simlab.json"
CHILD = r"""
import time
def now():
    return time.perf_counter(), time.process_time()
started = now()
import json, runpy, sys
import pulumi
imported = now()
setup = json.loads(sys.argv[1])
# Mocks answer every declaration with its inputs; the program's own timing is all that is read here.
class Echo(pulumi.runtime.Mocks):
    def new_resource(self, args):
        return f"{args.name}-id", dict(args.inputs)
    def call(self, args):
        return {}, []
pulumi.runtime.set_mocks(Echo(), project="ocplab", stack=setup["stack"], preview=False)
pulumi.runtime.set_all_config(setup["config"])
marks = {}
original = pulumi.Resource.__init__
def first(self, *args, **kwargs):
    marks.setdefault("declared", now())
    original(self, *args, **kwargs)
pulumi.Resource.__init__ = first
before = set(sys.modules)
@pulumi.runtime.test
def program():
    marks["start"] = now()
    runpy.run_path(setup["main"], run_name="__main__")
    marks["body"] = now()
    return pulumi.Output.from_input(None)
program()
loaded = sorted(set(sys.modules) - before)
def spent(since, until):
    return [b - a for a, b in zip(since, until)]  # wall, CPU
print(json.dumps({"pulumi": spent(started, imported), "declared": spent(marks["start"], marks["declared"]),
                  "body": spent(marks["start"], marks["body"]), "modules": len(loaded),
                  "pydantic": any(m == "pydantic" for m in loaded),
                  "pulumi_libvirt": sorted(m for m in loaded if m.startswith("pulumi_libvirt.")),
                  "lab_modules": sorted(m for m in loaded if m in setup["lab_modules"]), "loaded": loaded}))
"""

LAB_MODULES = ["components.lab_stack", "components.hypervisor", "components.jumphost", "core.labconfig",
               "renderers.jumphost_scripts", "renderers.bridge_scripts", "renderers.dnsmasq_base"]


def checkpoint(outputs: dict[str, Any]) -> dict[str, Any]:
    """A file backend checkpoint whose root stack resource carries `outputs` (components.checkpoint_reader)."""
    return {"version": 3, "checkpoint": {"latest": {"resources": [
        {"urn": "urn:pulumi:x::ocplab::pulumi:pulumi:Stack::ocplab-x", "type": "pulumi:pulumi:Stack",
         "outputs": outputs}]}}}


def write_backend(root: Path, stack: str) -> dict[str, Any]:
    """The lab's outputs (tests/data, its key and known_hosts written beside) and the stack's own last outputs,
    as a first `pulumi up` would have left them; returns the child's setup."""
    key = Ed25519PrivateKey.generate()  # the program derives the BMC password and DCI's key from it
    (root / "key").write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.OpenSSH, NoEncryption()))
    public = key.public_key().public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH).decode()
    (root / "known_hosts").write_text("".join(f"192.168.16.{h} {public}\n" for h in (1, 11, 12)))
    lab = json.loads(LAB_OUTPUTS.read_text().replace('"/lab/key"', json.dumps(str(root / "key")))
                     .replace('"/lab/known_hosts"', json.dumps(str(root / "known_hosts"))))
    values = read_stack_values(stack_path(stack))
    cluster = parse_cluster_config(stack, values)
    design = design_cluster(cluster, lab, None)
    previous = {"kind": "cluster", **cluster_outputs(design, {n.name: f"uuid-{n.name}" for n in cluster.nodes},
                                                     render_cluster_dns(design).as_dict()),
                "bmc": "[secret]", "seed_media": "file"}
    stacks = root / ".pulumi" / "stacks" / "ocplab"
    stacks.mkdir(parents=True)
    (stacks / f"{cluster.lab}.json").write_text(json.dumps(checkpoint(lab)))
    (stacks / f"{stack}.json").write_text(json.dumps(checkpoint(previous)))
    config = {f"ocplab:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in values.items()}
    return {"stack": stack, "config": config, "main": str(PROJECT / "__main__.py"), "lab_modules": LAB_MODULES}


def run_once(python: str, setup: dict[str, Any], backend: Path, pycache: Path | None) -> dict[str, Any]:
    """One fresh interpreter. `pycache`: bytecode read from and written to there; None: every module compiled
    from source, as the simulated lab's engine runs the program (PYTHONDONTWRITEBYTECODE=1, no .pyc in .venv)."""
    env = {**os.environ, "PULUMI_BACKEND_URL": f"file://{backend}", "PYTHONPATH": str(PROJECT)}
    env.pop("OCPLAB_STACK_OUTPUTS", None)
    if pycache is None:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    else:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(pycache)
    done = subprocess.run([python, "-c", CHILD, json.dumps(setup)], capture_output=True, text=True, env=env,
                          cwd=PROJECT, check=False)
    if done.returncode != 0:
        raise SystemExit(f"bench.startup: the program failed:\n{done.stderr}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.startup", description=__doc__)
    parser.add_argument("--stack", default="ipi1", help="a cluster stack of stacks/ on the simlab lab (ipi1, sno1)")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--bytecode", choices=("none", "cached"), default="none",
                        help="none: every module compiled from source on every run, as the simulated lab runs "
                             "the engine; cached: bytecode kept (in a scratch PYTHONPYCACHEPREFIX, written by one "
                             "run not counted), as a program run again where .pyc files can be written")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as directory:
        setup = write_backend(Path(directory), args.stack)
        pycache = Path(directory) / "pycache" if args.bytecode == "cached" else None
        if pycache is not None:
            run_once(args.python, setup, Path(directory), pycache)
        runs = [run_once(args.python, setup, Path(directory), pycache) for _ in range(args.runs)]
    print(f"{args.stack}, bytecode {args.bytecode}: {args.runs} runs in fresh interpreters; seconds of wall time, "
          "then of the process's CPU time (median, min-max)")
    for key, what in (("pulumi", "import pulumi (the language host's, before our program)"),
                      ("declared", "ours: to the first resource declared"),
                      ("body", "ours: the program's synchronous body (a trace's start-up after import pulumi)")):
        shown = []
        for index in (0, 1):
            figures = [r[key][index] for r in runs]
            shown.append(f"{statistics.median(figures):.3f} ({min(figures):.3f}-{max(figures):.3f})")
        print(f"  {what}: wall {shown[0]}, CPU {shown[1]}")
    last = runs[-1]
    print(f"  modules the program loaded: {last['modules']}; pydantic: {'yes' if last['pydantic'] else 'no'}; "
          f"pulumi_libvirt modules: {', '.join(m.split('.', 1)[1] for m in last['pulumi_libvirt']) or 'none'}; "
          f"lab stack modules: {', '.join(last['lab_modules']) or 'none'}")


if __name__ == "__main__":
    main()
