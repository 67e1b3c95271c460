"""The running simlab behaves like a jumphost and hypervisors on one lab network."""

from __future__ import annotations

import ipaddress
import os
import re
import subprocess
import time
from pathlib import Path

import netaddr
import pytest

from renderers.dnsmasq_base import reverse_zones
from simlab import topology
from simlab.clients import jumphost_argv, libvirt_uri, run_in_jumphost, ssh_run, virsh
from simlab.env import client_env
from simlab.lab import health, load
from simlab.netns import lab_netns
from simlab.outside import HTTP_BODY
from simlab.paths import StatePaths
from simlab.state import HostState, LabState, OutsideState
from simlab.topology import NETWORK, OUTSIDE_NETWORK
from tests.simlab.conftest import REPO, simlab_cli

pytestmark = pytest.mark.simlab

TINY_DOMAIN = """<domain type='qemu'>
  <name>simlab-tiny</name>
  <memory unit='MiB'>32</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='network'/></os>
  <devices><emulator>/usr/bin/qemu-system-x86_64</emulator></devices>
</domain>
"""


def hypervisors(lab: LabState) -> list[HostState]:
    return [h for h in lab.hosts if h.role == "hypervisor"]


def test_layout_and_lab_json(lab: LabState) -> None:
    assert [(h.name, h.ip, h.netns) for h in lab.hosts] == [
        ("jumphost", "192.168.16.1", "ocplab-jh"),
        ("hv1", "192.168.16.11", "ocplab-hv1"),
        ("hv2", "192.168.16.12", "ocplab-hv2"),
    ]
    assert load() == lab
    assert all(h.ok for h in health(lab)), health(lab)
    assert set(lab_netns()) == {"ocplab-sw", "ocplab-jh", "ocplab-hv1", "ocplab-hv2", "ocplab-out"}
    assert [h.name for h in health(lab)][-1] == "outside"
    assert set(hypervisors(lab)[0].pids) == {"udevd", "dbus", "NetworkManager", "libvirtd", "sshd"}
    assert Path(lab.ssh.key).stat().st_mode & 0o077 == 0


def test_ssh_to_every_host_with_pinned_host_key(lab: LabState) -> None:
    for host in lab.hosts:
        done = ssh_run(host.ip, "hostname")
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == host.name
        # The key the host serves is the one known_hosts pins for its IP.
        served = ssh_run(host.ip, "cat /etc/ssh/ssh_host_ed25519_key.pub").stdout.split()[:2]
        pinned = [line.split()[1:3] for line in Path(lab.ssh.known_hosts).read_text().splitlines()
                  if host.ip in line.split()[0].split(",")]
        assert pinned == [served]


def test_plain_ssh_config_form_works(lab: LabState) -> None:
    done = run_in_jumphost(["ssh", "-F", ".simlab/ssh/config", "root@192.168.16.11", "hostname"])
    assert (done.returncode, done.stdout.strip()) == (0, "hv1"), done.stderr


def test_unknown_host_key_is_refused(lab: LabState) -> None:
    done = run_in_jumphost([
        "ssh", "-i", lab.ssh.key, "-o", "UserKnownHostsFile=/dev/null",
        "-o", "GlobalKnownHostsFile=/dev/null", "-o", "StrictHostKeyChecking=yes",
        "-o", "BatchMode=yes", f"root@{hypervisors(lab)[0].ip}", "true",
    ])
    assert done.returncode != 0
    assert "Host key verification failed" in done.stderr


def test_root_namespace_has_no_lab_address_or_route() -> None:
    addrs = subprocess.run(["ip", "-4", "-o", "addr"], capture_output=True, text=True,
                           check=True).stdout
    for line in addrs.splitlines():
        ip = ipaddress.ip_interface(line.split()[3]).ip
        assert ip not in NETWORK and ip not in OUTSIDE_NETWORK, line
    for table in ("main", "local", "all"):
        routes = subprocess.run(["ip", "-4", "route", "show", "table", table],
                                capture_output=True, text=True, check=True).stdout
        assert "192.168.16." not in routes and "198.51.100." not in routes, routes


@pytest.mark.parametrize("index", [0, 1])
def test_virsh_over_qemu_ssh_runs_a_tcg_domain(lab: LabState, index: int) -> None:
    hv = hypervisors(lab)[index]
    uri = f"qemu+ssh://root@{hv.ip}/system?keyfile={REPO}/.simlab/ssh/id_ed25519" \
          f"&knownhosts={REPO}/.simlab/ssh/known_hosts"
    assert libvirt_uri(hv.ip) == uri == hv.libvirt_uri
    xml = Path(hv.root_dir) / "tmp" / "simlab-tiny.xml"  # /tmp inside the host, a root-ns path
    xml.write_text(TINY_DOMAIN)
    listed = run_in_jumphost(["virsh", "-c", uri, "list", "--all"])
    assert listed.returncode == 0, listed.stderr
    try:
        for args in (["define", str(xml)], ["start", "simlab-tiny"]):
            done = virsh(hv.ip, *args)
            assert done.returncode == 0, done.stderr
        state = virsh(hv.ip, "domstate", "simlab-tiny")
        assert state.stdout.strip() == "running"
        qemu = [pid for pid in ip_netns_pids(hv.netns) if "qemu-system" in cmdline(pid)]
        assert len(qemu) == 1
    finally:
        virsh(hv.ip, "destroy", "simlab-tiny")
        virsh(hv.ip, "undefine", "simlab-tiny")
        xml.unlink()
    assert virsh(hv.ip, "list", "--all", "--name").stdout.strip() == ""


def test_libvirt_socket_reachable_by_ssh_streamlocal_forwarding(lab: LabState,
                                                               tmp_path: Path) -> None:
    """The pure-Go client of pulumi-libvirt opens a direct-streamlocal channel to
    /var/run/libvirt/libvirt-sock instead of running virt-ssh-helper: same path, via OpenSSH."""
    hv = hypervisors(lab)[1]
    sock = tmp_path / "libvirt.sock"
    tunnel = subprocess.Popen(jumphost_argv(["ssh", "-F", lab.ssh.config, "-N", "-o",
                                             "ExitOnForwardFailure=yes", "-L",
                                             f"{sock}:/var/run/libvirt/libvirt-sock",
                                             f"root@{hv.ip}"]))
    try:
        deadline = time.monotonic() + 20
        while not sock.exists():
            assert tunnel.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        done = subprocess.run(["virsh", "-c", f"qemu:///system?socket={sock}", "hostname"],
                              capture_output=True, text=True, timeout=60, check=False)
        assert (done.returncode, done.stdout.strip()) == (0, hv.name), done.stderr
    finally:
        tunnel.terminate()
        tunnel.wait()


def ip_netns_pids(netns: str) -> list[int]:
    out = subprocess.run(["ip", "netns", "pids", netns], capture_output=True, text=True,
                         check=True).stdout
    return [int(p) for p in out.split()]


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


# Each hypervisor's IPv6 address in the lab /64 (simlab/topology.py): hv1 fd00:16::b/64, hv2 fd00:16::c/64.
CIDR6 = {host.name: host.cidr6 for host in topology.plan(topology.MAX_HYPERVISORS)}


def test_networkmanager_manages_eth0_with_its_static_profile(lab: LabState) -> None:
    for hv in hypervisors(lab):
        devices = ssh_run(hv.ip, "nmcli -t -f DEVICE,TYPE,STATE,CONNECTION device").stdout
        assert "eth0:ethernet:connected:eth0" in devices.splitlines(), devices
        assert "br0" not in devices  # making the bridge is the project's job
        addrs = ssh_run(hv.ip, "nmcli -g ipv4.method,ipv4.addresses connection show eth0").stdout
        assert addrs.split() == ["manual", f"{hv.ip}/24"]
        addrs6 = ssh_run(hv.ip, "nmcli -g ipv6.method,ipv6.addresses connection show eth0").stdout
        assert addrs6.replace("\\:", ":").split() == ["manual", CIDR6[hv.name]]
        assert ssh_run(hv.ip, "ip -o link show br0").returncode != 0


def test_hosts_are_distinct_servers(lab: LabState) -> None:
    ids = {h.name: ssh_run(h.ip, "cat /etc/machine-id").stdout.strip() for h in lab.hosts}
    assert len(set(ids.values())) == len(lab.hosts)
    assert Path("/etc/machine-id").read_text().strip() not in ids.values()
    macs = {ssh_run(h.ip, "cat /sys/class/net/eth0/address").stdout.strip() for h in lab.hosts}
    assert macs == {h.mac for h in lab.hosts}


def test_host_writes_stay_private(lab: LabState) -> None:
    """/etc, /var, /usr/local, /run, /tmp and /root written on a host never reach the machine's files."""
    jh = lab.hosts[0]
    probe = f"simlab-probe-{os.getpid()}"
    cmd = (f"echo x > /etc/ocplab/{probe} && echo x > /etc/dnsmasq.d/{probe}.conf && "
           f"echo x > /var/lib/misc/{probe} && echo x > /run/{probe} && echo x > /root/{probe} && "
           f"echo x > /usr/local/{probe}")
    assert ssh_run(jh.ip, cmd).returncode == 0
    for path in (f"/etc/ocplab/{probe}", f"/etc/dnsmasq.d/{probe}.conf",
                 f"/var/lib/misc/{probe}", f"/run/{probe}", f"/root/{probe}", f"/usr/local/{probe}"):
        assert not Path(path).exists(), path
    assert not Path("/etc/ocplab").exists()
    assert (Path(jh.root_dir) / "etc" / "upper" / "ocplab" / probe).exists()
    hv2 = hypervisors(lab)[1]
    assert ssh_run(hv2.ip, f"test -e /etc/ocplab/{probe}").returncode == 1
    assert ssh_run(jh.ip, f"rm /etc/ocplab/{probe} /etc/dnsmasq.d/{probe}.conf "
                   f"/var/lib/misc/{probe} /run/{probe} /root/{probe} /usr/local/{probe}").returncode == 0


def test_dnsmasq_started_over_ssh_outlives_the_session(lab: LabState) -> None:
    jh = lab.hosts[0]
    conf = "address=/probe.simlab.test/192.168.16.77\n"
    start = ssh_run(jh.ip, "cat > /etc/dnsmasq.d/probe.conf && dnsmasq --conf-file=/etc/dnsmasq.d/probe.conf "
                    "--listen-address=192.168.16.1 --bind-interfaces --no-resolv --no-hosts",
                    input=conf)
    assert start.returncode == 0, start.stderr
    try:
        answer = ""
        for _ in range(50):
            answer = run_in_jumphost(["dig", "+short", "+time=1", "+tries=1", "@192.168.16.1",
                                      "probe.simlab.test"]).stdout.strip()
            if answer:
                break
            time.sleep(0.1)
        assert answer == "192.168.16.77"
        pid = int(ssh_run(jh.ip, "cat /run/dnsmasq.pid").stdout)
        assert os.stat(f"/proc/{pid}/ns/mnt").st_ino == os.stat(jh.mount_ns).st_ino
        assert not Path("/etc/dnsmasq.d/probe.conf").exists()
        # Reachable from a hypervisor too: it is the lab's DNS server.
        assert ssh_run(hypervisors(lab)[0].ip,
                       "getent hosts probe.simlab.test").stdout.split()[:1] == ["192.168.16.77"]
    finally:
        ssh_run(jh.ip, "kill $(cat /run/dnsmasq.pid); rm -f /etc/dnsmasq.d/probe.conf")


def test_client_env() -> None:
    env = client_env(base={"PATH": "/usr/bin"})
    assert env["PATH"] == f"{REPO}/.engine/bin:{REPO}/.venv/bin:/usr/bin", "pulumi first, then uv (toolchain uv)"
    assert env["PULUMI_BACKEND_URL"] == f"file://{REPO}/.simlab/pulumi-state"
    assert env["PULUMI_HOME"] == f"{REPO}/.pulumi-home"
    assert env["PULUMI_CONFIG_PASSPHRASE"] == ""
    assert env["PULUMI_SKIP_UPDATE_CHECK"] == "true"
    assert env["PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION"] == "true"
    assert (env["UV_FROZEN"], env["UV_OFFLINE"], env["UV_PYTHON_DOWNLOADS"]) == ("1", "1", "never"), \
        "the language host's `uv sync` installs uv.lock as it is, offline"
    assert env["OCPLAB_SSH_KEY"] == str(StatePaths().key)
    assert env["OCPLAB_KNOWN_HOSTS"] == str(StatePaths().known_hosts)
    assert client_env(base={"PULUMI_CONFIG_PASSPHRASE": "s"})["PULUMI_CONFIG_PASSPHRASE"] == "s"


def test_cli_exec_and_status(lab: LabState) -> None:
    done = simlab_cli("exec", "hv2", "--", "hostname")
    assert (done.returncode, done.stdout.strip()) == (0, "hv2"), done.stderr
    done = simlab_cli("exec", "switch", "--", "ip", "-o", "link", "show", "master", "lab")
    assert done.stdout.count("master lab") == 3
    status = simlab_cli("status")
    assert status.returncode == 0, status.stdout
    assert "hv2" in status.stdout
    done = simlab_cli("exec", "outside", "--", "ip", "-4", "-o", "addr", "show", "eth0")
    assert "inet 198.51.100.2/24" in done.stdout, done.stderr
    assert "outside" in status.stdout and "chronyd=" in status.stdout
    bad = simlab_cli("exec", "hv7", "--", "true")
    assert bad.returncode == 2
    assert bad.stderr.count("\n") == 1 and "no host 'hv7'" in bad.stderr


def test_missing_tool_fails_before_touching_the_running_lab(lab: LabState,
                                                            tmp_path: Path) -> None:
    """A PATH without libvirtd: exit 2, one line naming the apt package; the lab stays up."""
    for directory in os.environ["PATH"].split(":"):
        if os.path.isdir(directory):
            for name in os.listdir(directory):
                target = tmp_path / name
                if name != "libvirtd" and not target.exists():
                    target.symlink_to(os.path.join(directory, name))
    done = simlab_cli("up", env={**os.environ, "PATH": str(tmp_path)})
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "`libvirtd` not found" in done.stderr
    assert "apt-get install libvirt-daemon-system" in done.stderr
    assert load() == lab and all(h.ok for h in health(lab))
    assert ssh_run(lab.hosts[1].ip, "true").returncode == 0


# --- the outside: the internet behind the jumphost's uplink -------------------------------------

def outside_of(lab: LabState) -> OutsideState:
    assert lab.outside is not None, "lab.json has no outside"
    return lab.outside


def in_outside(*cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", "netns", "exec", "ocplab-out", *cmd], capture_output=True, text=True,
                          timeout=60, check=False)


def test_the_outside_answers_its_name_serves_a_file_and_the_time_to_the_jumphost(lab: LabState) -> None:
    out = outside_of(lab)
    assert (out.netns, out.ip, out.uplink, out.uplink_ip) == ("ocplab-out", "198.51.100.2", "uplink0", "198.51.100.1")
    uplink = run_in_jumphost(["ip", "-4", "-o", "addr", "show", "uplink0"]).stdout
    assert "inet 198.51.100.1/24" in uplink, uplink
    answer = run_in_jumphost(["dig", "+short", "+time=1", "+tries=3", f"@{out.ip}", out.name])
    assert answer.stdout.split() == [out.ip], answer.stderr
    refused = run_in_jumphost(["dig", "+time=1", "+tries=3", f"@{out.ip}", "example.com"]).stdout
    assert "status: REFUSED" in refused, "it knows one name and asks nobody about the rest"
    assert f"query[A] {out.name} from {out.uplink_ip}" in Path(out.query_log).read_text()
    fetched = run_in_jumphost(["busybox", "wget", "-q", "-O-", out.url])
    assert fetched.stdout == HTTP_BODY, fetched.stderr
    assert f"{out.uplink_ip}:" in Path(out.http_log).read_text(), "the HTTP log names each client"
    # chronyd -Q asks once and prints the offset; it never sets a clock.
    ntp = run_in_jumphost(["chronyd", "-Q", "-t", "20", f"server {out.ip} iburst maxsamples 1"])
    assert "System clock wrong by" in ntp.stdout + ntp.stderr, ntp.stdout + ntp.stderr


def test_the_outside_runs_unprivileged_and_reaches_nothing_but_the_jumphost(lab: LabState) -> None:
    out = outside_of(lab)
    for daemon, pid in out.pids.items():
        status = Path(f"/proc/{pid}/status").read_text()
        uids = next(line.split()[1:] for line in status.splitlines() if line.startswith("Uid:"))
        assert set(uids) == {"65534"}, f"{daemon} runs as {uids}"
        effective = next(int(line.split()[1], 16) for line in status.splitlines() if line.startswith("CapEff:"))
        assert effective & ~(1 << 10) == 0, f"{daemon} keeps capabilities beyond binding a low port"
    routes = in_outside("ip", "-4", "route", "show", "table", "all").stdout
    assert "default" not in routes and "192.168.16." not in routes, routes
    links = [line.split(": ")[1].split("@")[0] for line in in_outside("ip", "-o", "link").stdout.splitlines()]
    assert links == ["lo", "eth0"], "lo and its one cable only"
    unreachable = in_outside("ping", "-c", "1", "-W", "1", "192.168.16.11")
    assert unreachable.returncode != 0
    assert "default" not in run_in_jumphost(["ip", "-4", "route"]).stdout, "the jumphost routes nowhere else"


def ptr_asked_upstream(lab: LabState, local_zones: list[str]) -> tuple[str, bool]:
    """(status, reached the outside) of a PTR query for 11.22.33.99 to a dnsmasq on the jumphost that
    forwards to the outside, is set like the lab's (no-resolv, bogus-priv) and keeps `local_zones` home."""
    out = outside_of(lab)
    log = Path(out.query_log)
    seen = len(log.read_bytes())
    args = " ".join(f"--local=/{zone}/" for zone in local_zones)
    started = ssh_run(lab.hosts[0].ip, "dnsmasq --conf-file=/dev/null --no-hosts --no-resolv --bogus-priv "
                      "--domain-needed --listen-address=192.168.16.1 --bind-interfaces --port=5300 "
                      f"--pid-file=/run/ptr-probe.pid --server={out.ip} {args}")
    assert started.returncode == 0, started.stderr
    try:
        answer = run_in_jumphost(["dig", "+time=1", "+tries=3", "-p", "5300", "@192.168.16.1", "-x", "11.22.33.99"])
    finally:
        ssh_run(lab.hosts[0].ip, "kill $(cat /run/ptr-probe.pid)")
    found = re.search(r"status: ([A-Z]+)", answer.stdout)
    return (found.group(1) if found else "no answer"), "99.33.22.11.in-addr.arpa" in log.read_bytes()[seen:].decode()


def test_the_lab_reverse_zones_keep_a_public_lab_networks_ptr_queries_home(lab: LabState) -> None:
    """The simlab's own network is private, which bogus-priv already keeps home; a lab on public
    addresses (11.22.33.0/24 here) relies on the local= lines of reverse_zones alone."""
    assert ptr_asked_upstream(lab, []) == ("REFUSED", True), "without them the upstream is asked"
    zones = reverse_zones(netaddr.IPNetwork("11.22.33.0/24"))
    assert ptr_asked_upstream(lab, zones) == ("NXDOMAIN", False)
