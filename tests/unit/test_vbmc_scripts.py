"""The vbmc scripts parse in POSIX sh and never hold the password; the helper keeps each cluster's
entries exactly as planned against a stand-in for vbmcd that stores entries the way vbmcd does."""

from __future__ import annotations

import argparse
import configparser
import io
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from core.bmc_plan import BmcPlan, bmc_password
from core.port_range import PortRange
from renderers import sushy_scripts
from renderers.files import ocplab_vbmc as helper
from renderers.vbmc_scripts import (
    REQUIREMENT,
    VENV,
    helper_source,
    vbmc_remove_script,
    vbmc_sync_script,
    vbmcd_config,
    vbmcd_install_script,
    vbmcd_uninstall_script,
)
from tests.tools import analyzed_unit, unit_written_by

PLAN = BmcPlan(address="192.168.16.11", ports={"master-0": 6230, "master-1": 6231, "worker-0": 6232})
PASSWORD = bmc_password("a key", "ipi1")
SCRIPTS = {
    "vbmcd install": vbmcd_install_script([PortRange(6230, 6239), PortRange(6240, 6249)]),
    "vbmcd install, no ports": vbmcd_install_script([]),
    "vbmcd uninstall": vbmcd_uninstall_script([PortRange(6230, 6239)]),
    "cluster sync": vbmc_sync_script("ipi1", PLAN),
    "cluster sync, no plan": vbmc_sync_script("ipi1", None),
    "cluster remove": vbmc_remove_script("ipi1"),
}


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_scripts_parse_in_posix_sh(name: str) -> None:
    dash = shutil.which("dash")
    if dash is None:
        pytest.fail("dash not found: apt-get install dash")
    result = subprocess.run([dash, "-n"], input=SCRIPTS[name], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_sync_script_names_entries_and_reads_the_password_elsewhere() -> None:
    script = SCRIPTS["cluster sync"]
    assert "entries='ipi1-master-0=6230 ipi1-master-1=6231 ipi1-worker-0=6232'" in script
    assert "cluster='ipi1'" in script and "bmc_user='admin'" in script and '" sync "$cluster"' in script
    assert all(PASSWORD not in text for text in SCRIPTS.values())
    assert "--password" not in script


def test_install_script_installs_the_helper_and_a_private_config() -> None:
    script = SCRIPTS["vbmcd install"]
    assert REQUIREMENT in script and "--system-site-packages" in script and "setsid" in script
    assert "firewall-cmd" in script and "6230-6239 6240-6249" in script
    assert 'stage "$conf" "$conf_b64" 0640' in script and 'chmod 0700 "$root/domains"' in script  # the passwords
    config = configparser.ConfigParser()
    config.read_string(vbmcd_config())
    assert config["default"]["config_dir"] == "/etc/ocplab/vbmc/domains"
    assert config["default"]["show_passwords"] == "false" and config["log"]["debug"] == "false"
    assert "def sync(" in helper_source()


def test_without_systemd_vbmcd_starts_as_its_user_with_no_way_back_to_root() -> None:
    script = SCRIPTS["vbmcd install"]
    assert "user='ocplab-vbmc'" in script and "--groups libvirt" in script
    assert ('setsid setpriv --reuid="$user" --regid="$user" --init-groups \\\n'
            '    --no-new-privs --inh-caps=-all --bounding-set=-all -- "$venv/bin/vbmcd"') in script


def vbmcd_unit(where: Path) -> Path:
    """The unit the install script writes where systemd runs, its variables expanded by sh."""
    script = SCRIPTS["vbmcd install"]
    inputs = script.split("set -eu\n", 1)[1].split("\nfail()", 1)[0]  # lib-common's functions, then the inputs
    return unit_written_by(script, inputs, where, "ocplab-vbmcd.service")


def test_under_systemd_vbmcd_runs_as_its_user_in_a_sandbox(tmp_path: Path) -> None:
    """The unit without its sandbox and user scored 9.6 of 10 in systemd's exposure; this one at most 3."""
    unit = vbmcd_unit(tmp_path)
    text = unit.read_text()
    assert "User=ocplab-vbmc\n" in text and "SupplementaryGroups=libvirt\n" in text
    assert "ReadWritePaths=/etc/ocplab/vbmc/domains /var/log/ocplab-vbmcd.log\n" in text
    analyzed_unit(unit)


class FakeVbmcd:
    """vbmcd's command handling, storing each entry as vbmcd's manager does (<dir>/<domain>/config)."""

    def __init__(self, domains: Path, dead_ports: frozenset[int] = frozenset()) -> None:
        self.domains, self.dead_ports = domains, dead_ports
        self.running: set[str] = set()
        self.calls: list[tuple[str, Any]] = []
        domains.mkdir(parents=True, exist_ok=True)

    def _config(self, domain: str) -> configparser.SectionProxy:
        parser = configparser.ConfigParser()
        parser.read(self.domains / domain / "config")
        return parser["VirtualBMC"]

    def communicate(self, command: str, args: argparse.Namespace) -> Mapping[str, Any]:
        data = vars(args)
        self.calls.append((command, data.get("domain_name") or data.get("domain_names")))
        if command == "list":
            rows = [[d.name, "running" if d.name in self.running else "down", self._config(d.name)["address"],
                     self._config(d.name)["port"]] for d in sorted(self.domains.iterdir())]
            return {"rows": rows}
        if command == "add":
            path = self.domains / data["domain_name"]
            if path.exists():
                raise helper.VbmcError("(1): exists")
            path.mkdir()
            parser = configparser.ConfigParser()
            parser["VirtualBMC"] = {k: str(v) for k, v in data.items() if v is not None}
            parser["VirtualBMC"]["active"] = "False"
            with (path / "config").open("w") as handle:
                parser.write(handle)
        elif command == "start":
            self.running |= {d for d in data["domain_names"] if int(self._config(d)["port"]) not in self.dead_ports}
        elif command == "delete":
            for domain in data["domain_names"]:
                shutil.rmtree(self.domains / domain)
                self.running.discard(domain)
        return {"rc": 0}


@pytest.fixture
def vbmcd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeVbmcd]:
    monkeypatch.setattr(helper, "ROOT", tmp_path)
    yield FakeVbmcd(tmp_path / "domains")


def run(vbmcd: FakeVbmcd, *argv: str, stdin: str = "", monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = helper.main(list(argv), client=vbmcd)
    out, err = capsys.readouterr()
    return code, out, err


ENTRIES = ("ipi1-master-0=6230", "ipi1-master-1=6231")


def test_sync_adds_starts_and_is_then_a_no_op(vbmcd: FakeVbmcd, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(vbmcd, "sync", "ipi1", "192.168.16.11", "admin", *ENTRIES, stdin=PASSWORD + "\n",
                       monkeypatch=monkeypatch, capsys=capsys)
    assert code == 0 and "2 BMCs running on 192.168.16.11 ports 6230-6231 (added 2, kept 0, removed 0)" in out
    assert vbmcd.running == {"ipi1-master-0", "ipi1-master-1"}
    stored = helper.Bmcs(vbmcd, vbmcd.domains).stored("ipi1-master-0")
    assert stored is not None and (stored["password"], stored["username"], stored["port"], stored["libvirt_uri"]) == (
        PASSWORD, "admin", "6230", "qemu:///system")
    assert PASSWORD not in out
    code, out, _ = run(vbmcd, "sync", "ipi1", "192.168.16.11", "admin", *ENTRIES, stdin=PASSWORD + "\n",
                       monkeypatch=monkeypatch, capsys=capsys)
    assert code == 0 and "(added 0, kept 2, removed 0)" in out
    assert [c for c in vbmcd.calls if c[0] in ("add", "delete")] == [("add", "ipi1-master-0"),
                                                                      ("add", "ipi1-master-1")]


def test_sync_replaces_changed_entries_and_drops_nodes_that_left(
        vbmcd: FakeVbmcd, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    run(vbmcd, "sync", "ipi1", "192.168.16.11", "admin", *ENTRIES, "ipi1-worker-0=6232", stdin=PASSWORD,
        monkeypatch=monkeypatch, capsys=capsys)
    code, out, _ = run(vbmcd, "sync", "ipi1", "192.168.16.11", "admin", "ipi1-master-0=6230", "ipi1-master-1=6235",
                       stdin="another\n", monkeypatch=monkeypatch, capsys=capsys)
    assert code == 0 and "(added 2, kept 0, removed 1)" in out
    assert sorted(d.name for d in vbmcd.domains.iterdir()) == ["ipi1-master-0", "ipi1-master-1"]
    assert helper.owned("ipi1") == ["ipi1-master-0", "ipi1-master-1"]


def test_port_clash_with_another_cluster_is_refused_untouched(
        vbmcd: FakeVbmcd, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    run(vbmcd, "sync", "sno1", "192.168.16.11", "admin", "sno1-sno=6231", stdin="pw",
        monkeypatch=monkeypatch, capsys=capsys)
    code, _, err = run(vbmcd, "sync", "ipi1", "192.168.16.11", "admin", *ENTRIES, stdin=PASSWORD,
                       monkeypatch=monkeypatch, capsys=capsys)
    assert code == 1
    assert "port 6231 (for ipi1-master-1) is already the BMC port of sno1-sno" in err and PASSWORD not in err
    assert sorted(d.name for d in vbmcd.domains.iterdir()) == ["sno1-sno"]


def test_a_bmc_that_cannot_run_is_an_error_naming_its_port(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(helper, "ROOT", tmp_path)
    wait = helper._wait_running
    monkeypatch.setattr(helper, "_wait_running", lambda bmcs, wanted, timeout: wait(bmcs, wanted, 0))
    dead = FakeVbmcd(tmp_path / "domains", dead_ports=frozenset({6231}))
    code, _, err = run(dead, "sync", "ipi1", "192.168.16.11", "admin", *ENTRIES, stdin=PASSWORD,
                       monkeypatch=monkeypatch, capsys=capsys)
    assert code == 1 and "not running for ipi1-master-1 (port 6231" in err


@pytest.mark.parametrize("stdin", ["", "x" * 21, "\n"])
def test_sync_needs_a_password_on_stdin(vbmcd: FakeVbmcd, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str], stdin: str) -> None:
    code, _, err = run(vbmcd, "sync", "ipi1", "192.168.16.11", "admin", *ENTRIES, stdin=stdin,
                       monkeypatch=monkeypatch, capsys=capsys)
    assert code == 1 and "password on stdin must be 1-20 characters" in err
    assert list(vbmcd.domains.iterdir()) == []


def test_remove_deletes_only_the_clusters_own(vbmcd: FakeVbmcd, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    run(vbmcd, "sync", "ipi1", "192.168.16.11", "admin", *ENTRIES, stdin=PASSWORD,
        monkeypatch=monkeypatch, capsys=capsys)
    run(vbmcd, "sync", "ipi1-b", "192.168.16.11", "admin", "ipi1-b-master-0=6240", stdin="pw",
        monkeypatch=monkeypatch, capsys=capsys)
    code, out, _ = run(vbmcd, "remove", "ipi1", monkeypatch=monkeypatch, capsys=capsys)
    assert code == 0 and "cluster ipi1: 2 BMCs removed" in out
    assert [d.name for d in vbmcd.domains.iterdir()] == ["ipi1-b-master-0"]
    assert not helper.owned_path("ipi1").exists() and helper.owned("ipi1-b") == ["ipi1-b-master-0"]
    code, out, _ = run(vbmcd, "remove", "ipi1", monkeypatch=monkeypatch, capsys=capsys)
    assert code == 0 and "0 BMCs removed" in out


def test_install_deps_provides_the_venv_the_script_looks_for() -> None:
    """The simulated hypervisors share this machine's /opt: install-deps.sh must fill the same venv."""
    deps = (Path(__file__).resolve().parents[2] / "scripts" / "install-deps.sh").read_text()
    assert f"pinned_venv virtualbmc 3.3.0 {VENV}\n" in deps and "python3-libvirt" in deps
    assert REQUIREMENT.endswith("<=3.3.0"), "the pinned simlab version is the newest the remote script allows"
    assert f"pinned_venv sushy-tools {sushy_scripts.VERSION} {sushy_scripts.VENV}\n" in deps
    assert f"sushy-tools=={sushy_scripts.VERSION}" == sushy_scripts.REQUIREMENT
