"""Where a cluster's cloud-init seeds live: a file its hypervisor makes, or (stacks deployed before that)
a libvirt volume uploaded by the provider.

Moving a deployed node from one to the other changes its domain's disk list, which the libvirt provider
replaces the domain for: a running provisionhost would be recreated under a CI job. So a stack keeps the
media it was deployed with; a destroy and up moves it (docs/engine-findings.md, "Cloud-init ISOs over a
libvirt stream can hang for good").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

SeedMedia = Literal["file", "volume"]
OUTPUT = "seed_media"


def seed_media_of(previous: Mapping[str, Any] | None, chosen: SeedMedia | None = None) -> SeedMedia:
    """The stack's ocplab:seed_media if it sets one; else what it was deployed with: "volume" also for a stack
    deployed before seeds were files (its outputs have nodes but no seed_media); else files."""
    if chosen is not None:
        return chosen
    if not previous or not previous.get("nodes"):
        return "file"
    return "volume" if previous.get(OUTPUT) == "volume" or OUTPUT not in previous else "file"
