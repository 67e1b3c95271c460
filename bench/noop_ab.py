"""`python -m bench.noop_ab` (root): A/B of engine settings we choose, on the settled no-op of the seed's 7-VM cluster.

Issue 29: the settled no-op preview/up is mostly the engine's fixed cost (CLI, language host, providers), so a
setting that is ours (the engine's environment, Pulumi.yaml's runtime options) is judged by interleaved runs in one
lab session: wall time and CPU seconds of the whole `pulumi` process tree (the children's rusage), medians.
`--strace DIR` also keeps one `strace -f` of each variant's preview (which processes, when). `--fresh-up` times the
cluster's whole `up` instead (destroyed first, not timed), while its 7 guests boot on the same cores.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from bench.cpu import guests_settled
from bench.engine import EngineClient, EngineRun, change_summary, changes
from bench.scenarios.seed import SEED
from bench.stacks import simlab_salt, write_stacks
from simlab.clients import run_in_jumphost
from simlab.guest.build import build_image
from simlab.lab import Simlab
from simlab.pulumi_engine import require_engine
from simlab.session import exclusive_lab

LAB = "benchlab"
HYPERVISORS = 2


@dataclass(frozen=True)
class Variant:
    """What a variant changes: the engine's environment ("{workdir}" is the run's scratch directory), and whether
    the cluster stack shares the lab stack's salt (bench.stacks.simlab_salt, as `python -m bench` writes it) or has
    one of its own (a second PBKDF2 per command, for the lab's StackReference)."""

    env: dict[str, str]
    own_salt: bool = False


VARIANTS: dict[str, Variant] = {
    "as-is": Variant({}),
    # our modules compiled from source every run, the venv's and the stdlib's .pyc read (`python -m bench` before)
    "from-source": Variant({"PYTHONDONTWRITEBYTECODE": "1", "PYTHONPYCACHEPREFIX": ""}),
    # every .pyc hidden by an empty, unwritable cache prefix: the simulated lab's engine before 2026-12-06
    "hidden-pyc": Variant({"PYTHONDONTWRITEBYTECODE": "1", "PYTHONPYCACHEPREFIX": "{workdir}/empty-pycache"}),
    "parallel-diff": Variant({"PULUMI_PARALLEL_DIFF": "true"}),
    # the SDK's debug messages sent to the engine, as before components/sdk_debug_log.py
    "sdk-debug-log": Variant({"OCPLAB_SDK_DEBUG_LOG": "1"}),
    # the interpreter's teardown after a successful run, as before components/program_exit.py
    "teardown": Variant({"OCPLAB_PROGRAM_TEARDOWN": "1"}),
    # the cluster stack with a salt of its own, as `pulumi stack init` gives it
    "own-salt": Variant({}, own_salt=True),
}


def variant_env(variant: str, workdir: Path) -> dict[str, str]:
    return {key: value.replace("{workdir}", str(workdir)) for key, value in VARIANTS[variant].env.items()}


@dataclass(frozen=True)
class Sample:
    variant: str
    command: str
    wall: float
    cpu: float  # user + sys of the pulumi process tree
    changes: int | None


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def use_salt(engine: EngineClient, own: bool) -> bool:
    """The seed's stack file with the lab's salt, or with none (the next command gives it one of its own);
    True when the file changed. The checkpoint keeps the salt it was written with until the next up."""
    path = engine.stacks / f"Pulumi.{SEED.name}.yaml"
    document = yaml.safe_load(path.read_text())
    shared = document.get("encryptionsalt") == simlab_salt()
    if shared != own:
        return False
    if own:
        del document["encryptionsalt"]
    else:
        document["encryptionsalt"] = simlab_salt()
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return True


def with_variant(engine: EngineClient, workdir: Path, variant: str,
                 command: Callable[[], EngineRun]) -> tuple[EngineRun, float]:
    """`command` run with the variant's environment; its run and the CPU seconds of its process tree."""
    before = dict(engine.workspace.extra_env)
    engine.workspace.extra_env.update(variant_env(variant, workdir))
    try:
        cpu = children_cpu()
        run = command()
        return run, children_cpu() - cpu
    finally:
        engine.workspace.extra_env = before


def noop(engine: EngineClient, workdir: Path, variant: str, command: str) -> Sample:
    """One no-op preview or up with the variant's environment; its wall time, CPU and change count."""
    if use_salt(engine, VARIANTS[variant].own_salt):
        engine.up(SEED.name)  # not measured: the checkpoint then carries the stack file's salt
    run, used = with_variant(engine, workdir, variant, lambda: (
        engine.preview(SEED.name, "--expect-no-changes", "--json", check=False) if command == "preview"
        else engine.up(SEED.name, "--expect-no-changes", check=False)))
    summary = change_summary(run.stdout) if command == "preview" else engine.last_update_changes(SEED.name)
    count = changes(summary) if run.returncode == 0 and summary is not None else None
    return Sample(variant, command, run.wall, used, count)


def fresh_up(engine: EngineClient, workdir: Path, variant: str) -> Sample:
    """The cluster destroyed (not timed), then its whole `up` with the variant's environment."""
    engine.destroy(SEED.name)
    time.sleep(3)  # the destroyed guests' QEMU processes gone
    run, used = with_variant(engine, workdir, variant, lambda: engine.up(SEED.name))
    return Sample(variant, "fresh up", run.wall, used, None)


def traced_preview(engine: EngineClient, workdir: Path, variant: str, directory: Path) -> None:
    """`strace -f -tt` of one no-op preview: every process the engine starts, and when."""
    env = engine.workspace.env() | variant_env(variant, workdir)
    argv = ["strace", "-f", "-tt", "-e", "trace=execve,exit_group", "-o", str(directory / f"{variant}.strace"),
            str(require_engine()), "preview", "-s", SEED.name, "--suppress-progress", "--non-interactive"]
    run_in_jumphost(argv, env=env, cwd=str(engine.project), timeout=600)


def hold(engine: EngineClient, workdir: Path, seconds: float) -> None:
    """Keep the lab for manual runs until `seconds` pass or env.json is removed."""
    marker = workdir / "env.json"
    marker.write_text(json.dumps({"env": engine.workspace.env(), "cwd": str(engine.project),
                                  "pulumi": str(require_engine()), "stack": SEED.name}))
    print(f"noop_ab: holding the lab; see {marker}", flush=True)
    deadline = time.monotonic() + seconds
    while marker.exists() and time.monotonic() < deadline:
        time.sleep(1)


def summary(samples: Sequence[Sample]) -> str:
    lines = []
    for variant in dict.fromkeys(s.variant for s in samples):
        for command in ("preview", "up", "fresh up"):
            mine = [s for s in samples if s.variant == variant and s.command == command]
            if mine:
                walls, cpus = [s.wall for s in mine], [s.cpu for s in mine]
                lines.append(f"{variant:>14} {command:>7}: wall median {statistics.median(walls):.2f} s (min "
                             f"{min(walls):.2f}), CPU median {statistics.median(cpus):.2f} s (min {min(cpus):.2f}), "
                             f"{len(mine)} runs, changes {sorted({s.changes for s in mine}, key=str)}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.noop_ab", description=__doc__)
    parser.add_argument("--variants", default=",".join(VARIANTS), help=f"comma-separated, of {', '.join(VARIANTS)}")
    parser.add_argument("--runs", type=int, default=5, help="rounds; each round runs every variant, order rotated")
    parser.add_argument("--bytecode", choices=("none", "cached"), default="none", help="as `python -m bench`")
    parser.add_argument("--strace", type=Path, help="keep one `strace -f` of each variant's preview here")
    parser.add_argument("--fresh-up", action="store_true",
                        help="time the cluster's whole up (destroyed first, not timed) instead of the no-ops")
    parser.add_argument("--hold", type=float, default=0.0,
                        help="seconds to keep the settled lab before the runs (env.json in the work dir says how to "
                             "run pulumi by hand; removing the file ends the wait)")
    args = parser.parse_args(argv)
    variants = [name for name in args.variants.split(",") if name]
    if unknown := set(variants) - set(VARIANTS):
        parser.error(f"unknown variant(s): {', '.join(sorted(unknown))}")
    samples: list[Sample] = []
    with exclusive_lab(), tempfile.TemporaryDirectory(prefix="ocplab-noop-ab-") as workdir:
        build_image()
        try:
            Simlab(hypervisors=HYPERVISORS).up()
            engine = EngineClient(Path(workdir), args.bytecode)
            write_stacks(engine.stacks, LAB, HYPERVISORS, [SEED], simlab_salt())
            engine.up(LAB)
            engine.up(SEED.name)
            print(f"noop_ab: guests settled after {guests_settled():.0f} s", flush=True)
            if args.hold:
                hold(engine, Path(workdir), args.hold)
            if args.strace:
                args.strace.mkdir(parents=True, exist_ok=True)
                for variant in variants:
                    traced_preview(engine, Path(workdir), variant, args.strace)
            for round_ in range(args.runs):
                order = variants[round_ % len(variants):] + variants[:round_ % len(variants)]
                for variant in order:
                    if args.fresh_up:
                        samples.append(fresh_up(engine, Path(workdir), variant))
                        print(f"noop_ab: {samples[-1]}", flush=True)
                        continue
                    for command in ("preview", "up"):
                        samples.append(noop(engine, Path(workdir), variant, command))
                        print(f"noop_ab: {samples[-1]}", flush=True)
                        time.sleep(0.5)
        finally:
            Simlab().down()
    print(summary(samples))
    return 0


if __name__ == "__main__":
    sys.exit(main())
