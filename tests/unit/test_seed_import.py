"""Importing dci-openshift-agent inventories: the seed's becomes stacks/Pulumi.server.yaml, mistakes exit 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from core.clusterconfig import parse_cluster_config
from core.stack_files import read_stack_values, stack_path
from tools.seed_import import InventoryError, Options, Resolver, convert

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "tests" / "data" / "seed-ipi-inventory.yml"
CENTOS = "https://cloud.centos.org/centos/8-stream/x86_64/images/CentOS-Stream-GenericCloud-8-20210603.0.x86_64.qcow2"
SEED_ARGS = ("--lab", "telco-lab", "--hypervisor", "hv01", "--images-map", f"{CENTOS}=centos8", "--image", "rhcos")


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tools.seed_import", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=False)


def seed_vars() -> dict[str, Any]:
    variables: dict[str, Any] = yaml.safe_load(SEED.read_text())["all"]["vars"]
    return variables


def write_inventory(tmp_path: Path, variables: dict[str, Any]) -> Path:
    path = tmp_path / "inventory.yml"
    path.write_text(yaml.safe_dump({"all": {"vars": variables}}, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("import") / "Pulumi.server.yaml"
    result = run(SEED, *SEED_ARGS, "--out", out)
    assert result.returncode == 0, result.stderr
    assert out.read_text().startswith("# Cluster server: imported by `python -m tools.seed_import`")
    return read_stack_values(out)


def test_seed_inventory_gives_the_server_stack(imported: dict[str, Any]) -> None:
    assert imported == read_stack_values(stack_path("server"))


def test_seed_import_is_a_valid_seven_node_cluster(imported: dict[str, Any]) -> None:
    cluster = parse_cluster_config("server", imported)
    assert (cluster.name, cluster.topology, cluster.hypervisor, len(cluster.nodes)) == ("server", "ipi", "hv01", 7)
    assert [n.pinned_macs for n in cluster.nodes] == [{"baremetal": f"52:54:00:00:02:0{i}"} for i in range(7)]
    assert [n.image for n in cluster.nodes] == ["centos8"] + ["rhcos"] * 6
    assert all(n.networks == ("provisioning", "baremetal") for n in cluster.nodes)


def test_jinja_references_are_resolved(imported: dict[str, Any]) -> None:
    provisionhost = imported["hosts"][0]
    assert provisionhost["run_commands"][0] == "sudo -u dci ssh-keygen -t rsa -b 4096 -f ~dci/.ssh/id_rsa -N ''"
    assert provisionhost["users"][0]["name"] == "dci"
    assert not any(key in host for host in imported["hosts"] for key in ("driver", "arch", "domain", "image_src"))


def test_stdout_and_no_overwrite_without_force(tmp_path: Path) -> None:
    assert run(SEED, *SEED_ARGS, "--out", "-").stdout.startswith("# Cluster server")
    out = tmp_path / "Pulumi.server.yaml"
    out.write_text("keep me\n")
    result = run(SEED, *SEED_ARGS, "--out", out)
    assert (result.returncode, out.read_text()) == (2, "keep me\n")
    assert f"error: --out: {out} exists; pass --force to overwrite it" in result.stderr
    assert run(SEED, *SEED_ARGS, "--out", out, "--force").returncode == 0
    assert read_stack_values(out)["cluster"] == "server"


def test_images_default_from_the_map_without_image(tmp_path: Path) -> None:
    out = tmp_path / "out.yaml"
    assert run(SEED, "--lab", "telco-lab", "--hypervisor", "hv01", "--images-map", f"{CENTOS}=centos8",
               "--out", out).returncode == 0
    values = read_stack_values(out)
    assert values["image"] == "centos8" and not any("image" in host for host in values["hosts"])


def inventory_without(key: str) -> dict[str, Any]:
    return {k: v for k, v in seed_vars().items() if k != key}


@pytest.mark.parametrize(("content", "message"), [
    (None, "error: inventory {path}: no such file"),
    ("all:\n  vars: [unclosed\n", "error: inventory {path}: not YAML at line 3"),
    (inventory_without("hosts"), "error: all.vars.hosts: missing or empty"),
    (inventory_without("provisionhost_user"),
     "error: all.vars.hosts[0].users[0].name: {{{{ provisionhost_user }}}} is not defined in all.vars"),
    (inventory_without("image_url"), "error: all.vars.hosts[0].image_src: {{{{ image_url }}}} is not defined"),
], ids=["missing", "not-yaml", "no-hosts", "undefined-user", "undefined-image"])
def test_errors_name_the_field_and_exit_2(tmp_path: Path, content: str | dict[str, Any] | None, message: str) -> None:
    path = tmp_path / "inventory.yml"
    if isinstance(content, str):
        path.write_text(content)
    elif content is not None:
        path = write_inventory(tmp_path, content)
    result = run(path, *SEED_ARGS, "--out", tmp_path / "out.yaml")
    assert result.returncode == 2
    assert result.stderr.startswith(message.format(path=path)), result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.splitlines()) == 1
    assert not (tmp_path / "out.yaml").exists()


def test_unknown_hypervisor_of_the_lab(tmp_path: Path) -> None:
    result = run(SEED, "--lab", "telco-lab", "--hypervisor", "hv99", "--out", "-")
    assert result.returncode == 2 and result.stderr.startswith("error: --hypervisor: 'hv99' is not a hypervisor")


def test_resolver_keeps_types_and_catches_cycles_and_filters() -> None:
    resolver = Resolver({"mem": 8192, "a": "{{ b }}", "b": "x-{{ a }}", "c": "{{ mem | int }}", "d": "{{ mem }}G"})
    assert resolver.value("{{ mem }}", "f") == 8192 and resolver.value("{{ d }}", "f") == "8192G"
    with pytest.raises(InventoryError, match=r"all.vars.b: \{\{ a \}\} refers to itself \(a -> b -> a\)"):
        resolver.value("{{ a }}", "f")
    with pytest.raises(InventoryError, match="not a plain variable reference"):
        resolver.value(["{{ c }}"], "f")


def test_single_host_is_sno_and_foreign_networks_are_dropped() -> None:
    variables = seed_vars()
    sno = {**variables["hosts"][1], "name": "sno"}
    sno["networks"] = [{"name": "baremetal", "mac": "52:54:00:00:03:00"}, {"name": "storage"}]
    result = convert({**variables, "cluster": "sno01", "hosts": [sno]}, Options(lab="telco-lab", hypervisor="hv01"))
    assert result.values["topology"] == "sno" and result.values["image"] == "rhcos"
    assert result.values["hosts"][0]["networks"] == [{"name": "baremetal", "mac": "52:54:00:00:03:00"}]
    assert any("network 'storage' dropped" in note for note in result.notes)
    node = parse_cluster_config("sno01", result.values).nodes[0]
    assert (node.role, node.memory_mib, node.pinned_macs) == ("master", 16384, {"baremetal": "52:54:00:00:03:00"})


def test_unquoted_mac_is_refused() -> None:
    variables = seed_vars()
    variables["hosts"][0]["networks"][1]["mac"] = 123456
    with pytest.raises(InventoryError, match=r"hosts\[0\].networks\[1\].mac: YAML read 123456, not a MAC"):
        convert(variables, Options(lab="telco-lab", hypervisor="hv01"))
