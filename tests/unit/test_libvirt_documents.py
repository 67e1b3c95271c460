"""libvirt documents the project generates are valid for libvirt's schemas and xsltproc."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from bench.baseline.libvirt_xml import bridged_network_xml, domain_xml, isolated_network_xml, node_nics, pool_xml
from core.address_plan import plan_addresses
from core.addresses import AddressRange
from core.clusterconfig import parse_cluster_config
from core.resource_facts import console_log_path, node_facts
from core.stack_files import read_stack_values, stack_path
from renderers.domain_xslt import domain_xslt
from tests.tools import require_tool


def validate(tmp_path: Path, name: str, xml: str, kind: str) -> None:
    path = tmp_path / f"{name}.xml"
    path.write_text(xml)
    require_tool("xmllint", "libxml2-utils")  # virt-xml-validate runs it
    result = subprocess.run([require_tool("virt-xml-validate", "libvirt-clients"), str(path), kind],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr + result.stdout


@pytest.mark.parametrize("stack", ["ipi1", "server"])
def test_every_node_domain_validates(tmp_path: Path, stack: str) -> None:
    cluster = parse_cluster_config(stack, read_stack_values(stack_path(stack)))
    plan = plan_addresses(cluster, AddressRange.parse("192.168.16.20-192.168.16.47"))
    for spec in cluster.nodes:
        disks = ["/var/lib/libvirt/ocplab/root.qcow2"]
        disks += ["/var/lib/libvirt/ocplab/d2.qcow2"] if spec.disk2_bytes else []
        facts = node_facts(cluster, spec)
        nics = node_nics(facts, plan.nodes[spec.name].macs, "br0")
        xml = domain_xml(facts, spec, cluster.domain_type, disks,
                         "/var/lib/libvirt/ocplab/ci.iso" if spec.needs_cloud_init else None, nics)
        validate(tmp_path, spec.name, xml, "domain")


def test_networks_and_pool_validate(tmp_path: Path) -> None:
    validate(tmp_path, "bridged", bridged_network_xml("ocplab-br0", "br0"), "network")
    validate(tmp_path, "isolated", isolated_network_xml("ipi1-provisioning", "prov-ipi1"), "network")
    validate(tmp_path, "pool", pool_xml("ocplab", "/var/lib/libvirt/ocplab"), "storagepool")


PROVIDER_STYLE_DOMAIN = """<domain type="qemu"><name>ipi1-master-0</name><memory unit="MiB">160</memory>
<devices><disk type="volume" device="disk"><driver name="qemu" type="qcow2"/><source pool="ocplab" volume="r"/>
<target dev="vda" bus="virtio"/></disk><console type="pty"><target type="serial" port="0"/></console></devices>
</domain>"""


def test_node_xslt_logs_the_serial_console_and_sets_the_cache(tmp_path: Path) -> None:
    (tmp_path / "d.xml").write_text(PROVIDER_STYLE_DOMAIN)
    (tmp_path / "t.xsl").write_text(domain_xslt(console_log_path("ipi1-master-0"), "unsafe"))
    result = subprocess.run([require_tool("xsltproc", "xsltproc"), str(tmp_path / "t.xsl"), str(tmp_path / "d.xml")],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert '<log file="/var/log/libvirt/qemu/ipi1-master-0-console.log" append="on"/>' in result.stdout
    assert '<driver name="qemu" type="qcow2" cache="unsafe"/>' in result.stdout
    (tmp_path / "out.xml").write_text(result.stdout)
    validate(tmp_path, "transformed", result.stdout, "domain")
