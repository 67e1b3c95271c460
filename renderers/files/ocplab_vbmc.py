"""ocplab-vbmc: one cluster's virtual BMCs on this hypervisor, kept by the lab's vbmcd.

The lab stack installs this file on each hypervisor (renderers/vbmc_scripts.py) and the cluster
stacks run it with the Python of /opt/ocplab/vbmc:

    sync CLUSTER ADDRESS USER [DOMAIN=PORT ...]   the BMC password comes on stdin
    remove CLUSTER
    ping [--wait SECONDS]                         exit 0 once vbmcd answers

It speaks to vbmcd with vbmc's own client (virtualbmc.cmd.vbmc.ZmqClient, what `vbmc add|start|
stop|delete|list` send), so the password travels over vbmcd's local socket and never sits on a
command line. Which domains a cluster owns is recorded under clusters/, so a node that left the
cluster loses its BMC and `remove` touches no other cluster's. Nothing here prints the password.
"""

from __future__ import annotations

import argparse
import configparser
import importlib
import os
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

ROOT = Path(os.environ.get("OCPLAB_VBMC_ROOT", "/etc/ocplab/vbmc"))
LIBVIRT_URI = "qemu:///system"
LOG_FILE = "/var/log/ocplab-vbmcd.log"


class VbmcError(RuntimeError):
    """A step failed; the message names the domain or port, never the password."""


class Client(Protocol):
    def communicate(self, command: str, args: argparse.Namespace) -> Mapping[str, Any]: ...


class ZmqClient:
    """vbmc's client, imported only where vbmcd runs (it lives in /opt/ocplab/vbmc)."""

    def __init__(self, timeout_ms: int | None = None) -> None:
        os.environ.setdefault("VIRTUALBMC_CONFIG", str(ROOT / "virtualbmc.conf"))
        self._client = importlib.import_module("virtualbmc.cmd.vbmc").ZmqClient()
        if timeout_ms is not None:  # the class default (server_response_timeout) suits slow commands
            self._client.SERVER_TIMEOUT = timeout_ms

    def communicate(self, command: str, args: argparse.Namespace) -> Mapping[str, Any]:
        try:
            return dict(self._client.communicate(command, args))
        except Exception as exc:  # vbmc raises its VirtualBMCError; its text holds no password
            raise VbmcError(f"vbmcd refused {command}: {exc}") from exc


class Bmcs:
    """The vbmc entries of this hypervisor, as vbmcd and its config dir show them."""

    def __init__(self, client: Client, domains_dir: Path) -> None:
        self.client, self.domains_dir = client, domains_dir

    def listed(self) -> dict[str, dict[str, str]]:
        rows = self.client.communicate("list", argparse.Namespace()).get("rows", [])
        return {str(r[0]): {"status": str(r[1]), "address": str(r[2]), "port": str(r[3])} for r in rows}

    def stored(self, domain: str) -> dict[str, str] | None:
        """The entry's own config file (vbmc's `show` masks the password, which is compared here)."""
        path = self.domains_dir / domain / "config"
        if not path.exists():
            return None
        parser = configparser.ConfigParser(interpolation=None)
        parser.read(path)
        return dict(parser["VirtualBMC"]) if parser.has_section("VirtualBMC") else {}

    def add(self, domain: str, port: int, address: str, user: str, password: str) -> None:
        self.client.communicate("add", argparse.Namespace(
            domain_name=domain, username=user, password=password, port=port, address=address,
            libvirt_uri=LIBVIRT_URI, libvirt_sasl_username=None, libvirt_sasl_password=None))

    def start(self, domains: list[str]) -> None:
        if domains:
            self.client.communicate("start", argparse.Namespace(domain_names=domains))

    def delete(self, domains: list[str]) -> None:
        if domains:
            self.client.communicate("delete", argparse.Namespace(domain_names=domains))


def owned_path(cluster: str) -> Path:
    return ROOT / "clusters" / cluster


def owned(cluster: str) -> list[str]:
    path = owned_path(cluster)
    return path.read_text().split() if path.exists() else []


def record(cluster: str, domains: list[str]) -> None:
    path = owned_path(cluster)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{cluster}.tmp")
    tmp.write_text("".join(f"{d}\n" for d in domains))
    os.replace(tmp, path)


def _same(entry: Mapping[str, str] | None, port: int, address: str, user: str, password: str) -> bool:
    return entry is not None and (entry.get("port"), entry.get("address"), entry.get("username"),
                                  entry.get("password"), entry.get("libvirt_uri")) == (
        str(port), address, user, password, LIBVIRT_URI)


def _clashes(listed: Mapping[str, Mapping[str, str]], mine: set[str], wanted: Mapping[str, int]) -> list[str]:
    taken = {int(info["port"]): domain for domain, info in listed.items()
             if domain not in mine and info["port"].isdigit()}
    return [f"port {port} (for {domain}) is already the BMC port of {taken[port]}"
            for domain, port in wanted.items() if port in taken]


def _wait_running(bmcs: Bmcs, wanted: Mapping[str, int], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        listed = bmcs.listed()
        down = [d for d in wanted if listed.get(d, {}).get("status") != "running"]
        if not down:
            return
        if time.monotonic() > deadline:
            raise VbmcError("virtual BMC not running for " + ", ".join(
                f"{d} (port {wanted[d]}: taken by another program?)" for d in down) + f"; see {LOG_FILE}")
        time.sleep(0.2)


def sync(bmcs: Bmcs, cluster: str, address: str, user: str, password: str, wanted: Mapping[str, int],
         timeout: float = 15) -> str:
    """Make the cluster's BMCs exactly `wanted` (domain -> port), all running; return a summary."""
    if not password or len(password) > 20 or "\n" in password:
        raise VbmcError("the BMC password on stdin must be 1-20 characters on one line")
    mine = set(owned(cluster))
    listed = bmcs.listed()
    clashes = _clashes(listed, mine, wanted)
    if clashes:
        raise VbmcError(f"cluster {cluster}: " + "; ".join(clashes) + " - give the slices distinct bmc_ports")
    added, kept = [], []
    for domain, port in wanted.items():
        if _same(bmcs.stored(domain), port, address, user, password):
            kept.append(domain)
            continue
        if domain in listed:
            bmcs.delete([domain])
        bmcs.add(domain, port, address, user, password)
        added.append(domain)
    gone = sorted((mine - set(wanted)) & set(listed))
    bmcs.delete(gone)
    record(cluster, list(wanted))
    bmcs.start(list(wanted))
    _wait_running(bmcs, wanted, timeout)
    ports = sorted(wanted.values())
    where = f" on {address} ports {ports[0]}-{ports[-1]}" if ports else ""
    return (f"ocplab vbmc: cluster {cluster}: {len(wanted)} BMCs running{where} "
            f"(added {len(added)}, kept {len(kept)}, removed {len(gone)})")


def remove(bmcs: Bmcs, cluster: str) -> str:
    """Stop and delete every BMC the cluster owns; the others stay."""
    mine = owned(cluster)
    present = [d for d in mine if d in bmcs.listed()]
    bmcs.delete(present)
    owned_path(cluster).unlink(missing_ok=True)
    return f"ocplab vbmc: cluster {cluster}: {len(present)} BMCs removed"


def ping(bmcs: Bmcs, wait: float) -> None:
    """Wait for vbmcd to answer (it has just been started), up to `wait` seconds."""
    deadline = time.monotonic() + wait
    while True:
        try:
            bmcs.listed()
            return
        except VbmcError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _entries(items: list[str]) -> dict[str, int]:
    wanted: dict[str, int] = {}
    for item in items:
        domain, _, port = item.rpartition("=")
        if not domain or not port.isdigit():
            raise VbmcError(f"{item!r} is not DOMAIN=PORT")
        wanted[domain] = int(port)
    return wanted


def main(argv: list[str] | None = None, client: Client | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ocplab-vbmc")
    sub = parser.add_subparsers(dest="action", required=True)
    synced = sub.add_parser("sync")
    synced.add_argument("cluster")
    synced.add_argument("address")
    synced.add_argument("user")
    synced.add_argument("entries", nargs="*")
    sub.add_parser("remove").add_argument("cluster")
    sub.add_parser("ping").add_argument("--wait", type=float, default=0)
    args = parser.parse_args(argv)
    try:
        bmcs = Bmcs(client or ZmqClient(500 if args.action == "ping" else None), ROOT / "domains")
        if args.action == "sync":
            password = sys.stdin.readline().rstrip("\n")
            print(sync(bmcs, args.cluster, args.address, args.user, password, _entries(args.entries)))
        elif args.action == "remove":
            print(remove(bmcs, args.cluster))
        else:
            ping(bmcs, args.wait)
    except VbmcError as exc:
        print(f"ocplab vbmc: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
