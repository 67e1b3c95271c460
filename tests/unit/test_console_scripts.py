"""Console logs gathered on the jumphost: the collector's config names every node's log on its hypervisor."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from core.cluster_design import ClusterDesign, design_cluster
from core.clusterconfig import parse_cluster_config
from core.stack_files import read_stack_values, stack_path
from renderers.console_scripts import collector_config, consoles_apply_script, consoles_remove_script

LAB = json.loads((Path(__file__).parent.parent / "data" / "lab-outputs-simlab.json").read_text())


def design(stack: str = "ipi1") -> ClusterDesign:
    return design_cluster(parse_cluster_config(stack, read_stack_values(stack_path(stack))), LAB, None)


def test_the_config_has_one_line_per_node_with_its_hypervisor_log() -> None:
    lines = collector_config(design()).splitlines()
    hv = LAB["hypervisors"]["hv1"]
    assert lines[:2] == [f"key {LAB['jumphost']['ssh_key_path']}", f"known_hosts {LAB['jumphost']['known_hosts']}"]
    assert lines[2] == f"node provisionhost root@{hv['address']} 22 " \
        "/var/log/libvirt/qemu/ipi1-provisionhost-console.log"
    assert [line.split()[1] for line in lines[2:]] == ["provisionhost", "master-0", "master-1", "master-2",
                                                       "worker-0", "worker-1"]
    assert all(len(line.split()) == 5 for line in lines[2:]), "plain words the collector reads with `read`"


def test_the_scripts_are_valid_sh_and_name_the_cluster() -> None:
    for text in (consoles_apply_script(design("sno1")), consoles_remove_script("sno1")):
        assert subprocess.run(["dash", "-n"], input=text, text=True, check=False).returncode == 0
        assert "cluster='sno1'" in text
