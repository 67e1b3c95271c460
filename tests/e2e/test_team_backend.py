"""On the simulated lab: the stacks on a team backend, Pulumi's DIY backend on PostgreSQL.

PostgreSQL (Debian's) runs in the jumphost namespace with a role and password of its own; the
password reaches pulumi through a libpq passfile, never the URL or a command line. The lab stack
starts on a file backend, as on one jumphost, and moves to PostgreSQL with `pulumi stack export`
and `import`; its next `up` changes nothing. Then two operators, each with a checkout and a
PULUMI_HOME of their own, deploy the two clusters at the same time, and the same stack updated
by both at once is refused for the second with Pulumi's lock message. Bad backends fail in one
message with nothing created.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from simlab.postgres import PostgresServer
from simlab.pulumi_engine import PULUMI_HOME, PulumiError, Workspace, copy_project
from tests.e2e.lab_helpers import LabSession

pytestmark = pytest.mark.simlab


@pytest.fixture(scope="module")
def pg(lab: LabSession) -> Iterator[PostgresServer]:
    server = PostgresServer().start()
    try:
        yield server
    finally:
        server.stop()


def operator(workdir: Path, name: str, server: PostgresServer) -> Workspace:
    """Someone with a checkout and a PULUMI_HOME of their own (plugins shared), on the team backend."""
    home = workdir / f"{name}-pulumi-home"
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "plugins").exists():
        (home / "plugins").symlink_to(PULUMI_HOME / "plugins")
    return Workspace(project=copy_project(workdir / f"{name}-checkout"), backend=workdir / "unused",
                     backend_url=server.url, home=home, extra_env={"PGPASSFILE": str(server.passfile)})


@pytest.fixture(scope="module")
def operators(pg: PostgresServer, tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, Workspace]:
    workdir = tmp_path_factory.mktemp("team")
    return operator(workdir, "alice", pg), operator(workdir, "bob", pg)


def decrypted(workspace: Workspace, stack: str) -> dict[str, Any]:
    """Each resource's outputs by URN as the backend holds them (secrets decrypted: their ciphertext
    changes on every write; the order of resources may change too)."""
    state = json.loads(workspace.run("stack", "export", "--show-secrets", "-s", stack).stdout)
    return {r["urn"]: r.get("outputs") for r in state["deployment"].get("resources", [])}


def timed(what: str, lab: LabSession, call: Any) -> Any:
    started = time.monotonic()
    result = call()
    lab.note(what, time.monotonic() - started)
    return result


def test_the_lab_stack_moves_from_the_file_backend_to_postgres_with_zero_changes(
        lab: LabSession, operators: tuple[Workspace, Workspace], tmp_path: Path) -> None:
    alice, _ = operators
    lab.up("simlab")
    timed("file backend: pulumi preview -s simlab (s)", lab, lambda: lab.pulumi.preview("simlab"))
    timed("file backend: no-op pulumi up -s simlab (s)", lab, lambda: lab.up("simlab", "--expect-no-changes"))
    exported = tmp_path / "simlab.json"
    lab.pulumi.run("stack", "export", "-s", "simlab", "--file", str(exported))

    alice.run("stack", "init", "simlab")
    alice.run("stack", "import", "-s", "simlab", "--file", str(exported))
    timed("postgres backend: pulumi preview -s simlab (s)", lab,
          lambda: alice.preview("simlab", "--expect-no-changes"))
    timed("postgres backend: no-op pulumi up -s simlab (s)", lab, lambda: alice.up("simlab", "--expect-no-changes"))
    assert decrypted(alice, "simlab") == decrypted(lab.pulumi, "simlab")
    assert alice.project.joinpath("stacks", "Pulumi.simlab.yaml").read_text() == \
        lab.project.joinpath("stacks", "Pulumi.simlab.yaml").read_text(), "the stack file is not rewritten"


def test_two_operators_deploy_two_clusters_at_the_same_time(lab: LabSession, pg: PostgresServer,
                                                           operators: tuple[Workspace, Workspace]) -> None:
    alice, bob = operators
    results: dict[str, Exception | None] = {}

    def deploy(who: Workspace, stack: str) -> None:
        try:
            who.up(stack)
            results[stack] = None
        except PulumiError as exc:
            results[stack] = exc

    threads = [threading.Thread(target=deploy, args=(alice, "ipi1")),
               threading.Thread(target=deploy, args=(bob, "sno1"))]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lab.note("postgres backend: ipi1 (alice) + sno1 (bob) at once (s)", time.monotonic() - started)
    assert results == {"ipi1": None, "sno1": None}
    assert {s["name"] for s in json.loads(bob.run("stack", "ls", "--json").stdout)} == {"simlab", "ipi1", "sno1"}
    assert alice.outputs("sno1")["nodes"][0]["ip"] == "192.168.16.48", "alice reads what bob deployed"
    assert len(pg.sql("SELECT key FROM pulumi_state WHERE key LIKE '%stacks%'")) >= 3
    bob.preview("ipi1", "--expect-no-changes")


def test_the_same_stack_from_both_at_once_is_refused_for_the_second(lab: LabSession, pg: PostgresServer,
                                                                    operators: tuple[Workspace, Workspace]) -> None:
    alice, bob = operators
    before = decrypted(alice, "sno1")
    first: list[Exception | None] = []
    thread = threading.Thread(target=lambda: first.append(_up_or_error(alice, "sno1")))
    thread.start()
    deadline = time.monotonic() + 60
    while not pg.sql("SELECT key FROM pulumi_state WHERE key LIKE '%locks%sno1%'"):
        assert time.monotonic() < deadline, "alice's update never took the lock"
        time.sleep(0.05)
    second = bob.run("up", "--yes", "--skip-preview", "-s", "sno1", check=False)
    thread.join()
    assert first == [None], "the first update goes through"
    assert second.returncode != 0
    assert "the stack is currently locked by 1 lock(s)" in second.stdout + second.stderr
    assert "pulumi cancel" in second.stdout + second.stderr, "the message says the way out"
    assert decrypted(bob, "sno1") == before, "nothing changed"
    assert pg.sql("SELECT key FROM pulumi_state WHERE key LIKE '%locks%'") == [], "no lock left behind"


def _up_or_error(who: Workspace, stack: str) -> Exception | None:
    try:
        who.up(stack)
    except PulumiError as exc:
        return exc
    return None


@pytest.mark.parametrize(("what", "url", "passfile", "message"), [
    ("unreachable", "postgres://ocplab@192.168.16.1:5439/pulumi?sslmode=disable", True, "connection refused"),
    ("wrong password", None, False, 'password authentication failed for user "ocplab"'),
])
def test_a_bad_backend_fails_in_one_message_and_creates_nothing(lab: LabSession, pg: PostgresServer,
                                                                operators: tuple[Workspace, Workspace], tmp_path: Path,
                                                                what: str, url: str | None, passfile: bool,
                                                                message: str) -> None:
    alice, _ = operators
    wrong = tmp_path / "pgpass"
    wrong.write_text(f"{pg.address}:{pg.port}:{pg.database}:{pg.role}:not-the-password\n")
    wrong.chmod(0o600)
    broken = Workspace(project=alice.project, backend=alice.backend, backend_url=url or pg.url, home=alice.home,
                       extra_env={"PGPASSFILE": str(pg.passfile if passfile else wrong)})
    before = decrypted(alice, "sno1")
    result = broken.run("up", "--yes", "--skip-preview", "-s", "sno1", check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0 and message in output, output
    assert pg.password not in output and "not-the-password" not in output
    assert decrypted(alice, "sno1") == before
