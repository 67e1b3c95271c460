"""What a lab's existing dnsmasq gives out, read from its files: DHCP reservations and DNS names, in both families.

Teams moving a DCI lab to ocplab keep their nodes' addresses in the jumphost's dnsmasq, not in
their inventories, so `ocplab import` reads them from there. Three forms are understood, as
dnsmasq(8) defines them: config lines (`dhcp-host=`, `host-record=`, `address=/name/ip`), the
lines of a `dhcp-hostsfile`/`dhcp-hostsdir` file (a `dhcp-host` value without the key) and
hosts files (`IP NAME...`, as `addn-hosts`/`hostsdir` read them). Other options are ignored. A reservation's
IPv6 address is bracketed, as dnsmasq takes it (`<mac>,[<ipv6>],<name>`, `<mac>,<ipv4>,[<ipv6>],<name>`); IPv6
addresses are kept as netaddr writes them (the form ocplab's config takes).
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
    """One dhcp-host: the MACs it matches, the address it gives in each family, and the hostname it hands out."""

    macs: tuple[str, ...]
    ip: str | None
    hostname: str | None
    where: str  # FILE:LINE
    ip6: str | None = None

    def address(self, family: int) -> str | None:
        return self.ip if family == 4 else self.ip6


@dataclass
class ExistingDns:
    reservations: list[Reservation] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)  # name -> IPv4 (host-record, hosts lines)
    wildcards: dict[str, str] = field(default_factory=dict)  # domain -> IPv4 (address=/domain/ip, subdomains too)
    names6: dict[str, str] = field(default_factory=dict)  # the same, IPv6 (AAAA answers)
    wildcards6: dict[str, str] = field(default_factory=dict)

    def address_of(self, name: str, family: int = 4) -> str | None:
        """What dnsmasq answers for `name` in `family`: its own record, else the nearest `address=` domain."""
        names, wildcards = (self.names, self.wildcards) if family == 4 else (self.names6, self.wildcards6)
        if name in names:
            return names[name]
        labels = name.split(".")
        for start in range(len(labels)):
            if (found := wildcards.get(".".join(labels[start:]))) is not None:
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
    if netaddr.valid_ipv4(first) or netaddr.valid_ipv6(first):
        if not rest:
            raise ExistingDnsError(f"{where}: hosts line {line!r} names no host")
        names = found.names if netaddr.valid_ipv4(first) else found.names6
        for name in rest:
            names.setdefault(name.lower(), _written(first))
    elif "," in line:
        _reservation(line, where, found)  # a dhcp-hostsfile line
    else:
        raise ExistingDnsError(f"{where}: {line!r} is not a dnsmasq option, a dhcp-hosts line or a hosts line")


def _written(address: str) -> str:
    """An address as ocplab writes it: IPv6 lowercase and shortest (dnsmasq takes any spelling)."""
    return str(netaddr.IPAddress(address)) if ":" in address else address


def _ipv6_of(part: str, where: str) -> str:
    """A reservation's bracketed IPv6 address; one dnsmasq would refuse, or a form ocplab cannot keep, named."""
    inner = part[1:-1] if part.startswith("[") and part.endswith("]") else None
    if inner is None or not netaddr.valid_ipv6(inner) or "%" in inner:
        raise ExistingDnsError(f"{where}: dhcp-host {part[:80]!r} is not a bracketed IPv6 address like [fd00:16::40]")
    address = netaddr.IPAddress(inner, 6)
    if 0 < int(address) < 2**32:
        raise ExistingDnsError(f"{where}: dhcp-host [{address}] is a suffix for a dhcp-range constructor:, not a "
                               "node's address; write the whole address the node has (e.g. [fd00:16::45])")
    if address.is_link_local() or address.is_multicast() or address.is_loopback() or address.is_ipv4_mapped() \
            or not int(address):
        raise ExistingDnsError(f"{where}: dhcp-host [{address}] is not an address a node is given (link-local, "
                               "multicast, loopback, IPv4-mapped or unspecified); remove it")
    return str(address)


def _reservation(value: str, where: str, found: ExistingDns) -> None:
    macs: list[str] = []
    ips: list[str] = []
    ips6: list[str] = []
    names: list[str] = []
    for part in (p.strip() for p in value.split(",")):
        if not part or part == "ignore" or _LEASE.match(part) or re.match(r"^(id|set|tag):", part):
            continue
        if mac_problem(part) is None:
            macs.append(part.lower())
        elif netaddr.valid_ipv4(part):
            ips.append(part)
        elif part.startswith("[") or netaddr.valid_ipv6(part.partition("/")[0]):
            if "/" in part:
                raise ExistingDnsError(f"{where}: dhcp-host {part[:80]!r} gives an IPv6 prefix; ocplab keeps one "
                                       "address per node: reserve one address")
            ips6.append(_ipv6_of(part, where))
        else:
            names.append(part.lower())
    if len(ips) > 1 or len(ips6) > 1 or len(names) > 1:
        raise ExistingDnsError(f"{where}: dhcp-host {value[:200]!r} has more than one address or hostname (one "
                               "IPv4 address and one [IPv6] at most)")
    if ips or ips6:  # a reservation without an address only names or tags a client: nothing to keep
        found.reservations.append(Reservation(tuple(macs), ips[0] if ips else None, names[0] if names else None,
                                              where, ips6[0] if ips6 else None))


def _host_record(value: str, where: str, found: ExistingDns) -> None:
    parts = [p.strip() for p in value.split(",")]
    addresses = [p for p in parts if netaddr.valid_ipv4(p)]
    addresses6 = [p for p in parts if netaddr.valid_ipv6(p)]
    names = [p.lower() for p in parts if not (netaddr.valid_ipv4(p) or netaddr.valid_ipv6(p) or p.isdigit())]
    if not (addresses or addresses6) or not names:
        raise ExistingDnsError(f"{where}: host-record={value[:200]!r} needs a name and an address")
    for name in names:
        if addresses:
            found.names.setdefault(name, addresses[0])
        if addresses6:
            found.names6.setdefault(name, _written(addresses6[0]))


def _address(value: str, where: str, found: ExistingDns) -> None:
    pieces = value.split("/")
    if len(pieces) < 3 or pieces[0] != "":
        raise ExistingDnsError(f"{where}: address={value!r} is not /DOMAIN/.../ADDRESS")
    target = pieces[-1]
    if not (netaddr.valid_ipv4(target) or netaddr.valid_ipv6(target)):
        return  # '#' (NXDOMAIN-free) or empty (local only): no answer to keep
    wildcards = found.wildcards if netaddr.valid_ipv4(target) else found.wildcards6
    for domain in pieces[1:-1]:
        if domain:
            wildcards.setdefault(domain.lower().removeprefix("*.").lstrip("."), _written(target))
