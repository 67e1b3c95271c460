"""Issue 24 D: the lab's dnsmasq offers an SNO node, and only it, a UEFI network boot from its own TFTP root.

What a real DHCP/TFTP exchange and an OVMF guest do with it is tests/e2e/test_sno_boot.py's; here, what is
rendered: the lines `dnsmasq --test` accepts, which MACs get a boot file, and the TFTP roots the cluster's
scripts make and remove (run with a stand-in for the jumphost's dnsmasq control).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from core.cluster_design import design_cluster
from core.clusterconfig import parse_cluster_config
from core.labconfig import parse_lab_config
from core.stack_files import read_stack_values, stack_path
from renderers import pxe_boot
from renderers.dnsmasq_base import render_base_config
from renderers.dnsmasq_cluster import ClusterDns, render_cluster_dns
from renderers.shell import script as shell_script
from tests.tools import require_tool

LAB = json.loads((Path(__file__).parent.parent / "data" / "lab-outputs-simlab.json").read_text())


def dns_of(stack: str) -> ClusterDns:
    return render_cluster_dns(design_cluster(parse_cluster_config(stack, read_stack_values(stack_path(stack))),
                                             LAB, None))


def sno_mac() -> str:
    return next(line.split(",")[0] for line in dns_of("sno1").dhcp_hosts.splitlines() if not line.startswith("#"))


def test_only_the_sno_node_is_offered_the_boot_file_and_only_as_a_uefi_client() -> None:
    mac = sno_mac()
    sno = [line for line in dns_of("sno1").wildcards.splitlines() if not line.startswith("#")]
    assert f"dhcp-mac=set:ocplab-pxe-sno1,{mac}" in sno
    assert "dhcp-boot=tag:ocplab-pxe-sno1,tag:ocplab-efi-x86-64,shimx64.efi" in sno
    assert dns_of("sno1").tftp_dirs == (f"/var/lib/ocplab/tftp/{mac.replace(':', '-')}",)
    ipi = dns_of("ipi1")
    assert not any(word in ipi.wildcards for word in ("dhcp-boot", "dhcp-mac", "tftp")) and ipi.tftp_dirs == ()


def test_base_and_sno_lines_pass_dnsmasq_test(tmp_path: Path) -> None:
    base = render_base_config(parse_lab_config("simlab", read_stack_values(stack_path("simlab"))))
    for line in ("enable-tftp", "tftp-root=/var/lib/ocplab/tftp", "tftp-unique-root=mac",
                 "dhcp-match=set:ocplab-efi-x86-64,option:client-arch,7",
                 "dhcp-match=set:ocplab-efi-x86-64,option:client-arch,9"):
        assert line in base.splitlines()
    # The lab's interface and files are the jumphost's: the check is of the directives' syntax.
    conf = tmp_path / "c.conf"
    conf.write_text("\n".join(line for line in base.splitlines()
                              if line.startswith(("enable-tftp", "tftp-", "dhcp-match", "dhcp-range")))
                    + "\n" + dns_of("sno1").wildcards)
    dnsmasq = require_tool("dnsmasq", "the Debian package dnsmasq-base")
    done = subprocess.run([dnsmasq, "--test", f"--conf-file={conf}"], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def test_apply_makes_the_node_root_and_drops_a_root_of_a_mac_the_cluster_no_longer_has(tmp_path: Path) -> None:
    control = tmp_path / "ocplab-dnsmasq"
    control.write_text("#!/bin/sh\nexit 0\n")
    control.chmod(0o755)
    root = tmp_path / "tftp"
    old = root / "52-54-00-a8-10-99"  # the cluster's node before it was replaced, with what DCI wrote there
    (old / "images").mkdir(parents=True)
    (old / "images" / "rhcos-kernel").write_text("x")
    neighbour = root / "52-54-00-a8-10-20"
    neighbour.mkdir()
    files = {name: tmp_path / name for name in ("dhcp", "hosts", "wildcards")}
    files["dhcp"].write_text("# ocplab cluster sno1\n52:54:00:A8:10:99,192.168.16.48,sno.sno1.simlab.test\n")
    dns = dns_of("sno1")
    mac = sno_mac().replace(":", "-")
    text = shell_script("dnsmasq-cluster-lock", "dnsmasq-cluster-apply", cluster="sno1", root=str(tmp_path),
                        conf=str(tmp_path / "base.conf"), control=str(control), lock_file=str(tmp_path / "lock"),
                        dhcp_file=str(files["dhcp"]), hosts_file=str(files["hosts"]),
                        wildcards_file=str(files["wildcards"]), dhcp_b64="", hosts_b64="", wildcards_b64="",
                        tftp_root=str(root), tftp_dirs=" ".join(f"{root}/{Path(d).name}" for d in dns.tftp_dirs))
    done = subprocess.run(["sh", "-c", text], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in root.iterdir()) == sorted([mac, neighbour.name])
    assert (root / mac / "images").is_dir(), "the collection's get_url needs images/ (its own mkdir is dnsmasq's)"


def test_tftp_dir_is_dnsmasq_unique_root_spelling() -> None:
    """dnsmasq(8), --tftp-unique-root=mac: lowercase, zero-padded, separated by dashes."""
    assert pxe_boot.tftp_dir("52:54:00:A8:1B:0C") == "/var/lib/ocplab/tftp/52-54-00-a8-1b-0c"
