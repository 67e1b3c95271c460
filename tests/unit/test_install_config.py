"""install-config.yaml for IPI clusters: what a YAML parser reads out of it matches the cluster stack's outputs,
field by field, in the installer's field names; SNO and unusable outputs are refused; `ocplab install-config`
writes it private and keeps the pull secret and the BMC password off stderr."""

from __future__ import annotations

import copy
import json
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from typer.testing import CliRunner

from core.cluster_outputs import OutputsError
from renderers.install_config import (
    InstallConfigError,
    check_install_config,
    install_config,
    pull_secret_problem,
    render_install_config,
    ssh_key_problem,
)
from tests.unit.test_dci_handoff import BMC_PUBLIC, PASSWORD, fake_pulumi
from tests.unit.test_dci_inventory import outputs, put
from tools.cli import app

PULL_SECRET = '{"auths": {"cloud.openshift.com": {"auth": "b2NwbGFiOnB1bGwtc2VjcmV0", "email": "lab@example.com"}}}'
SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKu3m0dBkQ5gZ8yq5QhP2wq0Jv5m8Hn0rX4a1cU9l7Zt lab@example.com\n"
PRIVATE_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1wcml2YXRl\n-----END OPENSSH PRIVATE KEY-----\n"

# platform.baremetal fields of openshift/installer pkg/types/baremetal/platform.go (Platform, Host, BMC).
PLATFORM_FIELDS = {
    "libvirtURI", "clusterProvisioningIP", "bootstrapProvisioningIP", "externalBridge", "externalMACAddress",
    "provisioningNetwork", "provisioningBridge", "provisioningMACAddress", "provisioningNetworkInterface",
    "provisioningNetworkCIDR", "provisioningDHCPRange", "hosts", "defaultMachinePlatform", "apiVIPs",
    "ingressVIPs", "bootstrapOSImage", "clusterOSImage", "bootstrapExternalStaticIP",
    "bootstrapExternalStaticGateway", "loadBalancer", "bootstrapExternalStaticDNS"}
HOST_FIELDS = {"name", "bmc", "role", "bootMACAddress", "hardwareProfile", "rootDeviceHints", "bootMode",
               "networkConfig"}
BMC_FIELDS = {"username", "password", "address", "disableCertificateVerification"}


def parsed(data: dict[str, Any], pull_secret: str = PULL_SECRET, ssh_key: str = SSH_KEY) -> dict[str, Any]:
    """What the installer reads: the rendered text through a YAML parser."""
    document: dict[str, Any] = yaml.safe_load(render_install_config(data, pull_secret, ssh_key))
    return document


def hosts_by_name(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {h["name"]: h for h in document["platform"]["baremetal"]["hosts"]}


def with_ipmi(data: dict[str, Any]) -> dict[str, Any]:
    """The `bmc` the stacks export today: virtualbmc, a port per node and no common port."""
    data["bmc"] = {**copy.deepcopy(BMC_PUBLIC), "password": PASSWORD}
    return data


# --- the document -------------------------------------------------------------------------------------------------


def test_every_master_and_worker_is_a_host_that_boots_from_its_provisioning_nic() -> None:
    data = outputs("ipi")
    hosts = hosts_by_name(parsed(data))
    expected = {n["name"]: (n["role"], n["macs"]["provisioning"]) for n in data["nodes"]
                if n["role"] in ("master", "worker")}
    assert {name: (h["role"], h["bootMACAddress"]) for name, h in hosts.items()} == expected
    assert "provisionhost" not in hosts, "the provisionhost runs the installer; it is not a cluster host"


def test_redfish_hosts_use_virtual_media_on_sushy_tools_with_the_domain_uuid_as_system_id() -> None:
    data = outputs("ipi")
    bmc = data["bmc"]
    hosts = hosts_by_name(parsed(data))
    for node in (n for n in data["nodes"] if n["name"] in hosts):
        got = hosts[node["name"]]["bmc"]
        url = urlsplit(got["address"])
        assert (url.scheme, url.hostname, url.port, url.path) == (
            "redfish-virtualmedia", bmc["address"], bmc["port"], f"/redfish/v1/Systems/{node['uuid']}")
        assert (got["username"], got["password"], got["disableCertificateVerification"]) == (
            bmc["user"], bmc["password"], True)


def test_ipmi_hosts_use_their_own_virtualbmc_port() -> None:
    data = with_ipmi(outputs("ipi"))
    hosts = hosts_by_name(parsed(data))
    assert set(hosts) == set(BMC_PUBLIC["nodes"])
    for name, entry in BMC_PUBLIC["nodes"].items():
        url = urlsplit(hosts[name]["bmc"]["address"])
        assert (url.scheme, url.hostname, url.port, url.path) == ("ipmi", BMC_PUBLIC["address"], entry["port"], "")
        assert (hosts[name]["bmc"]["username"], hosts[name]["bmc"]["password"]) == ("admin", PASSWORD)
        assert "disableCertificateVerification" not in hosts[name]["bmc"], "IPMI has no TLS"


def test_cluster_names_vips_networks_and_replicas_come_from_the_outputs() -> None:
    data = outputs("ipi")
    document = parsed(data)
    platform = document["platform"]["baremetal"]
    assert document["apiVersion"] == "v1"
    assert (document["metadata"]["name"], document["baseDomain"]) == (data["cluster"], data["domain"])
    assert f"{document['metadata']['name']}.{document['baseDomain']}" == data["cluster_domain"]
    assert (platform["apiVIPs"], platform["ingressVIPs"]) == ([data["api_vip"]], [data["ingress_vip"]])
    assert not {"apiVIP", "ingressVIP"} & set(platform), "deprecated since 4.12"
    networking = document["networking"]
    assert networking["machineNetwork"] == [{"cidr": data["network"]["cidr"]}]
    assert networking["networkType"] == "OVNKubernetes"
    assert networking["clusterNetwork"] == [{"cidr": "10.128.0.0/14", "hostPrefix": 23}]
    assert networking["serviceNetwork"] == ["172.30.0.0/16"]
    roles = [n["role"] for n in data["nodes"]]
    assert (document["controlPlane"]["name"], document["controlPlane"]["replicas"]) == ("master", roles.count("master"))
    assert [(c["name"], c["replicas"]) for c in document["compute"]] == [("worker", roles.count("worker"))]


def test_the_provisioning_network_is_managed_on_the_provisionhost_bridges() -> None:
    """172.22.0.0/21: the bridge redhatci.ocp's node_prep builds without `prov_network` (issue 24 B), so
    ocplab's install-config and DCI's agree on the provisionhost's network."""
    platform = parsed(outputs("ipi"))["platform"]["baremetal"]
    assert (platform["provisioningNetwork"], platform["provisioningNetworkCIDR"]) == ("Managed", "172.22.0.0/21")
    assert (platform["externalBridge"], platform["provisioningBridge"]) == ("baremetal", "provisioning")


def test_the_bootstrap_vm_gets_the_mac_and_address_the_lab_dhcp_reserves() -> None:
    data = outputs("ipi")
    data["network"]["dns"] = "192.168.16.2"  # not the gateway, so the two can't be swapped unseen
    platform = parsed(data)["platform"]["baremetal"]
    assert platform["externalMACAddress"] == data["bootstrap"]["mac"]
    assert (platform["bootstrapExternalStaticIP"], platform["bootstrapExternalStaticGateway"],
            platform["bootstrapExternalStaticDNS"]) == (
        data["bootstrap"]["ip"], data["network"]["gateway"], data["network"]["dns"])


def test_outputs_without_a_bootstrap_plan_set_no_bootstrap_field() -> None:
    data = outputs("ipi")
    del data["bootstrap"]
    platform = parsed(data)["platform"]["baremetal"]
    assert not {k for k in platform if k.startswith("bootstrap") or k == "externalMACAddress"}


def test_only_the_installers_field_names_are_written() -> None:
    platform = parsed(outputs("ipi"))["platform"]["baremetal"]
    assert set(platform) <= PLATFORM_FIELDS, set(platform) - PLATFORM_FIELDS
    for host in platform["hosts"]:
        assert set(host) <= HOST_FIELDS and set(host["bmc"]) <= BMC_FIELDS


@pytest.mark.parametrize("password", ["None", "_", "a1234", "1j", "nope"])
def test_the_users_pull_secret_and_ssh_key_and_odd_passwords_survive_yaml(password: str) -> None:
    """Passwords YAML reads as text, some only just."""
    data = outputs("ipi")
    data["bmc"]["password"] = password
    two_keys = SSH_KEY + "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTY= other\n"
    document = parsed(data, ssh_key=two_keys)
    assert json.loads(document["pullSecret"]) == json.loads(PULL_SECRET)
    assert document["sshKey"].splitlines() == two_keys.splitlines()
    assert {h["bmc"]["password"] for h in document["platform"]["baremetal"]["hosts"]} == {password}


@pytest.mark.parametrize(("where", "value"), [
    ("bmc.password", "a: b #c '\"&x\n- y"), ("bmc.address", "192.168.16.11/x?no_verify=1#"),
    ("nodes[1].uuid", "../../x"), ("nodes[1].macs.provisioning", "52:54:01:a8:10:23\nx: y"),
    ("api_vip", "192.168.16.32\n  evil: true"), ("domain", "simlab.test\nsshKey: x"),
])
def test_outputs_that_would_change_the_document_are_refused_naming_the_field(where: str, value: str) -> None:
    data = put(outputs("ipi"), where, value)
    with pytest.raises(OutputsError, match=rf"^stack ipi1: output {re.escape(where)} "):
        install_config(data, PULL_SECRET, SSH_KEY)


@pytest.mark.parametrize(("field", "value"), [("password", "1234"), ("password", "true"), ("password", "null"),
                                            ("password", "2026-12-06"), ("password", "1e5"), ("user", "yes")])
def test_issue24_a_bmc_credential_yaml_would_not_read_as_text_is_refused(field: str, value: str) -> None:
    """redhatci.ocp's install-config.j2 writes the credentials unquoted; ocplab's own is refused alike, in one
    line naming the field, never the value."""
    data = outputs("ipi")
    data["bmc"][field] = value
    with pytest.raises(OutputsError) as raised:
        install_config(data, PULL_SECRET, SSH_KEY)
    assert str(raised.value).startswith(f"stack ipi1: output bmc.{field} does not read back as text in YAML (")
    assert str(raised.value).count("\n") == 0


# --- our own check of the document: what the installer lets through (issue 24) -------------------------------------


def document() -> dict[str, Any]:
    return copy.deepcopy(install_config(outputs("ipi"), PULL_SECRET, SSH_KEY))


def test_what_the_renderer_writes_passes_the_check() -> None:
    check_install_config(yaml.safe_load(render_install_config(outputs("ipi"), PULL_SECRET, SSH_KEY)))
    check_install_config(yaml.safe_load(render_install_config(with_ipmi(outputs("ipi")), PULL_SECRET, SSH_KEY)))


def drop(path: str) -> Any:
    def change(doc: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = doc
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        del target[last]
    return change


def rename(path: str, new: str) -> Any:
    def change(doc: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = doc
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        target[new] = target.pop(last)
    return change


def setting(path: str, value: Any) -> Any:
    def change(doc: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = doc
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        target[last] = value
    return change


HOST = "platform.baremetal.hosts.1"


@pytest.mark.parametrize(("change", "message"), [
    (drop(f"{HOST}.bmc.password"), "platform.baremetal.hosts[1].bmc.password is missing"),
    (setting(f"{HOST}.bmc.password", ""), "platform.baremetal.hosts[1].bmc.password is empty"),
    (setting(f"{HOST}.bmc.password", 1234), "platform.baremetal.hosts[1].bmc.password is not a string"),
    (drop(f"{HOST}.bmc.username"), "platform.baremetal.hosts[1].bmc.username is missing"),
    (setting(f"{HOST}.bmc.address", "192.168.16.11:6231"),
     "platform.baremetal.hosts[1].bmc.address is not a BMC address <scheme>://<host>[:port][/path]"),
    (setting(f"{HOST}.bmc.address", "ipmi:/192.168.16.11:6231"), "platform.baremetal.hosts[1].bmc.address is not a"),
    (setting(f"{HOST}.bmc.address", "ftp://192.168.16.11"), "platform.baremetal.hosts[1].bmc.address is not a"),
    (rename(f"{HOST}.bootMode", "bootmode"), "platform.baremetal.hosts[1].bootMode is missing"),
    (rename(f"{HOST}.bootMACAddress", "bootMacAddress"), "platform.baremetal.hosts[1].bootMACAddress is missing"),
    (rename(f"{HOST}.bmc.disableCertificateVerification", "disableCertificateverification"),
     "platform.baremetal.hosts[1].bmc.disableCertificateverification is not a key ocplab writes (keys are "
     "case-sensitive)"),
    (setting(f"{HOST}.bootMode", "Legacy"), "platform.baremetal.hosts[1].bootMode is not one of"),
    (setting(f"{HOST}.rootDeviceHints", {"deviceName": "/dev/vda"}),
     "platform.baremetal.hosts[1].rootDeviceHints is not a key ocplab writes"),
    (rename("platform.baremetal.provisioningNetworkCIDR", "provisioningNetworkCidr"),
     "platform.baremetal.provisioningNetworkCIDR is missing"),
    (rename("platform.baremetal.apiVIPs", "apiVips"), "platform.baremetal.apiVIPs is missing"),
    (rename("sshKey", "sshkey"), "sshKey is missing"),
    (setting("platform.baremetal.provisioningNetwork", "managed"), "platform.baremetal.provisioningNetwork is not one"),
    (drop("platform.baremetal.bootstrapExternalStaticDNS"),
     "platform.baremetal sets some of bootstrapExternalStaticIP, -Gateway and -DNS: set all three or none"),
    (setting("controlPlane.platform.baremetal", {"x": 1}), "controlPlane.platform.baremetal.x is not a key ocplab"),
    (setting("extra", True), "extra is not a key ocplab writes"),
])
def test_the_check_refuses_what_the_installer_lets_through(change: Any, message: str) -> None:
    """The installer's `create manifests` accepted a host with no BMC password, an address without `://` and a
    miscased key (issue 24); ocplab's check names where, in one line, never the value."""
    doc = document()
    password = doc["platform"]["baremetal"]["hosts"][1]["bmc"]["password"]
    change(doc)
    with pytest.raises(InstallConfigError) as raised:
        check_install_config(doc)
    text = str(raised.value)
    assert text.startswith(f"install-config: {message}"), text
    assert "\n" not in text and password not in text


def test_the_renderer_runs_the_check_on_what_it_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    """A key ocplab would write by mistake (here `bootmode` for `bootMode`) never leaves render_install_config."""
    import renderers.install_config as renderer

    original = renderer._host

    def miscased(*args: Any) -> dict[str, Any]:
        host = original(*args)
        host["bootmode"] = host.pop("bootMode")
        return host

    monkeypatch.setattr(renderer, "_host", miscased)
    where = re.escape("platform.baremetal.hosts[0].bootMode")
    with pytest.raises(InstallConfigError, match=rf"^install-config: {where} is missing"):
        render_install_config(outputs("ipi"), PULL_SECRET, SSH_KEY)


# --- refusals -----------------------------------------------------------------------------------------------------


def test_sno_is_refused_naming_the_stack() -> None:
    with pytest.raises(OutputsError, match="stack sno1 is an SNO cluster: SNO installs with the agent-based"):
        install_config(outputs("sno"), PULL_SECRET, SSH_KEY)


def broken(change: str) -> dict[str, Any]:
    data = outputs("ipi")
    if change == "no bmc":
        data["bmc"] = None
    elif change == "no provisioning nic":
        del data["nodes"][1]["macs"]["provisioning"]
    elif change == "overlapping network":
        data["network"]["cidr"] = "172.22.0.0/16"
    elif change == "inside the provisioning /21":
        data["network"]["cidr"] = "172.22.4.0/24"
    elif change == "cluster_domain":
        data["cluster_domain"] = "other.simlab.test"
    return data


@pytest.mark.parametrize(("change", "message"), [
    ("no bmc", "stack ipi1 has no BMCs, which the installer powers the hosts with: give slice ipi1 bmc_ports"),
    ("no provisioning nic", "stack ipi1: IPI node master-0 has no provisioning NIC (bootMACAddress)"),
    ("overlapping network", "the lab network 172.22.0.0/16 overlaps the installer's provisioning network"),
    ("inside the provisioning /21", "the lab network 172.22.4.0/24 overlaps the installer's provisioning network "
                                    "172.22.0.0/21"),
    ("cluster_domain", "output cluster_domain is not <cluster>.<domain> (ipi1.simlab.test)"),
])
def test_outputs_an_install_cannot_use_are_refused(change: str, message: str) -> None:
    with pytest.raises(OutputsError, match=re.escape(message)):
        install_config(broken(change), PULL_SECRET, SSH_KEY)


@pytest.mark.parametrize(("text", "problem"), [
    (PULL_SECRET, None),
    ("auths: {}", "is not JSON"),
    ('{"auth": {}}', 'is JSON but not a pull secret (an object with "auths")'),
])
def test_a_pull_secret_is_a_json_object_with_auths(text: str, problem: str | None) -> None:
    assert pull_secret_problem(text) == problem


@pytest.mark.parametrize(("text", "problem"), [
    (SSH_KEY, None),
    ("sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29t\n", None),
    (PRIVATE_KEY, "holds a private key; give the public one (the .pub file)"),
    ("", "is not an OpenSSH public key (one 'ssh-ed25519 AAAA...' line per key)"),
    ("AAAAC3NzaC1lZDI1NTE5 lab\n", "is not an OpenSSH public key (one 'ssh-ed25519 AAAA...' line per key)"),
])
def test_an_ssh_key_is_one_or_more_public_keys(text: str, problem: str | None) -> None:
    assert ssh_key_problem(text) == problem


def test_the_renderer_itself_refuses_bad_user_inputs() -> None:
    with pytest.raises(ValueError, match="the pull secret is not JSON"):
        install_config(outputs("ipi"), "not json", SSH_KEY)


# --- ocplab install-config ----------------------------------------------------------------------------------------

runner = CliRunner()


@pytest.fixture
def stacks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """ipi1 and sno1 deployed (secrets shown, as --show-secrets gives them), ipi2 never up, and the lab."""
    data = {"ipi1": outputs("ipi"), "sno1": outputs("sno"), "ipi2": {}, "simlab": {"kind": "lab"}}
    fake_pulumi(tmp_path, data)
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    return data


@pytest.fixture
def inputs(tmp_path: Path) -> tuple[Path, Path]:
    (tmp_path / "pull-secret.json").write_text(PULL_SECRET)
    (tmp_path / "id_ed25519.pub").write_text(SSH_KEY)
    return tmp_path / "pull-secret.json", tmp_path / "id_ed25519.pub"


@pytest.fixture
def open_umask() -> Iterator[None]:
    """A umask that would leave a plainly written file world-readable."""
    old = os.umask(0)
    yield
    os.umask(old)


def secrets(data: dict[str, Any]) -> list[str]:
    auth = json.loads(PULL_SECRET)["auths"]["cloud.openshift.com"]["auth"]
    return [PULL_SECRET, auth, data["ipi1"]["bmc"]["password"]]


def test_cli_writes_a_private_install_config(stacks: dict[str, Any], inputs: tuple[Path, Path], tmp_path: Path,
                                             open_umask: None) -> None:
    out = tmp_path / "clusterconfigs" / "install-config.yaml"
    result = runner.invoke(app, ["install-config", "ipi1", "--pull-secret", str(inputs[0]),
                                 "--ssh-key", str(inputs[1]), "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert yaml.safe_load(out.read_text()) == install_config(stacks["ipi1"], PULL_SECRET, SSH_KEY)
    assert f"{out} written" in result.stdout and result.stderr == ""
    assert not any(s in result.stdout for s in secrets(stacks))


def test_cli_into_a_directory_and_to_stdout(stacks: dict[str, Any], inputs: tuple[Path, Path], tmp_path: Path) -> None:
    args = ["install-config", "ipi1", "--pull-secret", str(inputs[0]), "--ssh-key", str(inputs[1])]
    assert runner.invoke(app, [*args, "--out", str(tmp_path)]).exit_code == 0
    assert stat.S_IMODE((tmp_path / "install-config.yaml").stat().st_mode) == 0o600
    result = runner.invoke(app, [*args, "--out", "-"])
    assert result.exit_code == 0 and result.stderr == ""
    assert yaml.safe_load(result.stdout) == yaml.safe_load((tmp_path / "install-config.yaml").read_text())


@pytest.mark.parametrize(("args", "message"), [
    (["ipi1", "--pull-secret", "missing.json"],
     "ocplab: --pull-secret missing.json: no such file; download it from https://console.redhat.com"),
    (["ipi1", "--pull-secret", "id_ed25519.pub"], "ocplab: --pull-secret id_ed25519.pub is not JSON; download it"),
    (["ipi1", "--ssh-key", "pull-secret.json"], "ocplab: --ssh-key pull-secret.json is not an OpenSSH public key"),
    (["ipi1", "--ssh-key", "id_ed25519"], "ocplab: --ssh-key id_ed25519 holds a private key; give the public one"),
    (["sno1"], "ocplab: stack sno1 is an SNO cluster: SNO installs with the agent-based or assisted installer"),
    (["nope"], "ocplab: stack nope: pulumi stack output failed: error: no stack named 'nope' found"),
    (["ipi2"], "ocplab: stack ipi2 has no deployed nodes: run pulumi up first"),
    (["simlab"], "ocplab: stack simlab is a lab stack; name a cluster stack"),
])
def test_cli_bad_input_is_one_line_exit_2_and_no_secret(stacks: dict[str, Any], inputs: tuple[Path, Path],
                                                         tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         args: list[str], message: str) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "id_ed25519").write_text(PRIVATE_KEY)
    defaults = {"--pull-secret": "pull-secret.json", "--ssh-key": "id_ed25519.pub"}
    given = dict(zip(args[1::2], args[2::2], strict=True))
    options = [part for option, value in {**defaults, **given}.items() for part in (option, value)]
    result = runner.invoke(app, ["install-config", args[0], *options, "--out", "written.yaml"])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1, result.stderr
    assert not any(s in result.stderr + result.stdout for s in [*secrets(stacks), PRIVATE_KEY.splitlines()[1]])
    assert not (tmp_path / "written.yaml").exists()
