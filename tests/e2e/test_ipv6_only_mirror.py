"""On a simulated lab in IPv6 alone (`simlab up --ipv6-only`): the lab's mirror registry and image cache through
`pulumi up` of the IPv6-only lab stack (issue 27: a disconnected IPv6 lab's mirror is its only source of images).

The lab stack as tests/e2e/test_ipv6_only_lab.py makes it, with ocplab:mirror (ocplab's registry build, the default)
and ocplab:cache (one image copied from a path on the jumphost: an IPv6-only lab has no way out). The outputs
(version 3) give both by the jumphost's address6; a preview after `up` wants no change. From the jumphost's
namespace, names resolved by the lab's dnsmasq only: mirror.<domain> has an AAAA record and no A; the registry
listens on [address6]:8443 alone and answers /v2/ with 401 over TLS verified with the outputs' CA, by name and by
bracketed address (the certificate's IPv6 SAN); an OCI image of the test's own goes in with skopeo over IPv6 with the
outputs' login and comes back by digest; the cache serves its image by name and by bracketed address, hashing to its
sha256. The lab's destroy stops both and removes the registry's build. Steps build on each other in file order.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from simlab.clients import jumphost_argv
from tests.e2e.lab_helpers import LabSession, dig, lab_session
from tests.e2e.test_ipv6_only_lab import JUMPHOST6, make_ipv6_only
from tests.mirror_tools import auth_file, cert_dir, curl_config, manifest_digest, oci_image, skopeo
from tests.tools import require_tool

pytestmark = pytest.mark.simlab

MIRROR_HOST, CACHE_HOST = "mirror.simlab.test", "cache.simlab.test"
IMAGE = "/var/tmp/ocplab-e2e6-rhcos.img"  # on the jumphost: the cache's source (no way out to fetch from)
REPO = "ocplab/e2e6"
REGISTRY_BINARY = "/usr/local/libexec/ocplab/registry"  # core.registry_build.REMOTE_BINARY
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabSession]:
    yield from lab_session(tmp_path_factory, ipv6_only=True)


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mirror6")


@pytest.fixture(scope="module", autouse=True)
def cache_source() -> Iterator[None]:
    """The cache's source goes when the module ends, whatever happened."""
    yield
    Path(IMAGE).unlink(missing_ok=True)


def in_jumphost(work: Path) -> list[str]:
    """argv prefix: the jumphost's namespace with a private /etc/resolv.conf naming its dnsmasq over IPv6 alone, as
    DHCPv6 gives a node (this machine's /etc is left alone)."""
    resolv = work / "resolv.conf"
    resolv.write_text(f"nameserver {JUMPHOST6}\n")
    return jumphost_argv([require_tool("unshare", "util-linux"), "-m", "sh", "-c",
                          'mount --bind "$0" /etc/resolv.conf && exec "$@"', str(resolv)])


def run(argv: list[str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)


def curl(work: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run([*in_jumphost(work), require_tool("curl", "the Debian package curl"), "-sS", *args])


def secrets(lab: LabSession) -> dict[str, Any]:
    return lab.outputs("simlab", show_secrets=True)


def test_an_ipv6_only_lab_stack_with_the_mirror_and_the_cache_comes_up_and_names_them_by_address6(
        lab: LabSession) -> None:
    make_ipv6_only(lab)
    data = os.urandom(2 * 1024 * 1024)
    Path(IMAGE).write_bytes(data)  # the jumphost sees this machine's /var/tmp
    lab.edit_stack("simlab", {"ocplab:mirror": {}, "ocplab:cache": {"images": {
        "rhcos.img": {"source": IMAGE, "sha256": hashlib.sha256(data).hexdigest()}}}})
    started = time.monotonic()
    lab.up("simlab")
    lab.note("IPv6-only lab with mirror and cache: pulumi up -s simlab (s)", time.monotonic() - started)
    out = lab.outputs("simlab")
    assert out["version"] == 3
    assert {k: v for k, v in out["mirror"].items() if k != "ca_certificate"} == {
        "host": MIRROR_HOST, "address6": JUMPHOST6, "port": 8443, "user": "ocplab"}
    assert (out["cache"]["address6"], "address" in out["cache"]) == (JUMPHOST6, False)
    assert out["cache"]["images"]["rhcos.img"] == {"url": f"http://{CACHE_HOST}:8080/rhcos.img",
                                                   "sha256": hashlib.sha256(data).hexdigest()}
    started = time.monotonic()
    lab.pulumi.preview("simlab", "--expect-no-changes")
    lab.note("IPv6-only lab with mirror and cache: pulumi preview --expect-no-changes (s)", time.monotonic() - started)


def test_the_mirror_and_the_cache_have_aaaa_records_and_listen_on_the_jumphosts_ipv6_address_alone(
        lab: LabSession) -> None:
    for name in (MIRROR_HOST, CACHE_HOST):
        assert dig(lab, name, rtype="AAAA", server=JUMPHOST6) == [JUMPHOST6], name
        assert dig(lab, name, server=JUMPHOST6) == [], f"{name}: no A record on an IPv6-only lab"
    listening = lab.jumphost(["ss", "-H", "-t", "-l", "-n"], timeout=30).stdout
    for port in (8443, 8080):
        local = re.findall(rf"(\S+):{port}\s", listening)
        assert local == [f"[{JUMPHOST6}]"], f"port {port}: {local}\n{listening}"


def test_the_registry_answers_v2_over_ipv6_with_tls_verified_by_name_and_by_bracketed_address(
        lab: LabSession, work: Path) -> None:
    ca = cert_dir(work / "certs", lab.outputs("simlab")["mirror"]["ca_certificate"]) / "ca.crt"
    for url in (f"https://{MIRROR_HOST}:8443/v2/", f"https://[{JUMPHOST6}]:8443/v2/"):
        answer = curl(work, "-o", "/dev/null", "-w", "%{http_code} %{remote_ip}", "--cacert", str(ca), url)
        assert answer.returncode == 0 and answer.stdout == f"401 {JUMPHOST6}", (url, answer.stdout, answer.stderr)
    untrusted = curl(work, "-o", "/dev/null", f"https://[{JUMPHOST6}]:8443/v2/")
    assert untrusted.returncode == 60, "without the lab CA the certificate is not trusted"


def test_an_image_goes_in_with_skopeo_over_ipv6_and_comes_back_by_digest(lab: LabSession, work: Path) -> None:
    out, password = lab.outputs("simlab"), str(secrets(lab)["mirror_password"])
    registry = f"{MIRROR_HOST}:8443"
    certs = cert_dir(work / "certs", out["mirror"]["ca_certificate"])
    auth = auth_file(work / "auth.json", registry, out["mirror"]["user"], password)
    image = oci_image(work / "image", os.urandom(8 * 1024 * 1024))
    started = time.monotonic()
    pushed = skopeo("copy", "--dest-cert-dir", str(certs), "--authfile", str(auth), f"oci:{image}:test",
                    f"docker://{registry}/{REPO}:1", prefix=in_jumphost(work))
    lab.note("IPv6-only lab: skopeo push of an 8 MiB image over IPv6 (s)", time.monotonic() - started)
    assert pushed.returncode == 0, pushed.stderr
    read = skopeo("inspect", "--cert-dir", str(certs), "--authfile", str(auth), "--format", "{{.Digest}}",
                  f"docker://{registry}/{REPO}:1", prefix=in_jumphost(work))
    assert (read.returncode, read.stdout.strip()) == (0, manifest_digest(image)), read.stderr
    pulled = skopeo("copy", "--src-cert-dir", str(certs), "--authfile", str(auth), f"docker://{registry}/{REPO}:1",
                    f"oci:{work / 'pulled'}:test", prefix=in_jumphost(work))
    assert pulled.returncode == 0, pulled.stderr
    assert manifest_digest(work / "pulled") == manifest_digest(image)
    login = curl_config(work / "curl.conf", out["mirror"]["user"], password)
    manifest = curl(work, "-f", "--cacert", str(certs / "ca.crt"), "-K", str(login), "-H", f"Accept: {OCI_MANIFEST}",
                    "-o", str(work / "manifest.json"), f"https://[{JUMPHOST6}]:8443/v2/{REPO}/manifests/1")
    assert manifest.returncode == 0, manifest.stderr
    assert "sha256:" + hashlib.sha256((work / "manifest.json").read_bytes()).hexdigest() == manifest_digest(image), \
        "by bracketed address, the manifest pushed by name"


def test_the_cache_serves_its_image_by_name_and_by_bracketed_address_with_its_sha256(
        lab: LabSession, work: Path) -> None:
    cached = lab.outputs("simlab")["cache"]["images"]["rhcos.img"]
    for url in (cached["url"], f"http://[{JUMPHOST6}]:8080/rhcos.img"):
        target = work / "cached.img"
        got = curl(work, "-f", "-o", str(target), url)
        assert got.returncode == 0, (url, got.stderr)
        assert hashlib.sha256(target.read_bytes()).hexdigest() == cached["sha256"], url


def on_jumphost(lab: LabSession, path: str) -> bool:
    """Whether `path` exists on the jumphost (its /usr/local is its own, not this machine's)."""
    return lab.ssh(JUMPHOST6, f"if [ -e {path} ]; then echo yes; else echo no; fi").strip() == "yes"


def test_the_labs_destroy_stops_the_mirror_and_the_cache_and_removes_the_registry_build(lab: LabSession) -> None:
    assert on_jumphost(lab, REGISTRY_BINARY), "the registry's build is installed before the destroy"
    started = time.monotonic()
    lab.pulumi.destroy("simlab")
    lab.note("IPv6-only lab with mirror and cache: pulumi destroy -s simlab (s)", time.monotonic() - started)
    listening = lab.jumphost(["ss", "-H", "-t", "-l", "-n"], timeout=30).stdout
    assert not re.search(r":(8443|8080)\s", listening), listening
    assert not on_jumphost(lab, REGISTRY_BINARY), "the registry's build goes with the lab"
