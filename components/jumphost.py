"""`Jumphost`: the lab's dnsmasq, installed and owned by the lab stack."""

from __future__ import annotations

from typing import TypedDict

import pulumi
import pulumi_command as command

from renderers.jumphost_scripts import install_script, uninstall_script
from renderers.urns import JUMPHOST


class JumphostArgs(TypedDict):
    connection: command.remote.ConnectionArgs
    base_config: str


class Jumphost(pulumi.ComponentResource):
    """dnsmasq on the jumphost: base config tested before it takes effect, removed on destroy."""

    dnsmasq: command.remote.Command

    def __init__(self, name: str, args: JumphostArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(JUMPHOST, name, {}, opts)
        script = install_script(args["base_config"])
        self.dnsmasq = command.remote.Command(
            f"{name}-dnsmasq", connection=args["connection"], create=script, update=script,
            delete=uninstall_script(), opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"dnsmasq": self.dnsmasq.stdout})
