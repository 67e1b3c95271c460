"""`Mirror`: the lab's mirror registry on the jumphost, its lab CA and login, owned by the lab stack."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pulumi
import pulumi_command as command

from core.lab_ca import ca_certificate, lab_ca_key, server_certificate, since_day
from core.labconfig import LabConfig
from core.mirror_access import htpasswd_line, mirror_password
from renderers.mirror_scripts import mirror_apply_script, mirror_remove_script, mirror_stdin
from renderers.urns import MIRROR


class Mirror(pulumi.ComponentResource):
    """The lab CA (its key derived from the lab's SSH key and kept in the state as a secret, from the first `up`:
    a Stash that ignores what each later run offers, so a lab made with a random key keeps it until a destroy),
    the registry's certificate signed by it for `mirror.<domain>` and the jumphost's address, and the registry
    itself (mirror-apply.sh), its key and htpasswd line on stdin. `password` is derived from the lab's SSH key,
    as the BMC passwords are, so cluster stacks can derive it."""

    ca_certificate: pulumi.Output[str]
    password: pulumi.Output[str]
    service: command.remote.Command

    def __init__(self, name: str, lab: LabConfig, connection: command.remote.ConnectionArgs,
                 ssh_key: pulumi.Output[str], opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(MIRROR, name, {}, opts)
        mirror = lab.mirror
        assert mirror is not None
        child = pulumi.ResourceOptions(parent=self)
        since = since_day(datetime.now(UTC))
        offered: pulumi.Output[dict[str, str]] = pulumi.Output.secret(
            ssh_key.apply(lambda key: {"key": lab_ca_key(key, lab.name), "since": since}))
        ca = pulumi.Stash(f"{name}-ca", input=offered, opts=child.merge(pulumi.ResourceOptions(
            ignore_changes=["input"], additional_secret_outputs=["input", "output"])))
        host = mirror.host(lab.domain)

        def made(values: list[Any]) -> dict[str, str]:
            kept, key = values
            ca_pem = ca_certificate(kept["key"], lab.name, kept["since"])
            server = server_certificate(kept["key"], ca_pem, [host], [lab.jumphost.ssh.address])
            password = mirror_password(key, lab.name)
            return {"ca": ca_pem, "certificate": server.certificate, "password": password,
                    "stdin": mirror_stdin(server.key, htpasswd_line(mirror.user, password, key, lab.name))}

        # Secret, as the kept CA key and the SSH key are: so is everything taken from it but what is unsecreted.
        material = pulumi.Output.all(ca.output, ssh_key).apply(made)
        # Certificates are public: unsecret, so the script and the outputs show them.
        self.ca_certificate = pulumi.Output.unsecret(material.apply(lambda m: m["ca"]))
        certificate = pulumi.Output.unsecret(material.apply(lambda m: m["certificate"]))
        self.password = material.apply(lambda m: m["password"])
        apply = pulumi.Output.all(certificate, self.ca_certificate).apply(
            lambda pems: mirror_apply_script(lab, pems[0], pems[1]))
        # The key and htpasswd line only travel on stdin; stdout is not logged.
        self.service = command.remote.Command(
            f"{name}-registry", connection=connection, create=apply, update=apply,
            delete=mirror_remove_script(lab), stdin=material.apply(lambda m: m["stdin"]),
            logging=command.remote.Logging.STDERR, opts=child)
        self.register_outputs({"ca_certificate": self.ca_certificate})
