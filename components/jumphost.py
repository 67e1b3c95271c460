"""`Jumphost`: the lab's dnsmasq, NTP server and (with routing nat) its way out, owned by the lab stack."""

from __future__ import annotations

from typing import TypedDict

import pulumi
import pulumi_command as command

from core.labconfig import LabConfig
from renderers.dnsmasq_base import render_base_config
from renderers.jumphost_scripts import install_script, uninstall_script
from renderers.route_scripts import route_apply_script, route_remove_script
from renderers.time_scripts import time_apply_script, time_remove_script
from renderers.urns import JUMPHOST


class JumphostArgs(TypedDict):
    connection: command.remote.ConnectionArgs
    lab: LabConfig


class Jumphost(pulumi.ComponentResource):
    """dnsmasq (base config tested before it takes effect), chronyd for the lab, NAT out of the uplink;
    each removed on destroy. `first`: what the lab's other resources wait for, so a bad uplink stops the
    lab before anything else changes."""

    dnsmasq: command.remote.Command
    time: command.remote.Command
    route: command.remote.Command | None
    first: list[pulumi.Resource]

    def __init__(self, name: str, args: JumphostArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(JUMPHOST, name, {}, opts)
        lab, connection = args["lab"], args["connection"]
        self.route = None
        if lab.network.routing == "nat":
            self.route = command.remote.Command(
                f"{name}-route", connection=connection, create=route_apply_script(lab),
                update=route_apply_script(lab), delete=route_remove_script(), opts=pulumi.ResourceOptions(parent=self))
        self.first = [self.route] if self.route else []
        after = pulumi.ResourceOptions(parent=self, depends_on=self.first)
        script = install_script(render_base_config(lab))
        self.dnsmasq = command.remote.Command(
            f"{name}-dnsmasq", connection=connection, create=script, update=script, delete=uninstall_script(),
            opts=after)
        self.time = command.remote.Command(
            f"{name}-time", connection=connection, create=time_apply_script(lab), update=time_apply_script(lab),
            delete=time_remove_script(), opts=after)
        self.register_outputs({"dnsmasq": self.dnsmasq.stdout})
