"""The Redfish helper the hypervisors run (renderers/files/ocplab_sushy.py), in the sushy-tools venv the
lab installs: its health check refuses a wrong or broken sushy-tools with the reason, and its launcher
confines an emulator to the allowed domains on every route (libvirt's test driver, Flask's test client)."""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path

import pytest

from renderers.sushy_scripts import VENV, VERSION

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
