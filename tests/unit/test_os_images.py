"""`ocplab:os_images` names which images of the lab's cache are RHCOS for the IPI installer; install-config then
carries `platform.baremetal.bootstrapOSImage`/`clusterOSImage` as the cache's URL with `?sha256=` (parsed, never
string-matched). A name the cache lacks, a lab without a cache, an SNO cluster or a compressed bootstrap image is
refused by field before anything is declared."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from core.bmc_plan import with_password
from core.cluster_design import design_cluster
from core.cluster_outputs import OutputsError, cluster_outputs, read_cluster
from core.clusterconfig import parse_cluster_config
from core.errors import ConfigError
from core.lab_contract import LabOutputs, planned_lab_outputs
from core.labconfig import parse_lab_config
from core.stack_files import read_stack_values, stack_path
from renderers.dnsmasq_cluster import render_cluster_dns
from renderers.install_config import render_install_config
from tests.unit.pulumi_mocks import use_mocks
from tests.unit.test_cluster_stack_mocks import declare, lab_outputs
from tests.unit.test_inventory_ansible import listed_vars
from tools.dci_inventory import render_ipi_hosts

QEMU, OPENSTACK = "a" * 64, "0123456789abcdef" * 4
CACHE = {"images": {"rhcos-qemu.x86_64.qcow2": {"source": "/srv/rhcos-qemu.x86_64.qcow2", "sha256": QEMU},
                    "rhcos-openstack.x86_64.qcow2.gz": {"source": "http://example.com/o.qcow2.gz",
                                                        "sha256": OPENSTACK.upper()}}}
BOTH = {"bootstrap": "rhcos-qemu.x86_64.qcow2", "cluster": "rhcos-openstack.x86_64.qcow2.gz"}
PULL_SECRET = '{"auths": {"example.com": {"auth": "eDp5"}}}'
SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKu3m0dBkQ5gZ8yq5QhP2wq0Jv5m8Hn0rX4a1cU9l7Zt lab@example.com"


def lab_with_cache(tmp_path: Path, cache: dict[str, Any] | None = CACHE) -> LabOutputs:
    values = {**read_stack_values(stack_path("simlab")), **({"cache": cache} if cache is not None else {})}
    return planned_lab_outputs(parse_lab_config("simlab", values), tmp_path)


def ipi1(**extra: Any) -> dict[str, Any]:
    return {**read_stack_values(stack_path("ipi1")), **extra}


def deployed_outputs(lab: LabOutputs, os_images: dict[str, str] | None) -> dict[str, Any]:
    """ipi1's outputs as `pulumi stack output --json --show-secrets` shows them."""
    config = parse_cluster_config("ipi1", ipi1(**({"os_images": os_images} if os_images is not None else {})))
    design = design_cluster(config, lab, None)
    uuids = {n.name: f"0f6c1d2e-0000-4000-8000-{i:012d}" for i, n in enumerate(design.cluster.nodes)}
    written = cluster_outputs(design, uuids, render_cluster_dns(design).as_dict())
    return dict(json.loads(json.dumps({"kind": "cluster", **written, "bmc": with_password(written["bmc"], "pw_1")})))


def baremetal(outputs: dict[str, Any]) -> dict[str, Any]:
    platform: dict[str, Any] = yaml.safe_load(render_install_config(outputs, PULL_SECRET, SSH_KEY))["platform"]
    return dict(platform["baremetal"])


def test_install_config_points_the_installer_at_the_caches_rhcos_with_its_sha256(tmp_path: Path) -> None:
    lab = lab_with_cache(tmp_path)
    document = baremetal(deployed_outputs(lab, BOTH))
    assert lab.cache is not None
    for key, name in (("bootstrapOSImage", "rhcos-qemu.x86_64.qcow2"),
                      ("clusterOSImage", "rhcos-openstack.x86_64.qcow2.gz")):
        url = urlsplit(document[key])
        assert (url.scheme, url.hostname, url.port, url.path) == ("http", "cache.simlab.test", 8080, f"/{name}")
        assert parse_qs(url.query, strict_parsing=True) == {"sha256": [lab.cache.images[name].sha256]}
    assert parse_qs(urlsplit(document["clusterOSImage"]).query)["sha256"] == [OPENSTACK], "lowercase, as the cache"


def test_one_image_may_be_named_and_a_cluster_naming_none_gets_the_installers_own(tmp_path: Path) -> None:
    lab = lab_with_cache(tmp_path)
    only = baremetal(deployed_outputs(lab, {"bootstrap": "rhcos-qemu.x86_64.qcow2"}))
    assert "bootstrapOSImage" in only and "clusterOSImage" not in only
    outputs = deployed_outputs(lab, None)
    assert outputs["os_images"] is None
    assert not {"bootstrapOSImage", "clusterOSImage"} & set(baremetal(outputs))


@pytest.mark.parametrize(("values", "field", "problem"), [
    ({"os_images": {"bootstrap": "rhcos-qemu.x86_64.qcow2.gz"}}, "ocplab:os_images.bootstrap",
     "is compressed, and the installer checks the bootstrap image's sha256 after decompressing it"),
    ({"os_images": {}}, "ocplab:os_images", "names no image: give bootstrap, cluster or both"),
    ({"os_images": {"cluster": "../etc/passwd"}}, "ocplab:os_images.cluster", "is not a file name"),
    ({"os_images": {"kernel": "x"}}, "ocplab:os_images.kernel", "known keys: bootstrap, cluster"),
])
def test_os_images_the_cluster_config_alone_refuses_are_named_by_field(values: dict[str, Any], field: str,
                                                                         problem: str) -> None:
    with pytest.raises(ConfigError) as refused:
        parse_cluster_config("ipi1", ipi1(**values))
    assert any(line.startswith(f"{field}: ") and problem in line for line in refused.value.problems), \
        refused.value.problems


def test_an_sno_cluster_has_no_install_config_to_carry_them() -> None:
    with pytest.raises(ConfigError) as refused:
        parse_cluster_config("sno1", {**read_stack_values(stack_path("sno1")), "os_images": BOTH})
    assert refused.value.problems == ["ocplab:os_images: an SNO cluster has no install-config (it installs from its "
                                      "inventory): remove it"]


def test_names_the_labs_cache_lacks_are_each_refused_naming_what_it_has(tmp_path: Path) -> None:
    config = parse_cluster_config("ipi1", ipi1(os_images={"bootstrap": "rhcos-qemu.x86_64.qcow2", "cluster": "rhcos"}))
    with pytest.raises(ConfigError) as refused:
        design_cluster(config, lab_with_cache(tmp_path), None)
    assert refused.value.problems == [
        "ocplab:os_images.cluster: 'rhcos' is not an image of lab simlab's cache; known: "
        "rhcos-openstack.x86_64.qcow2.gz, rhcos-qemu.x86_64.qcow2"]


def test_a_lab_without_a_cache_is_refused_before_the_cluster_program_declares_anything(tmp_path: Path) -> None:
    mocks = use_mocks("ipi1", ipi1(os_images=BOTH), {"simlab": lab_outputs(tmp_path), "ipi1": {}})
    with pytest.raises(ConfigError, match=r"ocplab:os_images: lab simlab has no image cache: give it ocplab:cache "
                                          r"with these images and pulumi up -s simlab, or remove ocplab:os_images"):
        declare()
    assert mocks.resources == [], "refused before anything is declared"


@pytest.mark.parametrize("url", ["http://cache.simlab.test:8080/x?sha256=" + "A" * 64,  # the cache writes lowercase
                                 "http://cache.simlab.test:8080/x",
                                 "http://cache.simlab.test:8080/x?sha256=" + "a" * 64 + "&{{ lookup('pipe','id') }}",
                                 "file:///x?sha256=" + "a" * 64])
def test_an_os_image_output_that_is_not_a_cache_url_with_its_sha256_is_refused_by_the_tools(tmp_path: Path,
                                                                                          url: str) -> None:
    outputs = deployed_outputs(lab_with_cache(tmp_path), BOTH)
    outputs["os_images"]["cluster"] = url
    with pytest.raises(OutputsError, match=r"^stack ipi1: output os_images\.cluster "):
        read_cluster(outputs, "ipi1")


def test_the_dci_ipi_inventory_hands_the_same_urls_to_redhatcis_install_config(tmp_path: Path) -> None:
    """roles/installer/templates/install-config.j2 (redhatci.ocp 96f540f) writes `bootstrapOSImage:
    {{ bootstraposimage }}` (before 4.22) and `clusterOSImage: {{ clusterosimage }}` (before 4.10)."""
    outputs = deployed_outputs(lab_with_cache(tmp_path), BOTH)
    inventory = tmp_path / "hosts"
    inventory.write_text(render_ipi_hosts(outputs))
    listed = next(iter(listed_vars(inventory, tmp_path).values()))
    document = baremetal(outputs)
    assert (listed["bootstraposimage"], listed["clusterosimage"]) == (document["bootstrapOSImage"],
                                                                      document["clusterOSImage"])
