"""Importing dci-openshift-agent inventories: the seed's becomes stacks/Pulumi.server.yaml, mistakes exit 2."""

from __future__ import annotations

import os
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
    return subprocess.run([sys.executable, "-m", "tools", "import", *map(str, args)], cwd=ROOT,
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
    assert out.read_text().startswith("# Cluster server: imported by `ocplab import`")
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
    assert f"ocplab: --out: {out} exists; pass --force to overwrite it" in result.stderr
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
    (None, "ocplab: inventory {path}: no such file"),
    ("all:\n  vars: [unclosed\n", "ocplab: inventory {path}: not YAML at line 3"),
    (inventory_without("hosts"), "ocplab: all.vars.hosts: missing or empty"),
    (inventory_without("provisionhost_user"),
     "ocplab: all.vars.hosts[0].users[0].name: {{{{ provisionhost_user }}}} is not defined in all.vars"),
    (inventory_without("image_url"), "ocplab: all.vars.hosts[0].image_src: {{{{ image_url }}}} is not defined"),
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
    assert result.returncode == 2 and result.stderr.startswith("ocplab: --hypervisor: 'hv99' is not a hypervisor")


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



# --- hostile inventories: bombs are one-line refusals, fast ----------------------------------------------------------


def alias_levels(indent: str) -> str:
    """Nine levels of nine aliases each: `*a8` expands to 9**9 (387 million) strings."""
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"] + [
        f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)]
    return "".join(f"{indent}{line}\n" for line in levels)


def alias_bomb() -> str:
    """About 600 bytes of YAML whose hosts[0].run_commands is `*a8`."""
    return "all:\n  vars:\n    cluster: bomb\n" + alias_levels("    ") + (
        "    hosts:\n      - name: sno\n        role: master\n        run_commands: *a8\n")


def reference_bomb(levels: int, copies: int, as_list: bool) -> str:
    """`r<i>` holds `copies` references to `r<i-1>`, in one string or as a list: the importer's expansion of
    `r<levels>` grows as copies**levels, from under 1 KB of YAML."""
    def body(i: int) -> str:
        refs = [f"{{{{ r{i - 1} }}}}"] * copies
        return "[" + ", ".join(f"'{r}'" for r in refs) + "]" if as_list else "'" + "".join(refs) + "'"
    lines = "".join(f"    r{i}: {body(i)}\n" for i in range(1, levels + 1))
    return (f"all:\n  vars:\n    cluster: bomb\n    r0: xxxxxxxx\n{lines}"
            f"    hosts:\n      - name: sno\n        role: master\n        run_commands: ['{{{{ r{levels} }}}}']\n")


FIELD = "ocplab: all.vars.hosts[0].run_commands: its {{{{ }}}} references"
BOMBS = {
    "alias": (alias_bomb(), "ocplab: inventory {path}: holds more than 100000 values once its YAML aliases are "
                            "expanded (an alias bomb?)"),
    "chain": (reference_bomb(19, 1, False), f"{FIELD} go deeper than 16 (r19 -> r18 -> r17 -> ...)"),
    "text": (reference_bomb(13, 4, False), f"{FIELD} expand to more than 1048576 characters"),
    "values": (reference_bomb(14, 3, True), f"{FIELD} expand to more than 100000 values"),
    "wide": (reference_bomb(5, 40, False), f"{FIELD} expand to more than"),
    "deep": ("all:\n  vars:\n    hosts: " + "[" * 5000 + "]" * 5000 + "\n",
             "ocplab: inventory {path}: nested deeper than 32 levels"),
    "nested": ("all:\n  vars:\n    hosts: " + "[" * 40 + "]" * 40 + "\n",
               "ocplab: inventory {path}: nested deeper than 32 levels"),
}


@pytest.mark.parametrize("bomb", BOMBS)
def test_bombs_are_one_line_refusals_in_seconds(tmp_path: Path, bomb: str) -> None:
    """Each hung `ocplab import` (alias and reference bombs) or ended in a RecursionError traceback (nesting)."""
    text, message = BOMBS[bomb]
    assert len(text.encode()) < 12_000
    path = tmp_path / "inventory.yml"
    path.write_text(text)
    result = subprocess.run([sys.executable, "-m", "tools", "import", str(path), *SEED_ARGS, "--out", "-"],
                            cwd=ROOT, capture_output=True, text=True, timeout=20, check=False)
    assert result.returncode == 2
    assert result.stderr.startswith(message.format(path=path)), result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.splitlines()) == 1


def test_the_bounds_leave_room_for_real_inventories() -> None:
    """The seed's inventory is far inside every bound; a reference chain of 16 and a wide fan-out still resolve."""
    variables = {f"v{i}": f"{{{{ v{i - 1} }}}}" for i in range(1, 16)} | {"v0": "end"}
    assert Resolver(variables).value("{{ v15 }}", "f") == "end"
    assert Resolver({"a": "x" * 1000}).value(["{{ a }}"] * 500, "f") == ["x" * 1000] * 500


def test_a_hostile_lab_stack_file_is_refused_naming_it(tmp_path: Path) -> None:
    stacks = tmp_path / "stacks"
    stacks.mkdir()
    lab = stacks / "Pulumi.telco-lab.yaml"
    lab.write_text(stack_path("telco-lab").read_text() + "  ocplab:bomb:\n" + alias_levels("    ") + "    top: *a8\n")
    result = subprocess.run([sys.executable, "-m", "tools", "import", str(SEED), *SEED_ARGS, "--out", "-"],
                            cwd=ROOT, capture_output=True, text=True, timeout=20, check=False,
                            env={**os.environ, "OCPLAB_STACKS_DIR": str(stacks)})
    assert result.returncode == 2
    assert result.stderr.startswith(f"ocplab: lab stack {lab}: holds more than 100000 values"), result.stderr


def import_onto_lab(tmp_path: Path, salt_line: str) -> subprocess.CompletedProcess[str]:
    stacks = tmp_path / "stacks"
    stacks.mkdir()
    (stacks / "Pulumi.telco-lab.yaml").write_text(stack_path("telco-lab").read_text() + salt_line)
    return subprocess.run([sys.executable, "-m", "tools", "import", str(SEED), *SEED_ARGS, "--out", "-"],
                          cwd=ROOT, capture_output=True, text=True, timeout=20, check=False,
                          env={**os.environ, "OCPLAB_STACKS_DIR": str(stacks)})


def test_the_imported_cluster_shares_its_labs_salt(tmp_path: Path) -> None:
    """One passphrase key per `pulumi` command: the cluster's salt is the lab's (docs/operations.md)."""
    salt = yaml.safe_load(stack_path("simlab").read_text())["encryptionsalt"]
    result = import_onto_lab(tmp_path, f"encryptionsalt: {salt}\n")
    assert result.returncode == 0, result.stderr
    assert yaml.safe_load(result.stdout)["encryptionsalt"] == salt


@pytest.mark.parametrize("salt_line", ["encryptionsalt: 'v1:x y'\n", "encryptionsalt: [v1, a]\n",
                                       "encryptionsalt: 'v1:AAAA:v1:BBBB:CCCC\\nconfig: {}'\n"])
def test_a_lab_salt_not_in_pulumis_form_is_not_copied(tmp_path: Path, salt_line: str) -> None:
    result = import_onto_lab(tmp_path, salt_line)
    assert result.returncode == 0, result.stderr
    assert "encryptionsalt" not in yaml.safe_load(result.stdout)
    assert "encryptionsalt is not a passphrase salt" in result.stderr


def test_a_lab_without_a_salt_gives_a_cluster_file_without_one(tmp_path: Path) -> None:
    result = import_onto_lab(tmp_path, "")
    assert result.returncode == 0 and "encryptionsalt" not in yaml.safe_load(result.stdout)
