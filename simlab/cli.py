"""Command line: `python -m simlab up|down|status|shell|exec`.

Errors are one line on stderr: exit 2 when the machine or the input is unfit (not root, a
tool missing), 1 when the lab itself failed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence

from simlab import preflight
from simlab.clients import jumphost_argv
from simlab.env import client_env
from simlab.errors import PreflightError, SimlabError
from simlab.lab import Simlab, health, load
from simlab.mountns import enter_argv
from simlab.paths import StatePaths
from simlab.session import exclusive_lab
from simlab.state import LabState
from simlab.topology import JUMPHOST, MAX_HYPERVISORS, OUTSIDE_NETNS, SWITCH_NETNS

ALIASES = {"jh": JUMPHOST, "sw": "switch", "out": "outside"}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m simlab", description=(
        "Simulated ocplab lab: a jumphost and N hypervisors in namespaces on this machine."))
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="create the lab (tears down an earlier one first)")
    up.add_argument("--hypervisors", "-n", type=int, default=2,
                    help=f"number of hypervisors, 1..{MAX_HYPERVISORS} (default 2)")
    up.add_argument("--ipv6-only", action="store_true",
                    help="the lab network in IPv6 alone: hosts hold and are reached at fd00:16::/64 addresses only")
    sub.add_parser("down", help="remove the lab: processes, mounts, namespaces, state")
    sub.add_parser("status", help="show the lab's hosts and whether their daemons run")
    sub.add_parser("shell", help="interactive bash in the jumphost netns with the client env")
    ex = sub.add_parser("exec", help="run a command inside a host's namespaces")
    ex.add_argument("host", help="jumphost (jh), hv1..hvN, switch (sw) or outside (out)")
    ex.add_argument("cmd", nargs=argparse.REMAINDER, help="-- command [args...]")
    return parser


def _say(msg: str) -> None:
    print(f"simlab: {msg}", file=sys.stderr, flush=True)


def cmd_up(hypervisors: int, ipv6_only: bool = False) -> int:
    start = time.monotonic()
    with exclusive_lab(timeout=0):
        state = Simlab(hypervisors, ipv6_only=ipv6_only).up(log=_say)
    _print_state(state)
    print(f"up in {time.monotonic() - start:.1f} s")
    return 0


def cmd_down() -> int:
    start = time.monotonic()
    with exclusive_lab(timeout=0):
        report = Simlab().down()
    print(f"down in {time.monotonic() - start:.1f} s: killed {len(report.killed)} processes, "
          f"deleted {len(report.netns)} network namespaces, {len(report.unmounted)} mounts")
    return 0


def cmd_status() -> int:
    preflight.require_root()
    try:
        state = load()
    except SimlabError as e:
        print(str(e))
        return 1
    _print_state(state)
    hosts = health(state)
    for h in hosts:
        print(f"{h.name}: daemons RSS {h.rss_kib / 1024:.0f} MiB"
              + (f"; not running: {', '.join(h.dead)}" if h.dead else ""))
    return 0 if all(h.ok for h in hosts) else 1


def _print_state(state: LabState) -> None:
    for h in state.hosts:
        pids = " ".join(f"{d}={p}" for d, p in h.pids.items())
        print(f"{h.name:<9} {h.ip:<15} netns={h.netns:<12} {pids}")
    if state.outside is not None:
        out = state.outside
        pids = " ".join(f"{d}={p}" for d, p in out.pids.items())
        print(f"{'outside':<9} {out.ip:<15} netns={out.netns:<12} {pids} (via the jumphost's {out.uplink}, "
              f"{out.uplink_ip})")
    print(f"ssh: ssh -F {state.ssh.config} root@<ip>  (from `python -m simlab shell`)")


def cmd_shell() -> int:
    preflight.require_root()
    load()
    env = client_env()
    env["PS1"] = r"[simlab jumphost-ns \W]\$ "
    argv = jumphost_argv(["bash", "--norc", "-i"])
    os.chdir(StatePaths().repo)
    os.execvpe(argv[0], argv, env)


def cmd_exec(host: str, cmd: Sequence[str]) -> int:
    tools = preflight.check_light()
    if cmd and cmd[0] == "--":
        cmd = cmd[1:]
    if not cmd:
        raise PreflightError("exec needs a command: python -m simlab exec hv1 -- ip addr")
    state = load()
    name = ALIASES.get(host, host)
    if name in ("switch", "outside"):  # network namespaces only: no host filesystem of their own
        netns = SWITCH_NETNS if name == "switch" else OUTSIDE_NETNS
        argv = [tools["nsenter"], f"--net=/run/netns/{netns}", "--", *cmd]
    else:
        match = [h for h in state.hosts if h.name == name]
        if not match:
            names = ", ".join(h.name for h in state.hosts)
            raise PreflightError(f"no host {host!r} in the lab; hosts are {names}, switch, outside")
        argv = [*enter_argv(tools, StatePaths(), name, match[0].netns), *cmd]
    os.execv(argv[0], argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "up":
            return cmd_up(args.hypervisors, args.ipv6_only)
        if args.command == "down":
            return cmd_down()
        if args.command == "status":
            return cmd_status()
        if args.command == "shell":
            return cmd_shell()
        return cmd_exec(args.host, args.cmd)
    except SimlabError as e:
        _say(str(e))
        return e.exit_code
    except OSError as e:  # e.g. disk full while seeding a host: still one line
        _say(f"{args.command} failed: {e}")
        return 1
    except KeyboardInterrupt:
        _say("interrupted")
        return 130
