"""The lab's image cache, run for real where no lab is needed: its config refusals, cache-fetch.sh filling a
directory from a local path and an HTTP URL (a bad hash fails naming the image and replaces nothing; an unchanged
file is not fetched again; an image gone from the config goes), nginx serving it read-only as an unprivileged user
in a network namespace of its own on the rendered config, its sandboxed unit, and the lab outputs."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

from core.errors import ConfigError
from core.lab_contract import lab_outputs, parse_lab_outputs, planned_lab_outputs
from core.labconfig import LabConfig, parse_lab_config
from core.stack_files import read_stack_values, stack_path
from renderers import cache_scripts
from renderers.dnsmasq_base import render_base_config
from renderers.shell import b64, script
from tests.mirror_tools import on_throwaway_jumphost
from tests.tools import analyzed_unit, require_tool, unit_written_by

VALUES = read_stack_values(stack_path("simlab"))
NETNS = f"ocplab-unit-cache-{os.getpid()}"


def lab_with(cache: dict[str, Any], **more: Any) -> LabConfig:
    return parse_lab_config("simlab", {**VALUES, "cache": cache, **more})


def refusals(cache: dict[str, Any], **more: Any) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        lab_with(cache, **more)
    return caught.value.problems


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- the lab config ------------------------------------------------------------------------------

def test_a_cache_image_needs_a_sha256_and_a_url_or_an_absolute_path() -> None:
    assert refusals({"images": {"rhcos.iso": {"source": "http://www.outside.test/rhcos.iso"}}}) == [
        "ocplab:cache.images.rhcos.iso.sha256: is required"]
    [problem] = refusals({"images": {"a": {"source": "images/a.iso", "sha256": "0" * 64}}})
    assert problem == ("ocplab:cache.images.a.source: 'images/a.iso' is not an http(s) URL or an absolute path on "
                       "the jumphost (no blanks)")
    [problem] = refusals({"images": {"a": {"source": "/srv/a", "sha256": "xyz"}}})
    assert problem == "ocplab:cache.images.a.sha256: 'xyz' is not a sha256 (64 hex digits)"
    [problem] = refusals({"images": {"a": {"source": "/srv/../etc/shadow", "sha256": "0" * 64}}})
    assert problem.startswith("ocplab:cache.images.a.source: '/srv/../etc/shadow' is not a plain path")


def test_the_cache_port_and_storage_are_checked_against_the_jumphost_and_the_mirror() -> None:
    assert refusals({"port": 8443}, mirror={}) == [
        "ocplab:cache.port: 8443 clashes with the mirror registry (ocplab:mirror.port): give the cache a free port, "
        "e.g. 8080"]
    [problem] = refusals({"port": 67})
    assert problem.startswith("ocplab:cache.port: 67 clashes with the jumphost's DHCP (dnsmasq)")
    [problem] = refusals({"storage": "/var/lib/ocplab-mirror/cache"}, mirror={})
    assert problem.startswith("ocplab:cache.storage: '/var/lib/ocplab-mirror/cache' and the mirror's storage")
    [problem] = refusals({"storage": "/var/lib/ocplab"})
    assert "a lab destroy removes" in problem
    cache = lab_with({"images": {"a.iso": {"source": "/srv/a.iso", "sha256": "AB" * 32}}}).cache
    assert cache is not None and cache.images["a.iso"].sha256 == "ab" * 32 and cache.port == 8080


# --- filling the cache for real --------------------------------------------------------------------

def fetch(storage: Path, images: dict[str, tuple[str, str]], prefix: list[str] | None = None,
          ) -> subprocess.CompletedProcess[str]:
    lines = "".join(f"{name} {digest} {source}\n" for name, (digest, source) in images.items())
    body = script("way-out-common", "cache-fetch", storage=str(storage), manifest_b64=b64(lines))
    return subprocess.run([*(prefix or []), "sh", "-c", body], capture_output=True, text=True, check=False, timeout=120)


@pytest.fixture
def netns() -> Any:
    ip = require_tool("ip", "the Debian package iproute2")
    subprocess.run([ip, "netns", "add", NETNS], check=True)
    prefix = [ip, "netns", "exec", NETNS]
    try:
        subprocess.run([*prefix, ip, "link", "set", "lo", "up"], check=True)
        subprocess.run([*prefix, ip, "addr", "add", "192.168.16.1/32", "dev", "lo"], check=True)
        yield prefix
    finally:
        subprocess.run([ip, "netns", "del", NETNS], check=False)


def test_fetch_checks_each_image_before_it_replaces_anything(tmp_path: Path, netns: list[str]) -> None:
    require_tool("curl", "the Debian package curl")
    served = tmp_path / "served"
    served.mkdir()
    remote, local, other = os.urandom(300_000), os.urandom(100_000), os.urandom(1000)
    (served / "remote.img").write_bytes(remote)
    (tmp_path / "local.img").write_bytes(local)
    storage = tmp_path / "cache"
    with subprocess.Popen([*netns, sys.executable, "-m", "http.server", "-b", "127.0.0.1", "8099", "-d", str(served)],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as server:
        try:
            time.sleep(0.5)
            images = {"remote.img": (sha(remote), "http://127.0.0.1:8099/remote.img"),
                      "local.img": (sha(local), str(tmp_path / "local.img"))}
            first = fetch(storage, images, netns)
            assert first.returncode == 0, first.stderr
            assert first.stdout.strip().endswith("2 image(s) fetched, 0 already there, each with its sha256")
            assert (storage / "remote.img").read_bytes() == remote and (storage / "local.img").read_bytes() == local
            assert (storage / "local.img").stat().st_mode & 0o777 == 0o644
            again = fetch(storage, images, netns)
            assert again.stdout.strip().endswith("0 image(s) fetched, 2 already there, each with its sha256")
            (served / "remote.img").write_bytes(other)  # the source changed under the same URL
            (storage / "remote.img").write_bytes(b"damaged")
            bad = fetch(storage, images, netns)
        finally:
            server.terminate()
    assert bad.returncode == 1
    assert (f"ocplab cache: image remote.img from http://127.0.0.1:8099/remote.img has sha256 {sha(other)}, not "
            f"{sha(remote)} (ocplab:cache.images.remote.img.sha256): nothing was replaced") in bad.stderr
    assert (storage / "remote.img").read_bytes() == b"damaged" and (storage / "local.img").read_bytes() == local
    assert not list((storage / ".ocplab").glob("*.partial"))
    gone = fetch(storage, {"local.img": images["local.img"]})
    assert gone.returncode == 0 and "remote.img removed" in gone.stdout
    assert sorted(p.name for p in storage.iterdir()) == [".ocplab", "local.img"]


def test_a_missing_local_source_fails_naming_the_image_and_its_field(tmp_path: Path) -> None:
    done = fetch(tmp_path / "cache", {"a.iso": ("0" * 64, "/nonexistent/a.iso")})
    assert done.returncode == 1
    assert done.stderr.strip() == ("ocplab cache: image a.iso: the jumphost has no file /nonexistent/a.iso "
                                   "(ocplab:cache.images.a.iso.source)")


@pytest.fixture
def open_dir() -> Any:
    """A directory an unprivileged user can reach (pytest's tmp_path is under root's 0700 directory)."""
    path = Path(tempfile.mkdtemp(prefix="ocplab-cache-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path)


def test_nginx_serves_the_cache_read_only_as_an_unprivileged_user(open_dir: Path, netns: list[str]) -> None:
    tmp_path = open_dir
    nginx = require_tool("nginx", "the Debian package nginx-light")
    setpriv = require_tool("setpriv", "util-linux")
    curl = require_tool("curl", "the Debian package curl")
    storage = tmp_path / "cache"
    (storage / ".ocplab").mkdir(parents=True)
    data = os.urandom(2_000_000)
    (storage / "rhcos.qcow2").write_bytes(data)
    (storage / ".ocplab" / "manifest").write_text("secret bookkeeping\n")
    run = tmp_path / "run"
    run.mkdir()
    lab = lab_with({"storage": "/srv/cache", "images": {"rhcos.qcow2": {"source": "/x", "sha256": sha(data)}}})
    conf = tmp_path / "nginx.conf"
    conf.write_text(cache_scripts.nginx_config(lab).replace("/srv/cache", str(storage))
                    .replace("/run/ocplab-cache", str(run)))
    for path in (storage, storage / ".ocplab"):
        path.chmod(0o755)
    (storage / "rhcos.qcow2").chmod(0o644)
    shutil.chown(run, "nobody")
    argv = [*netns, setpriv, "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--no-new-privs",
            "--inh-caps=-all", "--bounding-set=-all", "--", nginx, "-c", str(conf), "-e", "stderr"]
    with subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) as served:
        try:
            def get(path: str, *extra: str) -> str:
                return subprocess.run([*netns, curl, "-s", "-o", str(tmp_path / "got"), "-w", "%{http_code}", *extra,
                                       f"http://192.168.16.1:8080/{path}"], capture_output=True, text=True,
                                      check=False, timeout=30).stdout
            deadline = time.monotonic() + 20
            while get("") == "000" and time.monotonic() < deadline:
                time.sleep(0.1)
            assert get("rhcos.qcow2") == "200", served.stderr.read() if served.poll() is not None and served.stderr \
                else "no answer"
            assert sha((tmp_path / "got").read_bytes()) == sha(data)
            assert get("") == "403", "no listing"
            assert get(".ocplab/manifest") == "404", "its bookkeeping is not served"
            assert get("rhcos.qcow2", "-X", "PUT", "--data", "x") == "403"
            user = subprocess.run(["ps", "-o", "user=", "--ppid", str(served.pid)], capture_output=True, text=True,
                                  check=False).stdout.split()
        finally:
            served.terminate()
    assert user and set(user) == {"nobody"}, user


def test_under_systemd_the_cache_server_runs_as_its_own_user_in_a_sandbox(tmp_path: Path) -> None:
    text = cache_scripts.cache_apply_script(lab_with({}))
    inputs = text.split("storage=", 1)[1].split("\nstate=", 1)[0]
    service = re.findall(r"^(?:description|exec_start|read_write)=.*$", text, re.MULTILINE)
    prelude = "\n".join([f"storage={inputs}", "nginx=/usr/sbin/nginx", *service])
    unit = unit_written_by(text, prelude, tmp_path, cache_scripts.UNIT)
    body = unit.read_text()
    assert "User=ocplab-cache\n" in body
    assert "ExecStart=/usr/sbin/nginx -c /etc/ocplab/cache/nginx.conf -e stderr\n" in body
    assert "ReadWritePaths" not in body, "it writes nothing but its runtime directory"
    analyzed_unit(unit)


@pytest.mark.parametrize("part", ["cache-fetch", "cache-serve", "cache-ready"])
def test_the_cache_scripts_are_shellcheck_clean(part: str) -> None:
    done = subprocess.run([require_tool("shellcheck", "shellcheck"), "-s", "sh", f"renderers/files/{part}.sh"],
                          capture_output=True, text=True, check=False, cwd=Path(__file__).parents[2])
    assert done.returncode == 0, done.stdout


def test_the_lab_exports_the_cache_and_names_it_in_dns(tmp_path: Path) -> None:
    digest = "ab" * 32
    lab = lab_with({"images": {"rhcos.iso": {"source": "http://www.outside.test/rhcos.iso", "sha256": digest}}})
    planned = planned_lab_outputs(lab, tmp_path)
    raw = lab_outputs(lab, planned.hypervisors, None, "/k", "x").as_outputs()
    assert raw["cache"] == {"url": "http://cache.simlab.test:8080", "address": "192.168.16.1", "port": 8080,
                            "images": {"rhcos.iso": {"url": "http://cache.simlab.test:8080/rhcos.iso",
                                                     "sha256": digest}}}
    assert parse_lab_outputs("simlab", raw).cache is not None
    assert "host-record=jumphost.simlab.test,cache.simlab.test,192.168.16.1\n" in render_base_config(lab)
    assert "keep_data='yes'" in cache_scripts.cache_remove_script(lab)




def test_apply_fills_and_serves_the_cache_as_its_user_and_returns_and_remove_keeps_the_files(tmp_path: Path) -> None:
    """cache-fetch.sh, cache-serve.sh and cache-remove.sh for real, by bash through a pipe as over SSH and without
    systemd (as on the simulated jumphost), in new mount, network and PID namespaces whose /etc and /var are
    overlays: nothing of this machine changes. Apply must return with nginx left running."""
    require_tool("nginx", "the Debian package nginx-light")
    source = tmp_path / "source.img"
    data = os.urandom(500_000)
    source.write_bytes(data)
    lab = lab_with({"images": {"rhcos.img": {"source": str(source), "sha256": sha(data)}}})
    (tmp_path / "apply.sh").write_text(cache_scripts.cache_apply_script(lab))
    (tmp_path / "remove.sh").write_text(cache_scripts.cache_remove_script(lab))
    checks = ("timeout 30 sh -c 'bash apply.sh 2>&1 | cat' > applied.out; echo \"rc=$?\"\n"
              "bash apply.sh 2>&1 | tail -1\n"
              "ps -o user:32= -p \"$(cat /run/ocplab-cache/service.pid)\"\n"
              "curl -s http://192.168.16.1:8080/rhcos.img | sha256sum | cut -d' ' -f1\n"
              "stat -c '%U:%G %a' /var/lib/ocplab-cache /var/lib/ocplab-cache/rhcos.img\n"
              "bash remove.sh\n"
              "pgrep -x nginx || echo stopped; ls /var/lib/ocplab-cache\n")
    done = on_throwaway_jumphost(checks, tmp_path)
    out = done.stdout.splitlines()
    applied = (tmp_path / "applied.out").read_text()
    assert out[:2] == ["rc=0", "ocplab cache: unchanged"], done.stdout + done.stderr + applied
    assert "1 image(s) fetched" in applied and "ocplab cache: nginx (re)started on 192.168.16.1:8080" in applied
    assert out[2:6] == ["ocplab-cache", sha(data), "root:ocplab-cache 750", "root:root 644"], done.stdout
    assert out[6].startswith("ocplab: the image cache is gone from the jumphost; its data stays")
    assert out[7:] == ["stopped", "rhcos.img"]


def test_remove_with_keep_data_false_takes_the_files_and_the_user_too(tmp_path: Path) -> None:
    require_tool("nginx", "the Debian package nginx-light")
    source = tmp_path / "source.img"
    source.write_bytes(b"x" * 1000)
    lab = lab_with({"keep_data": False, "images": {"a.img": {"source": str(source), "sha256": sha(b"x" * 1000)}}})
    (tmp_path / "apply.sh").write_text(cache_scripts.cache_apply_script(lab))
    (tmp_path / "remove.sh").write_text(cache_scripts.cache_remove_script(lab))
    done = on_throwaway_jumphost("bash apply.sh >/dev/null && bash remove.sh && (ls /var/lib/ocplab-cache 2>&1; "
                                 "id ocplab-cache 2>&1; pgrep -x nginx || echo stopped)", tmp_path)
    out = done.stdout.splitlines()
    assert out[0] == "ocplab: the image cache and its data (/var/lib/ocplab-cache) are gone from the jumphost", \
        done.stdout + done.stderr
    assert "No such file" in out[1] and "no such user" in out[2] and out[3] == "stopped"
