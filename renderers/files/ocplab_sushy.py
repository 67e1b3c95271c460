"""ocplab-sushy: one cluster's Redfish BMC, a sushy-tools emulator of its own, on this hypervisor.

The lab stack installs this file on each hypervisor with a Redfish slice (renderers/sushy_scripts.py)
and the stacks run it with the Python of /opt/ocplab/sushy:

    check VERSION                                    the installed sushy-tools is VERSION and serves libvirt here
    sync CLUSTER ADDRESS PORT USER UUID [UUID ...]   the BMC password comes on stdin
    restart-root                                     emulators an older ocplab ran as root, restarted as their users
    remove CLUSTER
    list                                             the clusters with an emulator here, one per line
    serve CONFIG                                     run sushy-emulator (what the emulator processes are)

One emulator per cluster, each with its own port, htpasswd (bcrypt) and SUSHY_EMULATOR_ALLOWED_INSTANCES
(the cluster's domain UUIDs): a cluster's credentials reach its own domains and no other; a neighbour's
system is neither listed nor found. TLS with the hypervisor's certificate, as redhatci.ocp reads
`redfish://` as HTTPS. Nothing here prints the password or puts it on a command line.

An emulator is a network service anyone with the cluster's BMC credentials drives, so it runs as a user of
its own cluster (`ocplab-bmc-CLUSTER`, made here), never root: sandboxed by systemd where systemd runs, started
through setpriv (no new privileges, no capabilities) where it does not. It reaches libvirt as a member of the
`libvirt` group, which libvirt's own polkit rule admits to qemu:///system read-write: that is every domain of the
host, so confining it to the cluster's domains is this launcher's work (_confine_driver, _confine_routes). Its
config, htpasswd, state and media are readable by it and root only; a neighbour's are not readable by it.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import grp
import hashlib
import importlib
import importlib.metadata
import json
import os
import pwd
import re
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(os.environ.get("OCPLAB_SUSHY_ROOT", "/etc/ocplab/sushy"))
RUN = Path(os.environ.get("OCPLAB_SUSHY_RUN", "/run/ocplab-sushy"))
LOG_DIR = Path("/var/log/ocplab-sushy")
UNIT = "ocplab-sushy@"
LIBVIRT_URI = "qemu:///system"
MEDIA_POOL = "ocplab-vmedia"  # the lab script makes it; inserted media land in it as <iso>-<domain uuid>.img
BCRYPT_ROUNDS = 8  # checked on every request: 12 (bcrypt's default) costs ~0.25 s of a 2-core host per call
SHARED_GROUP = "ocplab-bmc"  # the lab script makes it: every emulator reads the hypervisor's TLS key through it
LIBVIRT_GROUP = "libvirt"  # libvirt's polkit rule (Debian 60-, RHEL 50-libvirt.rules) lets it use qemu:///system
USER_PREFIX = "ocplab-bmc-"
SANE_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
_CLUSTER = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\Z")
_UUID_TEXT = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_UUID = re.compile(_UUID_TEXT + r"\Z")


class SushyError(RuntimeError):
    """A step failed; the message names the cluster, port or file, never the password."""


def cert_paths() -> tuple[Path, Path]:
    return ROOT / "tls" / "cert.pem", ROOT / "tls" / "key.pem"


def cluster_dir(cluster: str) -> Path:
    if not _CLUSTER.match(cluster):
        raise SushyError(f"{cluster!r} is not a cluster name")
    return ROOT / "clusters" / cluster


def service_user(cluster: str) -> str:
    """The emulator's own user: one per cluster, so no emulator reads, signals or traces a neighbour's. Linux user
    names stop at 32 characters (cluster names reach 63): a long name keeps its start and a hash of the whole."""
    name = USER_PREFIX + cluster_dir(cluster).name
    if len(name) <= 32:
        return name
    return f"{USER_PREFIX}{cluster[:12]}-{hashlib.sha256(cluster.encode()).hexdigest()[:8]}"


def writable_dirs(cluster: str) -> list[Path]:
    """What the emulator may write: sushy's state, and its media downloads (TMPDIR: see serve)."""
    return [cluster_dir(cluster) / "state", cluster_dir(cluster) / "media"]


_MEDIA_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,127}\Z")


def media_name(offered: str) -> str:
    """The file name a media download gets: a plain name in the media dir, never a path. sushy-tools 2.2.0 takes
    the remote server's Content-Disposition filename as it comes (`../`, `/etc/...` included), renames the download
    to it and deletes it on eject (reported: README, upstream issues). The last path part when it is a plain
    name, else ours."""
    last = offered.replace("\\", "/").rsplit("/", 1)[-1]
    return last if _MEDIA_NAME.match(last) else "image.iso"


def emulator_config(address: str, port: int, uuids: list[str], where: Path) -> str:
    """sushy-emulator's config file (Python): libvirt here, TLS, basic auth, only these domains."""
    cert, key = cert_paths()
    values = {
        "SUSHY_EMULATOR_LISTEN_IP": address, "SUSHY_EMULATOR_LISTEN_PORT": port,
        "SUSHY_EMULATOR_SSL_CERT": str(cert), "SUSHY_EMULATOR_SSL_KEY": str(key),
        "SUSHY_EMULATOR_AUTH_FILE": str(where / "htpasswd"), "SUSHY_EMULATOR_LIBVIRT_URI": LIBVIRT_URI,
        "SUSHY_EMULATOR_ALLOWED_INSTANCES": sorted(uuids), "SUSHY_EMULATOR_STATE_DIR": str(where / "state"),
        "SUSHY_EMULATOR_VMEDIA_VERIFY_SSL": False, "SUSHY_EMULATOR_STORAGE_POOL": MEDIA_POOL,
    }
    return "".join(f"{name} = {value!r}\n" for name, value in values.items())


def _write(path: Path, text: str, mode: int = 0o600) -> bool:
    """Write `text` (root's, `mode`) unless the file already holds it; True when it changed."""
    if path.exists() and path.read_text() == text:
        return False
    staged = path.with_name(f".{path.name}.new")
    staged.write_text(text)
    staged.chmod(mode)
    staged.replace(path)
    return True


def _group_id(name: str) -> int:
    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        raise SushyError(f"no group {name} here: run pulumi up on the lab stack (it sets up sushy-tools)") from None


def ensure_user(cluster: str) -> pwd.struct_passwd:
    """The cluster's emulator user (a system user with no login and no home), made when absent."""
    name = service_user(cluster)
    for group in (LIBVIRT_GROUP, SHARED_GROUP):
        _group_id(group)
    try:
        return pwd.getpwnam(name)
    except KeyError:
        pass
    done = subprocess.run(["useradd", "--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent",
                           "--shell", "/usr/sbin/nologin", "--comment", f"ocplab Redfish BMC of cluster {cluster}",
                           "--groups", f"{LIBVIRT_GROUP},{SHARED_GROUP}", name],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SushyError(f"useradd could not make the user {name}: {done.stderr.strip()}")
    return pwd.getpwnam(name)


def confine_files(cluster: str, user: pwd.struct_passwd) -> None:
    """Its config and htpasswd readable by root and its emulator only (root:its group 0640, in a 0750 dir); its
    state and media its own (0700). The neighbours' are their users' alone, so not readable by this one."""
    where = cluster_dir(cluster)
    os.chown(where, 0, user.pw_gid)
    where.chmod(0o750)
    for name in ("emulator.conf", "htpasswd"):
        os.chown(where / name, 0, user.pw_gid)
        (where / name).chmod(0o640)
    for path in writable_dirs(cluster):
        path.mkdir(exist_ok=True)
        path.chmod(0o700)
        for mine in (path, *path.rglob("*")):  # an older ocplab's emulator left root's files there
            os.lchown(mine, user.pw_uid, user.pw_gid)


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
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError, IndexError):
        return None
    # A process just started can show an empty cmdline for a moment (seen here); a reused pid shows another.
    mine = not cmdline or str(cluster_dir(cluster) / "emulator.conf").encode() in cmdline
    return pid if mine and state not in ("Z", "X") else None


# What an emulator may do under systemd: read the system, write its own two dirs, no privilege, device,
# kernel knob, namespace or address family beyond what it serves; its user comes from the drop-in (_unit_user).
SANDBOX = [
    "NoNewPrivileges=yes", "CapabilityBoundingSet=", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes",
    "PrivateDevices=yes", "ProtectKernelTunables=yes", "ProtectKernelModules=yes", "ProtectKernelLogs=yes",
    "ProtectControlGroups=yes", "ProtectClock=yes", "ProtectHostname=yes", "RestrictNamespaces=yes",
    "RestrictRealtime=yes", "RestrictSUIDSGID=yes", "LockPersonality=yes", "SystemCallArchitectures=native",
    "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6", "UMask=0077", "RemoveIPC=yes", "PrivateMounts=yes",
    "ProtectProc=invisible", "ProcSubset=pid", "SystemCallFilter=@system-service", "SystemCallFilter=~@privileged",
    "SystemCallErrorNumber=EPERM",
    f"ReadWritePaths={ROOT}/clusters/%i/state {ROOT}/clusters/%i/media", f"Environment=HOME={ROOT}/clusters/%i/state",
]


def _unit_file() -> str:
    return "\n".join([
        "[Unit]", "Description=sushy-tools Redfish emulator of ocplab cluster %i",
        "After=libvirtd.service network-online.target", "[Service]",
        f"ExecStart={sys.executable} {Path(__file__).resolve()} serve {ROOT}/clusters/%i/emulator.conf",
        "Restart=on-failure", *SANDBOX, "[Install]", "WantedBy=multi-user.target", ""])


def _unit_user(user: pwd.struct_passwd) -> str:
    """The cluster's drop-in: its user (names may be hashed, so %i cannot make them)."""
    return "\n".join(["[Service]", f"User={user.pw_name}", f"Group={grp.getgrgid(user.pw_gid).gr_name}",
                      f"SupplementaryGroups={LIBVIRT_GROUP} {SHARED_GROUP}", ""])


def _dropin(cluster: str) -> Path:
    return Path(f"/etc/systemd/system/{UNIT}{cluster}.service.d/ocplab-user.conf")


def serve_argv(cluster: str, user: pwd.struct_passwd) -> list[str]:
    """Without systemd: the emulator as its user with its groups, no new privileges and no capabilities."""
    setpriv = shutil.which("setpriv", path=SANE_PATH)
    if setpriv is None:
        raise SushyError("no setpriv here (it runs the emulator as its own user): install util-linux")
    return [setpriv, f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--init-groups", "--no-new-privs",
            "--inh-caps=-all", "--bounding-set=-all", "--", sys.executable, str(Path(__file__).resolve()), "serve",
            str(cluster_dir(cluster) / "emulator.conf")]


def main_pid(cluster: str) -> int | None:
    """The emulator's process, however it was started."""
    if not has_systemd():
        return _pid(cluster)
    shown = subprocess.run(["systemctl", "show", "--property=MainPID", "--value", f"{UNIT}{cluster}.service"],
                           capture_output=True, text=True, check=False).stdout.strip()
    return int(shown) if shown.isdigit() and shown != "0" else None


def process_uid(pid: int | None) -> int | None:
    """The real uid of a process (its status' Uid line), None when it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text() if pid else ""
    except OSError:
        return None
    return next((int(line.split()[1]) for line in status.splitlines() if line.startswith("Uid:")), None)


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


def start(cluster: str, user: pwd.struct_passwd) -> None:
    if has_systemd():
        _dropin(cluster).parent.mkdir(exist_ok=True)
        changed = _write(Path(f"/etc/systemd/system/{UNIT}.service"), _unit_file(), 0o644)
        if _write(_dropin(cluster), _unit_user(user), 0o644) or changed:
            subprocess.run(["systemctl", "daemon-reload"], check=True)
        subprocess.run(["systemctl", "enable", f"{UNIT}{cluster}.service"], capture_output=True, check=False)
        subprocess.run(["systemctl", "restart", f"{UNIT}{cluster}.service"], check=True)
        return
    RUN.mkdir(parents=True, exist_ok=True)
    LOG_DIR.mkdir(mode=0o750, parents=True, exist_ok=True)
    # The log is root's (0600) and the emulator only writes it through the descriptor it is given.
    log = os.open(LOG_DIR / f"{cluster}.log", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    env = {"PATH": SANE_PATH, "HOME": str(writable_dirs(cluster)[0]), "LANG": "C.UTF-8"}
    try:  # setsid: it must outlive the SSH session
        process = subprocess.Popen(serve_argv(cluster, user), stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                   env=env, start_new_session=True)
    finally:
        os.close(log)
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


def _process_report(cluster: str) -> str:
    """What became of the emulator process (for the error when it is not running)."""
    try:
        pid = int((RUN / f"{cluster}.pid").read_text())
    except (OSError, ValueError) as exc:
        return f"ocplab sushy: | no pid file: {exc}"
    try:
        status = Path(f"/proc/{pid}/status").read_text().splitlines()[:3]
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError as exc:
        return f"ocplab sushy: | pid {pid}: {exc}"
    return f"ocplab sushy: | pid {pid}: {' '.join(status)}; {cmdline}"


def _log_tail(cluster: str, lines: int = 8) -> str:
    try:
        tail = (LOG_DIR / f"{cluster}.log").read_text(errors="replace").splitlines()[-lines:]
        return "\n".join(f"ocplab sushy: | {line}" for line in tail)  # each line says whose it is
    except OSError:
        return "ocplab sushy: | (no log)"


def wait_serving(cluster: str, address: str, port: int, user: str, password: str, uuids: list[str]) -> None:
    """Until the emulator lists exactly the cluster's domains (30 s), or say why not."""
    problem = "it never answered"
    for _ in range(300):
        if not running(cluster):
            raise SushyError(f"the Redfish emulator of cluster {cluster} stopped (is port {port} free?); the end of "
                             f"{LOG_DIR}/{cluster}.log (or journalctl -u {UNIT}{cluster}):\n{_log_tail(cluster)}\n"
                             f"{'' if has_systemd() else _process_report(cluster)}")
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
    owner = ensure_user(cluster)
    changed = _write(where / "emulator.conf", emulator_config(address, port, uuids, where))
    changed = _htpasswd(where / "htpasswd", user, password) or changed
    confine_files(cluster, owner)
    # An emulator an older ocplab started as root is restarted as its user.
    if changed or not running(cluster) or process_uid(main_pid(cluster)) != owner.pw_uid:
        stop(cluster)
        start(cluster, owner)
        wait_serving(cluster, address, port, user, password, uuids)
        return f"ocplab sushy: cluster {cluster}: Redfish on https://{address}:{port} serves {len(uuids)} systems"
    return f"ocplab sushy: cluster {cluster}: Redfish on https://{address}:{port} unchanged"


def _allowed(cluster: str) -> list[str]:
    """The domain UUIDs the cluster's emulator config allows (none when it has none)."""
    conf = cluster_dir(cluster) / "emulator.conf"
    text = conf.read_text() if conf.exists() else ""
    return re.findall(_UUID_TEXT, text)


def remove_media(uuids: list[str]) -> int:
    """Delete the media volumes the emulator made for these domains; how many."""
    rows = subprocess.run(["virsh", "-q", "vol-list", "--pool", MEDIA_POOL], capture_output=True, text=True,
                          check=False).stdout.splitlines()
    listed = [row.split()[0] for row in rows if row.strip()]  # "NAME PATH" rows (virsh 9 has no --name here)
    ours = [v for v in listed if any(v.endswith(f"-{u}.img") for u in uuids)]
    for volume in ours:
        subprocess.run(["virsh", "-q", "vol-delete", "--pool", MEDIA_POOL, volume], capture_output=True, check=True)
    return len(ours)


def remove(cluster: str) -> str:
    stop(cluster)
    media = remove_media(_allowed(cluster))
    shutil.rmtree(cluster_dir(cluster), ignore_errors=True)
    if has_systemd():
        shutil.rmtree(_dropin(cluster).parent, ignore_errors=True)
    remove_user(cluster)
    return f"ocplab sushy: cluster {cluster}: Redfish emulator stopped and removed, with {media} media volumes"


def remove_user(cluster: str) -> None:
    """The cluster's emulator user and its group go with it (its files went first)."""
    name = service_user(cluster)
    try:
        pwd.getpwnam(name)
    except KeyError:
        return
    done = subprocess.run(["userdel", name], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SushyError(f"userdel could not remove the user {name}: {done.stderr.strip()}")
    with contextlib.suppress(KeyError):  # userdel removes it where USERGROUPS_ENAB is on
        grp.getgrnam(name)
        subprocess.run(["groupdel", name], capture_output=True, check=False)


def restart_root_emulators() -> list[str]:
    """After an upgrade (the lab script runs this): an emulator still running as root runs an older ocplab's code,
    the media traversal included; it is restarted as its cluster's user from its files (no password needed)."""
    restarted = []
    for cluster in listed_clusters():
        if running(cluster) and process_uid(main_pid(cluster)) == 0:
            owner = ensure_user(cluster)
            confine_files(cluster, owner)
            stop(cluster)
            start(cluster, owner)
            restarted.append(cluster)
    return restarted


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


def _fix_denial() -> None:
    """In sushy-tools 2.2.0 api_utils.ensure_instance_access raises `error.NotFound()`, but api_utils imports no
    `error` module and has a logging function of that name: a system outside SUSHY_EMULATOR_ALLOWED_INSTANCES
    answers 500 (AttributeError) instead of 404. Give the name both meanings."""
    api_utils = importlib.import_module("sushy_tools.emulator.api_utils")
    if hasattr(api_utils.error, "NotFound"):
        return
    log, errors = api_utils.error, importlib.import_module("sushy_tools.error")

    class LogAndErrors:
        NotFound = errors.NotFound

        def __call__(self, *args: object, **kwargs: object) -> None:
            log(*args, **kwargs)

    setattr(api_utils, "error", LogAndErrors())  # noqa: B010 (a module attribute mypy cannot see)


def _confine_driver() -> None:
    """sushy-tools 2.2.0 checks SUSHY_EMULATOR_ALLOWED_INSTANCES only on the Systems routes: its Managers
    and Chassis collections list every domain of the host, and its VirtualMedia routes insert and eject
    media in any domain. So the libvirt driver itself is confined: it lists and finds only allowed domains,
    and every route that names another answers 404."""
    driver = importlib.import_module("sushy_tools.emulator.resources.systems.libvirtdriver").LibvirtDriver
    errors = importlib.import_module("sushy_tools.error")
    listed, find = driver.systems, driver._get_domain

    def allowed(self: Any) -> set[str]:
        return set(self._config.get("SUSHY_EMULATOR_ALLOWED_INSTANCES") or ())

    def systems(self: Any) -> list[str]:
        return [uuid for uuid in listed.fget(self) if uuid in allowed(self)]

    def get_domain(self: Any, identity: str, readonly: bool = False) -> Any:
        try:
            domain = find(self, identity, readonly)
        except errors.AliasAccessError as alias:  # found by name: redirected to its UUID unless it is not ours
            if alias.args[0] not in allowed(self):
                raise errors.NotFound(f"no system {identity}") from None
            raise
        if domain.UUIDString() not in allowed(self):
            raise errors.NotFound(f"no system {identity}")
        return domain

    driver.systems, driver._get_domain = property(systems), get_domain


def _confine_routes(app: Any) -> None:
    """Every route under a system or manager that is not allowed answers 404, whatever sushy-tools checks
    (its VirtualMedia routes answer for any identity from their own state)."""
    errors, flask = importlib.import_module("sushy_tools.error"), importlib.import_module("flask")

    def only_allowed() -> None:
        identity = (flask.request.view_args or {}).get("identity")
        confined = flask.request.path.startswith(("/redfish/v1/Systems/", "/redfish/v1/Managers/"))
        if confined and identity is not None and identity not in set(
                app.config.get("SUSHY_EMULATOR_ALLOWED_INSTANCES") or ()):
            raise errors.NotFound(f"no system {identity}")

    app.before_request(only_allowed)


def _plain_media_names() -> None:
    """Every media download is named by media_name (sushy-tools' _get_image calls this module function)."""
    vmedia = importlib.import_module("sushy_tools.emulator.resources.vmedia")
    named = vmedia._write_from_response

    def write_from_response(image_url: str, rsp: Any, tmp_file: Any) -> str:
        return media_name(str(named(image_url, rsp, tmp_file)))

    setattr(vmedia, "_write_from_response", write_from_response)  # noqa: B010 (a module attribute mypy cannot see)


def confine_media(media: Path) -> None:
    """Media downloads land in `media` (sushy-tools makes them with tempfile, in TMPDIR) under a plain name."""
    tempfile.tempdir = str(media)
    _plain_media_names()


def serve(config: str) -> int:
    """sushy-emulator, with the fixes above: each cluster's emulator reaches its own domains only, and its media
    downloads stay in its media dir. Never as root: a BMC user must not reach the host through it."""
    if os.geteuid() == 0:
        raise SystemExit("ocplab sushy: refusing to serve Redfish as root: start it with `sync` (its own user)")
    confine_media(Path(config).parent / "media")
    _fix_denial()
    _confine_driver()
    emulator = importlib.import_module("sushy_tools.emulator.main")
    _confine_routes(emulator.app)
    sys.argv = ["sushy-emulator", "--config", config]
    return int(emulator.main())


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
    commands.add_parser("restart-root")
    commands.add_parser("serve").add_argument("config")
    args = parser.parse_args(argv)
    if args.command == "serve":
        return serve(args.config)
    try:
        if args.command == "check":
            print(check(args.version))
        elif args.command == "sync":
            print(sync(args.cluster, args.address, args.port, args.user, args.uuids, sys.stdin.readline().rstrip("\n")))
        elif args.command == "remove":
            print(remove(args.cluster))
        elif args.command == "restart-root":
            for cluster in restart_root_emulators():
                print(f"ocplab sushy: cluster {cluster}: Redfish emulator restarted as {service_user(cluster)}")
        else:
            print("\n".join(listed_clusters()))
    except SushyError as exc:
        print(f"ocplab sushy: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
