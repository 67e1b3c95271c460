"""Reads what the guest printed on its serial console into typed facts for tests.

The guest prints "OCPLAB: <event> key=value ..." lines (a `cmd=` field, always last, takes the
rest of the line). Kernel or shell output may precede them on the same line, and the tty adds
CRs, so the marker is searched anywhere in a line. When the log holds several boots, the
report describes the last one (`boots` counts them).
"""

from __future__ import annotations

from dataclasses import dataclass, field

MARKER = "OCPLAB: "


@dataclass(frozen=True)
class Lease:
    """One `dhcp` line: a lease the guest bound and applied to `iface`."""

    iface: str
    mac: str
    ip: str
    mask: int
    routers: tuple[str, ...]
    dns: tuple[str, ...]
    hostname: str
    domain: str
    lease: int
    ntp: tuple[str, ...] = ()  # DHCP option 42
    uptime: float | None = None  # the guest's uptime (s) when it bound the lease

    @property
    def router(self) -> str:
        return self.routers[0] if self.routers else ""


@dataclass(frozen=True)
class Lease6:
    """One `dhcp6` line: the DHCPv6 address dhcpcd bound on `iface`, and what came with it."""

    iface: str
    mac: str
    ip6: str
    router: str  # the IPv6 default route the router advertisements gave ("" where they give none)
    dns: tuple[str, ...]
    domain: str
    lease: int | None
    uptime: float | None = None  # the guest's uptime (s) when it bound the lease


@dataclass(frozen=True)
class Renewal:
    """One `dhcp-renew` line."""

    iface: str
    ip: str
    lease: int | None


@dataclass(frozen=True)
class Disk:
    """One `disk` (or `cdrom`) line."""

    name: str
    bytes: int


@dataclass(frozen=True)
class RunCmd:
    """One `runcmd` line: a runcmd item and its exit status."""

    rc: int
    cmd: str


@dataclass
class CloudUser:
    """A user cloud-init created (or gave keys to), with sha256 of each key line."""

    name: str
    keys: int
    key_sha256: list[str] = field(default_factory=list)


@dataclass
class CloudInit:
    """What the NoCloud seed did; `none` means the guest found no seed."""

    none: bool = False
    seed: str | None = None
    files: tuple[str, ...] = ()
    hostname: str | None = None
    users: dict[str, CloudUser] = field(default_factory=dict)
    runcmds: list[RunCmd] = field(default_factory=list)
    user_script_rc: int | None = None
    errors: list[str] = field(default_factory=list)


@dataclass
class GuestReport:
    """Everything the last boot in a console log reported."""

    boots: int = 0
    kernel: str | None = None
    via: str | None = None  # bios-disk, uefi-disk or uefi-tftp: the boot loader's ocplab.via= (simlab.guest.efi)
    nics: dict[str, str] = field(default_factory=dict)
    disks: list[Disk] = field(default_factory=list)
    cdroms: list[Disk] = field(default_factory=list)
    leases: dict[str, Lease] = field(default_factory=dict)
    lease_events: list[Lease] = field(default_factory=list)
    renewals: list[Renewal] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    leases6: dict[str, Lease6] = field(default_factory=dict)
    renewals6: list[Renewal] = field(default_factory=list)  # `dhcp6-renew` lines (Renewal.ip: the IPv6 address)
    lost6: list[str] = field(default_factory=list)
    no_lease: list[str] = field(default_factory=list)
    hostname: str | None = None
    hostname_source: str | None = None
    cloud_init: CloudInit = field(default_factory=CloudInit)
    failed_modules: list[str] = field(default_factory=list)
    ready: bool = False
    lines: list[str] = field(default_factory=list)
    unparsed: list[str] = field(default_factory=list)

    def disk(self, name: str) -> Disk | None:
        return next((d for d in self.disks if d.name == name), None)

    def renewals_of(self, iface: str) -> list[Renewal]:
        return [r for r in self.renewals if r.iface == iface]


def split_fields(payload: str) -> tuple[str, list[str], dict[str, str]]:
    """(event, bare words, key=value fields) of one line's payload."""
    event, _, rest = payload.partition(" ")
    words: list[str] = []
    fields: dict[str, str] = {}
    while rest:
        token, _, after = rest.partition(" ")
        if token.startswith("cmd="):
            fields["cmd"] = rest[4:]
            break
        if "=" in token:
            key, _, value = token.partition("=")
            fields[key] = value
        elif token:
            words.append(token)
        rest = after
    return event, words, fields


def _csv(value: str) -> tuple[str, ...]:
    return tuple(part for part in value.split(",") if part)


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


def _int(value: str | None) -> int | None:
    return int(value) if value is not None and value.lstrip("-").isdigit() else None


def payloads(text: str) -> list[str]:
    """The text after the marker, for every marked line."""
    found = []
    for raw in text.splitlines():
        line = raw.replace("\r", "").replace("\0", "")
        at = line.find(MARKER)
        if at >= 0:
            found.append(line[at + len(MARKER) :].rstrip())
    return found


def _apply_cloud_init(ci: CloudInit, words: list[str], f: dict[str, str]) -> bool:
    if words == ["none"]:
        ci.none = True
    elif words == ["key"] and "user" in f and "sha256" in f:
        ci.users.setdefault(f["user"], CloudUser(f["user"], 0)).key_sha256.append(f["sha256"])
    elif words == ["user-script"] and _int(f.get("rc")) is not None:
        ci.user_script_rc = _int(f["rc"])
    elif "seed" in f and "error" not in f:
        ci.seed, ci.files = f["seed"], _csv(f.get("files", ""))
    elif "error" in f:
        ci.errors.append(f["error"])
    elif "hostname" in f:
        ci.hostname = f["hostname"]
    elif "user" in f and _int(f.get("keys")) is not None:
        user = ci.users.setdefault(f["user"], CloudUser(f["user"], 0))
        user.keys = int(f["keys"])
    else:
        return False
    return True


def _apply(report: GuestReport, event: str, words: list[str], f: dict[str, str]) -> bool:
    """Folds one line into `report`; False when the line is not understood."""
    if event == "disk" or event == "cdrom":
        size = _int(f.get("bytes"))
        if "name" not in f or size is None:
            return False
        (report.disks if event == "disk" else report.cdroms).append(Disk(f["name"], size))
    elif event == "nic":
        if words == ["none"]:
            return True
        if "iface" not in f:
            return False
        report.nics[f["iface"]] = f.get("mac", "")
    elif event == "dhcp":
        mask, lease_s = _int(f.get("mask")), _int(f.get("lease"))
        if "iface" not in f or "ip" not in f or mask is None or lease_s is None:
            return False
        lease = Lease(
            iface=f["iface"], mac=f.get("mac", ""), ip=f["ip"], mask=mask, routers=_csv(f.get("router", "")),
            dns=_csv(f.get("dns", "")), hostname=f.get("hostname", ""), domain=f.get("domain", ""), lease=lease_s,
            ntp=_csv(f.get("ntp", "")), uptime=_float(f.get("uptime")),
        )
        report.leases[lease.iface] = lease
        report.lease_events.append(lease)
    elif event == "dhcp-renew":
        if "iface" not in f or "ip" not in f:
            return False
        report.renewals.append(Renewal(f["iface"], f["ip"], _int(f.get("lease"))))
    elif event in ("dhcp6", "dhcp6-renew", "dhcp6-lost"):
        return _apply6(report, event, f)
    elif event in ("dhcp-lost", "dhcp-none"):
        if "iface" not in f:
            return False
        (report.lost if event == "dhcp-lost" else report.no_lease).append(f["iface"])
    elif event == "hostname":
        if "name" not in f:
            return False
        report.hostname, report.hostname_source = f["name"], f.get("source")
    elif event == "cloud-init":
        if not _apply_cloud_init(report.cloud_init, words, f):
            return False
        if "hostname" in f:
            report.hostname, report.hostname_source = f["hostname"], "cloud-init"
    elif event == "runcmd":
        rc = _int(f.get("rc"))
        if rc is None or "cmd" not in f:
            return False
        report.cloud_init.runcmds.append(RunCmd(rc, f["cmd"]))
    elif event == "module-failed":
        report.failed_modules.append(f.get("name", ""))
    elif event == "ready":
        report.ready = True
    else:
        return False
    return True


def _apply6(report: GuestReport, event: str, f: dict[str, str]) -> bool:
    """A DHCPv6 line (assets/dhcpcd6.sh)."""
    if "iface" not in f or (event != "dhcp6-lost" and not f.get("ip6")):
        return False
    if event == "dhcp6":
        report.leases6[f["iface"]] = Lease6(iface=f["iface"], mac=f.get("mac", ""), ip6=f["ip6"],
                                            router=f.get("router", ""), dns=_csv(f.get("dns", "")),
                                            domain=f.get("domain", ""), lease=_int(f.get("lease")),
                                            uptime=_float(f.get("uptime")))
    elif event == "dhcp6-renew":
        report.renewals6.append(Renewal(f["iface"], f["ip6"], _int(f.get("lease"))))
    else:
        report.lost6.append(f["iface"])
    return True


def parse_console(text: str) -> GuestReport:
    """The report of the last boot found in `text` (an empty report if the guest never booted)."""
    report = GuestReport()
    for payload in payloads(text):
        event, words, fields = split_fields(payload)
        if event == "boot":
            report = GuestReport(boots=report.boots + 1, kernel=fields.get("kernel"), via=fields.get("via") or None)
            report.lines.append(payload)
            continue
        report.lines.append(payload)
        if not _apply(report, event, words, fields):
            report.unparsed.append(payload)
    return report
