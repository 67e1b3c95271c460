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


def run_collector(tmp_path: Path, key: str, known_hosts: str) -> list[list[str]]:
    """The collector's own script, its folders moved under tmp_path, with an `ssh` that records its argv."""
    text = (Path(__file__).parents[2] / "renderers/files/ocplab-consoles.sh").read_text()
    for folder in ("/etc/ocplab/consoles", "/var/log/ocplab/consoles", "/run/ocplab/consoles"):
        text = text.replace(f"={folder}\n", f"={tmp_path}{folder}\n")
    (tmp_path / "ocplab-consoles").write_text(text)
    (tmp_path / "etc/ocplab/consoles").mkdir(parents=True)
    (tmp_path / "etc/ocplab/consoles/c1.conf").write_text(
        f"key {key}\nknown_hosts {known_hosts}\nnode n1 root@192.168.16.11 22 /var/log/n1.log\n")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "ssh").write_text(f'#!/bin/sh\nprintf "%s\\0" "$@" >> {tmp_path}/argv; echo >> {tmp_path}/argv\n')
    (bin_dir / "ssh").chmod(0o755)
    proc = subprocess.Popen(["dash", str(tmp_path / "ocplab-consoles"), "collect", "c1"], start_new_session=True,
                            env={"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path)})
    try:
        for _ in range(50):
            if (tmp_path / "argv").exists():
                break
            subprocess.run(["sleep", "0.1"], check=True)
    finally:
        subprocess.run(["kill", "--", f"-{proc.pid}"], check=False)
        proc.wait()
    return [line.strip("\0").split("\0") for line in (tmp_path / "argv").read_text().splitlines() if line]


def test_key_and_known_hosts_paths_with_blanks_stay_single_arguments(tmp_path: Path) -> None:
    """A key path `/root/lab key -oProxyCommand=...` once ran a command as root: it is a path, nothing more."""
    key = "/root/lab key -oProxyCommand=touch /tmp/owned"
    [argv, *_] = run_collector(tmp_path, key, "/root/known hosts")
    assert argv[argv.index("-i") + 1] == key
    assert 'UserKnownHostsFile="/root/known hosts"' in argv
    assert not any(a.startswith("-oProxyCommand") for a in argv)
    assert argv[argv.index("--") + 1] == "root@192.168.16.11", "the target can never be read as an option"
