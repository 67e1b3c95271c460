"""The mirror registry `make engine` builds (engine/registry.sh) for the lab stack to copy to the jumphost
(`ocplab:mirror.registry: bundled`): its pinned version (engine/versions.env), where the build is, its sha256, and
where it goes on the jumphost. A missing build is refused naming the field and the fix, before any resource."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from core.errors import ConfigError

VERSIONS = "engine/versions.env"
FIELD = "ocplab:mirror.registry"
# On the jumphost: a directory of ocplab's own, root's; the copy lands beside the binary and is checked first.
REMOTE_DIR = "/usr/local/libexec/ocplab"
REMOTE_BINARY = f"{REMOTE_DIR}/registry"
REMOTE_UPLOAD = f"{REMOTE_DIR}/registry.upload"


def engine_pin(project: Path, name: str) -> str:
    """`name`'s value in engine/versions.env, the one place the engine's and the registry's versions are pinned."""
    path = project / VERSIONS
    for line in (path.read_text() if path.is_file() else "").splitlines():
        if line.startswith(f"{name}="):
            return line.split("=", 1)[1].strip()
    raise ConfigError([f"{FIELD}: {path} has no {name} line: run the stack from an ocplab checkout, or restore "
                       "engine/versions.env"])


@dataclass(frozen=True)
class RegistryBuild:
    path: Path  # the binary on this machine (.engine/registry/<version>/registry)
    version: str  # the pinned distribution version, e.g. v3.1.2
    sha256: str  # of the binary: checked on the jumphost before it is installed, and before it runs

    @property
    def label(self) -> str:
        """What the registry's config and messages call it."""
        return f"ocplab's build of distribution {self.version}"


def build_path(project: Path, version: str) -> Path:
    return project / ".engine" / "registry" / version / "registry"


def registry_build(project: Path) -> RegistryBuild:
    """The build of the pinned version in `project`, hashed; ConfigError naming the fix when it is not there."""
    version = engine_pin(project, "REGISTRY_VERSION")
    path = build_path(project, version)
    if not path.is_file():
        raise ConfigError([
            f"{FIELD}: bundled (the default) copies the registry `make engine` builds, and {path} is missing: run "
            f"`make engine` (it needs Go; about two minutes the first time), or set {FIELD}: system to use the "
            "jumphost's distribution package (Debian's docker-registry)"])
    digest = hashlib.sha256()
    with path.open("rb") as binary:
        for chunk in iter(lambda: binary.read(1 << 20), b""):
            digest.update(chunk)
    return RegistryBuild(path=path, version=version, sha256=digest.hexdigest())
