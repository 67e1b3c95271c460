"""Issue 24 D, E and G: the firmware our domains boot and what we tell the installer and DCI about it agree.

components.node declares no loader, firmware or NVRAM for IPI domains, so libvirt boots them with SeaBIOS, and
OVMF (firmware + NVRAM template) for an SNO node; core.firmware.FIRMWARE_OF says so per topology, and the
install-config (`bootMode` per host: the installer's default is UEFI) and the inventories (`bootmode`: without it
redhatci.ocp sends the UEFI next-boot flag, 0xa0) derive from it. These specs read the domains the cluster
program declares (Pulumi mocks), the install-config through a YAML parser and the inventories through
ansible-inventory, with their own table of each side's spelling.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from core.clusterconfig import parse_cluster_config
from core.errors import ConfigError
from core.firmware import FIRMWARE_OF, UefiFiles
from core.stack_files import read_stack_values, stack_path
from renderers.install_config import render_install_config
from tests.unit.test_cluster_stack_mocks import lab_outputs, run_cluster
from tests.unit.test_dci_inventory import group_hosts, hostvars, outputs, parse
from tests.unit.test_install_config import PULL_SECRET, SSH_KEY, with_ipmi
from tools.dci_inventory import render_ipi_hosts, render_sno_hosts

# How each side spells a firmware: the installer (pkg/types/baremetal/platform.go BootMode) and redhatci.ocp
# (`bootmode == 'legacy'` for BIOS in install-config.j2 and 60_deploy_sno_bm.yml, anything else is UEFI).
INSTALLER = {"bios": "legacy", "uefi": "UEFI"}
COLLECTION = {"bios": "legacy", "uefi": "uefi"}
_UEFI_IN_XML = re.compile(r"<loader|<nvram|firmware=")


def domain_firmware(inputs: dict[str, Any]) -> str:
    """What libvirt boots a declared domain with: UEFI if pulumi-libvirt's `firmware` or `nvram` is set or the
    domain's XSLT adds a loader, NVRAM or firmware attribute; SeaBIOS otherwise."""
    xslt = str(inputs.get("xml", {}).get("xslt", ""))
    return "uefi" if inputs.get("firmware") or inputs.get("nvram") or _UEFI_IN_XML.search(xslt) else "bios"


@pytest.fixture(scope="module")
def firmware_of_domains(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Every domain of the ipi1 and sno1 stacks, as the cluster program declares them, and its firmware."""
    found: dict[str, str] = {}
    for stack in ("ipi1", "sno1"):
        mocks = run_cluster(stack, lab_outputs(tmp_path_factory.mktemp(stack)))
        found |= {d.inputs["name"]: domain_firmware(d.inputs) for d in mocks.of_type("libvirt:index/domain:Domain")}
    return found


def test_the_declared_domains_boot_the_firmware_the_core_says(firmware_of_domains: dict[str, str]) -> None:
    assert "ipi1-master-0" in firmware_of_domains and "sno1-sno" in firmware_of_domains
    assert firmware_of_domains == {name: FIRMWARE_OF["sno" if name.startswith("sno1-") else "ipi"]
                                   for name in firmware_of_domains}
    assert firmware_of_domains["sno1-sno"] == "uefi" and firmware_of_domains["ipi1-master-0"] == "bios"


@pytest.mark.parametrize("bmc", ["redfish", "ipmi"])
def test_issue24_g_every_install_config_host_boots_as_its_domain(firmware_of_domains: dict[str, str],
                                                                 bmc: str) -> None:
    data = outputs("ipi") if bmc == "redfish" else with_ipmi(outputs("ipi"))
    document = yaml.safe_load(render_install_config(data, PULL_SECRET, SSH_KEY))
    hosts = document["platform"]["baremetal"]["hosts"]
    assert hosts and {h["name"]: h.get("bootMode") for h in hosts} == {
        h["name"]: INSTALLER[firmware_of_domains[f"{data['cluster']}-{h['name']}"]] for h in hosts}


def test_issue24_e_every_inventory_says_how_the_domains_boot(firmware_of_domains: dict[str, str],
                                                             tmp_path: Path) -> None:
    """E: the SNO inventory had no bootmode; IPI's said legacy by a literal nobody tied to the domains."""
    for name, render, topology in (("ipi", render_ipi_hosts, "ipi"), ("sno", render_sno_hosts, "sno")):
        data = outputs(topology)
        listed = parse(render(data), tmp_path, name)
        for host in group_hosts(listed, "masters") + group_hosts(listed, "workers"):
            node = hostvars(listed, host)["name"]
            assert hostvars(listed, host).get("bootmode") == COLLECTION[
                firmware_of_domains[f"{data['cluster']}-{node}"]], f"{name}: {host}"


def test_ovmf_files_come_from_ocplab_uefi_for_sno_and_rhels_by_default() -> None:
    sno = read_stack_values(stack_path("sno1"))
    assert parse_cluster_config("sno1", sno).uefi == UefiFiles("/usr/share/OVMF/OVMF_CODE_4M.fd",
                                                               "/usr/share/OVMF/OVMF_VARS_4M.fd")
    assert parse_cluster_config("sno1", {k: v for k, v in sno.items() if k != "uefi"}).uefi == UefiFiles(
        "/usr/share/edk2/ovmf/OVMF_CODE.fd", "/usr/share/edk2/ovmf/OVMF_VARS.fd")
    assert parse_cluster_config("ipi1", read_stack_values(stack_path("ipi1"))).uefi is None


@pytest.mark.parametrize(("stack", "uefi", "problem"), [
    ("sno1", {"code": "OVMF_CODE.fd"}, "ocplab:uefi.code: 'OVMF_CODE.fd' is not an absolute path without blanks"),
    ("sno1", {"vars": "/a b"}, "ocplab:uefi.vars: '/a b' is not an absolute path without blanks"),
    ("sno1", {"varz": "/x"}, "ocplab:uefi.varz: is not a known key; did you mean 'vars'?"),
    ("sno1", "/usr/share/OVMF/OVMF_CODE_4M.fd", "ocplab:uefi: '/usr/share/OVMF/OVMF_CODE_4M.fd' is not a mapping"),
    ("ipi1", {}, "ocplab:uefi: an IPI cluster's domains boot BIOS"),
])
def test_bad_uefi_config_is_refused_naming_the_field(stack: str, uefi: Any, problem: str) -> None:
    """Refused while the config is parsed: before the program declares any resource."""
    with pytest.raises(ConfigError) as raised:
        parse_cluster_config(stack, {**read_stack_values(stack_path(stack)), "uefi": uefi})
    assert any(line.startswith(problem) for line in raised.value.problems), raised.value.problems
