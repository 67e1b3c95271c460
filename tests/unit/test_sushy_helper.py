"""The Redfish helper the hypervisors run (renderers/files/ocplab_sushy.py), in the sushy-tools venv the
lab installs: its health check refuses a wrong or broken sushy-tools with the reason, and its launcher
confines an emulator to the allowed domains on every route (libvirt's test driver, Flask's test client)."""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from pathlib import Path

import pytest

from renderers.sushy_scripts import VENV, VERSION
from tests.tools import analyzed_unit

HELPER = Path(__file__).resolve().parents[2] / "renderers" / "files" / "ocplab_sushy.py"
TEST_DOMAIN = "6695eb01-f6a4-8304-79aa-97f2502e193f"  # the one domain of libvirt's test:///default


def sushy_python() -> str:
    python = Path(VENV) / "bin" / "python"
    if not python.exists():
        raise RuntimeError(f"no {python}: run scripts/install-deps.sh (it installs sushy-tools {VERSION} there)")
    return str(python)


def run(*argv: str, env: dict[str, str] | None = None, code: str | None = None) -> subprocess.CompletedProcess[str]:
    command = [sushy_python(), "-c", code] if code else [sushy_python(), str(HELPER), *argv]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, env=env, check=False)


def test_the_health_check_refuses_another_version_naming_both() -> None:
    result = run("check", "1.0.0")
    assert result.returncode == 1
    assert f"sushy-tools {VERSION} is installed, ocplab needs 1.0.0" in result.stderr


def test_the_health_check_refuses_a_sushy_tools_that_does_not_serve(tmp_path: Path) -> None:
    fake = tmp_path / "sushy_tools" / "emulator"
    fake.mkdir(parents=True)
    (tmp_path / "sushy_tools" / "__init__.py").write_text("")
    (fake / "__init__.py").write_text("")
    (fake / "main.py").write_text("raise ImportError('cannot import name libvirt_open')\n")
    result = run("check", VERSION, env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 1
    assert f"sushy-tools {VERSION} fails its health check: ImportError: cannot import name" in result.stderr


CONFINED = textwrap.dedent("""
    import json, sys
    sys.path.insert(0, {helper_dir!r})
    import ocplab_sushy
    ocplab_sushy._fix_denial(); ocplab_sushy._confine_driver()
    from sushy_tools.emulator import main
    ocplab_sushy._confine_routes(main.app)
    main.app.config.update(SUSHY_EMULATOR_LIBVIRT_URI="test:///default", SUSHY_EMULATOR_ALLOWED_INSTANCES={allowed!r})
    client = main.app.test_client()
    def members(path):
        return [m["@odata.id"] for m in client.get(path).get_json()["Members"]]
    chassis = [client.get(c).get_json() for c in members("/redfish/v1/Chassis")]
    print(json.dumps({{
        "systems": members("/redfish/v1/Systems"), "managers": members("/redfish/v1/Managers"),
        "chassis": json.dumps(chassis),
        "system": client.get("/redfish/v1/Systems/{domain}").status_code,
        "manager": client.get("/redfish/v1/Managers/{domain}").status_code,
        "media": client.get("/redfish/v1/Systems/{domain}/VirtualMedia/Cd").status_code,
        "insert": client.post("/redfish/v1/Systems/{domain}/VirtualMedia/Cd/Actions/VirtualMedia.InsertMedia",
                              json={{"Image": "http://192.0.2.1/x.iso"}}).status_code,
        "reset": client.post("/redfish/v1/Systems/{domain}/Actions/ComputerSystem.Reset",
                             json={{"ResetType": "ForceOff"}}).status_code,
    }}))
""")


def confined(allowed: list[str]) -> dict[str, object]:
    result = run(code=CONFINED.format(helper_dir=str(HELPER.parent), allowed=allowed, domain=TEST_DOMAIN))
    assert result.returncode == 0, result.stderr
    answer: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return answer


def test_a_domain_outside_the_allowed_ones_is_on_no_route() -> None:
    seen = confined(["00000000-0000-0000-0000-000000000000"])
    assert seen["systems"] == [] and seen["managers"] == []
    assert TEST_DOMAIN not in str(seen["chassis"])
    assert (seen["system"], seen["manager"], seen["media"], seen["insert"], seen["reset"]) == (404,) * 5


def test_an_allowed_domain_is_listed_and_served() -> None:
    seen = confined([TEST_DOMAIN])
    assert seen["systems"] == [f"/redfish/v1/Systems/{TEST_DOMAIN}"]
    assert seen["managers"] == [f"/redfish/v1/Managers/{TEST_DOMAIN}"]
    assert (seen["system"], seen["manager"], seen["media"], seen["reset"]) == (200, 200, 200, 204)


@pytest.mark.parametrize("line", ["admin:$2b$08$abcdefghijklmnopqrstuuJc6uYg2n1Ns2tYxQ3Ej1VZ0mK3Fz9aW", ""])
def test_the_htpasswd_is_bcrypt_and_kept_only_while_it_admits_the_password(tmp_path: Path, line: str) -> None:
    path = tmp_path / "htpasswd"
    if line:
        path.write_text(line + "\n")
    code = textwrap.dedent(f"""
        import sys; sys.path.insert(0, {str(HELPER.parent)!r})
        import ocplab_sushy, pathlib
        p = pathlib.Path({str(path)!r})
        print(ocplab_sushy._htpasswd(p, "admin", "s3cret"), ocplab_sushy._htpasswd(p, "admin", "s3cret"))
    """)
    result = run(code=code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "False"]  # written once, then kept
    text = path.read_text()
    assert text.startswith("admin:$2b$08$") and "s3cret" not in text
    assert oct(path.stat().st_mode & 0o777) == "0o600"


NAMED = textwrap.dedent("""
    import json, sys
    sys.path.insert(0, {helper_dir!r})
    import ocplab_sushy
    from sushy_tools.emulator.resources import vmedia
    ocplab_sushy._plain_media_names()

    class Answer:  # what requests gives sushy-tools: headers, then the body in chunks
        headers = {{"content-disposition": {disposition!r}}}
        def iter_content(self, chunk_size):
            return [b"ISO"]

    class Download:
        name = {download!r}

    print(json.dumps(vmedia._write_from_response({url!r}, Answer(), Download())))
""")


@pytest.mark.parametrize(("filename", "url", "name"), [
    ("../x", "http://192.0.2.1/boot.iso", "x"),
    ("/etc/cron.d/x", "http://192.0.2.1/boot.iso", "x"),
    ("..", "http://192.0.2.1/boot.iso", "image.iso"),
    ("", "http://192.0.2.1/..", "image.iso"),  # no filename: sushy-tools takes the URL's last part
    ("x\0y", "http://192.0.2.1/boot.iso", "image.iso"),
    ("rhcos-live.x86_64.iso", "http://192.0.2.1/boot.iso", "rhcos-live.x86_64.iso"),
], ids=["parent", "absolute", "dot-dot", "empty", "nul", "plain"])
def test_a_media_download_is_named_by_a_plain_name_whatever_the_server_sends(
        tmp_path: Path, filename: str, url: str, name: str) -> None:
    code = NAMED.format(helper_dir=str(HELPER.parent), disposition=f'attachment; filename="{filename}"', url=url,
                        download=str(tmp_path / "download"))
    result = run(code=code)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == name


DOWNLOADED = textwrap.dedent("""
    import json, logging, pathlib, sys
    sys.path.insert(0, {helper_dir!r})
    import ocplab_sushy
    from sushy_tools.emulator.resources import vmedia
    ocplab_sushy.confine_media(pathlib.Path({media!r}))

    class Answer:
        status_code = 200
        headers = {{"content-disposition": 'attachment; filename="../../outside/OUTSIDE"'}}
        def __enter__(self):
            return self
        def __exit__(self, *args):
            return False
        def iter_content(self, chunk_size):
            return [b"ISO"]

    vmedia.requests.get = lambda *args, **kwargs: Answer()
    driver = vmedia.StaticDriver({{}}, logging.getLogger("test"))
    print(json.dumps(driver._get_image("http://192.0.2.1/boot.iso", None, False, None)))
""")


def test_a_hostile_media_download_lands_in_the_media_dir_and_nowhere_else(tmp_path: Path) -> None:
    media, outside = tmp_path / "media", tmp_path / "outside"
    media.mkdir()
    outside.mkdir()  # where sushy-tools 2.2.0 alone renames the download: media/tmpXXXX/../../outside/OUTSIDE
    result = run(code=DOWNLOADED.format(helper_dir=str(HELPER.parent), media=str(media)))
    assert result.returncode == 0, result.stderr
    name, path = json.loads(result.stdout)
    assert name == "OUTSIDE" and Path(path).parent.parent == media and Path(path).read_bytes() == b"ISO"
    assert list(outside.iterdir()) == []


def test_the_emulator_refuses_to_serve_as_root(tmp_path: Path) -> None:
    assert os.geteuid() == 0, "run the tests as root (make test does): the refusal is of root"
    result = run("serve", str(tmp_path / "emulator.conf"))
    assert result.returncode == 1 and "refusing to serve Redfish as root" in result.stderr


def test_each_cluster_has_a_user_of_its_own_whose_name_linux_accepts() -> None:
    clusters = ["rf1", "a" * 21, "b" * 63, "b" * 62 + "c"]
    code = (f"import sys; sys.path.insert(0, {str(HELPER.parent)!r}); import ocplab_sushy as o; "
            f"print(*(o.service_user(c) for c in {clusters!r}))")
    names = run(code=code).stdout.split()
    assert names[:2] == ["ocplab-bmc-rf1", "ocplab-bmc-" + "a" * 21]  # readable while they fit
    assert len(set(names)) == 4 and all(len(n) <= 32 for n in names)  # useradd refuses more than 32


def unit_with_dropin(where: Path) -> Path:
    """The emulator's unit as systemd would load it for cluster rf1: the template, then the cluster's drop-in."""
    code = textwrap.dedent(f"""
        import grp, pwd, sys; sys.path.insert(0, {str(HELPER.parent)!r})
        import ocplab_sushy as o
        user = pwd.struct_passwd(("ocplab-bmc-rf1", "x", 990, 0, "", "/nonexistent", "/usr/sbin/nologin"))
        print(o._unit_file().split("[Install]")[0] + o._unit_user(user).split("[Service]")[1])
    """)
    result = run(code=code)
    assert result.returncode == 0, result.stderr
    unit = where / "ocplab-sushy-rf1.service"
    unit.write_text(result.stdout.replace("%i", "rf1"))
    return unit


def test_the_systemd_unit_runs_the_emulator_as_its_user_in_a_sandbox(tmp_path: Path) -> None:
    """The unit without its sandbox and user scored 9.6 of 10 in systemd's exposure; this one at most 3."""
    unit = unit_with_dropin(tmp_path)
    text = unit.read_text()
    assert "User=ocplab-bmc-rf1\n" in text and "SupplementaryGroups=libvirt ocplab-bmc\n" in text
    assert "ReadWritePaths=/etc/ocplab/sushy/clusters/rf1/state /etc/ocplab/sushy/clusters/rf1/media\n" in text
    verified = analyzed_unit(unit)
    assert verified.returncode == 0, verified.stderr


def test_after_an_upgrade_an_emulator_running_as_root_is_restarted_as_its_user(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from renderers.files import ocplab_sushy as helper

    pids, uids = {"old": 101, "new": 102, "stopped": None}, {101: 0, 102: 990}
    done: list[tuple[str, str]] = []
    monkeypatch.setattr(helper, "listed_clusters", lambda: list(pids))
    monkeypatch.setattr(helper, "running", lambda c: pids[c] is not None)
    monkeypatch.setattr(helper, "main_pid", lambda c: pids[c])
    monkeypatch.setattr(helper, "process_uid", lambda pid: uids.get(pid))
    monkeypatch.setattr(helper, "ensure_user", lambda c: f"user of {c}")
    monkeypatch.setattr(helper, "confine_files", lambda c, user: done.append(("confine", user)))
    monkeypatch.setattr(helper, "stop", lambda c: done.append(("stop", c)))
    monkeypatch.setattr(helper, "start", lambda c, user: done.append(("start", user)))
    assert helper.restart_root_emulators() == ["old"]
    assert done == [("confine", "user of old"), ("stop", "old"), ("start", "user of old")]
