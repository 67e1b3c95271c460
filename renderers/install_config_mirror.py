"""What a cluster on a lab with a mirror registry adds to its install-config, and the two files DCI's installer
role reads for an existing disconnected registry.

- `imageDigestSources` (4.14 and later; `imageContentSources` before): the release image and its payload
  (quay.io/openshift-release-dev/ocp-release and ocp-v4.0-art-dev) mirrored where oc-mirror v2 puts them under
  the mirror's prefix (`<prefix>/openshift/release-images` and `<prefix>/openshift/release`; `oc-mirror --v2
  -c isc.yaml docker://mirror.<domain>:<port>/<prefix>` writes the same pair in its IDMS).
- `additionalTrustBundle`: the lab CA, with `additionalTrustBundlePolicy: Always`, so every node trusts the
  mirror (Proxyonly, the default, would add it only where a proxy is set).
- `pullSecret`: the user's, with the mirror's login added under `mirror.<domain>:<port>` (the user's own
  entries kept as given).
- For redhatci.ocp's installer role (roles/installer/tasks/15_disconnected_registry_existing.yml, with
  `disconnected_registry: existing`): `disconnected_registry_mirrors_file` holds YAML appended to its
  install-config template (install_config_appends: the trust bundle and the digest sources), and
  `disconnected_registry_auths_file` a JSON object its `jq '.auths += ...'` merges into the pull secret.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

import yaml

from core.lab_contract import MirrorOutputs

# The release and its payload, and where oc-mirror v2 mirrors each under the mirror's prefix.
RELEASE_SOURCES = {
    "quay.io/openshift-release-dev/ocp-release": "openshift/release-images",
    "quay.io/openshift-release-dev/ocp-v4.0-art-dev": "openshift/release",
}
DEFAULT_PREFIX = "ocp"


@dataclass(frozen=True)
class MirrorAccess:
    """The mirror as a cluster uses it; the password is a secret (never in an error or a log)."""

    registry: str  # host:port, as pull secrets and image references name it
    ca_certificate: str
    user: str
    password: str
    prefix: str = DEFAULT_PREFIX

    def __repr__(self) -> str:
        return f"MirrorAccess(registry={self.registry!r}, user={self.user!r}, password=<secret>)"


def mirror_access(mirror: MirrorOutputs, password: str, prefix: str = DEFAULT_PREFIX) -> MirrorAccess:
    """The lab's mirror from its parsed output and the password (the secret output, or derived from the lab key)."""
    return MirrorAccess(registry=f"{mirror.host}:{mirror.port}", ca_certificate=mirror.ca_certificate,
                        user=mirror.user, password=password, prefix=prefix)


def image_digest_sources(access: MirrorAccess) -> list[dict[str, Any]]:
    return [{"source": source, "mirrors": [f"{access.registry}/{access.prefix}/{path}"]}
            for source, path in RELEASE_SOURCES.items()]


def mirror_sections(access: MirrorAccess) -> dict[str, Any]:
    """The install-config keys a mirrored install adds (pullSecret aside: see merged_pull_secret)."""
    return {"imageDigestSources": image_digest_sources(access),
            "additionalTrustBundle": access.ca_certificate,
            "additionalTrustBundlePolicy": "Always"}


def mirror_auths(access: MirrorAccess) -> dict[str, dict[str, str]]:
    token = base64.b64encode(f"{access.user}:{access.password}".encode()).decode()
    return {access.registry: {"auth": token}}


def merged_pull_secret(pull_secret: str, access: MirrorAccess) -> str:
    """The user's pull secret (checked JSON) with the mirror's login added; compact, as install-config holds it."""
    document = json.loads(pull_secret)
    document["auths"] = {**document["auths"], **mirror_auths(access)}
    return json.dumps(document, separators=(",", ":"))


def dci_mirrors_file(access: MirrorAccess) -> str:
    """disconnected_registry_mirrors_file: YAML the installer role appends to install-config as it is."""
    return yaml.safe_dump({"additionalTrustBundlePolicy": "Always", "additionalTrustBundle": access.ca_certificate,
                           "imageDigestSources": image_digest_sources(access)}, sort_keys=False)


def dci_image_sources_block(access: MirrorAccess) -> str:
    """The digest sources as the agent hands redhatci.ocp's generate_manifests its `gm_image_sources` (ABI): a YAML
    list indented two spaces, which its registry-config.j2 writes under `imageContentSources:` as it is."""
    listed = yaml.safe_dump(image_digest_sources(access), sort_keys=False)
    return "".join(f"  {line}" for line in listed.splitlines(keepends=True))


def dci_auths_file(access: MirrorAccess) -> str:
    """disconnected_registry_auths_file: the auths the installer role merges into the pull secret."""
    return json.dumps(mirror_auths(access))


def dci_pull_secret_file(access: MirrorAccess) -> str:
    """The agent's `pullsecret_file` (ABI): a pull secret of the mirror's login, which plays/pullsecrets.yml merges
    into the job's (redhatci.ocp merge_registry_creds)."""
    return json.dumps({"auths": mirror_auths(access)})
