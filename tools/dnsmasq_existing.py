"""What a lab's existing dnsmasq gives out, read from its files: DHCP reservations and DNS names.

Teams moving a DCI lab to ocplab keep their nodes' addresses in the jumphost's dnsmasq, not in
their inventories, so `ocplab import` reads them from there. Three forms are understood, as
dnsmasq(8) defines them: config lines (`dhcp-host=`, `host-record=`, `address=/name/ip`), the
lines of a `dhcp-hostsfile`/`dhcp-hostsdir` file (a `dhcp-host` value without the key) and
hosts files (`IP NAME...`, as `addn-hosts`/`hostsdir` read them). Other options are ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import netaddr

from core.errors import OcplabError
from core.macs import mac_problem

_OPTION = re.compile(r"^([a-z][a-z0-9-]*)=(.*)$")
MAX_FILE_BYTES = 16 * 1024 * 1024  # a lab's dnsmasq files are KBs; more is not one (and would be read whole)
_LEASE = re.compile(r"^(\d+[smhdw]?|infinite)$")


class ExistingDnsError(OcplabError):
    """A line that cannot be read as dnsmasq would read it: FILE:LINE and why."""


@dataclass(frozen=True)
class Reservation:
    """One dhcp-host: the MACs it matches, the address it gives, and the hostname it hands out."""

    macs: tuple[str, ...]
    ip: str
    hostname: str | None
    where: str  # FILE:LINE


@dataclass
class ExistingDns:
    reservations: list[Reservation] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)  # name -> IPv4 (host-record, hosts lines)
    wildcards: dict[str, str] = field(default_factory=dict)  # domain -> IPv4 (address=/domain/ip, subdomains too)

    def address_of(self, name: str) -> str | None:
        """What dnsmasq answers for `name`: its own record, else the nearest `address=` domain."""
        if name in self.names:
            return self.names[name]
        labels = name.split(".")
        for start in range(len(labels)):
            if (found := self.wildcards.get(".".join(labels[start:]))) is not None:
                return found
        return None


def read_existing_dns(paths: list[Path]) -> ExistingDns:
    """Every reservation and name in `paths`, in order; ExistingDnsError on a line dnsmasq would refuse."""
    found = ExistingDns()
    for path in paths:
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                raise ExistingDnsError(f"{path}: larger than {MAX_FILE_BYTES // 1024 // 1024} MiB; not a dnsmasq file")
            lines = path.read_text().splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise ExistingDnsError(f"{path}: cannot read it ({exc.__class__.__name__})") from None
        for number, raw in enumerate(lines, start=1):
            line = raw.split("#", 1)[0].strip()
            if line:
                _read_line(line, f"{path}:{number}", found)
    return found


def _read_line(line: str, where: str, found: ExistingDns) -> None:
    option = _OPTION.match(line)
    if option:
        key, value = option.groups()
        if key == "dhcp-host":
            _reservation(value, where, found)
        elif key == "host-record":
            _host_record(value, where, found)
        elif key == "address":
            _address(value, where, found)
        return
    first, *rest = line.split()
    if netaddr.valid_ipv4(first):
        if not rest:
            raise ExistingDnsError(f"{where}: hosts line {line!r} names no host")
        for name in rest:
            found.names.setdefault(name.lower(), first)
    elif "," in line:
        _reservation(line, where, found)  # a dhcp-hostsfile line
    elif not netaddr.valid_ipv6(first):
        raise ExistingDnsError(f"{where}: {line!r} is not a dnsmasq option, a dhcp-hosts line or a hosts line")


def _reservation(value: str, where: str, found: ExistingDns) -> None:
    macs: list[str] = []
    ips: list[str] = []
    names: list[str] = []
    for part in (p.strip() for p in value.split(",")):
        if not part or part == "ignore" or _LEASE.match(part) or re.match(r"^(id|set|tag):", part):
            continue
        if mac_problem(part) is None:
            macs.append(part.lower())
        elif netaddr.valid_ipv4(part):
            ips.append(part)
        elif part.startswith("[") or netaddr.valid_ipv6(part):
            continue
        else:
            names.append(part.lower())
    if len(ips) > 1 or len(names) > 1:
        raise ExistingDnsError(f"{where}: dhcp-host {value!r} has more than one address or hostname")
    if ips:  # a reservation without an address only names or tags a client: nothing to keep
        found.reservations.append(Reservation(tuple(macs), ips[0], names[0] if names else None, where))


def _host_record(value: str, where: str, found: ExistingDns) -> None:
    parts = [p.strip() for p in value.split(",")]
    addresses = [p for p in parts if netaddr.valid_ipv4(p)]
    names = [p.lower() for p in parts if not (netaddr.valid_ipv4(p) or netaddr.valid_ipv6(p) or p.isdigit())]
    if not addresses or not names:
        raise ExistingDnsError(f"{where}: host-record={value!r} needs a name and an IPv4 address")
    for name in names:
        found.names.setdefault(name, addresses[0])


def _address(value: str, where: str, found: ExistingDns) -> None:
    pieces = value.split("/")
    if len(pieces) < 3 or pieces[0] != "":
        raise ExistingDnsError(f"{where}: address={value!r} is not /DOMAIN/.../ADDRESS")
    target = pieces[-1]
    if not netaddr.valid_ipv4(target):
        return  # IPv6, '#' (NXDOMAIN-free) or empty (local only): no IPv4 answer to keep
    for domain in pieces[1:-1]:
        if domain:
            found.wildcards.setdefault(domain.lower().removeprefix("*.").lstrip("."), target)
