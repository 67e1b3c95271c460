"""The outside's servers: HTTP, DNS and NTP in the outside namespace, each run without root.

The outside stands for the internet behind the jumphost's uplink: a DNS server that knows one
outside name (and logs every query, so tests can tell what reached it), an HTTP server with one
small file, and an NTP server on its own clock. They share the root's filesystem (no mount
namespace: nothing they write leaves .simlab/outside) and only the outside's network.
"""

from __future__ import annotations

import grp
import pwd
from collections.abc import Sequence
from pathlib import Path

from simlab.boot import socket_bound, wait_daemon
from simlab.hostexec import DAEMON_ENV, spawn_daemon
from simlab.paths import StatePaths
from simlab.preflight import Tools
from simlab.state import OutsideState
from simlab.topology import OutsidePlan

USER = "nobody"
HTTP_BODY = "hello from the outside\n"


def _group(user: str) -> str:
    """The user's primary group (nogroup on Debian, nobody on RHEL)."""
    return grp.getgrgid(pwd.getpwnam(user).pw_gid).gr_name


class Outside:
    """The outside namespace seen from the root: its files, and its daemons started in it."""

    def __init__(self, tools: Tools, paths: StatePaths, plan: OutsidePlan) -> None:
        self.tools = tools
        self.plan = plan
        self.dir = paths.outside_dir
        self.logs = paths.logs_dir / "outside"

    def enter(self, cmd: Sequence[str]) -> list[str]:
        return [self.tools["nsenter"], f"--net=/run/netns/{self.plan.netns}", "--", *cmd]

    @property
    def query_log(self) -> Path:
        return self.dir / "dns-queries.log"

    @property
    def www(self) -> Path:
        return self.dir / "www"

    def _spawn(self, daemon: str, cmd: Sequence[str]) -> int:
        return spawn_daemon(self.enter, self.tools, self.dir / "pids" / f"{daemon}.pid",
                            self.logs / f"{daemon}.log", cmd, DAEMON_ENV, f"outside: {daemon}")

    def start(self) -> OutsideState:
        """Lay out the files, start the three servers, wait until each one has its port."""
        self.dir.mkdir(parents=True, exist_ok=True)
        self.logs.mkdir(parents=True, exist_ok=True)
        self.www.mkdir(exist_ok=True)
        (self.www / self.plan.http_file).write_text(HTTP_BODY)
        pids = {"dnsmasq": self._start_dns(), "httpd": self._start_http(), "chronyd": self._start_ntp()}
        ip = self.plan.ip
        for daemon, port, proto in (("dnsmasq", 53, "udp"), ("httpd", 80, "tcp"), ("chronyd", 123, "udp")):
            self._wait_port(daemon, pids[daemon], port, proto)
        return OutsideState(
            netns=self.plan.netns, ip=str(ip), prefixlen=self.plan.address.network.prefixlen,
            uplink=self.plan.uplink, uplink_ip=str(self.plan.uplink_ip), name=self.plan.name,
            url=f"http://{ip}/{self.plan.http_file}", query_log=str(self.query_log),
            http_log=str(self.logs / "httpd.log"), pids=pids,
        )

    def _wait_port(self, daemon: str, pid: int, port: int, proto: str) -> None:
        ip = self.plan.ip
        wait_daemon("outside", daemon, pid, self.logs / f"{daemon}.log", f"{daemon} on {ip}:{port}/{proto}",
                    lambda: socket_bound(pid, ip, port, proto))

    def _start_dns(self) -> int:
        """dnsmasq answering the outside name only (REFUSED for the rest), every query logged."""
        return self._spawn("dnsmasq", [
            self.tools["dnsmasq"], "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv",
            "--no-hosts", "--bind-interfaces", f"--listen-address={self.plan.ip}", "--pid-file=",
            f"--address=/{self.plan.name}/{self.plan.ip}", "--log-queries",
            f"--log-facility={self.query_log}", f"--user={USER}", f"--group={_group(USER)}",
        ])

    def _start_http(self) -> int:
        """busybox httpd as nobody with only the right to bind port 80 (its log names each client)."""
        return self._spawn("httpd", [
            self.tools["setpriv"], f"--reuid={USER}", f"--regid={_group(USER)}", "--clear-groups",
            "--inh-caps=-all,+net_bind_service", "--ambient-caps=-all,+net_bind_service",
            "--bounding-set=-all,+net_bind_service", "--no-new-privs",
            self.tools["busybox"], "httpd", "-f", "-vv", "-p", f"{self.plan.ip}:80", "-h", str(self.www),
        ])

    def _start_ntp(self) -> int:
        """chronyd serving its own clock at stratum 8; -x: it never sets this machine's clock."""
        conf = self.dir / "chrony.conf"
        conf.write_text("\n".join([
            f"bindaddress {self.plan.ip}",
            "local stratum 8",
            "allow",
            "cmdport 0",
            "bindcmdaddress /",  # no control socket in the root's /run
            f"pidfile {self.dir / 'chronyd.own.pid'}",
        ]) + "\n")
        return self._spawn("chronyd", [self.tools["chronyd"], "-d", "-x", "-u", USER, "-f", str(conf)])
