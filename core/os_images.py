"""Which images of the lab's cache the IPI installer boots as RHCOS (`ocplab:os_images`), and the URLs install-config
gives it: `platform.baremetal.bootstrapOSImage` and `clusterOSImage`, `http://cache.<domain>:<port>/<file>?sha256=<hex>`.

The installer takes an http(s) URL with a 64-hex `sha256` query parameter (pkg/types/baremetal/validation
validateOSImageURI) and checks the bootstrap image against it after decompressing it (pkg/rhcos/cache: a name
ending in .gz or .xz is decompressed first), while the cache checks the file as it serves it: so a compressed
bootstrap image is refused (its served hash is not the one the installer checks). redhatci.ocp does the same with
its own cache (roles/installer/tasks/24_rhcos_image_cache.yml: the qemu image's `uncompressed-sha256` for bootstrap,
the openstack image's `sha256`, as served, for cluster).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.config_schema import OsImagesSchema
    from core.lab_contract import CacheOutputs

# ocplab's key -> the install-config key it fills (platform.baremetal)
INSTALL_CONFIG_KEYS = {"bootstrap": "bootstrapOSImage", "cluster": "clusterOSImage"}
COMPRESSED = (".gz", ".xz")  # what the installer decompresses before hashing (by name)


def os_images_of(schema: OsImagesSchema | None) -> dict[str, str]:
    """ocplab key -> the cache image's name, for the keys given."""
    return {} if schema is None else schema.model_dump(exclude_none=True)


def config_problems(topology: str, images: Mapping[str, str], given: bool) -> list[tuple[str, str]]:
    """(field, problem) seen from the cluster config alone."""
    if not given:
        return []
    if topology != "ipi":
        return [("ocplab:os_images", "an SNO cluster has no install-config (it installs from its inventory): "
                 "remove it")]
    if not images:
        return [("ocplab:os_images", "names no image: give bootstrap, cluster or both (names in the lab's cache)")]
    bootstrap = images.get("bootstrap", "")
    if bootstrap.endswith(COMPRESSED):
        return [("ocplab:os_images.bootstrap", f"{bootstrap!r} is compressed, and the installer checks the bootstrap "
                 "image's sha256 after decompressing it, which the cache does not know: cache the image "
                 "uncompressed (its sha256 is the stream's uncompressed-sha256) and name that")]
    return []


def lab_problems(images: Mapping[str, str], lab: str, cache: CacheOutputs | None) -> list[str]:
    """The names against the lab's cache, as the lab stack exported it."""
    if not images:
        return []
    if cache is None:
        return [f"ocplab:os_images: lab {lab} has no image cache: give it ocplab:cache with these images and "
                f"pulumi up -s {lab}, or remove ocplab:os_images"]
    known = ", ".join(sorted(cache.images)) or "none"
    return [f"ocplab:os_images.{key}: {name!r} is not an image of lab {lab}'s cache; known: {known}"
            for key, name in images.items() if name not in cache.images]


def os_image_urls(images: Mapping[str, str], cache: CacheOutputs | None) -> dict[str, str]:
    """ocplab key -> `<the image's cache URL>?sha256=<its sha256>` (lab_problems found none)."""
    if cache is None:
        return {}
    return {key: f"{cache.images[name].url}?sha256={cache.images[name].sha256}" for key, name in images.items()}
