"""Pulumi mocks that record what a program declares: fast unit checks only, never proof it works."""

from __future__ import annotations

import json
from typing import Any

import pulumi


class RecordingMocks(pulumi.runtime.Mocks):
    """Records every resource and answers libvirt's node-info invoke with a fixed host size."""

    active: RecordingMocks | None = None  # the mocks use_mocks installed last: what a test's program reads

    def __init__(self, vcpus: int = 8, memory_mib: int = 16384,
                 stack_outputs: dict[str, dict[str, Any]] | None = None) -> None:
        self.resources: list[pulumi.runtime.MockResourceArgs] = []
        self.vcpus, self.memory_mib = vcpus, memory_mib
        self.stack_outputs = stack_outputs or {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[Any, Any]]:
        self.resources.append(args)
        if args.typ == "pulumi:pulumi:StackReference":
            name = args.inputs["name"]
            return name, {"name": name, "outputs": self.stack_outputs.get(name.rsplit("/", 1)[-1], {})}
        if args.typ == "pulumi:index:Stash":  # the engine keeps the first input it was given as `output`
            return f"{args.name}-id", {**args.inputs, "output": args.inputs["input"]}
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[Any, Any], list[tuple[str, str]] | None]:
        if args.token == "libvirt:index/getNodeInfo:getNodeInfo":
            return {"cpuCoresTotal": self.vcpus, "memoryTotalKb": self.memory_mib * 1024, "id": "node"}, []
        return {}, []

    def read_outputs(self, qualified: str) -> dict[str, Any]:
        """What the cluster program reads of a stack (org/project/stack) before it declares anything."""
        return dict(self.stack_outputs.get(qualified.rsplit("/", 1)[-1], {}))

    def of_type(self, token: str) -> list[pulumi.runtime.MockResourceArgs]:
        return [r for r in self.resources if r.typ == token]


def use_mocks(stack: str, values: dict[str, Any],
              stack_outputs: dict[str, dict[str, Any]] | None = None) -> RecordingMocks:
    """Install mocks for `stack` with `ocplab:*` config values (objects passed as JSON) and the
    outputs other stacks show to StackReferences (by stack name)."""
    mocks = RecordingMocks(stack_outputs=stack_outputs)
    RecordingMocks.active = mocks
    pulumi.runtime.set_mocks(mocks, project="ocplab", stack=stack, preview=False)
    pulumi.runtime.set_all_config({f"ocplab:{k}": v if isinstance(v, str) else json.dumps(v)
                                   for k, v in values.items()})
    return mocks


def recorded_waits(monkeypatch: Any) -> dict[str, list[str]]:
    """From now on, each custom resource's name -> the names of the resources its depends_on names (the mocks
    do not see dependencies, so they are read where the program declares them)."""
    waits: dict[str, list[str]] = {}
    original = pulumi.CustomResource.__init__

    def recording(self: pulumi.CustomResource, t: str, name: str, props: Any = None,
                  opts: pulumi.ResourceOptions | None = None, *args: Any, **kwargs: Any) -> None:
        depends = opts.depends_on if opts is not None and isinstance(opts.depends_on, list) else []
        waits[name] = [str(getattr(d, "_name", "")) for d in depends]
        original(self, t, name, props, opts, *args, **kwargs)

    monkeypatch.setattr(pulumi.CustomResource, "__init__", recording)
    return waits
