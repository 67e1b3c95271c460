"""`Cache`: the lab's image cache on the jumphost (nginx serving images checked against their sha256), owned by
the lab stack."""

from __future__ import annotations

import pulumi
import pulumi_command as command

from core.labconfig import LabConfig
from renderers.cache_scripts import cache_apply_script, cache_remove_script
from renderers.urns import CACHE


class Cache(pulumi.ComponentResource):
    """One remote command: fetch or copy each image once (its sha256 checked before it replaces anything), then
    serve them read-only; destroy stops the server and keeps the files unless the config says otherwise."""

    service: command.remote.Command

    def __init__(self, name: str, lab: LabConfig, connection: command.remote.ConnectionArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(CACHE, name, {}, opts)
        apply = cache_apply_script(lab)
        self.service = command.remote.Command(
            f"{name}-server", connection=connection, create=apply, update=apply, delete=cache_remove_script(lab),
            opts=pulumi.ResourceOptions(parent=self))
        self.register_outputs({})
