"""The mirror registry and the image cache on an IPv6-only lab (issue 27, disconnected IPv6 labs): where they listen,
what the registry's certificate names, what the lab's outputs say; and an IPv4 or dual-stack lab's mirror and cache
files, scripts, certificate and outputs pinned by sha256 to what they were before IPv6-only labs had them."""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

import pytest

from core.lab_ca import ca_certificate, lab_ca_key, server_certificate
from core.lab_contract import lab_outputs, mirror_outputs
from core.labconfig import LabConfig, parse_lab_config
from core.registry_build import RegistryBuild
from core.stack_files import read_stack_values, stack_path
from renderers import cache_scripts, mirror_scripts
from tests.unit.test_ipv6_only_lab import dual_stack_values, ipv6_only_lab_values

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
