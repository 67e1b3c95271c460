"""Clients of the lab's mirror registry for the tests: an OCI image of the test's own (umoci), pushed and read
with skopeo and curl; the login only ever in 0600 files (an auth.json, a curl config), never in argv."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
from pathlib import Path

from tests.tools import require_tool


def private_file(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    return path


def oci_image(where: Path, payload: bytes, tag: str = "test") -> Path:
    """An OCI layout at `where` whose one layer holds /payload.bin (`payload`): made by umoci, nothing pulled."""
    umoci = require_tool("umoci", "the Debian package umoci")
    bundle = where.parent / f"{where.name}-bundle"
    for argv in ([umoci, "init", "--layout", str(where)], [umoci, "new", "--image", f"{where}:{tag}"],
                 [umoci, "unpack", "--image", f"{where}:{tag}", str(bundle)]):
        subprocess.run(argv, check=True, capture_output=True, timeout=120)
    (bundle / "rootfs" / "payload.bin").write_bytes(payload)
    subprocess.run([umoci, "repack", "--image", f"{where}:{tag}", str(bundle)], check=True, capture_output=True,
                   timeout=600)
    subprocess.run(["rm", "-rf", str(bundle)], check=True)
    return where


def auth_file(path: Path, registry: str, user: str, password: str) -> Path:
    """A containers auth.json (0600) for `registry` (host:port)."""
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return private_file(path, json.dumps({"auths": {registry: {"auth": token}}}))


def cert_dir(path: Path, ca_pem: str) -> Path:
    """A directory skopeo's --*-cert-dir reads: the CA it trusts (ca.crt), nothing else."""
    path.mkdir(parents=True, exist_ok=True)
    (path / "ca.crt").write_text(ca_pem)
    return path


def skopeo(*args: str, prefix: list[str] | None = None, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*(prefix or []), require_tool("skopeo", "the Debian package skopeo"), *args],
                          capture_output=True, text=True, timeout=timeout, check=False)


def manifest_digest(layout: Path, tag: str = "test") -> str:
    """The digest of the image's manifest in an OCI layout (what a registry must serve unchanged)."""
    index = json.loads((layout / "index.json").read_text())
    found = [m for m in index["manifests"] if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag]
    return str(found[0]["digest"])


def curl_config(path: Path, user: str, password: str) -> Path:
    """A curl config (0600) that logs in as user: `curl -K path` keeps the password out of argv."""
    return private_file(path, f'user = "{user}:{password}"\n')


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


# A jumphost of the moment: /run fresh (no systemd seen), /etc and /var overlays whose changes land under $T, and the
# lab address on lo, in new mount, network and PID namespaces: nothing of this machine changes.
_THROWAWAY_JUMPHOST = """
mount -t tmpfs none /run
for d in etc var usr/local; do
  mkdir -p "$T/$d-up" "$T/$d-work"
  mount -t overlay overlay -o "lowerdir=/$d,upperdir=$T/$d-up,workdir=$T/$d-work" "/$d"
done
ip link set lo up && ip addr add 192.168.16.1/32 dev lo
"""


def on_throwaway_jumphost(body: str, scratch: Path) -> subprocess.CompletedProcess[str]:
    """`body` (sh) as root on a jumphost of the moment whose changes land under `scratch`, its working directory."""
    return subprocess.run([require_tool("unshare", "util-linux"), "--mount", "--net", "--pid", "--fork",
                           "--mount-proc", "--propagation", "private", "sh", "-c", _THROWAWAY_JUMPHOST + body],
                          capture_output=True, text=True, check=False, timeout=120, cwd=scratch,
                          env={**os.environ, "T": str(scratch)})
