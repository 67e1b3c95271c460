"""On the simulated lab: the lab's mirror registry and image cache (ocplab:mirror, ocplab:cache), for real,
through `pulumi up` of the lab stack alone (no cluster).

The lab comes up once without and once with both (what they cost `pulumi up`). The outputs give its
host, port, CA and user, its password only as a secret; the state holds neither the CA key nor the password in
plaintext, and a preview after `up` changes nothing. `mirror.<domain>` resolves through the jumphost's dnsmasq;
the registry runs as its own user. An OCI image of the test's own (umoci, one layer of random bytes) goes in with
skopeo and the outputs' login, by name, TLS verified with the outputs' CA; an anonymous push and a wrong password
are refused. From a namespace on hv1's br0 standing in for a node, its manifest comes back over TLS verified with
the CA, its digest the one pushed, and its layer with its sha256. The cache holds an image fetched from the
outside's HTTP server through the way out and a 1 GiB one copied from a path on the jumphost; the node downloads
both with their sha256; a changed hash fails the `up` naming the image and loses nothing. ipi1 naming them as its
RHCOS (ocplab:os_images), designed against this lab's real outputs, gets an install-config whose bootstrapOSImage
and clusterOSImage the node downloads, each hashing to its `?sha256=`. A lab destroy and up keep the mirror's image
and the cache's files, and the registry is still verified with the CA certificate from before the destroy. Steps
build on each other.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from core.bmc_plan import with_password
from core.cluster_design import design_cluster
from core.cluster_outputs import cluster_outputs
from core.clusterconfig import parse_cluster_config
from core.stack_files import read_stack_values, stack_path
from renderers.dnsmasq_cluster import render_cluster_dns
from renderers.install_config import render_install_config
from simlab.clients import jumphost_argv
from simlab.paths import StatePaths
from simlab.pulumi_engine import PulumiError
from tests.e2e.lab_helpers import JUMPHOST, LabSession, outside, stand_in_node
from tests.mirror_tools import (
    auth_file,
    cert_dir,
    curl_config,
    manifest_digest,
    oci_image,
    private_file,
    sha256,
    skopeo,
)
from tests.tools import require_tool

pytestmark = pytest.mark.simlab

MIRROR = {"storage": "/var/lib/ocplab-mirror"}  # the defaults otherwise: port 8443, user ocplab, keep_data
BIG = "/var/tmp/ocplab-e2e-big.img"  # on the jumphost: the source of a lab with no way out
SMALL = os.urandom(3 * 1024 * 1024)  # served by the outside's HTTP server
LAYER_MIB = 64
REPO = "ocplab/e2e"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


@dataclass
class Mirrored:
    lab: LabSession
    work: Path
    outputs: dict[str, Any]
    password: str
    image: Path
    big_sha256: str

    @property
    def mirror(self) -> dict[str, Any]:
        return dict(self.outputs["mirror"])

    @property
    def registry(self) -> str:
        return f"{self.mirror['host']}:{int(self.mirror['port'])}"


def with_lab_dns(prefix: list[str], work: Path) -> list[str]:
    """`prefix` then a private mount namespace whose /etc/resolv.conf names the jumphost's dnsmasq only, as DHCP
    gives a node: names resolve as the lab resolves them (this machine's /etc is left alone)."""
    resolv = work / "resolv.conf"
    resolv.write_text(f"nameserver {JUMPHOST}\n")
    return [*prefix, require_tool("unshare", "util-linux"), "-m", "sh", "-c",
            'mount --bind "$0" /etc/resolv.conf && exec "$@"', str(resolv)]


def timed_up(lab: LabSession) -> float:
    started = time.monotonic()
    lab.up("simlab")
    return time.monotonic() - started


@pytest.fixture(scope="module")
def mirrored(lab: LabSession, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mirrored]:
    work = tmp_path_factory.mktemp("mirror")
    lab.note("pulumi up of the lab, fresh, without mirror and cache (s)", plain := timed_up(lab))
    lab.pulumi.destroy("simlab")
    big = lab.ssh(JUMPHOST, f"head -c 1G /dev/urandom > {BIG} && sha256sum {BIG}").split()[0]
    (StatePaths().outside_dir / "www" / "small.img").write_bytes(SMALL)
    lab.edit_stack("simlab", {"ocplab:mirror": MIRROR, "ocplab:cache": {"images": {
        "small.img": {"source": "http://www.outside.test/small.img", "sha256": hashlib.sha256(SMALL).hexdigest()},
        "big.img": {"source": BIG, "sha256": big}}}})
    lab.note("pulumi up of the lab, fresh, with mirror and cache (1 GiB + 3 MiB to fetch) (s)",
             with_both := timed_up(lab))
    lab.note("what mirror and cache cost a fresh pulumi up of the lab (s)", with_both - plain)
    started = time.monotonic()
    lab.up("simlab")
    lab.note("pulumi up of the lab with mirror and cache, nothing changed (s)", time.monotonic() - started)
    secrets = lab.outputs("simlab", show_secrets=True)
    image = oci_image(work / "image", os.urandom(LAYER_MIB * 1024 * 1024))
    yield Mirrored(lab, work, lab.outputs("simlab"), str(secrets["mirror_password"]), image, big)


def test_the_outputs_give_the_mirror_and_its_password_only_as_a_secret(mirrored: Mirrored) -> None:
    mirror = mirrored.mirror
    assert (mirror["host"], mirror["address"], int(mirror["port"]), mirror["user"]) == (
        "mirror.simlab.test", JUMPHOST, 8443, "ocplab")
    assert mirror["ca_certificate"].startswith("-----BEGIN CERTIFICATE-----")
    assert mirrored.outputs["mirror_password"] == "[secret]"
    assert len(mirrored.password) == 32
    state = json.dumps(mirrored.lab.pulumi.export("simlab"))
    assert "PRIVATE KEY" not in state and mirrored.password not in state, "the CA key and password are secrets"
    mirrored.lab.pulumi.preview("simlab", "--expect-no-changes")


def test_the_name_resolves_to_the_jumphost_and_the_registry_runs_as_its_own_user(mirrored: Mirrored) -> None:
    done = subprocess.run(jumphost_argv([require_tool("dig", "dnsutils"), f"@{JUMPHOST}", "+short",
                                         "mirror.simlab.test"]), capture_output=True, text=True, timeout=30, check=True)
    assert done.stdout.split() == [JUMPHOST]
    reverse = subprocess.run(jumphost_argv([require_tool("dig", "dnsutils"), f"@{JUMPHOST}", "+short", "-x",
                                            JUMPHOST]), capture_output=True, text=True, timeout=30, check=True)
    assert reverse.stdout.split() == ["jumphost.simlab.test."], "the jumphost keeps its own name for its address"
    ps = mirrored.lab.ssh(JUMPHOST, "ps -o user:32=,args= -p \"$(cat /run/ocplab-mirror/registry.pid)\"")
    assert ps.split()[0] == "ocplab-mirror" and "serve /etc/ocplab/mirror/config.yml" in ps, ps
    modes = mirrored.lab.ssh(JUMPHOST, "stat -c '%n %U:%G %a' /etc/ocplab/mirror /etc/ocplab/mirror/tls.key "
                                       "/etc/ocplab/mirror/htpasswd /var/lib/ocplab-mirror").splitlines()
    assert modes == ["/etc/ocplab/mirror root:ocplab-mirror 750", "/etc/ocplab/mirror/tls.key root:ocplab-mirror 640",
                     "/etc/ocplab/mirror/htpasswd root:ocplab-mirror 640",
                     "/var/lib/ocplab-mirror ocplab-mirror:ocplab-mirror 700"]


def push(mirrored: Mirrored, auth: Path) -> subprocess.CompletedProcess[str]:
    certs = cert_dir(mirrored.work / "certs", mirrored.mirror["ca_certificate"])
    return skopeo("copy", "--dest-cert-dir", str(certs), "--authfile", str(auth), f"oci:{mirrored.image}:test",
                  f"docker://{mirrored.registry}/{REPO}:1", prefix=with_lab_dns(jumphost_argv([]), mirrored.work))


def test_an_anonymous_push_and_a_wrong_password_are_refused(mirrored: Mirrored) -> None:
    nobody = private_file(mirrored.work / "none.json", '{"auths": {}}')
    anonymous = push(mirrored, nobody)
    assert anonymous.returncode != 0 and "authentication required" in anonymous.stderr.lower(), anonymous.stderr
    wrong = push(mirrored, auth_file(mirrored.work / "wrong.json", mirrored.registry, "ocplab", "not-the-password"))
    assert wrong.returncode != 0 and "unauthorized" in wrong.stderr.lower(), wrong.stderr


def test_an_image_goes_in_with_the_outputs_login_and_a_node_reads_it_back_by_digest(mirrored: Mirrored) -> None:
    auth = auth_file(mirrored.work / "auth.json", mirrored.registry, mirrored.mirror["user"], mirrored.password)
    started = time.monotonic()
    pushed = push(mirrored, auth)
    took = time.monotonic() - started
    assert pushed.returncode == 0, pushed.stderr
    layer = layer_of(mirrored.image)
    mirrored.lab.note("mirror push with skopeo, by name over TLS (MB/s)", layer["size"] / 1e6 / took)
    fetched, blob_seconds = node_fetch(mirrored, layer["digest"])
    assert sha256(fetched["manifest"]) == manifest_digest(mirrored.image), "the manifest the node got is the one pushed"
    assert fetched["blob_sha256"] == layer["digest"]
    mirrored.lab.note("mirror pull of the layer from a node, curl over TLS (MB/s)", layer["size"] / 1e6 / blob_seconds)


def layer_of(image: Path) -> dict[str, Any]:
    manifest_path = image / "blobs" / "sha256" / manifest_digest(image).split(":", 1)[1]
    [layer] = json.loads(manifest_path.read_text())["layers"]
    return dict(layer)


def node_fetch(mirrored: Mirrored, blob: str) -> tuple[dict[str, Any], float]:
    """From a namespace on hv1's br0 (a node's place), names through the lab's DNS: the manifest (Accept: OCI)
    and the layer, over TLS verified with the outputs' CA, the login in a 0600 curl config."""
    ca = mirrored.work / "ca.pem"
    ca.write_text(mirrored.mirror["ca_certificate"])
    login = curl_config(mirrored.work / "curl.conf", mirrored.mirror["user"], mirrored.password)
    curl = require_tool("curl", "the Debian package curl")
    base = f"https://{mirrored.registry}/v2/{REPO}"
    with stand_in_node("ocplab-hv1", "br0", "192.168.16.251/24") as run_in:
        node = with_lab_dns(run_in, mirrored.work)
        manifest = subprocess.run([*node, curl, "-sSf", "--cacert", str(ca), "-K", str(login), "-H",
                                   f"Accept: {OCI_MANIFEST}", f"{base}/manifests/1"], capture_output=True,
                                  timeout=60, check=False)
        assert manifest.returncode == 0, manifest.stderr
        target = mirrored.work / "layer.bin"
        started = time.monotonic()
        got = subprocess.run([*node, curl, "-sSfL", "--cacert", str(ca), "-K", str(login), "-o", str(target),
                              f"{base}/blobs/{blob}"], capture_output=True, text=True, timeout=600, check=False)
        seconds = time.monotonic() - started
        assert got.returncode == 0, got.stderr
    return {"manifest": manifest.stdout, "blob_sha256": sha256(target.read_bytes())}, seconds


def test_a_node_downloads_the_cached_images_with_their_sha256(mirrored: Mirrored) -> None:
    cache = mirrored.outputs["cache"]
    assert cache["url"] == "http://cache.simlab.test:8080"
    assert cache["images"]["big.img"]["sha256"] == mirrored.big_sha256
    curl = require_tool("curl", "the Debian package curl")
    with stand_in_node("ocplab-hv1", "br0", "192.168.16.251/24") as run_in:
        node = with_lab_dns(run_in, mirrored.work)
        for name, image in sorted(cache["images"].items()):
            target = mirrored.work / name
            started = time.monotonic()
            got = subprocess.run([*node, curl, "-sSf", "-o", str(target), image["url"]], capture_output=True,
                                 text=True, timeout=600, check=False)
            took = time.monotonic() - started
            assert got.returncode == 0, got.stderr
            assert sha256(target.read_bytes()) == f"sha256:{image['sha256']}", name
            if name == "big.img":
                mirrored.lab.note("the cache serving 1 GiB to a node (s)", took)
            target.unlink()
    out = outside()
    assert f"{out.uplink_ip}:" in (log := Path(out.http_log).read_text()) and "url:/small.img" in log, \
        "fetched from the outside, through the way out (the jumphost's uplink address)"


def test_the_os_images_install_config_names_are_the_cached_ones_with_their_sha256(mirrored: Mirrored) -> None:
    """The cluster side of ocplab:os_images is pure (design, outputs, install-config: unit-tested); here it runs on
    the deployed lab's outputs, and the node fetches what install-config names."""
    config = parse_cluster_config("ipi1", {**read_stack_values(stack_path("ipi1")),
                                           "os_images": {"bootstrap": "small.img", "cluster": "big.img"}})
    design = design_cluster(config, mirrored.outputs, None)
    written = cluster_outputs(design, {n.name: "0f6c1d2e-0000-4000-8000-000000000000" for n in config.nodes},
                              render_cluster_dns(design).as_dict())
    written["bmc"] = with_password(written["bmc"], "pw_1")
    document = yaml.safe_load(render_install_config(json.loads(json.dumps(written)), '{"auths": {}}',
                                                    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKu3 e2e"))["platform"]
    urls = [document["baremetal"][key] for key in ("bootstrapOSImage", "clusterOSImage")]
    curl = require_tool("curl", "the Debian package curl")
    with stand_in_node("ocplab-hv1", "br0", "192.168.16.251/24") as run_in:
        for url in urls:
            target = mirrored.work / "os.img"
            got = subprocess.run([*with_lab_dns(run_in, mirrored.work), curl, "-sSf", "-o", str(target), url],
                                 capture_output=True, text=True, timeout=600, check=False)
            assert got.returncode == 0, got.stderr
            assert sha256(target.read_bytes()) == "sha256:" + parse_qs(urlsplit(url).query)["sha256"][0], url
            target.unlink()


def test_a_hash_that_does_not_match_fails_the_up_naming_the_image_and_loses_nothing(mirrored: Mirrored) -> None:
    lab = mirrored.lab
    wrong = {"big.img": {"source": BIG, "sha256": mirrored.big_sha256},
             "small.img": {"source": "http://www.outside.test/small.img", "sha256": "0" * 64}}
    lab.edit_stack("simlab", {"ocplab:cache": {"images": wrong}})
    with pytest.raises(PulumiError) as failed:
        lab.up("simlab")
    assert (f"ocplab cache: image small.img from http://www.outside.test/small.img has sha256 "
            f"{hashlib.sha256(SMALL).hexdigest()}, not {'0' * 64} (ocplab:cache.images.small.img.sha256)"
            in str(failed.value)), str(failed.value)[-3000:]
    held = lab.ssh(JUMPHOST, "cd /var/lib/ocplab-cache && sha256sum small.img big.img").split()
    assert held[0] == hashlib.sha256(SMALL).hexdigest() and held[2] == mirrored.big_sha256
    wrong["small.img"]["sha256"] = hashlib.sha256(SMALL).hexdigest()
    lab.edit_stack("simlab", {"ocplab:cache": {"images": wrong}})
    lab.up("simlab")


def test_a_lab_destroy_and_up_keep_the_image(mirrored: Mirrored) -> None:
    lab = mirrored.lab
    lab.pulumi.destroy("simlab")
    kept = lab.ssh(JUMPHOST, "ls /var/lib/ocplab-mirror/docker/registry/v2/repositories/ocplab; "
                             "test ! -e /etc/ocplab/mirror && echo config-gone; ls /var/lib/ocplab-cache")
    assert kept.split() == ["e2e", "config-gone", "big.img", "small.img"], kept
    started = time.monotonic()
    lab.up("simlab")
    lab.note("pulumi up of the lab again over a kept mirror and cache (s)", time.monotonic() - started)
    old_ca = mirrored.mirror["ca_certificate"]  # what a cluster installed before the destroy trusts
    mirrored.outputs = lab.outputs("simlab")
    auth = auth_file(mirrored.work / "auth.json", mirrored.registry, mirrored.mirror["user"], mirrored.password)
    certs = cert_dir(mirrored.work / "certs-after", old_ca)  # the CA key is the lab key's: the old CA still verifies
    read = skopeo("inspect", "--cert-dir", str(certs), "--authfile", str(auth), "--format", "{{.Digest}}",
                  f"docker://{mirrored.registry}/{REPO}:1", prefix=with_lab_dns(jumphost_argv([]), mirrored.work))
    assert read.returncode == 0, read.stderr
    assert read.stdout.strip() == manifest_digest(mirrored.image)
