"""The console parser on hand-written logs: formats, noise, several boots, odd commands."""

from __future__ import annotations

from simlab.guest.console import Disk, Lease, Lease6, Renewal, RunCmd, parse_console, split_fields

LOG = """\
SYSLINUX 6.04 20210613 Copyright (C) 1994-2015 H. Peter Anvin et al\r
[    1.56] Run /init as init process\r
OCPLAB: boot kernel=6.1.0-56-amd64\r
OCPLAB: disk name=sda bytes=1073741824\r
OCPLAB: cdrom name=sr0 bytes=374784\r
OCPLAB: disk name=vda bytes=10737418240\r
OCPLAB: cloud-init seed=/dev/sr0 files=meta-data,user-data\r
OCPLAB: cloud-init hostname=ci-node-0\r
OCPLAB: cloud-init user=core keys=2\r
OCPLAB: cloud-init key user=core sha256=aa\r
OCPLAB: cloud-init key user=core sha256=bb\r
OCPLAB: nic iface=eth0 mac=52:54:00:5a:0b:7a\r
OCPLAB: nic iface=eth1 mac=52:54:00:0e:0e:0e\r
OCPLAB: dhcp iface=eth0 mac=52:54:00:5a:0b:7a ip=192.168.16.50 mask=24 router=192.168.16.1 \
dns=192.168.16.1,192.168.16.2 hostname=guest-a domain=lab.test lease=120\r
OCPLAB: runcmd rc=0 cmd=touch /tmp/x\r
OCPLAB: runcmd rc=3 cmd=f() { return 3; }; f a=b  c\r
OCPLAB: dhcp-none iface=eth1\r
OCPLAB: ready\r
ci-node-0:/# \x1b[6nOCPLAB: dhcp-renew iface=eth0 ip=192.168.16.50 lease=120\r
"""


def test_full_boot_log() -> None:
    report = parse_console(LOG)
    assert report.boots == 1 and report.kernel == "6.1.0-56-amd64" and report.ready
    assert report.disks == [Disk("sda", 1 << 30), Disk("vda", 10 << 30)]
    assert report.cdroms == [Disk("sr0", 374784)]
    assert report.disk("vda") == Disk("vda", 10 << 30) and report.disk("vdb") is None
    assert report.nics == {"eth0": "52:54:00:5a:0b:7a", "eth1": "52:54:00:0e:0e:0e"}
    assert report.leases == {
        "eth0": Lease("eth0", "52:54:00:5a:0b:7a", "192.168.16.50", 24, ("192.168.16.1",),
                      ("192.168.16.1", "192.168.16.2"), "guest-a", "lab.test", 120)
    }
    assert report.leases["eth0"].router == "192.168.16.1"
    assert report.no_lease == ["eth1"]
    assert report.renewals == [Renewal("eth0", "192.168.16.50", 120)]
    assert report.renewals_of("eth1") == []
    ci = report.cloud_init
    assert not ci.none and ci.seed == "/dev/sr0" and ci.files == ("meta-data", "user-data")
    assert ci.hostname == "ci-node-0" and (report.hostname, report.hostname_source) == ("ci-node-0", "cloud-init")
    assert ci.users["core"].keys == 2 and ci.users["core"].key_sha256 == ["aa", "bb"]
    assert ci.runcmds == [RunCmd(0, "touch /tmp/x"), RunCmd(3, "f() { return 3; }; f a=b  c")]
    assert report.unparsed == []


def test_last_boot_wins_and_counts_boots() -> None:
    log = "OCPLAB: boot kernel=a\nOCPLAB: ready\nOCPLAB: boot kernel=b\nOCPLAB: cloud-init none\n"
    report = parse_console(log)
    assert (report.boots, report.kernel, report.ready, report.cloud_init.none) == (2, "b", False, True)


def test_empty_and_unknown() -> None:
    assert parse_console("").boots == 0 and not parse_console("").ready
    report = parse_console("OCPLAB: boot kernel=x\nOCPLAB: frobnicate x=1\nOCPLAB: disk name=vda bytes=big\n")
    assert report.unparsed == ["frobnicate x=1", "disk name=vda bytes=big"]
    assert report.disks == []


def test_dhcp_hostname_lost_lease_and_failed_module() -> None:
    log = (
        "OCPLAB: boot kernel=x\nOCPLAB: hostname name=guest-b source=dhcp\n"
        "OCPLAB: dhcp-lost iface=eth0\nOCPLAB: module-failed name=e1000e\nOCPLAB: nic none\n"
        "OCPLAB: cloud-init error=mount-failed seed=/dev/sr0\nOCPLAB: cloud-init user-script rc=2\n"
    )
    report = parse_console(log)
    assert (report.hostname, report.hostname_source) == ("guest-b", "dhcp")
    assert report.lost == ["eth0"] and report.failed_modules == ["e1000e"] and report.nics == {}
    assert report.cloud_init.errors == ["mount-failed"] and report.cloud_init.seed is None
    assert report.cloud_init.user_script_rc == 2


def test_empty_lease_fields() -> None:
    log = "OCPLAB: dhcp iface=eth0 mac=m ip=10.0.0.2 mask=8 router= dns= hostname= domain= lease=3600\n"
    lease = parse_console(log).leases["eth0"]
    assert (lease.routers, lease.dns, lease.hostname, lease.router, lease.lease) == ((), (), "", "", 3600)


def test_split_fields_keeps_cmd_verbatim() -> None:
    assert split_fields("runcmd rc=0 cmd=echo  x=y 'a b'") == ("runcmd", [], {"rc": "0", "cmd": "echo  x=y 'a b'"})
    assert split_fields("cloud-init key user=u sha256=h") == ("cloud-init", ["key"], {"user": "u", "sha256": "h"})


def test_dhcpv6_lease_renewal_and_loss() -> None:
    log = ("OCPLAB: boot kernel=6.1.0-56-amd64\r\n"
           "OCPLAB: dhcp6 iface=eth0 mac=52:54:00:5a:0b:7a ip6=fd00:16::50 router=fe80::1 dns=fd00:16::1 "
           "domain=lab.test lease=120 uptime=11.06\r\n"
           "OCPLAB: dhcp6-renew iface=eth0 ip6=fd00:16::50 lease=120\r\n"
           "OCPLAB: dhcp6-lost iface=eth0\r\n"
           "OCPLAB: dhcp6 iface=eth1\r\n")
    report = parse_console(log)
    assert report.leases6 == {"eth0": Lease6("eth0", "52:54:00:5a:0b:7a", "fd00:16::50", "fe80::1", ("fd00:16::1",),
                                             "lab.test", 120, 11.06)}
    assert report.renewals6 == [Renewal("eth0", "fd00:16::50", 120)] and report.lost6 == ["eth0"]
    assert report.unparsed == ["dhcp6 iface=eth1"], "a dhcp6 line without its address is not a lease"
