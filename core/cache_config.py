"""The lab's image cache as the lab config gives it (`ocplab:cache`): an HTTP server on the jumphost serving
images (RHCOS and the like) fetched or copied once per lab, each checked against its sha256."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from core.mirror_config import port_problem, storage_problem

if TYPE_CHECKING:
    from core.config_schema import CacheSchema
    from core.labconfig import LabConfig

DEFAULT_PORT = 8080
DEFAULT_STORAGE = "/var/lib/ocplab-cache"


@dataclass(frozen=True)
class CacheImage:
    source: str  # an http(s) URL the jumphost fetches, or an absolute path on the jumphost (a lab with no way out)
    sha256: str  # lowercase hex: what the file must hash to before it is served

    @property
    def is_url(self) -> bool:
        return self.source.startswith(("http://", "https://"))


@dataclass(frozen=True)
class Cache:
    port: int = DEFAULT_PORT
    storage: str = DEFAULT_STORAGE
    keep_data: bool = True  # a lab destroy keeps the files unless false
    images: Mapping[str, CacheImage] = field(default_factory=dict)  # served as /<name>

    @staticmethod
    def host(domain: str) -> str:
        """The cache's name in the lab's DNS (the jumphost's address)."""
        return f"cache.{domain}"

    def url(self, domain: str) -> str:
        return f"http://{self.host(domain)}:{self.port}"


def cache_of(schema: CacheSchema | None) -> Cache | None:
    if schema is None:
        return None
    return Cache(port=schema.port, storage=schema.storage, keep_data=schema.keep_data,
                 images={name: CacheImage(source=image.source, sha256=image.sha256.lower())
                         for name, image in schema.images.items()})


def cache_problems(lab: LabConfig) -> list[tuple[str, str]]:
    """(field, problem) for a cache port another service holds, and a storage path that is not its own."""
    cache = lab.cache
    if cache is None:
        return []
    found = []
    mirror = {lab.mirror.port: "the mirror registry (ocplab:mirror.port)"} if lab.mirror else {}
    if problem := port_problem(lab, cache.port, "the cache", "the cache's server", DEFAULT_PORT, mirror):
        found.append(("ocplab:cache.port", problem))
    if problem := storage_problem(cache.storage):
        found.append(("ocplab:cache.storage", problem))
    elif lab.mirror is not None and _nested(cache.storage, lab.mirror.storage):
        found.append(("ocplab:cache.storage", f"{cache.storage!r} and the mirror's storage ({lab.mirror.storage}) "
                      "hold one another: give each a directory of its own"))
    for name, image in cache.images.items():
        if not image.is_url and (problem := _source_problem(image.source)):
            found.append((f"ocplab:cache.images.{name}.source", problem))
    return found


def _nested(first: str, second: str) -> bool:
    return first == second or first.startswith(second + "/") or second.startswith(first + "/")


def _source_problem(path: str) -> str | None:
    """A path on the jumphost (the schema has checked it is absolute)."""
    if any(part in (".", "..") for part in path.split("/")[1:]):
        return f"{path!r} is not a plain path: write it without '.' or '..'"
    return None
