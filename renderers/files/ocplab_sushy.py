"""ocplab-sushy: one cluster's Redfish BMC, a sushy-tools emulator of its own, on this hypervisor.

The lab stack installs this file on each hypervisor with a Redfish slice (renderers/sushy_scripts.py)
and the stacks run it with the Python of /opt/ocplab/sushy:

    check VERSION                                    the installed sushy-tools is VERSION and serves libvirt here
    sync CLUSTER ADDRESS PORT USER UUID [UUID ...]   the BMC password comes on stdin
    remove CLUSTER
    list                                             the clusters with an emulator here, one per line

One emulator per cluster, each with its own port, htpasswd (bcrypt) and SUSHY_EMULATOR_ALLOWED_INSTANCES
(the cluster's domain UUIDs): a cluster's credentials reach its own domains and no other; a neighbour's
system is neither listed nor found. TLS with the hypervisor's certificate, as redhatci.ocp reads
`redfish://` as HTTPS. Nothing here prints the password or puts it on a command line.
"""

from __future__ import annotations

import argparse
import base64
import importlib
import importlib.metadata
import json
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(os.environ.get("OCPLAB_SUSHY_ROOT", "/etc/ocplab/sushy"))
RUN = Path(os.environ.get("OCPLAB_SUSHY_RUN", "/run/ocplab-sushy"))
LOG_DIR = Path("/var/log/ocplab-sushy")
UNIT = "ocplab-sushy@"
LIBVIRT_URI = "qemu:///system"
BCRYPT_ROUNDS = 8  # checked on every request: 12 (bcrypt's default) costs ~0.25 s of a 2-core host per call
_CLUSTER = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\Z")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")


class SushyError(RuntimeError):
    """A step failed; the message names the cluster, port or file, never the password."""


def cert_paths() -> tuple[Path, Path]:
    return ROOT / "tls" / "cert.pem", ROOT / "tls" / "key.pem"


def cluster_dir(cluster: str) -> Path:
    if not _CLUSTER.match(cluster):
        raise SushyError(f"{cluster!r} is not a cluster name")
    return ROOT / "clusters" / cluster


def emulator_config(address: str, port: int, uuids: list[str], where: Path) -> str:
    """sushy-emulator's config file (Python): libvirt here, TLS, basic auth, only these domains."""
    cert, key = cert_paths()
    values = {
        "SUSHY_EMULATOR_LISTEN_IP": address, "SUSHY_EMULATOR_LISTEN_PORT": port,
        "SUSHY_EMULATOR_SSL_CERT": str(cert), "SUSHY_EMULATOR_SSL_KEY": str(key),
        "SUSHY_EMULATOR_AUTH_FILE": str(where / "htpasswd"), "SUSHY_EMULATOR_LIBVIRT_URI": LIBVIRT_URI,
        "SUSHY_EMULATOR_ALLOWED_INSTANCES": sorted(uuids), "SUSHY_EMULATOR_STATE_DIR": str(where / "state"),
        "SUSHY_EMULATOR_VMEDIA_VERIFY_SSL": False,
    }
    return "".join(f"{name} = {value!r}\n" for name, value in values.items())


def _write(path: Path, text: str) -> bool:
    """Write `text` (mode 0600) unless the file already holds it; True when it changed."""
    if path.exists() and path.read_text() == text:
        return False
    staged = path.with_name(f".{path.name}.new")
    staged.write_text(text)
    staged.chmod(0o600)
    staged.replace(path)
    return True


def _htpasswd(path: Path, user: str, password: str) -> bool:
    """Keep the file when it already admits (user, password); else a new bcrypt entry. True when it changed."""
    bcrypt = importlib.import_module("bcrypt")
    if path.exists():
        for line in path.read_text().splitlines():
            name, _, digest = line.partition(":")
            if name == user and digest and bcrypt.checkpw(password.encode(), digest.encode()):
                return False
    digest = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=BCRYPT_ROUNDS)).decode()
    return _write(path, f"{user}:{digest}\n")


def has_systemd() -> bool:
    return Path("/run/systemd/system").is_dir() and shutil.which("systemctl") is not None


def _pid(cluster: str) -> int | None:
    """The emulator started without systemd, if it still runs with this cluster's config."""
    try:
        pid = int((RUN / f"{cluster}.pid").read_text())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return None
    return pid if str(cluster_dir(cluster) / "emulator.conf").encode() in cmdline else None


def _unit_file() -> str:
    return "\n".join([
        "[Unit]", "Description=sushy-tools Redfish emulator of ocplab cluster %i",
        "After=libvirtd.service network-online.target", "[Service]",
        f"ExecStart={sys.executable} -m sushy_tools.emulator.main --config {ROOT}/clusters/%i/emulator.conf",
        "Restart=on-failure", "[Install]", "WantedBy=multi-user.target", ""])


def stop(cluster: str) -> None:
    if has_systemd():
        subprocess.run(["systemctl", "disable", "--now", f"{UNIT}{cluster}.service"], capture_output=True, check=False)
        return
    pid = _pid(cluster)
    if pid is not None:
        os.kill(pid, signal.SIGTERM)
        for _ in range(100):
            if _pid(cluster) is None:
                break
            time.sleep(0.1)
        else:
            os.kill(pid, signal.SIGKILL)
    (RUN / f"{cluster}.pid").unlink(missing_ok=True)


def start(cluster: str) -> None:
    conf = cluster_dir(cluster) / "emulator.conf"
    if has_systemd():
        unit = Path(f"/etc/systemd/system/{UNIT}.service")
        if _write(unit, _unit_file()):
            unit.chmod(0o644)
            subprocess.run(["systemctl", "daemon-reload"], check=True)
        subprocess.run(["systemctl", "enable", f"{UNIT}{cluster}.service"], capture_output=True, check=False)
        subprocess.run(["systemctl", "restart", f"{UNIT}{cluster}.service"], check=True)
        return
    RUN.mkdir(parents=True, exist_ok=True)
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    with open(LOG_DIR / f"{cluster}.log", "ab") as log:  # setsid: it must outlive the SSH session
        process = subprocess.Popen([sys.executable, "-m", "sushy_tools.emulator.main", "--config", str(conf)],
                                   stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
    (RUN / f"{cluster}.pid").write_text(str(process.pid))


def running(cluster: str) -> bool:
    if has_systemd():
        return subprocess.run(["systemctl", "is-active", "--quiet", f"{UNIT}{cluster}.service"],
                              check=False).returncode == 0
    return _pid(cluster) is not None


def systems(address: str, port: int, user: str, password: str) -> list[str]:
    """The system ids the emulator lists for these credentials, over TLS checked against our certificate."""
    context = ssl.create_default_context(cafile=str(cert_paths()[0]))
    host = f"[{address}]" if ":" in address else address
    request = urllib.request.Request(f"https://{host}:{port}/redfish/v1/Systems", headers={
        "Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()})
    with urllib.request.urlopen(request, context=context, timeout=10) as answer:
        members = json.load(answer)["Members"]
    return [str(m["@odata.id"]).rsplit("/", 1)[-1] for m in members]


def wait_serving(cluster: str, address: str, port: int, user: str, password: str, uuids: list[str]) -> None:
    """Until the emulator lists exactly the cluster's domains (30 s), or say why not."""
    problem = "it never answered"
    for _ in range(300):
        if not running(cluster):
            raise SushyError(f"the Redfish emulator of cluster {cluster} stopped; see {LOG_DIR}/{cluster}.log "
                             f"(or journalctl -u {UNIT}{cluster}) and whether port {port} is free")
        try:
            listed = systems(address, port, user, password)
        except (OSError, urllib.error.URLError, ValueError, KeyError) as exc:
            problem = f"{type(exc).__name__}: {exc}"
            time.sleep(0.1)
            continue
        if sorted(listed) == sorted(uuids):
            return
        problem = f"it lists {len(listed)} systems, not the cluster's {len(uuids)} domains"
        time.sleep(0.1)
    raise SushyError(f"the Redfish emulator of cluster {cluster} on {address}:{port} does not serve: {problem}")


def sync(cluster: str, address: str, port: int, user: str, uuids: list[str], password: str) -> str:
    """Make the cluster's emulator serve exactly `uuids` with these credentials; restart it only on a change."""
    if not password:
        raise SushyError("no BMC password on stdin")
    if bad := [u for u in uuids if not _UUID.match(u)]:
        raise SushyError(f"{bad[0]!r} is not a libvirt domain UUID")
    if not cert_paths()[0].exists():
        raise SushyError(f"no {cert_paths()[0]}: run pulumi up on the lab stack (it sets up sushy-tools here)")
    where = cluster_dir(cluster)
    (where / "state").mkdir(parents=True, exist_ok=True)
    where.chmod(0o700)
    changed = _write(where / "emulator.conf", emulator_config(address, port, uuids, where))
    changed = _htpasswd(where / "htpasswd", user, password) or changed
    if changed or not running(cluster):
        stop(cluster)
        start(cluster)
        wait_serving(cluster, address, port, user, password, uuids)
        return f"ocplab sushy: cluster {cluster}: Redfish on https://{address}:{port} serves {len(uuids)} systems"
    return f"ocplab sushy: cluster {cluster}: Redfish on https://{address}:{port} unchanged"


def remove(cluster: str) -> str:
    stop(cluster)
    shutil.rmtree(cluster_dir(cluster), ignore_errors=True)
    return f"ocplab sushy: cluster {cluster}: Redfish emulator stopped and removed"


def listed_clusters() -> list[str]:
    base = ROOT / "clusters"
    return sorted(p.name for p in base.iterdir() if p.is_dir()) if base.is_dir() else []


def check(version: str) -> str:
    """The health check the lab stack runs: the pinned version, and its libvirt driver answering here
    (Flask's test client: the real application and driver, no port)."""
    try:
        installed = importlib.metadata.version("sushy-tools")
    except importlib.metadata.PackageNotFoundError as exc:
        raise SushyError(f"sushy-tools is not installed for {sys.executable}") from exc
    if installed != version:
        raise SushyError(f"sushy-tools {installed} is installed, ocplab needs {version}")
    try:
        app = importlib.import_module("sushy_tools.emulator.main").app
        app.config["SUSHY_EMULATOR_LIBVIRT_URI"] = LIBVIRT_URI
        answer = app.test_client().get("/redfish/v1/Systems")
        body = answer.get_json(silent=True) or {}
    except Exception as exc:  # any failure of the package itself is the reason to refuse it
        raise SushyError(f"sushy-tools {installed} fails its health check: {type(exc).__name__}: {exc}") from exc
    if answer.status_code != 200 or "Members" not in body:
        raise SushyError(f"sushy-tools {installed} fails its health check: GET /redfish/v1/Systems answered "
                         f"{answer.status_code} {str(body)[:200]}")
    return f"ocplab sushy: sushy-tools {installed} serves libvirt ({len(body['Members'])} domains here)"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="ocplab-sushy")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("check").add_argument("version")
    one = commands.add_parser("sync")
    for name in ("cluster", "address"):
        one.add_argument(name)
    one.add_argument("port", type=int)
    one.add_argument("user")
    one.add_argument("uuids", nargs="+")
    commands.add_parser("remove").add_argument("cluster")
    commands.add_parser("list")
    args = parser.parse_args(argv)
    try:
        if args.command == "check":
            print(check(args.version))
        elif args.command == "sync":
            print(sync(args.cluster, args.address, args.port, args.user, args.uuids, sys.stdin.readline().rstrip("\n")))
        elif args.command == "remove":
            print(remove(args.cluster))
        else:
            print("\n".join(listed_clusters()))
    except SushyError as exc:
        print(f"ocplab sushy: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
