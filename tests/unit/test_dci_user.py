"""An IPI provisionhost comes up as DCI needs it: its user with NOPASSWD sudo, the controller's key, a key pair."""

from __future__ import annotations

import copy
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from core.clusterconfig import parse_cluster_config
from core.dci_user import (
    NOPASSWD,
    ControllerKeyError,
    keeps_provisionhost_as_deployed,
    keypair_command,
    made_without_dci_user,
    public_key_of,
)
from core.errors import ConfigError
from core.stack_files import read_stack_values, stack_path
from renderers.cloud_init import user_data
from tests.tools import require_tool

IPI = read_stack_values(stack_path("ipi1"))
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDciControllerKeyForTheTestsOnly0000000000 dci@jumphost"


def config(**changes: Any) -> Any:
    values = copy.deepcopy(IPI)
    values.update(changes)
    return parse_cluster_config("ipi1", values)


def seed_of(node: Any) -> dict[str, Any]:
    return dict(yaml.safe_load(user_data(node, "ipi1.simlab.test", {"dci": [KEY]})))


def test_the_provisionhost_gets_dcis_user_the_controller_key_and_a_key_pair() -> None:
    cluster = config()
    seed = seed_of(cluster.by_role("provisionhost")[0])
    dci = next(u for u in seed["users"] if u["name"] == "dci")
    assert dci["sudo"] == NOPASSWD and dci["ssh_authorized_keys"] == [KEY]
    assert dci["gecos"] == "Admin User" and dci["groups"] == "wheel"  # the stack's own fields are kept
    assert seed["runcmd"][:2] == ["mkdir -p /home/dci/.ssh", "echo provisioned > /tmp/ocplab-provisioned"]
    assert seed["runcmd"][-1] == keypair_command("dci")
    words = shlex.split(seed["runcmd"][-1])
    assert words[words.index("-f") + 1] == "/home/dci/.ssh/id_rsa" and words[words.index("-t") + 1] == "rsa"
    assert all(not n.needs_cloud_init for n in cluster.nodes if n.role != "provisionhost")


def test_a_stack_without_users_gets_the_seeds_user() -> None:
    cluster = config(provisionhost={})
    seed = seed_of(cluster.by_role("provisionhost")[0])
    assert seed["users"] == [{"name": "dci", "gecos": "Admin User", "groups": "wheel", "sudo": NOPASSWD,
                              "lock_passwd": False, "ssh_authorized_keys": [KEY]}]
    assert seed["runcmd"] == [keypair_command("dci")]


def test_another_user_name_and_a_key_given_in_the_stack() -> None:
    cluster = config(dci={"user": "kni", "controller_key": KEY})
    dci = cluster.dci_user
    assert dci is not None and (dci.name, dci.controller_key) == ("kni", KEY)
    users = [u.name for u in cluster.by_role("provisionhost")[0].users]
    assert users == ["dci", "kni"]


def test_dci_user_null_leaves_the_provisionhost_to_the_stack() -> None:
    cluster = config(dci={"user": None})
    assert cluster.dci_user is None
    seed = yaml.safe_load(user_data(cluster.by_role("provisionhost")[0], "ipi1.simlab.test"))
    own = IPI["provisionhost"]["run_commands"]
    assert "ssh_authorized_keys" not in seed["users"][0] and seed["runcmd"] == own, "the stack's own, no key pair"


def test_a_sudo_rule_dci_cannot_use_is_refused_naming_the_field() -> None:
    values = copy.deepcopy(IPI)
    values["provisionhost"]["users"][0]["sudo"] = "ALL=(ALL) ALL"
    with pytest.raises(ConfigError) as raised:
        parse_cluster_config("ipi1", values)
    assert "ocplab:provisionhost.users[0].sudo: DCI's user dci needs 'ALL=(ALL) NOPASSWD:ALL'" in str(raised.value)
    assert "ocplab:dci.user" in str(raised.value)


def test_bad_dci_values_are_refused_before_anything_exists() -> None:
    for dci, field in (({"user": "Root Admin"}, "ocplab:dci.user"), ({"controller_key": "not a key"},
                                                                       "ocplab:dci.controller_key"),
                       ({"usr": "dci"}, "ocplab:dci.usr")):
        with pytest.raises(ConfigError) as raised:
            config(dci=dci)
        assert field in str(raised.value)
    sno = read_stack_values(stack_path("sno1"))
    with pytest.raises(ConfigError, match=r"ocplab:dci: is for IPI clusters"):
        parse_cluster_config("sno1", {**sno, "dci": {"user": "dci"}})
    assert parse_cluster_config("sno1", sno).dci_user is None


def ssh_keygen_public(private: bytes, tmp_path: Path) -> str:
    path = tmp_path / "key"
    path.write_bytes(private)
    path.chmod(0o600)
    keygen = require_tool("ssh-keygen", "openssh-client")
    fields = subprocess.run([keygen, "-y", "-f", str(path)], check=True, capture_output=True, text=True).stdout.split()
    return f"{fields[0]} {fields[1]}"


def test_the_default_controller_key_is_what_ssh_keygen_derives(tmp_path: Path) -> None:
    ed25519 = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption())
    pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption())
    for private in (ed25519, pem):
        assert public_key_of(private.decode()) == ssh_keygen_public(private, tmp_path)
    with pytest.raises(ControllerKeyError, match=r"set ocplab:dci\.controller_key"):
        public_key_of("-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-key\n")


def test_a_stack_deployed_before_the_default_keeps_its_provisionhost() -> None:
    default, explicit = config().dci_user, config(dci={"user": "dci"}).dci_user
    deployed_before = {"nodes": [{"name": "provisionhost"}]}
    assert keeps_provisionhost_as_deployed(deployed_before, default)
    assert not keeps_provisionhost_as_deployed(deployed_before, explicit)  # what the stack sets is applied
    assert not keeps_provisionhost_as_deployed({**deployed_before, "provisionhost_user": "dci"}, default)
    assert not keeps_provisionhost_as_deployed({}, default) and not keeps_provisionhost_as_deployed(None, default)
    assert made_without_dci_user(deployed_before) and not made_without_dci_user({})
    kept = parse_cluster_config("ipi1", IPI, dci_default=False)
    assert kept.dci_user is None and list(kept.by_role("provisionhost")[0].run_commands) == \
        IPI["provisionhost"]["run_commands"]
    assert parse_cluster_config("ipi1", {**IPI, "dci": {"user": "dci"}}, dci_default=False).dci_user is not None


NAMESPACED = r"""
set -eu
mount -t tmpfs tmpfs /home
cp /etc/passwd "$T/passwd"; echo "ocpdci:x:4242:4242::/home/ocpdci:/bin/sh" >>"$T/passwd"
cp /etc/group "$T/group"; echo "ocpdci:x:4242:" >>"$T/group"
mount --bind "$T/passwd" /etc/passwd; mount --bind "$T/group" /etc/group
mkdir -p /home/ocpdci/.ssh   # as the ipi1 example's own runcmd does, as root, before ours
sh -c "$CMD"
stat -c '%u:%g %a' /home/ocpdci/.ssh /home/ocpdci/.ssh/id_rsa /home/ocpdci/.ssh/id_rsa.pub
first=$(sha256sum /home/ocpdci/.ssh/id_rsa)
sh -c "$CMD"
[ "$(sha256sum /home/ocpdci/.ssh/id_rsa)" = "$first" ] && echo kept
ssh-keygen -l -f /home/ocpdci/.ssh/id_rsa.pub | cut -d' ' -f1,4
"""


def test_the_key_pair_command_runs_as_cloud_init_would_and_only_once(tmp_path: Path) -> None:
    """Run for real (root, runuser, ssh-keygen), in a mount namespace whose /home and passwd are the test's own."""
    unshare = require_tool("unshare", "util-linux")
    result = subprocess.run([unshare, "-m", "sh", "-c", NAMESPACED], capture_output=True, text=True,
                            env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "T": str(tmp_path),
                                 "CMD": keypair_command("ocpdci")}, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:5] == ["4242:4242 700", "4242:4242 600", "4242:4242 644", "kept", "4096 (RSA)"]
