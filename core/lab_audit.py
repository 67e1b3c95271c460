"""What the lab really holds against what its stacks say: every orphan, missing piece and hand-edited
file, each with the command that fixes it (`ocplab doctor`). Pure: the collector (tools/lab_collect.py)
fills a FoundLab over SSH, and the paths on the hosts come in as LabPaths from the renderers.

What counts as ocplab's (everything else, such as libvirt's `default` network or a domain `web01`,
is never reported):
- on a hypervisor: a domain named `<c>-...` and a network named `<c>-provisioning`, where `<c>` is a
  slice of the lab or a cluster stack of it; every volume of the lab's pool (`ocplab`); the lab's
  bridged network (`ocplab-br0`); every entry of the lab's vbmcd (its config is private) and every
  record under its `clusters/` directory;
- on the jumphost: every file (not dotfile) of the three dnsmasq drop-in directories, and every
  unexpired lease of the lab's lease file, DHCPv4 (by MAC) and DHCPv6 (by address: a DHCPv6 lease names its
  client by DUID, which holds the MAC only when it is a DUID-LL or DUID-LLT).

Owners: a piece a deployed stack's outputs (or the lab's) name is that stack's, where that stack puts
it (a cluster's domain on another hypervisor is an orphan there). Anything else of ocplab's is an
orphan that no stack owns, except pieces of a cluster stack that is `busy` (an update runs now): those
are reported with that stack as owner and never removed. A stack with resources but no outputs (its
first `up` failed or was killed) owns what its state holds (`held_pieces`); the rest bearing its name
was made by a create the state never recorded, and is an orphan no stack owns.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol

import netaddr

from core.addresses import AddressRange
from core.clusterconfig import ClusterConfig
from core.lab_contract import HypervisorOutputs, LabOutputs
from core.labconfig import SshTarget
from core.resource_facts import (
    base_volume_name,
    domain_name,
    domain_of_seed_iso,
    node_facts,
    node_volume_names,
    provisioning_network_name,
    seed_iso_of,
)
from core.seed_media import seed_media_of
from core.ssh_access import ssh_argv

Kind = Literal["orphan", "missing", "differs", "unreachable"]
JUMPHOST = "jumphost"
MAC = re.compile(r"[0-9a-f]{2}(:[0-9a-f]{2}){5}")


@dataclass(frozen=True)
class Finding:
    kind: Kind
    host: str  # a hypervisor's name, or "jumphost"
    what: str  # "domain ipi1-worker-9"
    owner: str | None  # the stack that owns it; None: no stack does
    fix: str  # the exact command a user runs
    remote: str | None = None  # what `--remove-orphans` runs on `host` (orphans no stack owns only)

    @property
    def removable(self) -> bool:
        return self.kind == "orphan" and self.owner is None and self.remote is not None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class LabPaths:
    """Where ocplab keeps things on the hosts (renderers.dnsmasq_layout and renderers.vbmc_scripts)."""

    cluster_files: Callable[[str], Mapping[str, str]]  # cluster -> {"dhcp"|"hosts"|"wildcards": path}
    dnsmasq_dirs: Mapping[str, str]  # the same keys -> the drop-in directory
    lease_file: str
    dnsmasq_control: str
    vbmc: str  # the vbmc client, run with VIRTUALBMC_CONFIG=vbmc_conf
    vbmc_conf: str
    vbmc_python: str
    vbmc_helper: str
    vbmc_records: str  # the helper's clusters/ directory: which domains each cluster owns
    consoles_control: str = "/etc/ocplab/bin/ocplab-consoles"  # gathers each cluster's console logs
    sushy_remove: str = "ocplab_sushy.py remove"  # + CLUSTER: stops and deletes that cluster's Redfish emulator
    sushy_records: str = "/etc/ocplab/sushy/clusters"  # one directory per cluster with an emulator


class Urns(Protocol):
    """The engine's names (URNs) of the resources a fix names, made by the caller (renderers.urns): the core
    spells neither Pulumi's type tokens nor the project."""

    def cluster_command(self, stack: str, name: str) -> str:
        """A remote Command of the stack's Cluster component (its `<cluster>-bmc`, `<cluster>-redfish`)."""
        ...

    def node_command(self, stack: str, name: str) -> str:
        """A remote Command of one of the Cluster's Nodes (a node's `<domain>-seed`)."""
        ...


@dataclass(frozen=True)
class Lease:
    expiry: int  # seconds since the epoch; 0: never
    mac: str
    ip: str
    hostname: str


@dataclass(frozen=True)
class Lease6:
    """A DHCPv6 lease line (after the file's `duid` line): `EXPIRY IAID ADDRESS HOSTNAME CLIENT-DUID`."""

    expiry: int  # seconds since the epoch; 0: never
    ip: str
    hostname: str
    duid: str

    @property
    def mac(self) -> str | None:
        """The client's MAC when its DUID holds one (RFC 8415: DUID-LLT type 1, DUID-LL type 3, on Ethernet)."""
        octets = self.duid.lower().split(":")
        if octets[:4] == ["00", "01", "00", "01"] and len(octets) == 14:
            found = ":".join(octets[8:])
        elif octets[:4] == ["00", "03", "00", "01"] and len(octets) == 10:
            found = ":".join(octets[4:])
        else:
            return None
        return found if MAC.fullmatch(found) else None


@dataclass
class FoundHypervisor:
    """What `virsh` and `vbmc` list on one hypervisor; None where that listing failed (see errors)."""

    domains: list[str] | None = None
    running: list[str] | None = None
    pools: list[str] | None = None
    volumes: list[str] | None = None
    networks: list[str] | None = None
    active_networks: list[str] | None = None
    bmcs: list[str] | None = None
    bmc_records: list[str] | None = None
    redfish: list[str] | None = None  # clusters with a Redfish emulator here
    errors: dict[str, str] = field(default_factory=dict)  # listing -> first line of its error


@dataclass
class FoundJumphost:
    files: dict[str, str] | None = None  # path -> content, for every file of the drop-in directories
    leases: list[Lease] | None = None
    leases6: list[Lease6] = field(default_factory=list)  # read with leases (the same file)
    consoles: list[str] | None = None  # clusters with a console collector's config or gathered logs
    now: int = 0
    errors: dict[str, str] = field(default_factory=dict)


@dataclass
class FoundLab:
    hypervisors: dict[str, FoundHypervisor] = field(default_factory=dict)
    jumphost: FoundJumphost | None = None
    unreachable: dict[str, str] = field(default_factory=dict)  # host -> first line of ssh's error


@dataclass(frozen=True)
class ExpectedCluster:
    """A deployed cluster stack's pieces, from its outputs (and its config for the optional volumes)."""

    stack: str
    name: str
    hypervisor: str
    nodes: tuple[str, ...]
    volumes: tuple[str, ...]  # that must exist
    provisioning: bool
    macs: tuple[str, ...]  # lab-network MACs with a reservation: nodes and the bootstrap VM
    bmc_nodes: tuple[str, ...]  # nodes with a vbmc entry (ipmi BMCs only)
    dnsmasq: Mapping[str, str] | None  # the exported file texts (None in outputs older than that)
    redfish: bool = False  # the cluster runs a Redfish emulator on its hypervisor
    seed_media: str = "volume"  # its cloud-init seeds: files its seed commands make, or volumes (core.seed_media)
    addresses6: Mapping[str, tuple[str, str]] = field(default_factory=dict)  # planned IPv6 -> (what, its MAC)


def expected_cluster(stack: str, outputs: Mapping[str, Any], config: ClusterConfig | None = None) -> ExpectedCluster:
    """Every node has its root volume; disk2 and the cloud-init ISO as its config declares them."""
    name = str(outputs.get("cluster") or stack)
    nodes = [n for n in outputs.get("nodes") or [] if isinstance(n, Mapping)]
    specs = {s.name: s for s in config.nodes} if config is not None else {}
    volumes: list[str] = []
    for node in nodes:
        spec = specs.get(node["name"])
        if config is None or spec is None:
            volumes.append(node_volume_names(name, node["name"])[0])
            continue
        facts = node_facts(config, spec)
        volumes += [facts.root.name, *([facts.disk2.name] if facts.disk2 else []),
                    *([facts.cloud_init_iso] if facts.cloud_init_iso else [])]
    macs = [str(n.get("macs", {}).get("baremetal", "")).lower() for n in nodes]
    addresses6 = {str(n["ip6"]): (str(n["name"]), mac) for n, mac in zip(nodes, macs, strict=True) if n.get("ip6")}
    bootstrap = outputs.get("bootstrap")
    if isinstance(bootstrap, Mapping) and bootstrap.get("mac"):
        macs.append(str(bootstrap["mac"]).lower())
        kept = (outputs.get("assignments") or {}).get("bootstrap") or {}  # a dual-stack one's IPv6 is kept there
        if ip6 := bootstrap.get("ip6") or kept.get("ip6"):
            addresses6[str(ip6)] = ("bootstrap", macs[-1])
    bmc = outputs.get("bmc")
    bmc_nodes = tuple(bmc.get("nodes") or {}) if isinstance(bmc, Mapping) and bmc.get("kind") == "ipmi" else ()
    dnsmasq = outputs.get("dnsmasq")
    return ExpectedCluster(
        stack=stack, name=name, hypervisor=str((outputs.get("hypervisor") or {}).get("name", "")),
        nodes=tuple(n["name"] for n in nodes), volumes=tuple(volumes),
        provisioning=any("provisioning" in (n.get("macs") or {}) for n in nodes)
        and (outputs.get("provisioning") or {}).get("mode") != "bridged", macs=tuple(m for m in macs if m),
        bmc_nodes=bmc_nodes, dnsmasq=dict(dnsmasq) if isinstance(dnsmasq, Mapping) else None,
        redfish=isinstance(bmc, Mapping) and bmc.get("kind") == "redfish",
        seed_media=seed_media_of(outputs), addresses6=addresses6)


def host_target(lab: LabOutputs, host: str) -> SshTarget:
    """Where a host of the lab (a hypervisor's name, or "jumphost") is reached over SSH."""
    if host == JUMPHOST:
        return SshTarget(address=lab.jumphost.ssh_address, user=lab.jumphost.user, port=lab.jumphost.port)
    hv = lab.hypervisors[host]
    return SshTarget(address=hv.ssh_address, user=hv.user, port=hv.port)


def up_refreshed(stack: str) -> str:
    """libvirt objects: refresh drops from the state what is gone (the provider reads each one back),
    then the update creates it again. A plain `pulumi up` would not: the state still says it exists."""
    return f"pulumi up -s {stack} --refresh"


class Audit:
    """One comparison; `findings()` gives them in the order --remove-orphans runs their fixes (BMC entries
    before their domains, domains before their volumes and networks)."""

    def __init__(self, lab_stack: str, lab: LabOutputs, clusters: Mapping[str, ExpectedCluster], paths: LabPaths,
                 urns: Urns, busy: Mapping[str, str] | None = None, held: Mapping[str, set[str]] | None = None) -> None:
        self.lab_stack, self.lab, self.paths, self.urns = lab_stack, lab, paths, urns
        self.clusters = dict(clusters)
        self.busy = dict(busy or {})
        self.held = dict(held or {})
        self.names = set(lab.slices) | {c.name for c in self.clusters.values()} | set(self.busy) | set(self.held)
        self.out: list[Finding] = []

    # -- how findings are told ----------------------------------------------------------------------------
    def target(self, host: str) -> SshTarget:
        return host_target(self.lab, host)

    def on_host(self, host: str, remote: str) -> str:
        argv = ssh_argv(self.target(host), self.lab.jumphost.ssh_key_path, self.lab.jumphost.known_hosts)
        return shlex.join(argv) + " " + shlex.quote(remote)

    def add(self, kind: Kind, host: str, what: str, owner: str | None, fix: str, remote: str | None = None) -> None:
        self.out.append(Finding(kind, host, what, owner, fix, remote))

    def owner_of(self, name: str, file: bool = False) -> str | None:
        """The ocplab name `<c>` (longest first) a piece named `<c>-...` belongs to; a dnsmasq file is `<c>` or
        `<c>.conf`."""
        for candidate in sorted(self.names, key=len, reverse=True):
            if name.startswith(f"{candidate}-") or (file and name in (candidate, f"{candidate}.conf")):
                return candidate
        return None

    def orphan(self, host: str, what: str, belongs_to: str | None, remote: str) -> None:
        """An orphan: a busy stack's (never removed; fix: let that stack finish) or no stack's (its command).
        What the state of a stack with no outputs holds is that stack's and no finding; the rest is no one's."""
        if belongs_to in self.held and _holds(self.held[belongs_to], what):
            return
        if belongs_to in self.busy:
            self.add("orphan", host, what, belongs_to,
                     f"pulumi up -s {belongs_to} ({self.busy[belongs_to]}; run ocplab doctor again after it)")
        else:
            self.add("orphan", host, what, None, self.on_host(host, remote), remote)

    def unreadable(self, host: str, listing: str, error: str) -> None:
        self.add("unreachable", host, f"{listing}: {error}", None,
                 f"{self.on_host(host, 'true')} (then see why {listing} failed on {host})")

    # -- the comparison -----------------------------------------------------------------------------------
    def findings(self, found: FoundLab) -> list[Finding]:
        self.out = []
        for host in [*self.lab.hypervisors, JUMPHOST]:
            if host in found.unreachable:
                target = self.target(host)
                self.add("unreachable", host, f"ssh {target.user}@{target.address}: {found.unreachable[host]}",
                         None, f"{self.on_host(host, 'true')} (check the host is up and its key in known_hosts)")
        for name, hv in self.lab.hypervisors.items():
            seen = found.hypervisors.get(name)
            if seen is not None and name not in found.unreachable:
                self.hypervisor(name, hv, seen)
        if found.jumphost is not None and JUMPHOST not in found.unreachable:
            self.jumphost(found.jumphost)
        return list(self.out)

    def on(self, host: str) -> list[ExpectedCluster]:
        return [c for c in self.clusters.values() if c.hypervisor == host]

    def hypervisor(self, host: str, hv: HypervisorOutputs, seen: FoundHypervisor) -> None:
        pool_gone = seen.pools is not None and hv.pool not in seen.pools  # which is why vol-list failed
        for listing, error in seen.errors.items():
            if not (listing == "volumes" and pool_gone):
                self.unreadable(host, listing, error)
        here = self.on(host)
        self.bmcs(host, here, seen)
        self.emulators(host, here, seen)
        self.domains(host, here, seen)
        self.volumes(host, hv, here, seen)
        self.networks(host, hv, here, seen)

    def bmcs(self, host: str, here: list[ExpectedCluster], seen: FoundHypervisor) -> None:
        p = self.paths
        vbmc = f"VIRTUALBMC_CONFIG={shlex.quote(p.vbmc_conf)} {shlex.quote(p.vbmc)}"
        if seen.bmcs is not None:
            wanted = {domain_name(c.name, n): c for c in here for n in c.bmc_nodes}
            for entry in seen.bmcs:
                if entry not in wanted:
                    self.orphan(host, f"BMC {entry}", self.owner_of(entry), f"{vbmc} delete {shlex.quote(entry)}")
            for entry, c in wanted.items():
                if entry not in seen.bmcs:
                    # Its remote Command only runs again when its inputs change, and --replace would run the
                    # old one's delete (all the cluster's BMCs) after the new one's create; forgotten by the
                    # state (nothing depends on it), the next up creates it, and its sync adds what lacks.
                    urn = self.urns.cluster_command(c.stack, f"{c.name}-bmc")
                    self.add("missing", host, f"BMC {entry}", c.stack,
                             f"pulumi state delete -s {c.stack} '{urn}' --yes && pulumi up -s {c.stack}")
        if seen.bmc_records is not None:
            deployed = {c.name for c in here if c.bmc_nodes}
            helper = (f"VIRTUALBMC_CONFIG={shlex.quote(p.vbmc_conf)} {shlex.quote(p.vbmc_python)} "
                      f"{shlex.quote(p.vbmc_helper)}")
            for record in seen.bmc_records:
                if record not in deployed:
                    self.orphan(host, f"BMC record {p.vbmc_records}/{record}", self.owner_of(record, file=True),
                                f"{helper} remove {shlex.quote(record)}")

    def emulators(self, host: str, here: list[ExpectedCluster], seen: FoundHypervisor) -> None:
        """Each Redfish cluster's emulator (its directory under sushy_records), and no other."""
        if seen.redfish is None:
            return
        wanted = {c.name: c for c in here if c.redfish}
        for record in seen.redfish:
            if record not in wanted:
                self.orphan(host, f"Redfish emulator {record}", self.owner_of(record, file=True),
                            f"{self.paths.sushy_remove} {shlex.quote(record)}")
        for name, c in wanted.items():
            if name not in seen.redfish:  # as for a vbmc entry: forgotten by the state, the next up makes it
                urn = self.urns.cluster_command(c.stack, f"{name}-redfish")
                self.add("missing", host, f"Redfish emulator {name}", c.stack,
                         f"pulumi state delete -s {c.stack} '{urn}' --yes && pulumi up -s {c.stack}")

    def domains(self, host: str, here: list[ExpectedCluster], seen: FoundHypervisor) -> None:
        if seen.domains is None:
            return
        wanted = {domain_name(c.name, n): c for c in here for n in c.nodes}
        running = set(seen.running or [])
        for domain in seen.domains:
            belongs_to = self.owner_of(domain)
            if domain in wanted or belongs_to is None:
                continue
            undefine = f"virsh undefine --nvram {shlex.quote(domain)}"  # a running domain would stay, transient
            self.orphan(host, f"domain {domain}", belongs_to,
                        f"virsh destroy {shlex.quote(domain)} && {undefine}" if domain in running else undefine)
        for domain, c in wanted.items():
            if domain not in seen.domains:
                self.add("missing", host, f"domain {domain}", c.stack, up_refreshed(c.stack))

    def volumes(self, host: str, hv: HypervisorOutputs, here: list[ExpectedCluster], seen: FoundHypervisor) -> None:
        if seen.pools is not None and hv.pool not in seen.pools:
            self.add("missing", host, f"pool {hv.pool}", self.lab_stack, up_refreshed(self.lab_stack))
            return
        if seen.volumes is None:
            return
        base = {base_volume_name(image) for image in hv.base_volumes}
        owned = {v for c in here for n in c.nodes for v in node_volume_names(c.name, n)}
        for volume in seen.volumes:
            if volume not in base and volume not in owned:
                self.orphan(host, f"volume {volume}", self.owner_of(volume),
                            f"virsh vol-delete --pool {shlex.quote(hv.pool)} {shlex.quote(volume)}")
        for volume in sorted(base):
            if volume not in seen.volumes:
                self.add("missing", host, f"volume {volume}", self.lab_stack, up_refreshed(self.lab_stack))
        for c in here:
            for volume in c.volumes:
                if volume not in seen.volumes:
                    self.add("missing", host, f"volume {volume}", c.stack, self.remake(c, volume))

    def remake(self, c: ExpectedCluster, volume: str) -> str:
        """A seed file is its command's: no refresh reads a command back, so the command is run anew (--replace)."""
        if c.seed_media == "file" and (domain := domain_of_seed_iso(volume)):
            return f"pulumi up -s {c.stack} --replace '{self.urns.node_command(c.stack, domain + SEED_SUFFIX)}'"
        return up_refreshed(c.stack)

    def networks(self, host: str, hv: HypervisorOutputs, here: list[ExpectedCluster], seen: FoundHypervisor) -> None:
        if seen.networks is None:
            return
        wanted = {provisioning_network_name(c.name): c.stack for c in here if c.provisioning}
        active = set(seen.active_networks or [])
        for network in seen.networks:
            belongs_to = next((n for n in self.names if network == provisioning_network_name(n)), None)
            if network in wanted or belongs_to is None:
                continue
            undefine = f"virsh net-undefine {shlex.quote(network)}"
            self.orphan(host, f"network {network}", belongs_to,
                        f"virsh net-destroy {shlex.quote(network)} && {undefine}" if network in active else undefine)
        wanted[hv.network] = self.lab_stack
        for network, stack in wanted.items():
            if network not in seen.networks:
                self.add("missing", host, f"network {network}", stack, up_refreshed(stack))

    def jumphost(self, seen: FoundJumphost) -> None:
        for listing, error in seen.errors.items():
            self.unreadable(JUMPHOST, listing, error)
        if seen.files is not None:
            self.dnsmasq_files(seen.files)
        if seen.leases is not None:
            self.leases(seen.leases, seen.now)
            self.leases6(seen.leases6, seen.now)
        if seen.consoles is not None:
            self.consoles(seen.consoles)

    def consoles(self, seen: list[str]) -> None:
        """Each deployed cluster's console collector (config and gathered logs); one of no cluster is an orphan
        (its logs and a collector still following a destroyed cluster's hypervisor)."""
        wanted = {c.name: c for c in self.clusters.values()}
        control = shlex.quote(self.paths.consoles_control)
        for name in sorted(set(seen) - set(wanted)):
            self.orphan(JUMPHOST, f"console logs of {name}", name, f"{control} remove {shlex.quote(name)}")
        for name in sorted(set(wanted) - set(seen)):
            self.add("missing", JUMPHOST, f"console logs of {name}", wanted[name].stack,
                     self.reapply(wanted[name], "consoles"))

    def reapply_dns(self, c: ExpectedCluster) -> str:
        return self.reapply(c, "dns")

    def reapply(self, c: ExpectedCluster, command: str) -> str:
        """The stack's own `<cluster>-<command>` script (dns, consoles), read from its state and run on the
        jumphost as `pulumi up` ran it.

        A remote Command only runs again when its inputs change and `pulumi refresh` does not read it back
        (pulumi-command's Command has no Read), so neither notices a file changed or removed by hand;
        `--replace` would create first and then run the old resource's delete, which removes what it made."""
        pick = ("import json,sys; print(next(r['inputs']['create'] for r in json.load(sys.stdin)['deployment']"
                "['resources'] if r['type'] == 'command:remote:Command' and "
                f"r['urn'].endswith('::{c.name}-{command}')))")
        argv = ssh_argv(self.target(JUMPHOST), self.lab.jumphost.ssh_key_path, self.lab.jumphost.known_hosts,
                        "-o", "BatchMode=yes")
        return f"pulumi stack export -s {c.stack} | python3 -c {shlex.quote(pick)} | {shlex.join(argv)} sh"

    def dnsmasq_files(self, files: Mapping[str, str]) -> None:
        p = self.paths
        wanted: dict[str, tuple[ExpectedCluster, str]] = {}
        for c in self.clusters.values():
            for key, path in p.cluster_files(c.name).items():
                wanted[path] = (c, key)
        for path in sorted(files):
            if path in wanted:
                continue
            # The wildcards file (conf-dir) needs a restart to go, the entries a SIGHUP, as the stacks do.
            action = "restart" if path.startswith(p.dnsmasq_dirs["wildcards"] + "/") else "reload"
            self.orphan(JUMPHOST, f"file {path}", self.owner_of(path.rsplit("/", 1)[-1], file=True),
                        f"rm -f -- {shlex.quote(path)} && {shlex.quote(p.dnsmasq_control)} {action}")
        for path, (c, key) in wanted.items():
            if path not in files:
                self.add("missing", JUMPHOST, f"file {path}", c.stack, self.reapply_dns(c))
            elif c.dnsmasq is not None and key in c.dnsmasq and files[path] != c.dnsmasq[key]:
                self.add("differs", JUMPHOST, f"file {path} (not the stack's output dnsmasq.{key})", c.stack,
                         self.reapply_dns(c))

    def leases(self, leases: Iterable[Lease], now: int) -> None:
        """A lease of a MAC no cluster reserves keeps its address from a new reservation until it expires
        (dnsmasq: "not using configured address ... because it is leased to ..."). dnsmasq rewrites the
        lease file from memory, so a lease goes only with dnsmasq stopped: a second without DHCP and DNS."""
        macs = {m for c in self.clusters.values() for m in c.macs}
        slices = {name: AddressRange.parse(s.range) for name, s in self.lab.slices.items() if s.range}
        control, lease_file = shlex.quote(self.paths.dnsmasq_control), shlex.quote(self.paths.lease_file)
        for lease in leases:
            if lease.mac in macs or (lease.expiry and lease.expiry <= now) or not MAC.fullmatch(lease.mac):
                continue
            belongs_to = next((name for name, r in slices.items() if _within(r, lease.ip)), None)
            self.orphan(JUMPHOST, f"lease {lease.ip} {lease.mac}" + (f" {lease.hostname}" if lease.hostname != "*"
                                                                        else ""), belongs_to,
                        f"{control} stop && sed -i '/^[0-9]* {lease.mac} /d' {lease_file} && {control} start")


    def leases6(self, leases: Iterable[Lease6], now: int) -> None:
        """DHCPv6 leases against the plan: a lease on an address no stack plans is an orphan (it keeps that address
        from a new reservation until it expires); a node that holds another address than its planned one, or a
        client that holds a node's planned address, differs. Both go as an IPv4 lease goes (dnsmasq stopped).
        A lease's client is the node whose MAC its DUID holds (DUID-LL/LLT), else the node whose planned lease has
        the same DUID (a DUID-UUID, as dhcpcd and NetworkManager make from the machine's UUID, holds no MAC)."""
        planned = {ip6: (c, what, mac) for c in self.clusters.values() for ip6, (what, mac) in c.addresses6.items()}
        by_mac = {mac: (c, what, ip6) for ip6, (c, what, mac) in planned.items()}
        live = [lease for lease in leases if not (lease.expiry and lease.expiry <= now) and _is_ipv6(lease.ip)]
        by_duid = {lease.duid: by_mac[planned[lease.ip][2]] for lease in live
                   if lease.ip in planned and lease.mac in (None, planned[lease.ip][2])}
        slices = {name: AddressRange.parse(s.range6, 6) for name, s in self.lab.slices.items() if s.range6}
        control, lease_file = shlex.quote(self.paths.dnsmasq_control), shlex.quote(self.paths.lease_file)
        for lease in live:
            drop = f"{control} stop && sed -i '/^[0-9]* [^ ]* {lease.ip} /d' {lease_file} && {control} start"
            shown = f"lease {lease.ip}" + (f" {lease.hostname}" if lease.hostname != "*" else "")
            owner = by_mac.get(lease.mac) if lease.mac else by_duid.get(lease.duid)
            if owner is not None and owner[2] != lease.ip:
                c, what, ip6 = owner
                self.add("differs", JUMPHOST, f"{shown} of {what} ({planned[ip6][2]}), planned {ip6}", c.stack,
                         self.on_host(JUMPHOST, drop))
            elif lease.ip in planned and lease.mac is not None and lease.mac != planned[lease.ip][2]:
                c, what, mac = planned[lease.ip]
                self.add("differs", JUMPHOST, f"{shown} held by {lease.mac}, planned for {what} ({mac})", c.stack,
                         self.on_host(JUMPHOST, drop))
            elif lease.ip not in planned:
                belongs_to = next((name for name, r in slices.items() if r.contains(netaddr.IPAddress(lease.ip, 6))),
                                  None)
                self.orphan(JUMPHOST, shown + (f" {lease.mac}" if lease.mac else ""), belongs_to, drop)


def held_pieces(cluster: str, resources: Iterable[Mapping[str, Any]], paths: LabPaths) -> set[str]:
    """What a cluster stack's state holds, named as the audit names pieces ("domain ipi1-master-0", ...). For a
    stack whose first `pulumi up` failed or was killed (resources, no outputs) these are its own; whatever
    else bears its name was made by a create the state does not record, and is an orphan."""
    held: set[str] = set()
    for resource in resources:
        kind, urn = str(resource.get("type", "")), str(resource.get("urn", ""))
        name = (resource.get("outputs") or {}).get("name") or (resource.get("inputs") or {}).get("name")
        if kind == "libvirt:index/domain:Domain":
            held.add(f"domain {name}")
        elif kind in ("libvirt:index/volume:Volume", "libvirt:index/cloudInitDisk:CloudInitDisk"):
            held.add(f"volume {name}")
        elif kind == "libvirt:index/network:Network":
            held.add(f"network {name}")
        elif kind == "command:remote:Command" and urn.endswith(f"::{cluster}-dns"):
            held |= {f"file {path}" for path in paths.cluster_files(cluster).values()}
        elif kind == "command:remote:Command" and urn.endswith(f"::{cluster}-consoles"):
            held.add(f"console logs of {cluster}")
        elif kind == "command:remote:Command" and urn.endswith(f"::{cluster}-bmc"):
            held |= {f"BMC record {paths.vbmc_records}/{cluster}", f"BMC {cluster}-*"}
        elif kind == "command:remote:Command" and urn.endswith(f"::{cluster}-redfish"):
            held.add(f"Redfish emulator {cluster}")
        elif kind == "command:remote:Command" and urn.endswith(SEED_SUFFIX) and f"::{cluster}-" in urn:
            held.add(f"volume {seed_iso_name(urn.rsplit('::', 1)[-1])}")  # the seed file it made (core.seed_media)
    return held


SEED_SUFFIX = "-seed"


def seed_iso_name(command: str) -> str:
    """The ISO a node's `<domain>-seed` command makes in the pool (components/node.py names both)."""
    return seed_iso_of(command.removesuffix(SEED_SUFFIX))


def _holds(held: set[str], what: str) -> bool:
    return what in held or any(h.endswith("-*") and what.startswith(h[:-1]) for h in held)


def _is_ipv6(ip: str) -> bool:
    """An address as dnsmasq writes one (canonical): anything else stays out of the fix's sed expression."""
    return netaddr.valid_ipv6(ip) and str(netaddr.IPAddress(ip, 6)) == ip


def _within(piece: AddressRange, ip: str) -> bool:
    try:
        return piece.contains(netaddr.IPAddress(ip, 4))
    except (netaddr.AddrFormatError, ValueError):
        return False


def audit(lab_stack: str, lab: LabOutputs, clusters: Mapping[str, Mapping[str, Any]], found: FoundLab,
          paths: LabPaths, urns: Urns, configs: Mapping[str, ClusterConfig] | None = None,
          busy: Mapping[str, str] | None = None, held: Mapping[str, set[str]] | None = None) -> list[Finding]:
    """Every orphan, missing piece, differing file and unreadable host of the lab."""
    expected = {stack: expected_cluster(stack, outputs, (configs or {}).get(stack))
                for stack, outputs in clusters.items()}
    return Audit(lab_stack, lab, expected, paths, urns, busy, held).findings(found)
