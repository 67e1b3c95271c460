"""What a cluster on a lab with a mirror gets in its install-config, parsed (never string-matched): the release
and its payload on the mirror (oc-mirror v2's layout), the lab CA trusted by every node, the mirror's login merged
into the user's pull secret; and the two files redhatci.ocp's installer role reads for an existing disconnected
registry, run through that role's own jq merge and appended to an install-config as its template does."""

from __future__ import annotations

import base64
import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner, Result

from core.lab_ca import ca_certificate, lab_ca_key, since_day
from core.lab_contract import lab_outputs, mirror_outputs, parse_lab_outputs, planned_lab_outputs
from core.labconfig import parse_lab_config
from core.stack_files import read_stack_values, stack_path
from renderers.install_config_mirror import (
    MirrorAccess,
    dci_auths_file,
    dci_mirrors_file,
    dci_pull_secret_file,
    merged_pull_secret,
    mirror_access,
    mirror_sections,
)
from tests.mirror_tools import private_file
from tests.tools import require_tool
from tests.unit import test_cluster_stack_mocks as cluster_mocks
from tests.unit.test_dci_handoff import BMC_PUBLIC, PASSWORD, fake_pulumi
from tests.unit.test_dci_inventory import outputs
from tests.unit.test_inventory_ansible import listed_vars, templated_vars, unwrapped
from tools.cli import app
from tools.dci_inventory import InventoryError, InventoryOptions, render_abi_yaml

PULL_SECRET = '{"auths": {"cloud.openshift.com": {"auth": "b2NwbGFiOnB1bGwtc2VjcmV0", "email": "lab@example.com"}}}'
CA = ca_certificate(lab_ca_key("a lab key", "simlab"), "simlab", since_day(datetime.now(UTC)))


def access(tmp_path: Path) -> MirrorAccess:
    """The mirror as a cluster reads it: the lab's outputs through the contract, then the password."""
    lab = parse_lab_config("simlab", {**read_stack_values(stack_path("simlab")), "mirror": {}})
    planned = planned_lab_outputs(lab, tmp_path)
    raw = lab_outputs(lab, planned.hypervisors, None, "/k", "x", mirror_outputs(lab, CA)).as_outputs()
    parsed = parse_lab_outputs("simlab", raw).mirror
    assert parsed is not None
    return mirror_access(parsed, "s3cret-pass")


def test_the_release_and_its_payload_come_from_the_mirror_and_every_node_trusts_the_lab_ca(tmp_path: Path) -> None:
    sections = yaml.safe_load(yaml.safe_dump(mirror_sections(access(tmp_path))))
    assert sections["imageDigestSources"] == [
        {"source": "quay.io/openshift-release-dev/ocp-release",
         "mirrors": ["mirror.simlab.test:8443/ocp/openshift/release-images"]},
        {"source": "quay.io/openshift-release-dev/ocp-v4.0-art-dev",
         "mirrors": ["mirror.simlab.test:8443/ocp/openshift/release"]}]
    assert sections["additionalTrustBundle"] == CA and sections["additionalTrustBundlePolicy"] == "Always"
    assert "s3cret" not in repr(access(tmp_path))


def test_the_pull_secret_keeps_the_users_entries_and_gains_the_mirrors_login(tmp_path: Path) -> None:
    merged = json.loads(merged_pull_secret(PULL_SECRET, access(tmp_path)))
    assert merged["auths"]["cloud.openshift.com"] == json.loads(PULL_SECRET)["auths"]["cloud.openshift.com"]
    token = merged["auths"]["mirror.simlab.test:8443"]["auth"]
    assert base64.b64decode(token).decode() == "ocplab:s3cret-pass"


def test_dcis_installer_role_merges_the_auths_file_and_appends_the_mirrors_file(tmp_path: Path) -> None:
    """roles/installer/tasks/15_disconnected_registry_existing.yml (redhatci.ocp 96f540f): `echo '<pullsecret>' |
    jq -c '.auths += <auths file>'`, and install-config.j2 ends with the mirrors file's text as it is."""
    mirror = access(tmp_path)
    jq = require_tool("jq", "the Debian package jq")
    done = subprocess.run([jq, "-c", f".auths += {dci_auths_file(mirror)}"], input=PULL_SECRET, capture_output=True,
                          text=True, check=True)
    assert json.loads(done.stdout) == json.loads(merged_pull_secret(PULL_SECRET, mirror))
    rendered = f"apiVersion: v1\npullSecret: '{done.stdout.strip()}'\nsshKey: |-\n  ssh-ed25519 AAAA k\n" + \
        dci_mirrors_file(mirror)
    document = yaml.safe_load(rendered)
    assert document["imageDigestSources"] == mirror_sections(mirror)["imageDigestSources"]
    assert document["additionalTrustBundle"] == CA
    assert json.loads(document["pullSecret"])["auths"]["mirror.simlab.test:8443"]


# --- ocplab install-config on a lab with a mirror ------------------------------------------------------------------

SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKu3m0dBkQ5gZ8yq5QhP2wq0Jv5m8Hn0rX4a1cU9l7Zt lab@example.com\n"


def lab_stack_outputs(tmp_path: Path, password: str) -> dict[str, Any]:
    lab = parse_lab_config("simlab", {**read_stack_values(stack_path("simlab")), "mirror": {}})
    planned = planned_lab_outputs(lab, tmp_path)
    raw = lab_outputs(lab, planned.hypervisors, None, "/k", "x", mirror_outputs(lab, CA)).as_outputs()
    return {**raw, "mirror_password": password}


def run_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, password: str, *extra: str) -> Result:
    fake_pulumi(tmp_path, {"ipi1": {**outputs("ipi"), "bmc": {**BMC_PUBLIC, "password": PASSWORD}},
                           "simlab": lab_stack_outputs(tmp_path, password)})
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    (tmp_path / "pull-secret.json").write_text(PULL_SECRET)
    (tmp_path / "id.pub").write_text(SSH_KEY)
    return CliRunner().invoke(app, ["install-config", "ipi1", "--pull-secret", str(tmp_path / "pull-secret.json"),
                                    "--ssh-key", str(tmp_path / "id.pub"), "--out", str(tmp_path / "ic.yaml"), *extra])


def test_install_config_on_a_lab_with_a_mirror_has_its_sections_parsed(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    done = run_cli(tmp_path, monkeypatch, "s3cret-pass", "--mirror-prefix", "mirror4")
    assert done.exit_code == 0, done.output
    document = yaml.safe_load((tmp_path / "ic.yaml").read_text())
    assert [s["mirrors"] for s in document["imageDigestSources"]] == [
        ["mirror.simlab.test:8443/mirror4/openshift/release-images"],
        ["mirror.simlab.test:8443/mirror4/openshift/release"]]
    assert document["additionalTrustBundle"] == CA and document["additionalTrustBundlePolicy"] == "Always"
    auths = json.loads(document["pullSecret"])["auths"]
    assert set(auths) == {"cloud.openshift.com", "mirror.simlab.test:8443"}
    assert base64.b64decode(auths["mirror.simlab.test:8443"]["auth"]).decode() == "ocplab:s3cret-pass"
    assert "s3cret" not in done.output


def test_a_mirror_whose_password_cannot_be_read_stops_install_config_in_one_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    done = run_cli(tmp_path, monkeypatch, "[secret]")
    assert done.exit_code == 2
    assert done.output.strip().startswith("ocplab: lab stack simlab has a mirror but no readable mirror_password")
    assert not (tmp_path / "ic.yaml").exists()


# --- ocplab handoff on a lab with a mirror ---------------------------------------------------------------------------

@pytest.mark.parametrize(("stack", "topology"), [("ipi1", "ipi"), ("sno1", "sno")])
def test_the_handoff_names_the_mirror_files_redhatcis_installers_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                      stack: str, topology: str) -> None:
    """Every host of the inventory has disconnected_registry: existing and the two files (as ansible-inventory lists
    it), which installer (IPI) and sno_installer (SNO) read alike; the roles' jq merge of the auths file and the
    mirrors file appended to an install-config give the mirror."""
    fake_pulumi(tmp_path, {stack: {**outputs(topology), "bmc": {**outputs(topology)["bmc"], "password": PASSWORD}},
                           "simlab": lab_stack_outputs(tmp_path, "s3cret-pass")})
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    root = tmp_path / "inventories"
    done = CliRunner().invoke(app, ["handoff", stack, "--pool", "simlab", "--root", str(root)])
    assert done.exit_code == 0, done.output
    hostvars = listed_vars(root / "simlab" / stack, tmp_path)
    assert {host["disconnected_registry"] for host in hostvars.values()} == {"existing"}
    first = next(iter(hostvars.values()))
    mirrors, auths = Path(first["disconnected_registry_mirrors_file"]), Path(first["disconnected_registry_auths_file"])
    assert (mirrors, auths) == (root / "simlab" / f"{stack}.disconnected" / "mirrors.yml",
                                root / "simlab" / f"{stack}.disconnected" / "auths.json")
    assert mirrors.stat().st_mode & 0o777 == 0o600 and auths.stat().st_mode & 0o777 == 0o600
    merged = subprocess.run([require_tool("jq", "the Debian package jq"), "-c", f".auths += {auths.read_text()}"],
                            input=PULL_SECRET, capture_output=True, text=True, check=True).stdout
    assert base64.b64decode(json.loads(merged)["auths"]["mirror.simlab.test:8443"]["auth"]) == b"ocplab:s3cret-pass"
    appended = yaml.safe_load("apiVersion: v1\n" + mirrors.read_text())
    assert appended["additionalTrustBundle"] == CA and len(appended["imageDigestSources"]) == 2
    assert "s3cret" not in done.output


# --- nodes seeded by cloud-init trust the lab CA ----------------------------------------------------------------

def test_a_node_seeded_by_cloud_init_trusts_the_lab_ca_where_the_lab_has_a_mirror(tmp_path: Path) -> None:
    lab = cluster_mocks.lab_outputs(tmp_path)
    seeded = seeds(cluster_mocks.run_cluster("ipi1", lab))
    assert list(seeded) == ["ipi1-provisionhost"] and "ca_certs" not in seeded["ipi1-provisionhost"]
    with_mirror = {**lab, "version": 2, "network": {**lab["network"], "routing": "none", "ntp": ["192.168.16.1"],
                                                    "ntp_upstream": []},
                   "mirror": {"host": "mirror.simlab.test", "address": "192.168.16.1", "port": 8443, "user": "ocplab",
                              "ca_certificate": CA}}
    seeded = seeds(cluster_mocks.run_cluster("ipi1", with_mirror))
    assert seeded["ipi1-provisionhost"]["ca_certs"] == {"trusted": [CA]}


def seeds(mocks: Any) -> dict[str, dict[str, Any]]:
    """Each node's cloud-init user-data (what its seed command takes on stdin), parsed."""
    found = {}
    for command in mocks.of_type("command:remote:Command"):
        stdin = command.inputs.get("stdin")
        if isinstance(stdin, str) and stdin.startswith("#cloud-config"):
            found[command.name.removesuffix("-seed")] = yaml.safe_load(stdin)
    return found


# --- the agent-based inventory on a lab with a mirror ----------------------------------------------------------------

def test_the_abi_inventory_gives_generate_manifests_the_mirror_and_the_agent_its_login(tmp_path: Path) -> None:
    """What redhatci.ocp generate_manifests' registry-config.j2 writes (96f540f), as ansible-inventory lists and
    Ansible templates the variables: `imageContentSources:` then the agent's `mirroring_image_sources` as it is, the
    CA as `additionalTrustBundle`, `pull_secret.auths[mirror_registry]` from the `pullsecret_file` the agent's
    plays/pullsecrets.yml merges into the job's pull secret."""
    mirror = access(tmp_path)
    pull_secret_file = private_file(tmp_path / "mirror-pull-secret.json", dci_pull_secret_file(mirror))
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(render_abi_yaml(outputs("ipi"), InventoryOptions(pull_secret_file=str(pull_secret_file)),
                                         mirror))
    for hostvars in (listed_vars(inventory, tmp_path)["bastion"], templated_vars(inventory, tmp_path)["bastion"]):
        read = {key: unwrapped(value) for key, value in hostvars.items()}
        assert read["use_local_mirror_registry"] is True and read["mirror_registry"] == "mirror.simlab.test:8443"
        assert read["mirror_certificate"] == CA
        appended = yaml.safe_load("imageContentSources:\n" + read["mirroring_image_sources"])
        assert appended["imageContentSources"] == mirror_sections(mirror)["imageDigestSources"]
        assert Path(read["pullsecret_file"]) == pull_secret_file
    auths = json.loads(pull_secret_file.read_text())["auths"]
    assert base64.b64decode(auths[read["mirror_registry"]]["auth"]) == b"ocplab:s3cret-pass"


def test_an_abi_inventory_on_a_lab_with_a_mirror_needs_the_pull_secret_file(tmp_path: Path) -> None:
    with pytest.raises(InventoryError, match=r"^stack ipi1: an ABI inventory on a lab with a mirror names the "
                                             r"mirror's login as the agent's pullsecret_file: give pull_secret_file$"):
        render_abi_yaml(outputs("ipi"), InventoryOptions(), access(tmp_path))
