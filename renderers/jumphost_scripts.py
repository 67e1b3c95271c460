"""Remote-command scripts that install, update and remove the lab's dnsmasq on the jumphost."""

from __future__ import annotations

import shlex
from importlib import resources

from renderers import dnsmasq_layout as layout
from renderers.remote_files import commit_file, stage_file, temp_path, write_file


def control_script() -> str:
    """The ocplab-dnsmasq control script installed on the jumphost."""
    return resources.files("renderers").joinpath("files/ocplab-dnsmasq.sh").read_text()


def install_script(base_config: str) -> str:
    """Install or update the base config; `dnsmasq --test` must pass before it takes effect."""
    staged = shlex.quote(temp_path(layout.CONF))
    return "\n".join([
        "set -eu",
        "command -v dnsmasq >/dev/null || { echo 'ocplab: dnsmasq is not installed on the "
        "jumphost: dnf/apt install dnsmasq' >&2; exit 1; }",
        f"mkdir -p {layout.CONF_DIR} {layout.DHCP_HOSTS_DIR} {layout.HOSTS_DIR} /var/lib/ocplab "
        f"/run/lock {shlex.quote(layout.ROOT + '/bin')}",
        write_file(layout.CONTROL, control_script(), "0755"),
        stage_file(layout.CONF, base_config),
        f"if ! out=$({layout.CONTROL} test {staged} 2>&1); then rm -f {staged}; "
        "echo \"ocplab: new dnsmasq config rejected, the previous one stays: $out\" >&2; exit 1; fi",
        f"if cmp -s {staged} {layout.CONF} && {layout.CONTROL} status; then rm -f {staged}; "
        "echo 'ocplab: dnsmasq config unchanged'; exit 0; fi",
        commit_file(layout.CONF),
        f"{layout.CONTROL} restart",
        "echo 'ocplab: dnsmasq (re)started with the lab config'",
    ]) + "\n"


_CLUSTER_DIRS = " ".join([layout.DHCP_HOSTS_DIR, layout.HOSTS_DIR, layout.CONF_DIR])


def refuse_while_clusters_remain() -> str:
    """Fails, naming the files, while any cluster stack still has entries on the jumphost."""
    return "\n".join([
        "set -eu",
        f"left=$(find {_CLUSTER_DIRS} -maxdepth 1 -type f ! -name '.*' 2>/dev/null | sort | tr '\\n' ' ')",
        'if [ -n "$left" ]; then echo "ocplab: cluster stacks still have entries on the '
        'jumphost: $left- destroy those cluster stacks first" >&2; exit 1; fi',
    ]) + "\n"


def uninstall_script() -> str:
    """Remove the project's files, refusing while any cluster still has entries."""
    dirs = _CLUSTER_DIRS
    return "\n".join([
        refuse_while_clusters_remain().rstrip("\n"),
        f"[ -x {layout.CONTROL} ] && {layout.CONTROL} stop || true",
        f"rm -rf {layout.CONF} {dirs} {shlex.quote(layout.ROOT + '/bin')} /var/lib/ocplab "
        f"{layout.LOG_FILE}",
        f"rmdir {layout.ROOT} 2>/dev/null || true",
        "echo 'ocplab: dnsmasq files removed from the jumphost'",
    ]) + "\n"
