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


def run_build(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    shutil.copytree(PROJECT / "engine", tmp_path / "engine", ignore=shutil.ignore_patterns("__pycache__"))
    return subprocess.run(["bash", str(tmp_path / "engine" / "build.sh")], capture_output=True, text=True,
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
