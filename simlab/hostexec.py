"""Running commands inside one host's namespaces (net, mount, UTS), from the root's side."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from simlab.errors import SimlabError
from simlab.mountns import enter_argv
from simlab.paths import StatePaths
from simlab.preflight import Tools
from simlab.run import run, wait_for
from simlab.topology import HostPlan

# What a server's daemons would get from their init system: nothing of the caller's env.
DAEMON_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG": "C.UTF-8",
    "HOME": "/root",
}

_PIDFILE_SH = 'echo $$ > "$0"; exec "$@"'


class HostExec:
    """One host, seen from the root namespace: run commands in it, start its daemons."""

    def __init__(self, tools: Tools, paths: StatePaths, host: HostPlan) -> None:
        self.tools = tools
        self.paths = paths
        self.host = host

    def argv(self, cmd: Sequence[str]) -> list[str]:
        return [*enter_argv(self.tools, self.paths, self.host, self.host.netns), *cmd]

    def run(self, cmd: Sequence[str], *, check: bool = True,
            timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return run(self.argv(cmd), check=check, timeout=timeout, env=DAEMON_ENV)

    def pidfile(self, daemon: str) -> Path:
        return self.paths.host_dir(self.host.name) / "pids" / f"{daemon}.pid"

    def log(self, daemon: str) -> Path:
        return self.paths.host_logs(self.host.name) / f"{daemon}.log"

    def spawn(self, daemon: str, cmd: Sequence[str], env: Mapping[str, str] | None = None) -> int:
        """Start a foreground daemon in its own session inside the host; return its pid.

        The daemon's stdout/stderr go to .simlab/logs/<host>/<daemon>.log; its pid is written
        by the shell that then execs it, so the pid is the daemon's own.
        """
        return spawn_daemon(self.argv, self.tools, self.pidfile(daemon), self.log(daemon), cmd,
                            {**DAEMON_ENV, **(env or {})}, f"{self.host.name}: {daemon}")

    def private_path(self, inside: str) -> Path:
        """Where a path under the host's private /run, /tmp or /root shows in the root ns."""
        top, _, rest = inside.strip("/").partition("/")
        return self.paths.host_dir(self.host.name) / top / rest


def spawn_daemon(enter: Callable[[Sequence[str]], list[str]], tools: Tools, pidfile: Path, log_path: Path,
                 cmd: Sequence[str], env: Mapping[str, str], label: str) -> int:
    """Start `cmd` in its own session through `enter` (which wraps it in namespaces); return its pid.

    The shell writes its own pid, then execs the daemon, so the pid file names the daemon itself. Its parent is a
    `tini -s` of its own, a child subreaper: what the daemon's sessions start and leave (dnsmasq, chronyd or vbmcd
    started over SSH) is reaped when it exits, as a host's init does. Without it this machine's PID 1 reaped them
    a second or more later, and `kill -0` found the zombie: every `ocplab-dnsmasq restart` waited 1.3-1.5 s.
    """
    pidfile.parent.mkdir(parents=True, exist_ok=True)
    pidfile.unlink(missing_ok=True)
    with open(log_path, "ab") as log:
        try:
            started = subprocess.run(
                enter([tools["setsid"], "-f", tools["tini"], "-s", "--", "/bin/sh", "-c", _PIDFILE_SH, str(pidfile),
                       *cmd]),
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=dict(env), check=False, timeout=30,
            )
        except subprocess.TimeoutExpired:
            raise SimlabError(f"{label}: starting it hung") from None
    if started.returncode != 0:
        raise SimlabError(f"{label}: could not start; see {log_path}")
    wait_for(f"{label} pid file", lambda: _has_pid(pidfile), 10)
    return int(pidfile.read_text())


def _has_pid(pidfile: Path) -> bool:
    try:
        return pidfile.read_text().strip().isdigit()
    except FileNotFoundError:
        return False
