"""What the lab's hosts really hold, for `ocplab doctor`: one SSH session per host, each running one
read-only script (renderers/lab_audit_scripts.py) whose sections are parsed here into a FoundLab.

SSH uses the lab's key and known_hosts (StrictHostKeyChecking=yes, BatchMode=yes, ConnectTimeout),
as the stacks do; a host that does not answer is recorded with ssh's first line of error, not raised.
"""

from __future__ import annotations

import base64
import binascii
import subprocess
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from core.errors import OcplabError
from core.lab_audit import JUMPHOST, FoundHypervisor, FoundJumphost, FoundLab, Lease, Lease6, host_target
from core.lab_contract import LabOutputs
from core.ssh_access import ssh_argv
from renderers.lab_audit_scripts import hypervisor_audit_script, jumphost_audit_script

CONNECT_TIMEOUT = 10  # seconds for ssh to connect
SESSION_TIMEOUT = 120  # seconds for one host's script or one fix
NO_VBMC = 3  # the script's status for bmcs when vbmc is not installed: no entries, not an error


class CollectError(OcplabError):
    """The lab's hosts cannot be asked at all (no key file in the lab outputs); one line."""


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str
    stderr: str


# argv, stdin -> what ran; tests give a fake, the default runs ssh.
Runner = Callable[[Sequence[str], str], Result]


def run_process(argv: Sequence[str], stdin: str) -> Result:
    try:
        done = subprocess.run(list(argv), input=stdin, capture_output=True, text=True, check=False,
                              timeout=SESSION_TIMEOUT)
    except subprocess.TimeoutExpired:
        return Result(255, "", f"no answer within {SESSION_TIMEOUT} s")
    except OSError as exc:
        return Result(255, "", f"{argv[0]}: {exc.strerror}")
    return Result(done.returncode, done.stdout, done.stderr)


def first_line(text: str, default: str = "") -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), default)


def host_ssh(lab: LabOutputs, host: str) -> list[str]:
    """ssh to a lab host, never prompting and never trusting an unknown host key."""
    if not lab.jumphost.ssh_key_path:
        raise CollectError("the lab outputs name no ssh_key_path (its key is a stack secret): ocplab doctor needs "
                           "the key as a file on this machine (ocplab:jumphost.ssh_key_path)")
    return ssh_argv(host_target(lab, host), lab.jumphost.ssh_key_path, lab.jumphost.known_hosts,
                    "-o", "BatchMode=yes", "-o", f"ConnectTimeout={CONNECT_TIMEOUT}")


def sections(text: str) -> dict[str, tuple[int, list[str]]]:
    """`### NAME STATUS` headers and the lines after each, as the audit scripts print them."""
    found: dict[str, tuple[int, list[str]]] = {}
    lines: list[str] = []
    for line in text.splitlines():
        if line.startswith("### "):
            name, _, status = line[4:].rpartition(" ")
            lines = []
            found[name] = (int(status) if status.isdigit() else 255, lines)
        elif found:
            lines.append(line)
    return found


def _names(lines: list[str]) -> list[str]:
    """The first word of each non-empty line (`virsh -q` ends with an empty line; vol-list adds the path)."""
    return [line.split()[0] for line in lines if line.strip()]


HYPERVISOR_LISTINGS = {"domains": "domains", "running": "running", "pools": "pools", "volumes": "volumes",
                       "networks": "networks", "active-networks": "active_networks", "bmcs": "bmcs",
                       "bmc-records": "bmc_records", "redfish": "redfish"}


def parse_hypervisor(text: str) -> FoundHypervisor:
    found = FoundHypervisor()
    parts = sections(text)
    for listing, attribute in HYPERVISOR_LISTINGS.items():
        if listing not in parts:
            found.errors[listing] = "no such section in the script's output (did it stop early?)"
            continue
        status, lines = parts[listing]
        if listing == "bmcs" and status == NO_VBMC:
            setattr(found, attribute, [])
        elif status != 0:
            found.errors[listing] = first_line("\n".join(lines), f"exit status {status}")
        else:
            setattr(found, attribute, _names(lines))
    return found


def _lease(line: str) -> Lease | None:
    """`EXPIRY MAC IP HOSTNAME CLIENT-ID`, as dnsmasq writes its lease file."""
    fields = line.split()
    if len(fields) < 4 or not fields[0].isdigit():
        return None
    return Lease(expiry=int(fields[0]), mac=fields[1].lower(), ip=fields[2], hostname=fields[3])


def _lease6(line: str) -> Lease6 | None:
    """`EXPIRY IAID ADDRESS HOSTNAME CLIENT-DUID`, the lines after the file's `duid SERVER-DUID` line."""
    fields = line.split()
    if len(fields) < 5 or not fields[0].isdigit():
        return None
    return Lease6(expiry=int(fields[0]), ip=fields[2].lower(), hostname=fields[3], duid=fields[4].lower())


def leases_of(lines: list[str]) -> tuple[list[Lease], list[Lease6]]:
    """The lease file's DHCPv4 leases and, after its `duid` line, its DHCPv6 ones (dnsmasq writes them so)."""
    at = next((i for i, line in enumerate(lines) if line.startswith("duid ")), len(lines))
    return ([lease for lease in map(_lease, lines[:at]) if lease is not None],
            [lease for lease in map(_lease6, lines[at + 1:]) if lease is not None])


def parse_jumphost(text: str) -> FoundJumphost:
    found = FoundJumphost(files={})
    parts = sections(text)
    for listing, (status, lines) in parts.items():
        body = "\n".join(lines)
        if status != 0:
            found.errors[listing] = first_line(body, f"exit status {status}")
        elif listing == "now" and body.strip().isdigit():
            found.now = int(body.strip())
        elif listing == "leases":
            found.leases, found.leases6 = leases_of(lines)
        elif listing == "consoles":
            found.consoles = [line.strip() for line in lines if line.strip()]
        elif listing.startswith("file "):
            try:
                content = base64.b64decode(body.strip(), validate=True).decode("utf-8", errors="replace")
            except (binascii.Error, ValueError):
                found.errors[listing] = "its content did not arrive as base64"
                continue
            assert found.files is not None
            found.files[listing.removeprefix("file ")] = content
    if "leases" not in parts and "leases" not in found.errors:
        found.errors["leases"] = "no such section in the script's output (did it stop early?)"
    return found


def collect(lab: LabOutputs, run: Runner = run_process) -> FoundLab:
    """Every host at once (one thread and one SSH session each)."""
    scripts = {name: hypervisor_audit_script(hv.pool) for name, hv in lab.hypervisors.items()}
    scripts[JUMPHOST] = jumphost_audit_script()
    argvs = {host: [*host_ssh(lab, host), "sh", "-s"] for host in scripts}
    with ThreadPoolExecutor(max_workers=min(8, len(scripts))) as pool:
        results = dict(zip(scripts, pool.map(lambda h: run(argvs[h], scripts[h]), scripts), strict=True))
    found = FoundLab()
    for host, result in results.items():
        if result.returncode == 255 or "### " not in result.stdout:
            found.unreachable[host] = first_line(result.stderr, f"ssh exit status {result.returncode}")
        elif host == JUMPHOST:
            found.jumphost = parse_jumphost(result.stdout)
        else:
            found.hypervisors[host] = parse_hypervisor(result.stdout)
    return found


def run_on(lab: LabOutputs, host: str, command: str, run: Runner = run_process) -> Result:
    """One fix on one host, over the same SSH access."""
    return run([*host_ssh(lab, host), command], "")
