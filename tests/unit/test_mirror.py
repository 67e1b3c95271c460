"""The lab's mirror registry, run for real where no lab is needed: its config refusals, the lab CA and the
registry's certificate (checked by openssl), its htpasswd (bcrypt), the real registry serving the rendered
config in a network namespace of its own (login required, TLS verified with the CA, an image of the test's own
pushed and read back by digest), its sandboxed unit, and what the lab program declares and exports."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import bcrypt
import pulumi
import pytest

from components.lab_stack import lab_program
from core.errors import ConfigError
from core.lab_ca import ca_certificate, lab_ca_key, server_certificate, since_day
from core.lab_contract import lab_outputs, mirror_outputs, parse_lab_outputs, planned_lab_outputs
from core.labconfig import LabConfig, parse_lab_config
from core.mirror_access import htpasswd_line, mirror_password
from core.stack_files import read_stack_values, stack_path
from renderers import mirror_scripts
from renderers.dnsmasq_base import render_base_config
from renderers.shell import b64
from tests.mirror_tools import (
    auth_file,
    cert_dir,
    curl_config,
    manifest_digest,
    oci_image,
    on_throwaway_jumphost,
    skopeo,
)
from tests.tools import analyzed_unit, require_tool, unit_written_by
from tests.unit.pulumi_mocks import use_mocks

VALUES = read_stack_values(stack_path("simlab"))
KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-real-key\n"
SECRET_SIG = "4dabf18193072939515e22adb298388d"  # how Pulumi marks a secret value in the mocks' inputs


def lab_with(mirror: dict[str, Any]) -> LabConfig:
    return parse_lab_config("simlab", {**VALUES, "mirror": mirror})


def refusals(mirror: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        lab_with(mirror)
    return caught.value.problems


# --- the lab config ------------------------------------------------------------------------------

def test_a_mirror_with_no_settings_listens_on_8443_keeps_its_images_under_var_lib_and_keeps_them_on_destroy() -> None:
    mirror = lab_with({}).mirror
    assert mirror is not None
    assert (mirror.port, mirror.storage, mirror.keep_data, mirror.user) == (8443, "/var/lib/ocplab-mirror", True,
                                                                             "ocplab")
    assert parse_lab_config("simlab", VALUES).mirror is None


@pytest.mark.parametrize(("port", "service"), [
    (53, "the jumphost's DNS (dnsmasq)"), (67, "the jumphost's DHCP (dnsmasq)"), (69, "the jumphost's TFTP"),
    (123, "the jumphost's NTP server (chronyd)"), (22, "the jumphost's SSH"), (6235, "slice ipi1's BMC ports")])
def test_a_port_another_service_of_the_lab_holds_is_refused_naming_it(port: int, service: str) -> None:
    [problem] = refusals({"port": port})
    assert problem.startswith(f"ocplab:mirror.port: {port} clashes with {service}"), problem


def test_the_jumphosts_own_ssh_port_and_privileged_ports_are_refused() -> None:
    values = {**VALUES, "jumphost": {**VALUES["jumphost"], "port": 2222}, "mirror": {"port": 2222}}
    with pytest.raises(ConfigError) as caught:
        parse_lab_config("simlab", values)
    assert caught.value.problems == ["ocplab:mirror.port: 2222 clashes with the jumphost's SSH: give the mirror a "
                                     "free port, e.g. 8443"]
    [problem] = refusals({"port": 443})
    assert problem.startswith("ocplab:mirror.port: 443 is below 1024: the registry runs as a user of its own")


@pytest.mark.parametrize(("storage", "why"), [
    ("var/lib/mirror", "is not an absolute path"), ("~/mirror", "is not an absolute path"),
    ("/srv/mirror\n", "is not an absolute path"), ("/", "is not a directory of its own"),
    ("/srv", "is not a directory of its own"), ("/etc/mirror", "is not a directory of its own"),
    ("/tmp/mirror", "is not a directory of its own"), ("/srv/../etc/x", "is not a plain path"),
    ("/var/lib/ocplab/mirror", "a lab destroy removes"), ("/var/log/ocplab", "a lab destroy removes"),
    ("/var/lib", "a lab destroy removes")])
def test_a_storage_path_that_is_not_a_directory_of_its_own_is_refused(storage: str, why: str) -> None:
    [problem] = refusals({"storage": storage})
    assert problem.startswith("ocplab:mirror.storage: ") and why in problem, problem


def test_wrong_types_and_unknown_keys_are_refused_by_field() -> None:
    problems = refusals({"port": "8443", "keep_data": "no", "prot": 1})
    assert problems == ["ocplab:mirror.port: '8443' is not a whole number",
                        "ocplab:mirror.keep_data: 'no' is not true or false",
                        "ocplab:mirror.prot: is not a known key; did you mean 'port'?"]


# --- the CA, the certificate, the login ----------------------------------------------------------

@pytest.fixture(scope="module")
def ca() -> tuple[str, str]:
    key = lab_ca_key(KEY, "simlab")
    return key, ca_certificate(key, "simlab", since_day(datetime.now(UTC)))


def verifies(openssl: str, ca_pem: str, certificate: str, tmp_path: Path) -> bool:
    """`openssl verify` of a server certificate for mirror.simlab.test against one CA certificate alone."""
    (tmp_path / "trusted.pem").write_text(ca_pem)
    (tmp_path / "checked.pem").write_text(certificate)
    return subprocess.run([openssl, "verify", "-purpose", "sslserver", "-verify_hostname", "mirror.simlab.test",
                           "-CAfile", str(tmp_path / "trusted.pem"), str(tmp_path / "checked.pem")],
                          capture_output=True, check=False).returncode == 0


def test_a_lab_destroy_and_up_sign_with_a_ca_what_trusted_the_old_one_trusts(tmp_path: Path) -> None:
    """The CA key is derived from the lab key, so the stack made again after a destroy (another day: another
    certificate of the same name and key) signs a registry certificate that the old CA certificate, which a
    cluster's additionalTrustBundle holds, verifies. Another lab, or another lab key, gets another CA."""
    openssl = require_tool("openssl", "the Debian package openssl")
    before = ca_certificate(lab_ca_key(KEY, "simlab"), "simlab", "2026-01-01T00:00:00Z")
    key = lab_ca_key(KEY, "simlab")
    after = ca_certificate(key, "simlab", "2026-12-06T00:00:00Z")
    assert after != before
    server = server_certificate(key, after, ["mirror.simlab.test"], ["192.168.16.1"])
    assert verifies(openssl, before, server.certificate, tmp_path)
    for other_key, lab in ((KEY + "other\n", "simlab"), (KEY, "lab2")):
        other = ca_certificate(lab_ca_key(other_key, lab), "simlab", "2026-01-01T00:00:00Z")
        assert not verifies(openssl, other, server.certificate, tmp_path), lab


def test_the_registry_certificate_verifies_against_the_lab_ca_for_its_name_and_address(
        ca: tuple[str, str], tmp_path: Path) -> None:
    key, ca_pem = ca
    server = server_certificate(key, ca_pem, ["mirror.simlab.test"], ["192.168.16.1"])
    (tmp_path / "ca.pem").write_text(ca_pem)
    (tmp_path / "server.pem").write_text(server.certificate)
    openssl = require_tool("openssl", "the Debian package openssl")
    for check in (["-verify_hostname", "mirror.simlab.test"], ["-verify_ip", "192.168.16.1"]):
        done = subprocess.run([openssl, "verify", "-purpose", "sslserver", *check, "-CAfile", str(tmp_path / "ca.pem"),
                               str(tmp_path / "server.pem")], capture_output=True, text=True, check=False)
        assert done.returncode == 0 and done.stdout.strip().endswith(": OK"), done.stdout + done.stderr
    wrong = subprocess.run([openssl, "verify", "-verify_hostname", "other.simlab.test", "-CAfile",
                            str(tmp_path / "ca.pem"), str(tmp_path / "server.pem")], capture_output=True, text=True,
                           check=False)
    assert wrong.returncode != 0, "another name is not this certificate's"
    text = subprocess.run([openssl, "x509", "-noout", "-text", "-in", str(tmp_path / "ca.pem")], capture_output=True,
                          text=True, check=True).stdout
    assert "CA:TRUE, pathlen:0" in text and "Certificate Sign" in text


def test_every_run_renders_the_same_certificates_and_login_from_the_kept_ca_key(ca: tuple[str, str]) -> None:
    """So `pulumi up` after `up` changes nothing: the kept CA key (derived from the lab key) and its inputs give all."""
    key, ca_pem = ca
    assert ca_certificate(key, "simlab", since_day(datetime.now(UTC))) == ca_pem  # same inputs, same certificate
    first = server_certificate(key, ca_pem, ["mirror.simlab.test"], ["192.168.16.1"])
    assert server_certificate(key, ca_pem, ["mirror.simlab.test"], ["192.168.16.1"]) == first
    assert server_certificate(key, ca_pem, ["mirror.other.test"], ["192.168.16.1"]).key != first.key
    password = mirror_password(KEY, "simlab")
    assert re.fullmatch(r"[A-Za-z0-9_-]{32}", password) and password != mirror_password(KEY, "lab2")
    line = htpasswd_line("ocplab", password, KEY, "simlab")
    assert line == htpasswd_line("ocplab", password, KEY, "simlab")
    user, digest = line.split(":", 1)
    assert user == "ocplab" and digest.startswith("$2b$10$")
    assert bcrypt.checkpw(password.encode(), digest.encode())
    assert not bcrypt.checkpw(b"wrong", digest.encode())


# --- the real registry on the rendered config ----------------------------------------------------

NETNS = f"ocplab-unit-mirror-{os.getpid()}"


@pytest.fixture
def registry(ca: tuple[str, str], tmp_path: Path) -> Iterator[tuple[list[str], Path, str]]:
    """docker-registry serving the config the lab stack renders (its paths moved under tmp_path), as root, in a
    network namespace of its own holding the jumphost's lab address: (argv prefix, its conf dir, the password)."""
    binary = require_tool("docker-registry", "the Debian package docker-registry")
    ip = require_tool("ip", "the Debian package iproute2")
    lab = lab_with({"storage": "/srv/mirror"})
    key, ca_pem = ca
    conf = tmp_path / "conf"
    conf.mkdir()
    server = server_certificate(key, ca_pem, ["mirror.simlab.test"], ["192.168.16.1"])
    password = mirror_password(KEY, "simlab")
    (conf / "config.yml").write_text(mirror_scripts.registry_config(lab).replace(mirror_scripts.CONF_DIR, str(conf))
                                     .replace("/srv/mirror", str(tmp_path / "storage")))
    (conf / "tls.crt").write_text(server.certificate)
    (conf / "tls.key").write_text(server.key)
    (conf / "ca.crt").write_text(ca_pem)
    (conf / "htpasswd").write_text(htpasswd_line("ocplab", password, KEY, "simlab") + "\n")
    subprocess.run([ip, "netns", "add", NETNS], check=True)
    prefix = [ip, "netns", "exec", NETNS]
    # `ip netns exec` binds /etc/netns/<name>/hosts over /etc/hosts: the name resolves in there only.
    hosts = Path("/etc/netns") / NETNS / "hosts"
    hosts.parent.mkdir(parents=True)
    hosts.write_text("127.0.0.1 localhost\n192.168.16.1 mirror.simlab.test\n")
    try:
        subprocess.run([*prefix, ip, "link", "set", "lo", "up"], check=True)
        subprocess.run([*prefix, ip, "addr", "add", "192.168.16.1/32", "dev", "lo"], check=True)
        with (tmp_path / "registry.log").open("w") as log, subprocess.Popen(
                [*prefix, binary, "serve", str(conf / "config.yml")], stdout=subprocess.DEVNULL, stderr=log) as served:
            try:
                yield prefix, conf, password
            finally:
                served.terminate()
    finally:
        subprocess.run([ip, "netns", "del", NETNS], check=False)
        shutil.rmtree(hosts.parent)


def status(prefix: list[str], conf: Path, *curl: str) -> str:
    """The HTTP status of GET /v2/ on the registry, over TLS verified with the lab CA."""
    argv = [*prefix, require_tool("curl", "the Debian package curl"), "-s", "-o", "/dev/null", "-w", "%{http_code}",
            "--cacert", str(conf / "ca.crt"), "--resolve", "mirror.simlab.test:8443:192.168.16.1", *curl,
            "https://mirror.simlab.test:8443/v2/"]
    return subprocess.run(argv, capture_output=True, text=True, check=False, timeout=30).stdout


def test_the_registry_asks_for_the_login_over_tls_and_takes_an_image_back_by_digest(
        registry: tuple[list[str], Path, str], tmp_path: Path) -> None:
    prefix, conf, password = registry
    deadline = time.monotonic() + 30
    while status(prefix, conf) != "401" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert status(prefix, conf) == "401", (tmp_path / "registry.log").read_text()[-2000:]
    assert status(prefix, conf, "-K", str(curl_config(tmp_path / "good", "ocplab", password))) == "200"
    assert status(prefix, conf, "-K", str(curl_config(tmp_path / "bad", "ocplab", "wrong"))) == "401"
    image = oci_image(tmp_path / "image", os.urandom(64 * 1024))
    certs = cert_dir(tmp_path / "certs", (conf / "ca.crt").read_text())
    auth = auth_file(tmp_path / "auth.json", "mirror.simlab.test:8443", "ocplab", password)
    target = "docker://mirror.simlab.test:8443/ocplab/unit:1"
    anonymous = skopeo("copy", "--dest-cert-dir", str(certs), f"oci:{image}:test", target, prefix=prefix)
    assert anonymous.returncode != 0 and "authentication required" in anonymous.stderr.lower(), anonymous.stderr
    pushed = skopeo("copy", "--dest-cert-dir", str(certs), "--authfile", str(auth), f"oci:{image}:test", target,
                    prefix=prefix)
    assert pushed.returncode == 0, pushed.stderr
    read = skopeo("inspect", "--cert-dir", str(certs), "--authfile", str(auth), "--format", "{{.Digest}}", target,
                  prefix=prefix)
    assert read.returncode == 0, read.stderr
    assert read.stdout.strip() == manifest_digest(image)
    assert auth.stat().st_mode & 0o777 == 0o600


# --- the service as the lab stack starts it --------------------------------------------------------

def test_under_systemd_the_registry_runs_as_its_own_user_in_a_sandbox(tmp_path: Path) -> None:
    lab = lab_with({})
    text = mirror_scripts.mirror_apply_script(lab, "CERT", "CA")
    inputs = text.split("conf_dir=", 1)[1].split("\nIFS=", 1)[0]
    service = re.findall(r"^(?:description|exec_start|read_write)=.*$", text, re.MULTILINE)
    prelude = "\n".join([f"conf_dir={inputs}", "registry=/usr/bin/docker-registry", *service])
    unit = unit_written_by(text, prelude, tmp_path, mirror_scripts.UNIT)
    body = unit.read_text()
    assert "User=ocplab-mirror\n" in body and "ReadWritePaths=/var/lib/ocplab-mirror\n" in body
    assert "ExecStart=/usr/bin/docker-registry serve /etc/ocplab/mirror/config.yml\n" in body
    assert "CapabilityBoundingSet=\n" in body and "NoNewPrivileges=yes\n" in body
    analyzed_unit(unit)


def test_the_scripts_carry_no_secret_and_destroy_keeps_the_images_unless_told(ca: tuple[str, str]) -> None:
    key, ca_pem = ca
    server = server_certificate(key, ca_pem, ["mirror.simlab.test"], ["192.168.16.1"])
    lab = lab_with({})
    apply = mirror_scripts.mirror_apply_script(lab, server.certificate, ca_pem)
    stdin = mirror_scripts.mirror_stdin(server.key, htpasswd_line("ocplab", "pw", KEY, "simlab"))
    for secret in ("PRIVATE KEY", server.key.splitlines()[1][:40], stdin.splitlines()[0][:40], "$2b$"):
        assert secret not in apply
    assert "keep_data='yes'" in mirror_scripts.mirror_remove_script(lab)
    assert "keep_data='no'" in mirror_scripts.mirror_remove_script(lab_with({"keep_data": False}))


@pytest.mark.parametrize("part", ["mirror-apply", "mirror-ready", "service-run", "service-remove"])
def test_the_mirror_scripts_are_shellcheck_clean(part: str) -> None:
    done = subprocess.run([require_tool("shellcheck", "shellcheck"), "-s", "sh", f"renderers/files/{part}.sh"],
                          capture_output=True, text=True, check=False, cwd=Path(__file__).parents[2])
    assert done.returncode == 0, done.stdout


# --- the lab program and its outputs ---------------------------------------------------------------

def test_the_lab_program_keeps_the_ca_key_secret_and_sends_the_tls_key_on_stdin(tmp_path: Path) -> None:
    ssh = tmp_path / ".simlab" / "ssh"
    ssh.mkdir(parents=True)
    (ssh / "id_ed25519").write_text(KEY)
    (ssh / "known_hosts").write_text("".join(f"192.168.16.{n} ssh-ed25519 AAAAhost{n}\n" for n in (1, 11, 12)))
    mocks = use_mocks("simlab", {**VALUES, "mirror": {}})

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def declared() -> pulumi.Output[Any]:
        lab_program(tmp_path)
        return pulumi.Output.from_input(None)

    declared()
    [stash] = mocks.of_type("pulumi:index:Stash")
    assert stash.name == "mirror-ca"
    offered = stash.inputs["input"]
    assert offered.get(SECRET_SIG) and offered["value"]["key"] == lab_ca_key(KEY, "simlab"), \
        "the stash keeps, as a secret, the CA key derived from the lab key"
    [registry_command] = [c for c in mocks.of_type("command:remote:Command") if c.name == "mirror-registry"]
    inputs = registry_command.inputs
    assert "PRIVATE KEY" not in str(inputs["create"]) and "ocplab-mirror.service" in inputs["create"]
    assert inputs["stdin"].get(SECRET_SIG), "stdin is a secret"
    dnsmasq = next(c for c in mocks.of_type("command:remote:Command") if c.name == "jumphost-dnsmasq")
    assert b64(render_base_config(lab_with({}))) in dnsmasq.inputs["create"]
    assert "host-record=jumphost.simlab.test,mirror.simlab.test,192.168.16.1\n" in render_base_config(lab_with({}))


def test_the_lab_outputs_carry_the_mirror_and_clusters_read_them(ca: tuple[str, str], tmp_path: Path) -> None:
    lab = lab_with({"port": 5000})
    planned = planned_lab_outputs(lab, tmp_path)
    raw = lab_outputs(lab, planned.hypervisors, planned.jumphost.ssh_key_path, planned.jumphost.known_hosts, "x",
                      mirror_outputs(lab, ca[1])).as_outputs()
    assert raw["mirror"] == {"host": "mirror.simlab.test", "address": "192.168.16.1", "port": 5000, "user": "ocplab",
                             "ca_certificate": ca[1]}
    parsed = parse_lab_outputs("simlab", {**raw, "mirror_password": "[secret]"})
    assert parsed.mirror is not None and parsed.mirror.port == 5000
    assert "mirror" not in lab_outputs(lab_with({}).__class__(**{**lab.__dict__, "mirror": None}),
                                       planned.hypervisors, None, "/k", "x").as_outputs()
    with pytest.raises(ConfigError) as caught:
        parse_lab_outputs("simlab", {**raw, "version": 1, "network": {
            k: v for k, v in raw["network"].items() if k not in ("routing", "ntp", "ntp_upstream")}})
    assert caught.value.problems[0] == ("ocplab:lab: lab stack 'simlab' output mirror: version 1 has no mirror; a "
                                        "version-2 lab exports version 2")
    with pytest.raises(ConfigError) as caught:
        parse_lab_outputs("simlab", {**raw, "mirror": {**raw["mirror"], "ca_certificate": "#jinja2:x"}})
    assert "output mirror.ca_certificate: '#jinja2:x' is not a PEM certificate" in caught.value.problems[0]


# --- the scripts as the lab stack sends them, on a throwaway root ------------------------------------------------



def test_apply_starts_the_registry_as_its_user_and_returns_and_remove_keeps_its_images(
        ca: tuple[str, str], tmp_path: Path) -> None:
    """mirror-apply.sh and mirror-remove.sh for real, without systemd (as on the simulated jumphost), in new
    mount, network and PID namespaces whose /etc and /var are overlays: nothing of this machine changes. Apply must
    return with the registry left running (a child holding the session's pipes would hang `pulumi up`)."""
    key, ca_pem = ca
    lab = lab_with({})
    server = server_certificate(key, ca_pem, ["mirror.simlab.test"], ["192.168.16.1"])
    (tmp_path / "apply.sh").write_text(mirror_scripts.mirror_apply_script(lab, server.certificate, ca_pem))
    (tmp_path / "remove.sh").write_text(mirror_scripts.mirror_remove_script(lab))
    (tmp_path / "stdin").write_text(mirror_scripts.mirror_stdin(server.key, htpasswd_line(
        "ocplab", mirror_password(KEY, "simlab"), KEY, "simlab")))
    # Through a pipe, as over SSH, by bash (root's shell, which sshd runs it with): `cat` ends only once every
    # writer is gone, the registry included.
    checks = ("timeout 30 sh -c 'bash apply.sh < stdin 2>&1 | cat' > applied.out; echo \"rc=$?\"\n"
              "bash apply.sh < stdin > again.out 2>&1 && cat again.out\n"
              "ps -o user:32= -p \"$(cat /run/ocplab-mirror/registry.pid)\"\n"
              "stat -c '%U:%G %a' /etc/ocplab/mirror/tls.key /var/lib/ocplab-mirror\n"
              "bash remove.sh\n"
              "pgrep -x docker-registry || echo stopped; ls -d /var/lib/ocplab-mirror /etc/ocplab/mirror 2>&1\n")
    require_tool("docker-registry", "the Debian package docker-registry")
    done = on_throwaway_jumphost(checks, tmp_path)
    out = done.stdout.splitlines()
    assert out[:2] == ["rc=0", "ocplab mirror: unchanged"], done.stdout + done.stderr + \
        (tmp_path / "applied.out").read_text()
    assert "ocplab mirror: the registry (re)started at https://mirror.simlab.test:8443" in \
        (tmp_path / "applied.out").read_text()
    assert out[2:5] == ["ocplab-mirror", "root:ocplab-mirror 640", "ocplab-mirror:ocplab-mirror 700"], done.stdout
    assert out[5].startswith("ocplab: the mirror registry is gone from the jumphost; its data stays")
    assert out[6] == "stopped"
    assert sorted(out[7:]) == ["/var/lib/ocplab-mirror", "ls: cannot access '/etc/ocplab/mirror': No such file or "
                                                         "directory"], "the images stay, the config goes"
