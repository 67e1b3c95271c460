"""The jumphost's way out, run for real where no lab is needed: the NAT table in a network namespace of
its own (nft, forwarding put back as it was), and the lab's NTP server's config and unit as chrony and
systemd read them."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from core.labconfig import parse_lab_config
from core.stack_files import read_stack_values, stack_path
from renderers import route_scripts, time_scripts
from renderers.shell import script
from tests.tools import analyzed_unit, require_tool, unit_written_by

LAB = parse_lab_config("simlab", read_stack_values(stack_path("simlab")))


def in_own_netns(body: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """`body` as root in a new network and mount namespace: eth0 and uplink0 (a veth pair), and no systemd seen
    (a tmpfs over /run/systemd), so nothing reaches this machine's network, units or sysctl files."""
    unshare = require_tool("unshare", "util-linux")
    require_tool("nft", "nftables")
    setup = ("mount -t tmpfs none /run/systemd 2>/dev/null || mount -t tmpfs none /run\n"
             "ip link add eth0 type veth peer name uplink0 && ip link set lo up\n")
    return subprocess.run([unshare, "--net", "--mount", "--propagation", "private", "sh", "-c", setup + body],
                          capture_output=True, text=True, check=False, cwd=tmp_path)


def route(part: str, tmp_path: Path, **inputs: str) -> str:
    """route-apply.sh or route-remove.sh as the lab stack sends it, with its files under tmp_path."""
    places = {"state_dir": str(tmp_path / "state"), "nft_file": str(tmp_path / "etc" / "route.nft"),
              "unit": route_scripts.UNIT, "sysctl_file": str(tmp_path / "sysctl.conf"),
              "policy": route_scripts.FIREWALLD_POLICY}
    return script("way-out-common", part, **places, **inputs)


def test_nat_masquerades_the_lab_out_of_the_uplink_only_and_remove_puts_forwarding_back(tmp_path: Path) -> None:
    apply = route("route-apply", tmp_path, lab_if="eth0", uplink="uplink0", cidr="192.168.16.0/24")
    body = (f"echo 0 > /proc/sys/net/ipv4/ip_forward\n({apply}\n) && nft list table ip ocplab && "
            "echo forward=$(cat /proc/sys/net/ipv4/ip_forward)\n"
            f"({apply}\n) >/dev/null && nft list tables | grep -c ocplab\n"
            f"({route('route-remove', tmp_path)}\n) && echo forward=$(cat /proc/sys/net/ipv4/ip_forward) && "
            "echo tables=$(nft list tables | grep -c ocplab); ls -A " + str(tmp_path))
    done = in_own_netns(body, tmp_path)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert 'oifname "uplink0" ip saddr 192.168.16.0/24 masquerade' in out
    assert 'iifname "uplink0" counter packets 0 bytes 0 drop' in out, "nothing from the outside opens into the lab"
    assert "policy drop" in out, "forwarding that was off stays off for all but the lab's way out"
    assert "forward=1" in out and "\n1\n" in out, "applied twice: still one table"
    assert out.rstrip().endswith("forward=0\ntables=0"), out
    assert "ocplab: the jumphost no longer routes the lab" in out


def test_forwarding_that_was_on_stays_on_for_the_hosts_other_networks(tmp_path: Path) -> None:
    apply = route("route-apply", tmp_path, lab_if="eth0", uplink="uplink0", cidr="192.168.16.0/24")
    body = (f"echo 1 > /proc/sys/net/ipv4/ip_forward\n({apply}\n) >/dev/null && nft list chain ip ocplab forward\n"
            f"({route('route-remove', tmp_path)}\n) >/dev/null && cat /proc/sys/net/ipv4/ip_forward")
    done = in_own_netns(body, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "policy accept" in done.stdout and done.stdout.rstrip().endswith("1")


def test_an_uplink_the_jumphost_does_not_have_is_refused_before_any_change(tmp_path: Path) -> None:
    apply = route("route-apply", tmp_path, lab_if="eth0", uplink="wan9", cidr="192.168.16.0/24")
    done = in_own_netns(f"({apply}\n); echo rc=$?; nft list tables; cat /proc/sys/net/ipv4/ip_forward", tmp_path)
    assert "ocplab:jumphost.uplink: the jumphost has no interface 'wan9'" in done.stderr
    assert done.stdout.split() == ["rc=1", "0"], "no table, forwarding untouched"
    assert not (tmp_path / "etc").exists()


def test_the_lab_stack_sends_the_uplink_the_lab_interface_and_network() -> None:
    text = route_scripts.route_apply_script(LAB)
    assert "lab_if='eth0'\nuplink='uplink0'\ncidr='192.168.16.0/24'\n" in text
    assert "state_dir='/var/lib/ocplab-route'" in text, "outside /var/lib/ocplab, which dnsmasq's uninstall removes"


def test_the_lab_ntp_server_takes_the_upstream_serves_the_lab_only_and_falls_back_to_its_own_clock() -> None:
    conf = time_scripts.chrony_config(LAB).splitlines()
    assert conf[1:] == ["server 198.51.100.2 iburst", "bindaddress 192.168.16.1", "allow 192.168.16.0/24",
                        "local stratum 10", "cmdport 0", "bindcmdaddress /", "pidfile /run/ocplab-chrony/chronyd.pid"]


def test_chronyd_reads_the_config_as_written(tmp_path: Path) -> None:
    conf = tmp_path / "chrony.conf"
    conf.write_text(time_scripts.chrony_config(LAB))
    done = subprocess.run([require_tool("chronyd", "chrony"), "-p", "-f", str(conf)], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert "server 198.51.100.2 iburst" in done.stdout and "allow 192.168.16.0/24" in done.stdout


def chrony_unit(where: Path) -> Path:
    """The unit time-apply.sh writes where systemd runs, its variables expanded by sh."""
    text = time_scripts.time_apply_script(LAB)
    inputs = text.split("conf=", 1)[1].split("\nchronyd=", 1)[0]
    prelude = f"conf={inputs}\nchronyd={require_tool('chronyd', 'chrony')}\nuser=_chrony"
    return unit_written_by(text, prelude, where, time_scripts.UNIT)


def test_under_systemd_the_lab_ntp_server_runs_as_chronys_user_in_a_sandbox(tmp_path: Path) -> None:
    unit = chrony_unit(tmp_path)
    text = unit.read_text()
    assert "User=_chrony\n" in text and "AmbientCapabilities=CAP_NET_BIND_SERVICE\n" in text
    assert " -n -U -x -f /etc/ocplab/chrony.conf\n" in text and "RuntimeDirectory=ocplab-chrony\n" in text
    analyzed_unit(unit)


@pytest.mark.parametrize("part", ["route-apply", "route-remove", "time-apply", "time-remove", "way-out-common"])
def test_the_way_out_scripts_are_shellcheck_clean(part: str) -> None:
    shellcheck = require_tool("shellcheck", "shellcheck")
    done = subprocess.run([shellcheck, "-s", "sh", f"renderers/files/{part}.sh"], capture_output=True, text=True,
                          check=False, cwd=Path(__file__).parents[2])
    assert done.returncode == 0, done.stdout
