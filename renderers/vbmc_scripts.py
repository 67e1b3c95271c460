"""Remote-command scripts for virtual BMCs (virtualbmc, IPMI) on a hypervisor.

The lab stack owns the shared part: virtualbmc installed in its own virtualenv, and one vbmcd
with a private config dir, run by systemd where there is one and by setsid otherwise (it must
outlive the SSH session). Cluster stacks own their entries: `sync` makes them exactly the planned
ones and `remove` deletes them, both through renderers/files/ocplab_vbmc.py, which the lab
script installs. The BMC password reaches that helper on stdin, so no script or command line
holds it. Every script is idempotent POSIX sh.
"""

from __future__ import annotations

import shlex
from importlib import resources

from core.bmc_plan import BMC_USER, BmcPlan, PortRange
from renderers.remote_files import stage_file, temp_path, write_file

VENV = "/opt/ocplab/vbmc"
ROOT = "/etc/ocplab/vbmc"
CONF = f"{ROOT}/virtualbmc.conf"
HELPER = f"{ROOT}/bin/ocplab_vbmc.py"
PID_FILE = "/run/ocplab-vbmcd.pid"
LOG_FILE = "/var/log/ocplab-vbmcd.log"
UNIT = "ocplab-vbmcd.service"
# Not vbmcd's default 50891, so a vbmcd the admin already runs keeps its control port.
SERVER_PORT = 50991
# pip picks the newest release the host's Python supports (3.3.0 needs 3.10; RHEL 9's 3.9 gets 3.2.0).
REQUIREMENT = "virtualbmc>=3.0,<=3.3.0"

_HEAD = f"""set -eu
venv={VENV}; root={ROOT}; conf={CONF}; helper={HELPER}; pidfile={PID_FILE}; log={LOG_FILE}; unit={UNIT}
fail() {{ echo "ocplab vbmc: $*" >&2; exit 1; }}
has_systemd() {{ [ -d /run/systemd/system ] && command -v systemctl >/dev/null; }}
pid() {{ [ -f "$pidfile" ] && p=$(cat "$pidfile") && [ -n "$p" ] && kill -0 "$p" 2>/dev/null && echo "$p"; }}
running() {{ if has_systemd; then systemctl is-active --quiet "$unit"; else pid >/dev/null; fi; }}
stop_vbmcd() {{
  if has_systemd; then systemctl disable --now "$unit" >/dev/null 2>&1 || true
  elif p=$(pid); then
    kill "$p"; i=0; while kill -0 "$p" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
  fi
  rm -f "$pidfile"
}}
"""

_INSTALL = """ready() { "$venv/bin/python" -c 'import libvirt, virtualbmc.cmd.vbmc' >/dev/null 2>&1; }
if ! ready; then
  echo "ocplab vbmc: installing virtualbmc into $venv" >&2
  if ! /usr/bin/python3 -c 'import libvirt' >/dev/null 2>&1; then
    if command -v dnf >/dev/null; then
      dnf install -y -q python3-libvirt >/dev/null || fail "dnf install python3-libvirt failed"
    elif command -v apt-get >/dev/null; then
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-libvirt python3-venv >/dev/null \\
        || fail "apt-get install python3-libvirt python3-venv failed"
    else fail "install the distribution's python3-libvirt package"; fi
  fi
  created=no; [ -d "$venv" ] || created=yes
  /usr/bin/python3 -m venv --system-site-packages "$venv" || fail "python3 -m venv failed: install python3-venv"
  if ! "$venv/bin/pip" install -q {requirement} >&2; then
    [ $created = no ] || rm -rf "$venv"
    fail "pip could not install {requirement} into $venv; provide it there (python3 -m venv \\
--system-site-packages $venv && $venv/bin/pip install virtualbmc) and run again"
  fi
  ready || fail "$venv has no working virtualbmc with the libvirt binding"
fi
mkdir -p "$root/domains" "$root/clusters" "$root/bin" "$(dirname "$log")"
chmod 0700 "$root"
{helper}
{stage_conf}
changed=yes; cmp -s {staged} "$conf" && changed=no
mv -f {staged} "$conf"
if command -v firewall-cmd >/dev/null && firewall-cmd --state >/dev/null 2>&1; then
  for ports in {ports}; do
    firewall-cmd -q --add-port="$ports/udp" && firewall-cmd -q --permanent --add-port="$ports/udp"
  done
fi
if has_systemd; then
  cat > /etc/systemd/system/$unit <<UNIT
[Unit]
Description=vbmcd of the ocplab lab (IPMI BMCs of cluster VMs)
After=libvirtd.service network-online.target
[Service]
Environment=VIRTUALBMC_CONFIG=$conf
ExecStart=$venv/bin/vbmcd --foreground
Restart=on-failure
[Install]
WantedBy=multi-user.target
UNIT
  systemctl daemon-reload
  systemctl enable "$unit" >/dev/null 2>&1 || true
  if [ $changed = yes ] || ! running; then systemctl restart "$unit"; fi
elif [ $changed = yes ] || ! running; then
  stop_vbmcd
  # setsid: vbmcd must outlive the SSH session that starts it.
  VIRTUALBMC_CONFIG=$conf setsid "$venv/bin/vbmcd" --foreground </dev/null >>"$log" 2>&1 &
fi
VIRTUALBMC_CONFIG=$conf "$venv/bin/python" "$helper" ping --wait 20 >/dev/null 2>&1 \
  || fail "vbmcd does not answer on 127.0.0.1:{server_port}; see $log"
if [ $changed = yes ]; then echo "ocplab vbmc: vbmcd (re)started"; else echo "ocplab vbmc: vbmcd already running"; fi
"""

_UNINSTALL = """left=$(ls -A "$root/clusters" 2>/dev/null | grep -v '^\\.' | tr '\\n' ' ' || true)
[ -z "$left" ] || fail "clusters still have virtual BMCs on $(hostname): $left- destroy those cluster stacks first"
stop_vbmcd
if has_systemd; then rm -f /etc/systemd/system/$unit; systemctl daemon-reload; fi
if command -v firewall-cmd >/dev/null && firewall-cmd --state >/dev/null 2>&1; then
  for ports in {ports}; do
    firewall-cmd -q --remove-port="$ports/udp" || true; firewall-cmd -q --permanent --remove-port="$ports/udp" || true
  done
fi
rm -rf "$root"
echo "ocplab vbmc: vbmcd stopped and its files removed (virtualbmc stays installed in $venv)"
"""


def _fill(template: str, **values: str | int) -> str:
    """str.format without its brace rules: shell functions are full of braces."""
    for key, value in values.items():
        template = template.replace(f"{{{key}}}", str(value))
    return template


def helper_source() -> str:
    """The ocplab_vbmc.py helper the lab script installs on each hypervisor."""
    return resources.files("renderers").joinpath("files/ocplab_vbmc.py").read_text()


def vbmcd_config() -> str:
    """vbmcd's own config: private dirs, its control port, passwords masked in its output."""
    return "\n".join([
        "[default]", f"config_dir = {ROOT}/domains", f"pid_file = {PID_FILE}", f"server_port = {SERVER_PORT}",
        "show_passwords = false", "", "[log]", f"logfile = {LOG_FILE}", "debug = false", "",
        "[ipmi]", "session_timeout = 1", "",
    ])


def _ports_words(ranges: list[PortRange]) -> str:
    return " ".join(f"{r.first}-{r.last}" for r in ranges) or "''"


def vbmcd_install_script(ranges: list[PortRange]) -> str:
    """Install virtualbmc if missing, then make vbmcd run with the lab's config; firewalld (if it
    runs) opens the slices' BMC ports. Safe to run again: a no-op when nothing changed."""
    return _HEAD + _fill(
        _INSTALL, requirement=shlex.quote(REQUIREMENT), helper=write_file(HELPER, helper_source(), "0644"),
        stage_conf=stage_file(CONF, vbmcd_config(), "0600"), staged=shlex.quote(temp_path(CONF)),
        ports=_ports_words(ranges), server_port=SERVER_PORT)


def vbmcd_uninstall_script(ranges: list[PortRange]) -> str:
    """Stop vbmcd and remove its files, refusing while any cluster still has BMCs here."""
    return _HEAD + _fill(_UNINSTALL, ports=_ports_words(ranges))


def _helper(*args: str) -> str:
    return f'VIRTUALBMC_CONFIG="$conf" exec "$venv/bin/python" "$helper" {shlex.join(args)}'


def vbmc_sync_script(cluster: str, plan: BmcPlan | None) -> str:
    """Make the cluster's BMCs exactly the plan (the password is read from stdin); without a
    plan (no bmc_ports in the slice) remove any the cluster had."""
    if plan is None:
        return vbmc_remove_script(cluster)
    entries = [f"{domain}={port}" for domain, port in plan.entries(cluster)]
    return _HEAD + "\n".join([
        '[ -f "$helper" ] || fail "the lab stack has not set up vbmcd on $(hostname): give the slice bmc_ports '
        'and run pulumi up on the lab stack"',
        _helper("sync", cluster, plan.address, BMC_USER, *entries),
    ]) + "\n"


def vbmc_remove_script(cluster: str) -> str:
    """Delete the cluster's BMCs; nothing to do where vbmcd was never set up."""
    return _HEAD + "\n".join([
        f'[ -f "$helper" ] || {{ echo "ocplab vbmc: cluster {cluster}: no vbmcd here, no BMCs to remove"; exit 0; }}',
        _helper("remove", cluster),
    ]) + "\n"
