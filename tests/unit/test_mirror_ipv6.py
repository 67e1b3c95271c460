"""The mirror registry and the image cache on an IPv6-only lab (issue 27, disconnected IPv6 labs): where they listen,
what the registry's certificate names, what the lab's outputs say; and an IPv4 or dual-stack lab's mirror and cache
files, scripts, certificate and outputs pinned by sha256 to what they were before IPv6-only labs had them."""

from __future__ import annotations

import copy
import hashlib
import json
from ipaddress import IPv6Address
from typing import Any

import pytest
from cryptography import x509

from core.errors import ConfigError
from core.lab_ca import ca_certificate, lab_ca_key, server_certificate
from core.lab_contract import lab_outputs, mirror_outputs, parse_lab_outputs, planned_lab_outputs
from core.labconfig import LabConfig, parse_lab_config
from core.os_images import os_image_urls
from core.registry_build import RegistryBuild
from core.stack_files import read_stack_values, stack_path
from renderers import cache_scripts, mirror_scripts
from renderers.dnsmasq_base import render_base_config
from renderers.install_config_mirror import image_digest_sources, merged_pull_secret, mirror_access
from tests.unit.test_dual_stack import dual_stack_values
from tests.unit.test_ipv6_only_lab import ROOT, ipv6_only_lab_values

KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-real-key\n"
SINCE = "2026-12-05T00:00:00Z"
BUILD = RegistryBuild(stack_path("simlab"), "v3.1.2", "ab" * 32)
SERVICES = {"mirror": {"storage": "/var/lib/ocplab-mirror"},
            "cache": {"images": {"rhcos.iso": {"source": "/srv/rhcos.iso", "sha256": "cd" * 32}}}}


PINNED = {  # main's renderings (c37882d), the same for an IPv4 and a dual-stack lab: its mirror and cache are IPv4's
    "registry config": "9c9fa15734812cc325be299a389fe459536b297314561611fadd4ef4d1aeb3dc",
    "mirror apply (bundled)": "3804a341ddb46a69e18fc52b04da455a5c288b7bb150bc5d3f171183275b3551",
    "mirror apply (system)": "5de1809ca421acf01f02951648a6d82de4430db4edad285464e919cd5b1100b5",
    "mirror remove": "0c4de37a6c8906f7e38eb68870708b98d897ae9dbbf5529e4b72518a1c07c1bd",
    "server certificate": "2ec879086571ec3439d406723cfb164119e9863422aa71bd67b73247674ee339",
    "nginx config": "f9aeebf788db72c870a857e641d4df40df6198d1261ddff8084775db3aab4f52",
    "cache apply": "73704414120e9b860cdda114ba56f356a5fb8ae5b865996128083fc345f5421c",
    "cache remove": "82dda9aacef6cfbefeab79db9a4dff7d20b788d789185c79ba8abd5d0d06a20c",
    "outputs": "233faf7b606725ac5cd3f87b6182f3a10e1cf85c998c211dbaad36b7d5d3fd33",
}


def with_services(values: dict[str, Any]) -> LabConfig:
    return parse_lab_config("simlab", {**copy.deepcopy(values), **SERVICES})


def rendered(lab: LabConfig) -> dict[str, str]:
    """Every file, script, certificate and output the mirror and the cache of `lab` make, by what it is."""
    ca_key = lab_ca_key(KEY, lab.name)
    ca = ca_certificate(ca_key, lab.name, SINCE)
    assert lab.mirror is not None
    server = server_certificate(ca_key, ca, [lab.mirror.host(lab.domain)], [lab.jumphost.ssh.address])
    outputs = lab_outputs(lab, {}, None, "/root/.ssh/known_hosts", "dnsmasq", mirror_outputs(lab, ca)).as_outputs()
    return {"registry config": mirror_scripts.registry_config(lab, BUILD),
            "mirror apply (bundled)": mirror_scripts.mirror_apply_script(lab, server.certificate, ca, BUILD, "R"),
            "mirror apply (system)": mirror_scripts.mirror_apply_script(lab, "CERT", "CA"),
            "mirror remove": mirror_scripts.mirror_remove_script(lab),
            "server certificate": server.certificate,
            "nginx config": cache_scripts.nginx_config(lab),
            "cache apply": cache_scripts.cache_apply_script(lab),
            "cache remove": cache_scripts.cache_remove_script(lab),
            "outputs": json.dumps({part: outputs[part] for part in ("mirror", "cache")}, sort_keys=True)}


def digests(lab: LabConfig) -> dict[str, str]:
    return {what: hashlib.sha256(text.encode()).hexdigest() for what, text in rendered(lab).items()}


@pytest.mark.parametrize("values", [read_stack_values(stack_path("simlab")), dual_stack_values()],
                         ids=["ipv4", "dual-stack"])
def test_an_ipv4_or_dual_stack_labs_mirror_and_cache_render_byte_for_byte_as_before(values: dict[str, Any]) -> None:
    """Hashes of main's renderings before IPv6-only labs had a mirror (c37882d): a change shows every deployed lab
    with a mirror or a cache an update in preview."""
    assert digests(with_services(values)) == PINNED


# --- an IPv6-only lab ------------------------------------------------------------------------------------------

def lab6() -> LabConfig:
    return with_services(ipv6_only_lab_values())


def test_an_ipv6_only_labs_registry_and_nginx_listen_on_the_jumphosts_bracketed_address6() -> None:
    lab = lab6()
    assert "  addr: '[fd00:16::1]:8443'\n" in mirror_scripts.registry_config(lab, BUILD)
    assert "        listen [fd00:16::1]:8080;\n" in cache_scripts.nginx_config(lab)
    assert "address='[fd00:16::1]'" in mirror_scripts.mirror_apply_script(lab, "CERT", "CA", BUILD)
    assert "address='[fd00:16::1]'" in cache_scripts.cache_apply_script(lab)


def test_the_registrys_certificate_names_the_mirror_and_the_jumphosts_ipv6_address() -> None:
    lab = lab6()
    ca_key = lab_ca_key(KEY, lab.name)
    ca = ca_certificate(ca_key, lab.name, SINCE)
    server = x509.load_pem_x509_certificate(
        server_certificate(ca_key, ca, ["mirror.simlab.test"], [lab.jumphost.ssh.address]).certificate.encode())
    san = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["mirror.simlab.test"]
    assert san.get_values_for_type(x509.IPAddress) == [IPv6Address("fd00:16::1")]


def test_the_dnsmasq_of_an_ipv6_only_lab_names_the_mirror_and_the_cache_in_aaaa() -> None:
    assert "host-record=jumphost.simlab.test,mirror.simlab.test,cache.simlab.test,fd00:16::1\n" in \
        render_base_config(lab6())


def test_an_ipv6_only_labs_outputs_give_the_mirror_and_the_cache_by_address6_in_version_3() -> None:
    lab = lab6()
    ca = ca_certificate(lab_ca_key(KEY, lab.name), lab.name, SINCE)
    out = lab_outputs(lab, {}, None, "/root/.ssh/known_hosts", "dnsmasq", mirror_outputs(lab, ca)).as_outputs()
    assert out["version"] == 3
    assert {k: v for k, v in out["mirror"].items() if k != "ca_certificate"} == {
        "host": "mirror.simlab.test", "address6": "fd00:16::1", "port": 8443, "user": "ocplab"}
    assert (out["cache"]["url"], out["cache"]["address6"], "address" in out["cache"]) == (
        "http://cache.simlab.test:8080", "fd00:16::1", False)
    assert out["cache"]["images"]["rhcos.iso"]["url"] == "http://cache.simlab.test:8080/rhcos.iso"
    read = parse_lab_outputs("simlab", planned_lab_outputs(lab, ROOT).as_outputs() | {
        "mirror": out["mirror"], "cache": out["cache"]})
    assert read.mirror is not None and read.mirror.address6 == "fd00:16::1" and read.mirror.address is None


@pytest.mark.parametrize("service", ["mirror", "cache"])
def test_a_version_3_output_naming_a_service_by_ipv4_or_without_address6_is_refused(service: str) -> None:
    lab = lab6()
    ca = ca_certificate(lab_ca_key(KEY, lab.name), lab.name, SINCE)
    out = lab_outputs(lab, {}, None, "/root/.ssh/known_hosts", "dnsmasq", mirror_outputs(lab, ca)).as_outputs()
    full = planned_lab_outputs(lab, ROOT).as_outputs() | {"mirror": out["mirror"], "cache": out["cache"]}
    with pytest.raises(ConfigError) as caught:
        parse_lab_outputs("simlab", {**full, service: {**full[service], "address": "192.168.16.1"}})
    assert any(f"{service}.address: version 3 (an IPv6-only lab) has no address" in p for p in caught.value.problems)
    without = {k: v for k, v in full[service].items() if k != "address6"}
    with pytest.raises(ConfigError) as caught:
        parse_lab_outputs("simlab", {**full, service: without})
    assert any(f"{service}.address6: missing" in p for p in caught.value.problems), caught.value.problems


@pytest.mark.parametrize(("services", "field", "words"), [
    ({"mirror": {"port": 53}}, "ocplab:mirror.port", "clashes with the jumphost's DNS"),
    ({"mirror": {"storage": "/etc/mirror"}}, "ocplab:mirror.storage", "not a directory of its own"),
    ({"cache": {"port": 8443}, "mirror": {}}, "ocplab:cache.port", "clashes with the mirror registry"),
    ({"cache": {"images": {"a": {"source": "/srv/../a", "sha256": "0" * 64}}}}, "ocplab:cache.images.a.source",
     "not a plain path"),
])
def test_bad_mirror_or_cache_input_on_an_ipv6_only_lab_is_refused_by_field(services: dict[str, Any], field: str,
                                                                         words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_lab_config("simlab", {**ipv6_only_lab_values(), **services})
    found = [p for p in caught.value.problems if p.startswith(field + ":")]
    assert found and words in found[0], caught.value.problems


def test_a_cluster_on_an_ipv6_only_lab_names_the_mirror_and_the_cached_images_by_name() -> None:
    """Install-config's imageDigestSources and pull secret and the RHCOS `?sha256=` URLs name mirror.<domain> and
    cache.<domain>, which resolve to the jumphost's AAAA record: no bare IPv6 address to bracket."""
    lab = lab6()
    ca = ca_certificate(lab_ca_key(KEY, lab.name), lab.name, SINCE)
    out = lab_outputs(lab, {}, None, "/root/.ssh/known_hosts", "dnsmasq", mirror_outputs(lab, ca)).as_outputs()
    read = parse_lab_outputs("simlab", planned_lab_outputs(lab, ROOT).as_outputs() | {
        "mirror": out["mirror"], "cache": out["cache"]})
    assert read.mirror is not None
    access = mirror_access(read.mirror, "a-password")
    assert [m["mirrors"] for m in image_digest_sources(access)] == [
        ["mirror.simlab.test:8443/ocp/openshift/release-images"], ["mirror.simlab.test:8443/ocp/openshift/release"]]
    assert list(json.loads(merged_pull_secret('{"auths": {}}', access))["auths"]) == ["mirror.simlab.test:8443"]
    assert os_image_urls({"bootstrap": "rhcos.iso"}, read.cache) == {
        "bootstrap": f"http://cache.simlab.test:8080/rhcos.iso?sha256={'cd' * 32}"}
