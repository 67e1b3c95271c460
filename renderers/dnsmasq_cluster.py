"""One cluster's DHCP and DNS entries on the jumphost, and the scripts that apply them safely.

Three files per cluster (see dnsmasq_layout): dhcp-hosts lines (MAC, IP, FQDN), a hosts file
(A + PTR, the node FQDN first on its line so it gets the PTR; api/api-int on the API VIP), and a
conf-dir file with the `*.apps` wildcard and the cluster's DHCP domain. Updates are staged as
dotfiles, checked with `dnsmasq --test`, renamed into place under a lock shared by all cluster
stacks, then dnsmasq restarts only if the conf-dir file changed (wildcards need it), else gets a
SIGHUP only if entries went away (additions arrive by inotify). The shell is in
files/dnsmasq-cluster-*.sh.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.cluster_design import ClusterDesign
from renderers import dnsmasq_layout as layout
from renderers import pxe_boot
from renderers.shell import ShellValue, b64, script


@dataclass(frozen=True)
class ClusterDns:
    """The rendered contents of a cluster's three files."""

    dhcp_hosts: str
    hosts: str
    wildcards: str
    tftp_dirs: tuple[str, ...] = ()  # the TFTP roots of the nodes offered a network boot (renderers.pxe_boot)

    def as_dict(self) -> dict[str, str]:
        return {"dhcp": self.dhcp_hosts, "hosts": self.hosts, "wildcards": self.wildcards}


def render_cluster_dns(design: ClusterDesign) -> ClusterDns:
    """dnsmasq entries for every node, the API and ingress VIPs, and the cluster's subdomain."""
    cluster, plan, slice_range, zone = design.cluster, design.plan, design.slice_range, design.zone
    # One reservation per MAC, both families on dual-stack (dnsmasq: `<mac>,<ipv4>,[<ipv6>],<name>`).
    hosted = [(n.name, plan.nodes[n.name]) for n in cluster.nodes]
    hosted += [("bootstrap", plan.bootstrap)] if plan.bootstrap else []  # the installer's bootstrap VM
    # IPv6-only: `<mac>,[<ipv6>],<name>`, no IPv4 address and so no DHCPv4 lease for its MACs.
    dhcp = [f"{node.macs['baremetal']},{f'{node.ip},' if node.ip else ''}{f'[{node.ip6}],' if node.ip6 else ''}"
            f"{name}.{zone}" for name, node in hosted]
    names: dict[str, list[str]] = {}
    for family in ("ip", "ip6"):  # IPv4 lines first, as an IPv4 cluster's file always had them
        for name, node in hosted:
            if address := getattr(node, family):
                names.setdefault(address, []).append(f"{name}.{zone}")
        if api := {"ip": plan.api_vip, "ip6": plan.api_vip6}[family]:
            names.setdefault(api, []).extend([f"api.{zone}", f"api-int.{zone}"])
    hosts = [f"{ip} {' '.join(fqdns)}" for ip, fqdns in names.items()]
    range6 = design.slice_range6
    wildcards = [
        f"# ocplab cluster {cluster.name}: *.apps wildcard and the cluster's DHCP domain",
        *(f"address=/apps.{zone}/{vip}" for vip in (plan.ingress_vip, plan.ingress_vip6) if vip),
        *([f"domain={zone},{slice_range.first},{slice_range.last}"] if slice_range else []),
        *([f"domain={zone},{range6.first},{range6.last}"] if range6 else []),
        *pxe_boot.cluster_lines(cluster.name, pxe_boot.pxe_macs(design)),
    ]
    header = f"# ocplab cluster {cluster.name}\n"
    return ClusterDns(dhcp_hosts=header + "\n".join(dhcp) + "\n", hosts=header + "\n".join(hosts) + "\n",
                      wildcards="\n".join(wildcards) + "\n",
                      tftp_dirs=tuple(pxe_boot.tftp_dir(mac) for mac in pxe_boot.pxe_macs(design)))


def _cluster_script(parts: tuple[str, ...], cluster: str, **extra: ShellValue) -> str:
    files = layout.cluster_files(cluster)
    return script("dnsmasq-cluster-lock", *parts, cluster=cluster, control=layout.CONTROL, lock_file=layout.LOCK_FILE,
                  dhcp_file=files["dhcp"], hosts_file=files["hosts"], wildcards_file=files["wildcards"], **extra)


def apply_script(cluster: str, dns: ClusterDns) -> str:
    """Create or update the cluster's files, and the TFTP root of each node offered a network boot (renderers.
    pxe_boot); a failed check keeps the previous ones and fails."""
    return _cluster_script(("dnsmasq-cluster-apply",), cluster, root=layout.ROOT, conf=layout.CONF,
                           dhcp_b64=b64(dns.dhcp_hosts), hosts_b64=b64(dns.hosts), wildcards_b64=b64(dns.wildcards),
                           tftp_root=pxe_boot.TFTP_ROOT, tftp_dirs=" ".join(dns.tftp_dirs))


def remove_script(cluster: str, dual_stack: bool = False) -> str:
    """Remove the cluster's files and its nodes' TFTP roots; restart only because its wildcard goes away. A
    dual-stack cluster's DHCPv6 leases go first (files/dnsmasq-cluster-drop-leases6.sh); an IPv4 cluster's script
    stays as deployed stacks hold it (their `delete` would otherwise change)."""
    parts = ("dnsmasq-cluster-drop-leases6",) * dual_stack + ("dnsmasq-cluster-remove",)
    return _cluster_script(parts, cluster, lease_file=layout.LEASE_FILE, tftp_root=pxe_boot.TFTP_ROOT)

