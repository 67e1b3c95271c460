"""`make engine` on a machine that cannot build it: one clear message naming the cause and the fix,
before any Go command runs. Each case runs engine/build.sh from a copy of engine/ (an empty .engine)."""

from __future__ import annotations

import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from engine.overlay_sum import h1_of_zip

PROJECT = Path(__file__).resolve().parents[2]
OVERLAY = PROJECT.parent / "shared" / "goproxy"
LIBVIRT_ZIP = "github.com/pulumi/pulumi-libvirt/provider/@v/v0.0.0-20250102165834-551204e65927.zip"


def path_without_go() -> str:
    go = shutil.which("go")
    dirs = os.environ["PATH"].split(os.pathsep)
    return os.pathsep.join(d for d in dirs if not go or Path(d) != Path(go).parent)


def run_build(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    shutil.copytree(PROJECT / "engine", tmp_path / "engine", ignore=shutil.ignore_patterns("__pycache__"))
    return subprocess.run(["bash", str(tmp_path / "engine" / "build.sh"), *args], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=120, check=False)


def test_no_go_toolchain_names_the_install(tmp_path: Path) -> None:
    result = run_build(tmp_path, PATH=path_without_go(), OCPLAB_GOPROXY_DIR=str(OVERLAY))
    assert result.returncode == 1
    assert "engine: no Go toolchain on PATH" in result.stderr
    assert "fix: install Go 1.22 or newer" in result.stderr


def test_missing_overlay_folder_names_it(tmp_path: Path) -> None:
    result = run_build(tmp_path, OCPLAB_GOPROXY_DIR=str(tmp_path / "nowhere"))
    assert result.returncode == 1
    assert f"the file-based module proxy {tmp_path / 'nowhere'} is missing" in result.stderr
    assert "fix: check out ../shared beside this project" in result.stderr


def test_a_tampered_overlay_zip_is_refused_by_name(tmp_path: Path) -> None:
    overlay = tmp_path / "goproxy"
    shutil.copytree(OVERLAY, overlay)
    with zipfile.ZipFile(overlay / LIBVIRT_ZIP, "a") as archive:
        archive.writestr("github.com/pulumi/pulumi-libvirt/provider@v0.0.0-20250102165834-551204e65927/x.go",
                         "package x\n")
    result = run_build(tmp_path, OCPLAB_GOPROXY_DIR=str(overlay))
    assert result.returncode == 1
    assert f"refusing {overlay / LIBVIRT_ZIP}: its hash is h1:" in result.stderr
    assert "accepts h1:y/YgXKUOz+GG8W9YLWA59micps0iVsK6My9LMkP6tDc= (SUM_PULUMI_LIBVIRT)" in result.stderr
    assert not (tmp_path / ".engine" / "build" / "pulumi-libvirt").exists(), "nothing was built"


@pytest.mark.parametrize("zip_path", sorted(p.relative_to(OVERLAY).as_posix() for p in OVERLAY.rglob("*.zip")))
def test_every_overlay_zip_has_its_pinned_hash(zip_path: str) -> None:
    """The shared overlay as it is matches engine/versions.env (a changed zip fails here and in make engine)."""
    pins = dict(line.split("=", 1) for line in (PROJECT / "engine/versions.env").read_text().splitlines()
                if line.startswith("SUM_"))
    assert h1_of_zip(str(OVERLAY / zip_path)) in pins.values()


FORK = "github.com/pulumi/terraform-plugin-sdk/v2"
LANGUAGE_HOST = "github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3"


def overlay_without(tmp_path: Path, module: str) -> Path:
    overlay = tmp_path / "goproxy"
    shutil.copytree(OVERLAY, overlay)
    for zip_file in (overlay / module / "@v").glob("*.zip"):
        zip_file.unlink()
    return overlay


def test_a_module_the_registry_serves_is_not_needed_in_the_overlay(tmp_path: Path) -> None:
    """The terraform-plugin-sdk fork is served by the registry's proxy: its zip may be absent from the overlay."""
    result = run_build(tmp_path, "--check", OCPLAB_GOPROXY_DIR=str(overlay_without(tmp_path, FORK)))
    assert result.returncode == 0, result.stderr
    assert f"module {FORK}@v2.0.0-20240520223432-0c0bf0d65f10: from the registry's proxy" in result.stderr
    assert f"module {LANGUAGE_HOST}@v3.0.0-20260819165155-0ac56e876614: from the overlay" in result.stderr
    served = tmp_path / ".engine" / "goproxy"
    assert (served / LANGUAGE_HOST / "@v" / "list").is_file()
    assert not (served / FORK).exists(), "go never sees a module that is not overlay-only in the overlay"


def test_an_overlay_only_module_missing_is_named_as_one_the_registry_refuses(tmp_path: Path) -> None:
    result = run_build(tmp_path, "--check", OCPLAB_GOPROXY_DIR=str(overlay_without(tmp_path, LANGUAGE_HOST)))
    assert result.returncode == 1
    missing = f"{LANGUAGE_HOST}@v3.0.0-20260819165155-0ac56e876614 is missing from the module proxy folder"
    assert missing in result.stderr
    assert "the registry's Go proxy refuses this module" in result.stderr
    assert "remove SUM_PULUMI_LANGUAGE_PYTHON from OVERLAY_ONLY" in result.stderr


def test_the_fork_is_no_longer_overlay_only_but_still_pinned() -> None:
    env = (PROJECT / "engine/versions.env").read_text()
    only = next(line for line in env.splitlines() if line.startswith("OVERLAY_ONLY=")).split("=", 1)[1].strip('"')
    assert set(only.split()) == {"SUM_PULUMI_LANGUAGE_PYTHON", "SUM_PULUMI_LIBVIRT", "SUM_PULUMI_COMMAND",
                                 "SUM_TF_PROVIDER_LIBVIRT"}
    assert "SUM_TF_PLUGIN_SDK_FORK=h1:M6Ceq1o6gGeEKxTZgJ2CKLye3p67ZZjnsAwxr5VC32A=" in env


def run_registry_build(tmp_path: Path, versions: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    """engine/registry.sh from a copy of engine/ (an empty .engine), `versions` in place of versions.env."""
    shutil.copytree(PROJECT / "engine", tmp_path / "engine", ignore=shutil.ignore_patterns("__pycache__"))
    if versions is not None:
        (tmp_path / "engine" / "versions.env").write_text(versions)
    return subprocess.run(["bash", str(tmp_path / "engine" / "registry.sh")], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=120, check=False)


def test_the_registry_build_without_go_names_the_install_and_the_way_without_a_build(tmp_path: Path) -> None:
    result = run_registry_build(tmp_path, PATH=path_without_go())
    assert result.returncode == 1
    assert "registry: no Go toolchain on PATH" in result.stderr
    assert "fix: install Go 1.26.0 or newer (https://go.dev/dl), then 'make engine'; a lab whose mirror uses the " \
           "distribution's package sets ocplab:mirror.registry: system and needs no build" in result.stderr


def test_a_registry_module_whose_hash_is_not_the_pin_is_refused_before_any_build(tmp_path: Path) -> None:
    pinned = (PROJECT / "engine/versions.env").read_text()
    wrong = "h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
    result = run_registry_build(tmp_path, pinned.replace("SUM_REGISTRY=h1:/Bv2YIqqSR00HiO49FT93hovy6r9IlrzwUDsJjCN5qg=",
                                                         f"SUM_REGISTRY={wrong}"))
    assert result.returncode == 1, result.stderr
    assert ("refusing github.com/distribution/distribution/v3@v3.1.2: its hash is "
            f"h1:/Bv2YIqqSR00HiO49FT93hovy6r9IlrzwUDsJjCN5qg=, engine/versions.env pins {wrong} (SUM_REGISTRY)"
            in result.stderr)
    assert not (tmp_path / ".engine" / "registry" / "v3.1.2" / "registry").exists(), "nothing was built"
