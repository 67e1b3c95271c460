"""Inventories through real ansible-core: a value that would template is refused before anything is written,
and what ocplab writes comes back verbatim from a templating task (`ansible -m debug -a var=...`, which
templates every variable it shows), so nothing in it runs.

The payload is the one issue 22 showed: a `#jinja2:` first line giving new delimiters, then a `pipe` lookup,
here one that would create a marker file. The controls prove the harness sees it run when it is written the
way the renderers wrote it before. OCPLAB_ANSIBLE_BIN=<dir> runs the same specs with another ansible-core
(the venv's 2.19 otherwise).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from core.firmware import FIRMWARE_OF
from renderers.pxe_boot import tftp_dir
from tests.unit.test_dci_inventory import outputs, put
from tools import dci_handoff
from tools.dci_inventory import render_abi_yaml, render_ipi_hosts, render_sno_hosts


def payload(marker: Path) -> str:
    return f"#jinja2:variable_start_string:'[[',variable_end_string:']]'\n[[ lookup('pipe','touch {marker}') ]]"


def ansible(tool: str) -> str:
    directory = Path(os.environ.get("OCPLAB_ANSIBLE_BIN") or Path(sys.executable).parent)
    if not (directory / tool).exists():
        pytest.fail(f"{directory / tool} not found: make venv (ansible-core is pinned in pyproject.toml's dev group)")
    return str(directory / tool)


def env(tmp_path: Path) -> dict[str, str]:
    config = tmp_path / "ansible.cfg"
    config.write_text("[defaults]\n")  # no ansible.cfg of the machine changes what is read
    return {**os.environ, "ANSIBLE_CONFIG": str(config), "ANSIBLE_HOME": str(tmp_path / "ansible-home"),
            "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-tmp"), "ANSIBLE_INVENTORY_UNPARSED_FAILED": "true"}


def listed_vars(inventory: Path, tmp_path: Path) -> dict[str, dict[str, Any]]:
    """Every host's variables as the inventory holds them (`ansible-inventory --list`: nothing templated)."""
    done = subprocess.run([ansible("ansible-inventory"), "-i", str(inventory), "--list"], capture_output=True,
                          text=True, env=env(tmp_path), cwd=tmp_path, check=False)
    assert done.returncode == 0, done.stderr
    hostvars: dict[str, dict[str, Any]] = json.loads(done.stdout)["_meta"]["hostvars"]
    return hostvars


def templated_vars(inventory: Path, tmp_path: Path) -> dict[str, dict[str, Any]]:
    """Every host's variables after templating: `debug var=hostvars[inventory_hostname]` on each, locally (with
    the fact our one template, `dir`, reads)."""
    tree = tmp_path / "tree"
    done = subprocess.run([ansible("ansible"), "-i", str(inventory), "all", "-c", "local", "-m", "debug",
                           "-e", "ansible_user_dir=/home/dci",
                           "-a", "var=hostvars[inventory_hostname]", "--tree", str(tree)],
                          capture_output=True, text=True, env=env(tmp_path), cwd=tmp_path, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return {path.name: json.loads(path.read_text())["hostvars[inventory_hostname]"] for path in tree.iterdir()}


def unwrapped(value: Any) -> Any:
    """ansible-inventory lists a YAML `!unsafe` value as {"__ansible_unsafe": value}."""
    return value["__ansible_unsafe"] if isinstance(value, dict) and set(value) == {"__ansible_unsafe"} else value


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


# --- controls: the payload runs when an inventory carries it unchecked --------------------------------------------


def test_control_the_payload_runs_from_an_ini_value_written_unchecked(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    # How render_ipi_hosts wrote a password before the outputs were checked: a JSON-quoted [masters:vars] value.
    text = f"[masters]\nmaster-0\n\n[masters:vars]\nipmi_password={json.dumps(payload(marker))}\n"
    templated_vars(write(tmp_path, "hosts", text), tmp_path)
    assert marker.exists(), "the harness must see the payload run, or the specs below prove nothing"


def test_control_the_payload_runs_from_a_yaml_value_not_marked_unsafe(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    text = yaml.safe_dump({"all": {"hosts": {"master-0": {"bmc_password": payload(marker)}}}})
    templated_vars(write(tmp_path, "hosts.yml", text), tmp_path)
    assert marker.exists()


# --- refused before writing ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("topology", "where"), [
    ("ipi", "bmc.password"), ("ipi", "bmc.user"), ("ipi", "nodes[1].uuid"), ("ipi", "domain"),
    ("sno", "network.gateway"), ("sno", "network.dns"), ("sno", "bmc.password"), ("sno", "nodes[0].ip"),
])
def test_a_payload_in_the_outputs_is_refused_before_the_handoff_writes(topology: str, where: str,
                                                                       tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    data = put(outputs(topology), where, payload(marker))
    stack = data["cluster"]
    with pytest.raises(dci_handoff.HandoffError, match=rf"^stack {stack}: output {re.escape(where)} "):
        dci_handoff.handoff(stack, "pool", tmp_path / "inventories", data)
    assert not (tmp_path / "inventories").exists() and not marker.exists()


# --- what is written comes back verbatim --------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "render", "topology"), [
    ("hosts", render_ipi_hosts, "ipi"), ("hosts", render_sno_hosts, "sno"), ("hosts.yml", render_abi_yaml, "ipi")])
def test_every_value_written_is_read_back_verbatim_by_a_templating_task(name: str, render: Any, topology: str,
                                                                        tmp_path: Path) -> None:
    """Templated equals as written, for every variable of every host; `dir` is the one template we mean."""
    inventory = write(tmp_path, name, render(outputs(topology)))
    written = listed_vars(inventory, tmp_path)
    templated = templated_vars(inventory, tmp_path)
    assert set(templated) == set(written)
    for host, variables in written.items():
        for key, value in variables.items():
            if key == "dir":
                assert (value, templated[host][key]) == ("{{ ansible_user_dir }}/clusterconfigs",
                                                         "/home/dci/clusterconfigs")
                continue
            assert templated[host][key] == unwrapped(value), f"{host}: {key}"


def test_a_yaml_value_marked_unsafe_is_never_run(tmp_path: Path) -> None:
    """What `!unsafe` is there for: should a value ever slip past the outputs' patterns, Ansible reads it as text.
    The rendered ABI inventory with its password replaced by the payload, the tag kept."""
    marker = tmp_path / "ran"
    text = render_abi_yaml(outputs("ipi"))
    line = "bmc_password: !unsafe 's1mlab-redfish_0123'"
    assert line in text
    inventory = write(tmp_path, "hosts.yml", text.replace(line, f"bmc_password: !unsafe {json.dumps(payload(marker))}"))
    templated = templated_vars(inventory, tmp_path)
    assert templated["master-0"]["bmc_password"] == payload(marker)
    assert not marker.exists()


# --- what DCI's roles do with what we write (issue 24): their conditionals, in our own probe role ----------------

# A role of ours that tests the variables the way redhatci.ocp 96f540f's tasks do, each form copied from the task
# named (no code of theirs is run or needed): its defaults are the collection's role defaults, so an inventory
# value wins over them as it does in the collection.
PROBE_DEFAULTS = """\
enable_virtualmedia: false  # roles/node_prep/defaults/main.yml
dnsmasq_enabled: true  # roles/sno_installer/defaults/main.yml
tftp_dir: /var/lib/tftpboot  # roles/sno_installer/defaults/main.yml
"""
PROBE_TASKS = """\
- name: A, node_prep 40_bridge.yml and 45_networking_facts.yml (no | bool) - the provisioning bridge and subnet
  ansible.builtin.set_fact: {probe_provisioning_bridge: true}
  when: (not enable_virtualmedia) and
        (true)
- name: B, node_prep 40_bridge.yml - Set provisioning network fact
  ansible.builtin.set_fact: {probe_prov_network: true}
  when:
    - prov_network is defined and prov_network
- name: C, only for SNO (the agent runs sno_installer only there)
  ansible.builtin.include_tasks: sno.yml
  when: install_type == "sno"
- name: E, sno_installer 60_deploy_sno_bm.yml - Set PXE - UEFI Temporally on next boot
  ansible.builtin.set_fact: {probe_next_boot: "0xa0"}
  when:
    - (bootmode is not defined or bootmode != "legacy")
- name: E, sno_installer 60_deploy_sno_bm.yml - Set PXE - BIOS Temporally on next boot
  ansible.builtin.set_fact: {probe_next_boot: "0x80"}
  when:
    - bootmode is defined
    - bootmode == "legacy"
- name: F, node_prep 10_validation.yml - Check if SSH keys exist
  ansible.builtin.set_fact: {probe_keys: "{{ probe_keys | default([]) + [item] }}"}
  loop: "{{ ssh_extra_keys_paths }}"
  when:
    - ssh_extra_keys_paths is defined
    - ssh_extra_keys_paths | length > 0
- name: what the probe saw
  ansible.builtin.copy:
    dest: "{{ probe_out }}/{{ inventory_hostname }}.json"
    content: "{{ {'bridge': probe_provisioning_bridge | default(false), 'prov_network': probe_prov_network
                  | default(false), 'next_boot': probe_next_boot | default(none), 'keys': probe_keys
                  | default(none), 'grub_cfg': probe_grub_cfg | default(none)} | to_json }}"
    mode: "0600"
"""
PROBE_SNO_TASKS = """\
- name: C, sno_installer 23_rhcos_image_pxetftp.yml - Setting kernel and ramdisk images on tftp server
  delegate_to: "{{ tftp_server }}"
  block:
    - name: Check if kernel image exists
      ansible.builtin.debug: {msg: "only with the collection's dnsmasq"}
      when:
        - dnsmasq_enabled|bool
- name: D, sno_installer 56_create_grubpxe.yml - Generate grub.cfg file for SNO node (its dest)
  ansible.builtin.set_fact:
    probe_grub_cfg: "{{ tftp_dir }}/grub.cfg-01-{{ hostvars[groups['masters'][0]]['baremetal_mac']
                     | replace(':', '-') }}"
"""


def probe(inventory: Path, tmp_path: Path) -> dict[str, Any]:
    """Run the probe role on the inventory's [provisioner] host (a local connection); what it saw, per host."""
    role = tmp_path / "roles" / "probe"
    for folder, name, text in (("defaults", "main.yml", PROBE_DEFAULTS), ("tasks", "main.yml", PROBE_TASKS),
                               ("tasks", "sno.yml", PROBE_SNO_TASKS)):
        (role / folder).mkdir(parents=True, exist_ok=True)
        (role / folder / name).write_text(text)
    play = write(tmp_path, "probe.yml", "- hosts: provisioner\n  gather_facts: false\n  roles: [probe]\n")
    out = tmp_path / "probe-out"
    out.mkdir()
    variables = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable, "probe_out": str(out)}
    done = subprocess.run([ansible("ansible-playbook"), "-i", str(inventory), str(play), "-e", json.dumps(variables)],
                          capture_output=True, text=True, env=env(tmp_path), cwd=tmp_path, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    return {path.stem: json.loads(path.read_text()) for path in out.iterdir()}


def ipi_outputs(kind: str) -> dict[str, Any]:
    data = outputs("ipi")
    data["bmc"] = {**data["bmc"], "kind": kind}
    return data


@pytest.mark.parametrize("kind", ["redfish", "ipmi"])
def test_issue24_a_b_f_node_prep_builds_the_provisioning_bridge_from_our_ipi_inventory(kind: str,
                                                                                      tmp_path: Path) -> None:
    """A: `not enable_virtualmedia` is true (the string "false" made it false on 2.16, an error on 2.19); B: the
    prov_network task is skipped, not an error on 2.19 (node_prep's 172.22.0.1/21 stands); F: the extra key paths
    are a list of one."""
    seen = probe(write(tmp_path, "hosts", render_ipi_hosts(ipi_outputs(kind))), tmp_path)
    assert seen == {"provisionhost": {"bridge": True, "prov_network": False, "next_boot": "0x80",
                                      "keys": ["~/.ssh/id_rsa.pub"], "grub_cfg": None}}


def test_issue24_c_d_e_sno_installer_runs_past_tftp_server_writes_where_the_node_boots_from_and_boots_uefi(
        tmp_path: Path) -> None:
    """C: the block delegated to `tftp_server` no longer fails on 2.19 for want of it; D: the collection's
    grub.cfg-01-<mac> lands in the node's own TFTP root, the directory the lab's dnsmasq serves that MAC from
    (renderers.pxe_boot; it was the role's /var/lib/tftpboot); E: the next-boot flag the collection sends is
    the one for the firmware an SNO domain boots (core.firmware: UEFI, 0xa0)."""
    flag = {"bios": "0x80", "uefi": "0xa0"}[FIRMWARE_OF["sno"]]
    data = outputs("sno")
    mac = data["nodes"][0]["macs"]["baremetal"]
    seen = probe(write(tmp_path, "hosts", render_sno_hosts(data)), tmp_path)
    grub_cfg = f"{tftp_dir(mac)}/grub.cfg-01-{mac.replace(':', '-')}"
    assert seen == {"jumphost.simlab.test": {"bridge": True, "prov_network": False, "next_boot": flag, "keys": None,
                                             "grub_cfg": grub_cfg}}
