"""One cluster's DHCP and DNS entries on the jumphost, and the scripts that apply them safely.

Three files per cluster (see dnsmasq_layout): dhcp-hosts lines (MAC, IP, FQDN), a hosts file
(A + PTR, the node FQDN first on its line so it gets the PTR; api/api-int on the API VIP), and a
conf-dir file with the `*.apps` wildcard and the cluster's DHCP domain. Updates are staged as
dotfiles, checked with `dnsmasq --test`, renamed into place under a lock shared by all cluster
stacks, then dnsmasq restarts only if the conf-dir file changed (wildcards need it), else gets a
SIGHUP only if entries went away (additions arrive by inotify).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from core.cluster_design import ClusterDesign
from renderers import dnsmasq_layout as layout
from renderers.remote_files import commit_file, stage_file, temp_path


@dataclass(frozen=True)
class ClusterDns:
    """The rendered contents of a cluster's three files."""

    dhcp_hosts: str
    hosts: str
    wildcards: str

    def as_dict(self) -> dict[str, str]:
        return {"dhcp": self.dhcp_hosts, "hosts": self.hosts, "wildcards": self.wildcards}


def render_cluster_dns(design: ClusterDesign) -> ClusterDns:
    """dnsmasq entries for every node, the API and ingress VIPs, and the cluster's subdomain."""
    cluster, plan, slice_range, zone = design.cluster, design.plan, design.slice_range, design.zone
    dhcp = [f"{plan.nodes[n.name].macs['baremetal']},{plan.nodes[n.name].ip},{n.name}.{zone}" for n in cluster.nodes]
    names: dict[str, list[str]] = {}
    for node in cluster.nodes:
        names.setdefault(plan.nodes[node.name].ip, []).append(f"{node.name}.{zone}")
    names.setdefault(plan.api_vip, []).extend([f"api.{zone}", f"api-int.{zone}"])
    hosts = [f"{ip} {' '.join(fqdns)}" for ip, fqdns in names.items()]
    wildcards = [
        f"# ocplab cluster {cluster.name}: *.apps wildcard and the cluster's DHCP domain",
        f"address=/apps.{zone}/{plan.ingress_vip}",
        f"domain={zone},{slice_range.first},{slice_range.last}",
    ]
    header = f"# ocplab cluster {cluster.name}\n"
    return ClusterDns(dhcp_hosts=header + "\n".join(dhcp) + "\n", hosts=header + "\n".join(hosts) + "\n",
                      wildcards="\n".join(wildcards) + "\n")


def _locked(body: list[str]) -> str:
    """Serialize every cluster stack's change to one jumphost behind one lock."""
    return "\n".join([
        "set -eu",
        f"[ -x {layout.CONTROL} ] || {{ echo 'ocplab: the lab stack has not set up dnsmasq on this jumphost; "
        "run pulumi up on the lab stack first' >&2; exit 1; }",
        f"mkdir -p {shlex.quote(layout.LOCK_FILE.rsplit('/', 1)[0])}",
        f"exec 9>{layout.LOCK_FILE}",
        "flock -w 300 9 || { echo 'ocplab: timed out waiting for the jumphost dnsmasq lock' >&2; exit 1; }",
        *body,
    ]) + "\n"


def apply_script(cluster: str, dns: ClusterDns) -> str:
    """Create or update the cluster's files; a failed check keeps the previous ones and fails."""
    files = layout.cluster_files(cluster)
    contents = dns.as_dict()
    quoted = {key: shlex.quote(path) for key, path in files.items()}
    staged = {key: shlex.quote(temp_path(path)) for key, path in files.items()}
    check_conf = shlex.quote(f"{layout.ROOT}/.check-{cluster}.conf")
    return _locked([
        *(stage_file(files[key], contents[key]) for key in files),
        f"printf 'conf-file=%s\\nconf-file=%s\\n' {layout.CONF} {staged['wildcards']} > {check_conf}",
        f"if ! out=$({layout.CONTROL} test {check_conf} 2>&1); then rm -f {check_conf} "
        f"{' '.join(staged.values())}; echo \"ocplab: dnsmasq rejected cluster {cluster}'s entries, the previous "
        "ones stay: $out\" >&2; exit 1; fi",
        f"rm -f {check_conf}",
        " && ".join(f"cmp -s {staged[key]} {quoted[key]}" for key in files)
        + f" && {{ rm -f {' '.join(staged.values())}; echo 'ocplab: cluster {cluster} entries unchanged'; exit 0; }}"
        " || true",
        f"restart=no; cmp -s {staged['wildcards']} {quoted['wildcards']} || restart=yes",
        "gone=no",
        *(f"[ -f {quoted[key]} ] && [ -n \"$(grep -vxFf {staged[key]} {quoted[key]} | grep -v '^#' || true)\" ] "
          "&& gone=yes || true" for key in ("dhcp", "hosts")),
        *(commit_file(files[key]) for key in ("dhcp", "hosts", "wildcards")),
        f"if [ $restart = yes ]; then {layout.CONTROL} restart; echo 'ocplab: dnsmasq restarted for new wildcards'",
        f"elif [ $gone = yes ]; then {layout.CONTROL} reload; echo 'ocplab: dnsmasq reloaded to drop old entries'",
        "else echo 'ocplab: entries picked up by inotify'; fi",
    ])


def remove_script(cluster: str) -> str:
    """Remove the cluster's files; restart only because its wildcard goes away."""
    files = layout.cluster_files(cluster)
    return _locked([
        f"had=no; [ -f {shlex.quote(files['wildcards'])} ] && had=yes",
        f"rm -f {' '.join(shlex.quote(p) for p in files.values())}",
        f"if [ $had = yes ]; then {layout.CONTROL} restart; else {layout.CONTROL} reload || true; fi",
        f"echo 'ocplab: cluster {cluster} entries removed from dnsmasq'",
    ])
