"""DCI inventories: what real ansible-core parses out of them matches the cluster stack's outputs, field by field."""

from __future__ import annotations

import copy
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tools.dci_inventory import (
    DCI_BOOLEANS,
    InventoryError,
    InventoryOptions,
    _check_for_dci,
    _var_value,
    inventory_for,
    render_abi_yaml,
    render_ipi_hosts,
    render_sno_hosts,
)

DATA = Path(__file__).resolve().parent.parent / "data"


def outputs(topology: str) -> dict[str, Any]:
    """The fixture outputs, with a BMC password of the kind core.bmc_plan derives: the IPI fixture's
    `s1mlab#redfish` holds a `#`, which the outputs contract refuses."""
    data: dict[str, Any] = json.loads((DATA / f"cluster-outputs-{topology}.json").read_text())
    data["bmc"]["password"] = "s1mlab-redfish_0123"
    return data


def ansible_inventory() -> str:
    """The venv's ansible-inventory first (pytest may run without the venv on PATH)."""
    beside = Path(sys.executable).parent / "ansible-inventory"
    found = str(beside) if beside.exists() else shutil.which("ansible-inventory")
    if found is None:
        pytest.fail("ansible-inventory not found: make venv (ansible-core is pinned in pyproject.toml's dev group)")
    return found


def parse(text: str, tmp_path: Path, name: str = "hosts") -> dict[str, Any]:
    """`ansible-inventory --list` of the text, failing (not warning) if no inventory plugin accepts it."""
    path = tmp_path / name
    path.write_text(text)
    config = tmp_path / "ansible.cfg"
    config.write_text("[defaults]\n")  # so no ansible.cfg of the machine changes what gets parsed
    env = {**os.environ, "ANSIBLE_HOME": str(tmp_path / "ansible-home"), "ANSIBLE_CONFIG": str(config),
           "ANSIBLE_INVENTORY_UNPARSED_FAILED": "true", "ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED": "true",
           "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-tmp")}
    done = subprocess.run([ansible_inventory(), "-i", str(path), "--list"], capture_output=True, text=True,
                          env=env, cwd=tmp_path, check=False)
    assert done.returncode == 0, done.stderr
    listed: dict[str, Any] = json.loads(done.stdout, object_hook=verbatim)
    return listed


def verbatim(entry: dict[str, Any]) -> Any:
    """ansible-inventory --list shows a value the YAML inventory marked `!unsafe` as {"__ansible_unsafe": value}."""
    return entry["__ansible_unsafe"] if set(entry) == {"__ansible_unsafe"} else entry


def group_hosts(listed: dict[str, Any], group: str) -> list[str]:
    hosts: list[str] = listed.get(group, {}).get("hosts", [])
    return hosts


def hostvars(listed: dict[str, Any], host: str) -> dict[str, Any]:
    found: dict[str, Any] = listed["_meta"]["hostvars"][host]
    return found


def nodes_by_role(data: dict[str, Any], role: str) -> list[dict[str, Any]]:
    return [n for n in data["nodes"] if n["role"] == role]


# --- IPI ----------------------------------------------------------------------------------------------------------


def test_ipi_groups_hold_the_fixture_nodes(tmp_path: Path) -> None:
    data = outputs("ipi")
    listed = parse(render_ipi_hosts(data), tmp_path)
    assert group_hosts(listed, "provisioner") == ["provisionhost"]
    assert group_hosts(listed, "masters") == [n["name"] for n in nodes_by_role(data, "master")]
    assert group_hosts(listed, "workers") == [n["name"] for n in nodes_by_role(data, "worker")]
    assert group_hosts(listed, "jumphost") == ["jumphost"]
    assert group_hosts(listed, "kvm_hosts_redfish") == ["master-0", "master-1", "master-2", "worker-0", "worker-1"]


def test_ipi_all_vars_come_from_the_outputs(tmp_path: Path) -> None:
    data = outputs("ipi")
    master = hostvars(parse(render_ipi_hosts(data), tmp_path), "master-0")
    assert {k: master[k] for k in ("install_type", "cluster", "domain", "extcidrnet", "apivip", "ingressvip")} == {
        "install_type": "ipi", "cluster": "ipi1", "domain": "simlab.test", "extcidrnet": "192.168.16.0/24",
        "apivip": "192.168.16.32", "ingressvip": "192.168.16.33"}
    assert (master["prov_nic"], master["pub_nic"], master["masters_prov_nic"]) == ("eth1", "eth0", "ens4")
    assert master["dir"] == "{{ ansible_user_dir }}/clusterconfigs"
    assert master["provisionhost_user"] == "dci"


def test_ipi_inventory_gives_the_bootstrap_vm_its_reserved_mac(tmp_path: Path) -> None:
    """redhatci.ocp's install-config template writes `externalMACAddress` from this variable; the lab's
    static-only DHCP answers the bootstrap VM only at that MAC."""
    data = outputs("ipi")
    listed = parse(render_ipi_hosts(data), tmp_path)
    assert hostvars(listed, "master-0")["externalMACAddress"] == data["bootstrap"]["mac"] == "52:54:00:a8:10:2f"
    without = {k: v for k, v in data.items() if k != "bootstrap"}  # outputs of stacks before the bootstrap plan
    assert "externalMACAddress" not in hostvars(parse(render_ipi_hosts(without), tmp_path), "master-0")


def test_ipi_nodes_carry_ip_provision_mac_and_redfish_bmc(tmp_path: Path) -> None:
    data = outputs("ipi")
    listed = parse(render_ipi_hosts(data), tmp_path)
    bmc = data["bmc"]
    for node in nodes_by_role(data, "master") + nodes_by_role(data, "worker"):
        got = hostvars(listed, node["name"])
        assert got["ansible_host"] == node["ip"]
        assert (got["name"], got["role"]) == (node["name"], node["role"])
        assert got["provision_mac"] == node["macs"]["provisioning"]
        assert got["hardware_profile"] == ("default" if node["role"] == "master" else "unknown")
        assert (got["ipmi_user"], got["ipmi_password"], got["ipmi_address"]) == (
            bmc["user"], bmc["password"], bmc["address"])
        assert got["ipmi_port"] == bmc["nodes"][node["name"]]["port"]
        assert (got["kvm_uuid"], got["redfish_port"]) == (node["uuid"], bmc["port"])
        assert got["ansible_user"] == "core"


def test_ipi_tells_the_collection_what_these_vms_are(tmp_path: Path) -> None:
    """BIOS boot, no Redfish inspection, Redfish over the provisioning network; booleans as booleans
    (docs/redhatci-ocp-gaps.md)."""
    data = outputs("ipi")
    got = hostvars(parse(render_ipi_hosts(data), tmp_path), "master-0")
    assert got["bootmode"] == "legacy"
    assert got["redfish_inspection"] is False and got["enable_redfish"] is True
    ipmi = copy.deepcopy(data)
    ipmi["bmc"] = {**ipmi["bmc"], "kind": "ipmi"}
    assert "enable_redfish" not in hostvars(parse(render_ipi_hosts(ipmi), tmp_path), "master-0")


@pytest.mark.parametrize("kind", ["redfish", "ipmi"])
def test_issue24_a_b_no_enable_virtualmedia_and_no_prov_network(tmp_path: Path, kind: str) -> None:
    """A: `enable_virtualmedia=false` reached node_prep as the string "false" (`not enable_virtualmedia`: no
    provisioning bridge on 2.16, an error on 2.19): left out, the role default is a real false. B: any
    `prov_network` fails 2.19's node_prep: left out, node_prep builds 172.22.0.1/21."""
    data = outputs("ipi")
    data["bmc"] = {**data["bmc"], "kind": kind}
    listed = parse(render_ipi_hosts(data), tmp_path)
    for host, variables in listed["_meta"]["hostvars"].items():
        assert "enable_virtualmedia" not in variables and "prov_network" not in variables, host
        for name in DCI_BOOLEANS & set(variables):
            assert isinstance(variables[name], bool), f"{host}: {name} is {type(variables[name]).__name__}"


def test_issue24_f_masters_and_workers_are_reached_with_the_controllers_key(tmp_path: Path) -> None:
    """F: the agent fetches ~/.ssh/<cluster>-provisioner_rsa only from a RHEL 8 provisionhost; the controller's
    public key goes into the cluster's sshKey (`ssh_extra_keys_paths`, a list) and no host names that file."""
    data = outputs("ipi")
    listed = parse(render_ipi_hosts(data), tmp_path)
    for node in nodes_by_role(data, "master") + nodes_by_role(data, "worker"):
        got = hostvars(listed, node["name"])
        args = shlex.split(got["ansible_ssh_extra_args"])
        assert "-i" not in args and "StrictHostKeyChecking=no" in args
        assert got["ssh_extra_keys_paths"] == ["~/.ssh/id_rsa.pub"]
    for host, variables in listed["_meta"]["hostvars"].items():
        assert "provisioner_rsa" not in json.dumps(variables), host
    chosen = InventoryOptions(controller_public_key="/home/dci/.ssh/id_ed25519.pub")
    got = hostvars(parse(render_ipi_hosts(data, chosen), tmp_path, "chosen"), "master-0")
    assert got["ssh_extra_keys_paths"] == ["/home/dci/.ssh/id_ed25519.pub"]


def test_ipi_provisioner_and_jumphost(tmp_path: Path) -> None:
    data = outputs("ipi")
    listed = parse(render_ipi_hosts(data), tmp_path)
    provisionhost = nodes_by_role(data, "provisionhost")[0]
    got = hostvars(listed, "provisionhost")
    assert (got["ansible_host"], got["ansible_user"], got["prov_nic"], got["pub_nic"]) == (
        provisionhost["ip"], "dci", "eth1", "eth0")
    assert got["ansible_ssh_common_args"] == "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null"
    assert "ipmi_password" not in got
    jumphost = hostvars(listed, "jumphost")
    assert (jumphost["ansible_host"], jumphost["ansible_user"]) == ("192.168.16.1", "root")


def test_the_provisioner_user_is_the_one_the_stack_made(tmp_path: Path) -> None:
    """The stack's provisionhost_user output (core.dci_user) names the user with the controller's key."""
    data = {**outputs("ipi"), "provisionhost_user": "kni"}
    listed = parse(render_ipi_hosts(data), tmp_path)
    assert hostvars(listed, "provisionhost")["ansible_user"] == "kni"
    assert hostvars(listed, "master-0")["provisionhost_user"] == "kni"
    chosen = parse(render_ipi_hosts(data, InventoryOptions(provisionhost_user="dci")), tmp_path, "chosen")
    assert hostvars(chosen, "provisionhost")["ansible_user"] == "dci"  # the caller's choice wins


def test_ipi_with_ipmi_has_per_node_ports_and_no_redfish_fields(tmp_path: Path) -> None:
    data = outputs("ipi")
    names = [n["name"] for n in data["nodes"] if n["role"] != "provisionhost"]
    data["bmc"] = {"kind": "ipmi", "address": "192.168.16.11", "port": 623, "user": "admin", "password": "1234a",
                   "nodes": {name: {"port": 6230 + i} for i, name in enumerate(names)}}
    listed = parse(render_ipi_hosts(data), tmp_path)
    assert "kvm_hosts_redfish" not in listed
    for i, name in enumerate(names):
        got = hostvars(listed, name)
        assert got["ipmi_port"] == 6230 + i
        assert got["ipmi_password"] == "1234a"
        assert "kvm_uuid" not in got and "redfish_port" not in got


def test_ipi_without_bmc_writes_no_bmc_fields(tmp_path: Path) -> None:
    data = outputs("ipi")
    del data["bmc"]
    text = render_ipi_hosts(data)
    assert "ipmi_" not in text and "kvm_uuid" not in text
    got = hostvars(parse(text, tmp_path), "master-0")
    assert got["provision_mac"] == "52:54:01:a8:10:23"


@pytest.mark.parametrize("password", ["None", "1j", "-1j", "_", "Ellipsis"])
def test_awkward_passwords_reach_ansible_unchanged(tmp_path: Path, password: str) -> None:
    """Passwords YAML keeps as text that Python's literal_eval (Ansible's INI reader) would turn into values."""
    data = outputs("ipi")
    data["bmc"]["password"] = password
    listed = parse(render_ipi_hosts(data), tmp_path)
    assert hostvars(listed, "worker-1")["ipmi_password"] == password


# Each one the outputs contract allows (a user name starts with a letter or '_').
YAML_NON_TEXT = [*(("password", v) for v in ("1234", "true", "True", "no", "null", "0x1F", "1_000", "-1", "1e5",
                                             "0o17", "2026-12-06", "-")),
                 *(("user", v) for v in ("true", "no", "off", "null"))]


@pytest.mark.parametrize(("field", "value"), YAML_NON_TEXT)
@pytest.mark.parametrize("render", [render_ipi_hosts, render_abi_yaml, inventory_for])
def test_issue24_a_bmc_credential_yaml_would_not_read_as_text_is_refused(render: Any, field: str,
                                                                         value: str) -> None:
    """redhatci.ocp's install-config.j2 writes `password: {{ ipmi_password }}` unquoted: 1234 would be a number.
    One line naming the field, never the value."""
    data = outputs("ipi")
    data["bmc"][field] = value
    with pytest.raises(InventoryError) as raised:
        render(data)
    assert str(raised.value) == (f"stack ipi1: output bmc.{field} does not read back as text in YAML (a number, "
                                 "boolean, null, date or list), and DCI's install-config template writes it unquoted: "
                                 "choose another")


def test_issue24_a_bmc_credential_is_refused_for_the_sno_inventory_too() -> None:
    data = outputs("sno")
    data["bmc"]["password"] = "1234"
    with pytest.raises(InventoryError, match=r"^stack sno1: output bmc\.password does not read back as text"):
        render_sno_hosts(data)


def test_jinja_in_the_password_is_refused_without_showing_it() -> None:
    data = outputs("ipi")
    data["bmc"]["password"] = "{{ lookup('pipe', 'id') }}"
    with pytest.raises(InventoryError) as raised:
        render_ipi_hosts(data)
    assert "bmc.password" in str(raised.value) and "lookup" not in str(raised.value)


def test_ipi_options_and_no_jumphost(tmp_path: Path) -> None:
    options = InventoryOptions(prov_nic="eth0", pub_nic="eth1", masters_prov_nic="ens3", provisionhost_user="kni",
                               include_jumphost=False)
    listed = parse(render_ipi_hosts(outputs("ipi"), options), tmp_path)
    assert "jumphost" not in listed
    got = hostvars(listed, "provisionhost")
    assert (got["ansible_user"], got["prov_nic"], got["pub_nic"], got["masters_prov_nic"]) == (
        "kni", "eth0", "eth1", "ens3")


def test_ipi_refuses_sno_outputs_and_nodes_without_provisioning_nic() -> None:
    with pytest.raises(InventoryError, match="stack sno1 is a sno cluster, not ipi"):
        render_ipi_hosts(outputs("sno"))
    data = outputs("ipi")
    del data["nodes"][1]["macs"]["provisioning"]
    with pytest.raises(InventoryError, match="master-0 has no provisioning NIC"):
        render_ipi_hosts(data)


# --- SNO ----------------------------------------------------------------------------------------------------------


def test_sno_inventory_matches_the_fixture(tmp_path: Path) -> None:
    data = outputs("sno")
    node, bmc = data["nodes"][0], data["bmc"]
    listed = parse(render_sno_hosts(data), tmp_path)
    assert group_hosts(listed, "masters") == [node["fqdn"]]
    assert group_hosts(listed, "workers") == []
    assert group_hosts(listed, "provisioner") == ["jumphost.simlab.test"]
    got = hostvars(listed, node["fqdn"])
    assert {k: got[k] for k in ("install_type", "sno_install_type", "cluster", "domain", "extcidrnet")} == {
        "install_type": "sno", "sno_install_type": "baremetal", "cluster": "sno1", "domain": "simlab.test",
        "extcidrnet": "192.168.16.0/24"}
    assert (got["extcidrrouter"], got["extcidrdns"], got["sno_extnet_ip"]) == ("192.168.16.1", "192.168.16.1",
                                                                             node["ip"])
    assert (got["ansible_host"], got["name"], got["role"], got["ansible_user"]) == (node["ip"], "sno", "master", "core")
    assert got["baremetal_mac"] == node["macs"]["baremetal"]
    assert (got["ipmi_user"], got["ipmi_password"], got["ipmi_address"], got["ipmi_port"]) == (
        bmc["user"], bmc["password"], bmc["address"], bmc["nodes"]["sno"]["port"])
    assert got["installation_disk"] == "/dev/vda"
    provisioner = hostvars(listed, "jumphost.simlab.test")
    assert (provisioner["ansible_host"], provisioner["ansible_user"]) == ("192.168.16.1", "root")


def test_sno_keeps_the_collection_off_the_jumphosts_dhcp_and_dns(tmp_path: Path) -> None:
    listed = parse(render_sno_hosts(outputs("sno")), tmp_path)
    master = group_hosts(listed, "masters")[0]
    assert hostvars(listed, master)["dnsmasq_enabled"] is False
    assert "tftp_host" not in listed  # an empty [tftp_host] would make the collection index an empty group


def test_issue24_c_sno_defines_tftp_server_as_the_provisioner(tmp_path: Path) -> None:
    """C: sno_installer's PXE tasks template `delegate_to: {{ tftp_server }}` before their `when` (2.19 fails on
    it undefined); the collection would pick the [provisioner] host, so it is that host's inventory name."""
    listed = parse(render_sno_hosts(outputs("sno")), tmp_path)
    provisioners = group_hosts(listed, "provisioner")
    for host, variables in listed["_meta"]["hostvars"].items():
        assert variables["tftp_server"] == provisioners[0], host


def test_issue24_the_sno_provisioner_is_the_jumphost_by_its_fqdn_not_the_agents_jumphost(tmp_path: Path) -> None:
    """`jumphost` is the agent's own host and group (plays/configure-jumphost.yml, with become); the node
    fetches `http://<provisioner>:8080/...`, which the lab's DNS answers for jumphost.<domain>."""
    listed = parse(render_sno_hosts(outputs("sno")), tmp_path)
    assert group_hosts(listed, "provisioner") == ["jumphost.simlab.test"]
    assert "jumphost" not in listed["_meta"]["hostvars"] and "jumphost" not in listed


def test_sno_refuses_more_than_one_node() -> None:
    data = outputs("sno")
    data["nodes"].append({**copy.deepcopy(data["nodes"][0]), "name": "sno-b", "fqdn": "sno-b.sno1.simlab.test"})
    with pytest.raises(InventoryError, match="exactly one master"):
        render_sno_hosts(data)


# --- ABI ----------------------------------------------------------------------------------------------------------


def test_abi_yaml_for_the_ipi_cluster(tmp_path: Path) -> None:
    data = outputs("ipi")
    listed = parse(render_abi_yaml(data), tmp_path, "hosts.yml")
    assert group_hosts(listed, "masters") == ["master-0", "master-1", "master-2"]
    assert group_hosts(listed, "workers") == ["worker-0", "worker-1"]
    assert group_hosts(listed, "vm_hosts") == ["hv1"]
    assert hostvars(listed, "hv1")["ansible_host"] == "192.168.16.11"
    bmc = data["bmc"]
    for node in nodes_by_role(data, "master") + nodes_by_role(data, "worker"):
        got = hostvars(listed, node["name"])
        assert (got["ansible_host"], got["mac"], got["role"], got["vm_host"]) == (
            node["ip"], node["macs"]["baremetal"], node["role"], "hv1")
        assert (got["vendor"], got["bmc_user"], got["bmc_password"], got["bmc_address"]) == (
            "KVM", bmc["user"], bmc["password"], "192.168.16.11:8082")
        assert (got["api_vip"], got["ingress_vip"], got["machine_network_cidr"]) == (
            "192.168.16.32", "192.168.16.33", "192.168.16.0/24")
        assert (got["install_type"], got["cluster_name"], got["base_dns_domain"]) == ("abi", "ipi1", "simlab.test")
        assert got["vm_node_prefix"] + node["name"] == f"ipi1-{node['name']}"
        assert got["setup_vms"] is False
    assert "provisionhost" not in listed["_meta"]["hostvars"]


def test_abi_yaml_for_sno_keeps_digit_only_macs_as_text(tmp_path: Path) -> None:
    data = outputs("sno")
    data["bmc"] = {"kind": "redfish", "address": "192.168.16.12", "port": 8082, "user": "admin", "password": "x",
                   "nodes": {"sno": {"port": 8082}}}
    data["nodes"][0]["macs"]["baremetal"] = "52:54:00:10:10:30"  # YAML 1.1 would read 52:54:... as base 60
    listed = parse(render_abi_yaml(data), tmp_path, "hosts.yml")
    got = hostvars(listed, "sno")
    assert group_hosts(listed, "masters") == ["sno"] and "workers" not in listed
    assert (got["mac"], got["ansible_host"], got["api_vip"], got["ingress_vip"]) == (
        "52:54:00:10:10:30", "192.168.16.48", "192.168.16.48", "192.168.16.48")
    assert group_hosts(listed, "vm_hosts") == ["hv2"]


def test_abi_refuses_an_ipmi_bmc() -> None:
    with pytest.raises(InventoryError, match="Redfish virtual media"):
        render_abi_yaml(outputs("sno"))


# --- choice and refusals ------------------------------------------------------------------------------------------


def test_inventory_for_picks_the_format_by_topology() -> None:
    name, text = inventory_for(outputs("ipi"))
    assert name == "ipi1" and "install_type=ipi" in text and "[provisioner]" in text
    name, text = inventory_for(outputs("sno"))
    assert name == "sno1" and "install_type=sno" in text


def test_lab_outputs_are_refused() -> None:
    lab = {"kind": "lab", "domain": "simlab.test", "network": {"cidr": "192.168.16.0/24"}, "hypervisors": {}}
    with pytest.raises(InventoryError, match="stack simlab is a lab stack; name a cluster stack"):
        inventory_for(lab, stack="simlab")


@pytest.mark.parametrize("data", [{}, {"kind": "cluster", "cluster": "ipi1", "topology": "ipi", "nodes": []}])
def test_undeployed_outputs_are_refused(data: dict[str, Any]) -> None:
    with pytest.raises(InventoryError, match="stack ipi1 has no deployed nodes: run pulumi up first"):
        inventory_for(data, stack="ipi1")


def test_missing_fields_are_named() -> None:
    data = outputs("ipi")
    del data["network"]["cidr"]
    with pytest.raises(InventoryError, match=r"stack ipi1: output network\.cidr is missing"):
        inventory_for(data)


def test_errors_never_show_the_bmc_password() -> None:
    data = outputs("ipi")
    data["bmc"]["port"] = "8082"
    with pytest.raises(InventoryError) as raised:
        inventory_for(data)
    assert data["bmc"]["password"] not in str(raised.value) and "bmc.port" in str(raised.value)


@pytest.mark.parametrize("text", ["-" * 5000 + "1", "+" * 100_000 + "1"])
def test_a_value_nested_too_deep_for_literal_eval_is_quoted_not_a_crash(text: str) -> None:
    """literal_eval raises RecursionError, MemoryError, or on 3.11 SystemError (cpython#106905) on such text."""
    assert _var_value(text) == json.dumps(text)


# --- hostile outputs and options: refused where they are read, naming the field ----------------------------------

# ansible-core 2.19 reads a `#jinja2:` first line as new delimiters for the rest of the string.
JINJA2_HEADER = "#jinja2:variable_start_string:'[[',variable_end_string:']]'\n[[ lookup('pipe','id') ]]"

HOSTILE_OUTPUTS = [
    ("bmc.password", JINJA2_HEADER), ("bmc.password", "p@ss word"), ("bmc.password", "a;b#c"),
    ("bmc.password", "x\nipmi_user=root"), ("bmc.password", "it's"), ("bmc.password", "[1, 2]"),
    ("bmc.user", JINJA2_HEADER), ("bmc.address", "192.168.16.11\n[x]"), ("bmc.port", 70_000),
    ("bmc.nodes.master-0.port", 0),
    ("cluster", "ipi1\n[evil]\nx ansible_connection=local\n#"), ("domain", "simlab.test\nx=y"),
    ("network.gateway", JINJA2_HEADER), ("network.dns", "192.168.16.1 x=y"), ("network.cidr", "192.168.16.0/24\n"),
    ("jumphost.address", "#jinja2:a"), ("jumphost.user", "root ansible_connection=local"),
    ("hypervisor.name", "hv1\n"), ("hypervisor.address", "[[x]]"), ("api_vip", "192.168.16.32#"),
    ("ingress_vip", "999.1.1.1"), ("topology", "ipi\n"), ("provisionhost_user", "dci\n[x]"),
    ("nodes[1].name", "master-0 ansible_connection=local"), ("nodes[1].ip", JINJA2_HEADER),
    ("nodes[1].fqdn", "master-0.ipi1.simlab.test\n"), ("nodes[1].uuid", JINJA2_HEADER),
    ("nodes[1].macs.provisioning", "52:54:01:a8:10:23\n#"), ("nodes[1].role", "master\n"),
    ("nodes[1].hypervisor", "#hv1"), ("bootstrap.mac", "[[ x ]]"), ("bootstrap.fqdn", "a b"),
]


def put(data: dict[str, Any], where: str, value: Any) -> dict[str, Any]:
    """`data` with the field at `where` (`nodes[1].ip`, `bmc.nodes.master-0.port`) set to `value`."""
    parts = [int(p) if p.isdigit() else p for p in where.replace("[", ".").replace("]", "").split(".")]
    target: Any = data
    for part in parts[:-1]:
        target = target[part]
    target[parts[-1]] = value
    return data


@pytest.mark.parametrize(("where", "value"), HOSTILE_OUTPUTS)
def test_hostile_outputs_are_refused_naming_the_field_for_ini_and_yaml(where: str, value: Any) -> None:
    """Each value is one the old check (`{{`, `{%`, `{#`) let through; no value under bmc is ever shown."""
    for render in (inventory_for, render_abi_yaml):
        data = put(outputs("ipi"), where, value)
        with pytest.raises(InventoryError) as raised:
            render(data)
        message = str(raised.value)
        stack = "(unnamed)" if where == "cluster" else "ipi1"
        assert message.startswith(f"stack {stack}: output {where} "), message
        assert "\n" not in message
        if where.startswith("bmc.") and isinstance(value, str):
            assert repr(value)[1:-1] not in message and str(value) not in message


def test_a_hostile_gateway_is_refused_for_the_sno_inventory() -> None:
    data = put(outputs("sno"), "network.gateway", JINJA2_HEADER)
    with pytest.raises(InventoryError, match=r"^stack sno1: output network\.gateway [\"']#jinja2:.* is not an IPv4"):
        render_sno_hosts(data)


def test_a_hostile_stack_name_is_refused_before_it_reaches_the_header() -> None:
    with pytest.raises(InventoryError, match="is not a stack name"):
        inventory_for(outputs("ipi"), stack="ipi1\n[evil]")


@pytest.mark.parametrize(("option", "value"), [
    ("cluster_dir", JINJA2_HEADER), ("cluster_dir", "{{ lookup('pipe','id') }}"), ("cluster_dir", "/a b\n#"),
    ("ssh_common_args", "-o ProxyCommand=#jinja2:x"), ("ssh_common_args", "-o 'ProxyCommand=id'"),
    ("ssh_common_args", "-o A=b\nx=y"), ("prov_nic", "eth1\n[x]"), ("pub_nic", "[[ x ]]"),
    ("masters_prov_nic", "ens4 x=y"), ("provisionhost_user", "dci\n"), ("hypervisor_user", "#root"),
    ("installation_disk", "/dev/vda x=y"), ("abi_http_port", "8040"), ("controller_public_key", "{{ x }}"),
    ("controller_public_key", "~/.ssh/id_rsa.pub\nx=y"), ("controller_public_key", "id_rsa.pub"),
    ("controller_public_key", '~/a", "b'), ("include_jumphost", "false"),
])
def test_hostile_inventory_options_are_refused_naming_the_option(option: str, value: Any) -> None:
    with pytest.raises(InventoryError, match=rf"^inventory option {option}: "):
        InventoryOptions(**{option: value})


def test_options_a_caller_may_choose_are_written(tmp_path: Path) -> None:
    options = InventoryOptions(cluster_dir="/home/dci/clusterconfigs", ssh_common_args="-o ConnectTimeout=10",
                               installation_disk="/dev/sda")
    got = hostvars(parse(render_ipi_hosts(outputs("ipi"), options), tmp_path), "master-0")
    assert got["dir"] == "/home/dci/clusterconfigs"
    assert got["ansible_ssh_extra_args"] == "-o ConnectTimeout=10"


def test_every_string_of_the_yaml_inventory_is_marked_unsafe(tmp_path: Path) -> None:
    """As ansible-inventory lists it: `{"__ansible_unsafe": ...}` for every string, numbers and booleans as they are."""
    path = tmp_path / "hosts.yml"
    path.write_text(render_abi_yaml(outputs("ipi")))
    done = subprocess.run([ansible_inventory(), "-i", str(path), "--list"], capture_output=True, text=True,
                          env={**os.environ, "ANSIBLE_HOME": str(tmp_path / "h")}, cwd=tmp_path, check=True)
    master = json.loads(done.stdout)["_meta"]["hostvars"]["master-0"]
    assert master["bmc_password"] == {"__ansible_unsafe": "s1mlab-redfish_0123"}
    assert master["mac"] == {"__ansible_unsafe": "52:54:00:a8:10:23"}
    assert (master["cluster_network_host_prefix"], master["setup_vms"]) == (23, False)
    strings = [v for v in master.values() if isinstance(v, str)]
    assert strings == [], f"strings not marked unsafe: {strings}"


# --- what DCI's code would misread: refused where the inventory is written (issue 24, "Bad input") ---------------


@pytest.mark.parametrize(("sections", "message"), [
    ({"all:vars": {"bootmode": "legacy", "enable_virtualmedia": "false"}},
     "ipi inventory variable enable_virtualmedia (all:vars) is a boolean redhatci.ocp tests"),
    ({"all:vars": {"bootmode": "legacy", "redfish_inspection": 0}},
     "ipi inventory variable redfish_inspection (all:vars) is a boolean redhatci.ocp tests"),
    ({"all:vars": {"bootmode": "legacy"}, "master-0": {"some_flag": "True"}},
     "ipi inventory variable some_flag (master-0) is a boolean written as text"),
    ({"all:vars": {"bootmode": "legacy", "prov_network": "172.22.0.0/24"}},
     "ipi inventory variable prov_network (all:vars) node_prep tests it as `prov_network is defined and"),
    ({"all:vars": {"install_type": "ipi"}}, "ipi inventory variable bootmode is undefined"),
])
def test_an_ipi_inventory_dci_would_misread_is_refused(sections: dict[str, Any], message: str) -> None:
    with pytest.raises(InventoryError, match=f"^stack ipi1: {re.escape(message)}"):
        _check_for_dci("ipi", "ipi1", sections, ["provisionhost"])


@pytest.mark.parametrize(("sections", "message"), [
    ({"all:vars": {"bootmode": "legacy", "dnsmasq_enabled": False}}, "sno inventory variable tftp_server is undefined"),
    ({"all:vars": {"bootmode": "legacy", "tftp_server": "jumphost"}},
     "sno inventory variable tftp_server (all:vars) does not name the [provisioner] host"),
    ({"all:vars": {"tftp_server": "jumphost.simlab.test", "dnsmasq_enabled": "false", "bootmode": "legacy"}},
     "sno inventory variable dnsmasq_enabled (all:vars) is a boolean"),
    ({"all:vars": {"tftp_server": "jumphost.simlab.test"}}, "sno inventory variable bootmode is undefined"),
])
def test_an_sno_inventory_dci_would_misread_is_refused(sections: dict[str, Any], message: str) -> None:
    with pytest.raises(InventoryError, match=f"^stack sno1: {re.escape(message)}"):
        _check_for_dci("sno", "sno1", sections, ["jumphost.simlab.test"])


def test_the_rendered_inventories_pass_the_check_and_every_boolean_is_one(tmp_path: Path) -> None:
    """What the renderers write is what the check accepts, and ansible-inventory reads every DCI boolean as a bool."""
    for name, text in (("ipi", render_ipi_hosts(outputs("ipi"))), ("sno", render_sno_hosts(outputs("sno")))):
        listed = parse(text, tmp_path, name)
        for host, variables in listed["_meta"]["hostvars"].items():
            for key in DCI_BOOLEANS & set(variables):
                assert isinstance(variables[key], bool), f"{name} {host}: {key}"
            assert not [k for k, v in variables.items()
                        if isinstance(v, str) and v.lower() in ("true", "false", "yes", "no")], (name, host)
