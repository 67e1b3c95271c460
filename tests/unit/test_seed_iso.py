"""A node's cloud-init seed is made on its hypervisor from stdin (no libvirt stream), and a stack deployed with
seed volumes keeps them."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from core.clusterconfig import parse_cluster_config
from core.errors import ConfigError
from core.seed_media import seed_media_of
from core.stack_files import read_stack_values, stack_path
from renderers.seed_iso_scripts import seed_iso_path, seed_iso_remove_script, seed_iso_write_script

USER_DATA = "#cloud-config\nhostname: provisionhost\nusers:\n- name: dci\n  gecos: it's DCI\n"
META = "instance-id: ipi1-provisionhost\nlocal-hostname: provisionhost\n"


def tool(name: str) -> str:
    found = shutil.which(name)
    assert found, f"{name} is missing: install it with scripts/install-deps.sh (apt-get install genisoimage)"
    return found


def iso_file(iso: Path, name: str) -> str:
    """A file of the ISO, through its Joliet names, as cloud-init's NoCloud reader sees them."""
    return subprocess.run([tool("isoinfo"), "-i", str(iso), "-J", "-x", f"/{name}"], check=True,
                          capture_output=True, text=True).stdout


def run(script: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(["sh", "-c", script], input=stdin, capture_output=True, text=True, timeout=60)


def test_the_seed_is_an_iso_labelled_cidata_with_stdins_user_data_in_the_pool_directory(tmp_path: Path) -> None:
    iso = Path(seed_iso_path(str(tmp_path), "ipi1-provisionhost-cidata.iso"))
    script = seed_iso_write_script(str(iso), "no-such-pool", META)
    assert "#cloud-config" not in script and "gecos" not in script, "user-data travels on stdin only"
    done = run(script, USER_DATA)
    assert done.returncode == 0, done.stderr
    assert "libvirt does not list it until pool no-such-pool is refreshed" in done.stderr, "said"
    assert iso_file(iso, "user-data") == USER_DATA and iso_file(iso, "meta-data") == META
    label = subprocess.run([tool("isoinfo"), "-d", "-i", str(iso)], check=True, capture_output=True, text=True).stdout
    assert "Volume id: cidata" in label
    assert sorted(p.name for p in tmp_path.iterdir()) == [iso.name], "nothing staged is left behind"
    assert oct(iso.stat().st_mode & 0o777) == "0o644"


def test_a_new_seed_replaces_the_old_in_place_and_remove_deletes_it(tmp_path: Path) -> None:
    iso = tmp_path / "sno1-node-cidata.iso"
    assert run(seed_iso_write_script(str(iso), "p", META), USER_DATA).returncode == 0
    inode = iso.stat().st_ino
    assert run(seed_iso_write_script(str(iso), "p", META), USER_DATA + "runcmd: [true]\n").returncode == 0
    assert "runcmd" in iso_file(iso, "user-data") and iso.stat().st_ino != inode, "one rename, not a rewrite"
    assert run(seed_iso_remove_script(str(iso), "p")).returncode == 0
    assert list(tmp_path.iterdir()) == []
    assert run(seed_iso_remove_script(str(iso), "p")).returncode == 0, "removing twice is no error"


def test_a_missing_pool_directory_names_the_lab_stack(tmp_path: Path) -> None:
    done = run(seed_iso_write_script(str(tmp_path / "gone" / "x-cidata.iso"), "ocplab", META), USER_DATA)
    assert done.returncode == 1
    assert "directory of storage pool ocplab, which the lab stack makes; run pulumi up on the lab stack" in done.stderr


def test_no_iso_maker_gives_the_install_hint(tmp_path: Path) -> None:
    bare = tmp_path / "bin"
    bare.mkdir()
    for needed in ("dirname", "mktemp", "rm", "cat", "hostname"):  # the script's other tools, without the makers
        (bare / needed).symlink_to(tool(needed))
    script = seed_iso_write_script(str(tmp_path / "x-cidata.iso"), "ocplab", META)
    done = subprocess.run([tool("sh"), "-c", script], input=USER_DATA, capture_output=True, text=True,
                          env={"PATH": str(bare)}, timeout=60)
    assert done.returncode == 1
    assert "install genisoimage (Debian, RHEL 8) or xorriso (RHEL 9: dnf install xorriso)" in done.stderr


@pytest.mark.parametrize(("previous", "media"), [
    (None, "file"),  # a new stack
    ({}, "file"),  # destroyed: no outputs
    ({"nodes": [{"name": "provisionhost"}]}, "volume"),  # deployed before seed_media existed
    ({"nodes": [{"name": "provisionhost"}], "seed_media": "volume"}, "volume"),
    ({"nodes": [{"name": "provisionhost"}], "seed_media": "file"}, "file"),
])
def test_a_stack_keeps_the_seed_media_it_was_deployed_with(previous: dict[str, Any] | None, media: str) -> None:
    assert seed_media_of(previous) == media


def test_the_stack_config_chooses_the_media_over_the_history() -> None:
    deployed = {"nodes": [{"name": "provisionhost"}], "seed_media": "volume"}
    assert seed_media_of(deployed, "file") == "file" and seed_media_of(None, "volume") == "volume"


def test_ocplab_seed_media_is_file_or_volume() -> None:
    values = read_stack_values(stack_path("ipi1"))
    assert parse_cluster_config("ipi1", values).seed_media is None, "unset: as deployed, else files"
    assert parse_cluster_config("ipi1", {**values, "seed_media": "volume"}).seed_media == "volume"
    with pytest.raises(ConfigError, match="ocplab:seed_media: 'iso' is not one of file, volume"):
        parse_cluster_config("ipi1", {**values, "seed_media": "iso"})
