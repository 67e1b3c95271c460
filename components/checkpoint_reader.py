"""A stack's last completed outputs read from the file backend's checkpoint, without starting a `pulumi` CLI.

Each `pulumi stack output` child costs a program time and memory for every stack it reads (docs/benchmarks.md,
"Figures behind choices in the code"). The file backend writes each stack's checkpoint whole (a temporary file
renamed into place) at `<backend>/.pulumi/stacks/<project>/<stack>.json[.gz]`; its root `pulumi:pulumi:Stack`
resource carries the outputs `pulumi stack output` prints, secrets as `[secret]` here too (they stay encrypted:
nothing here decrypts). Where that layout comes from: docs/engine-findings.md, "A StackReference to itself".

Only a `file://` PULUMI_BACKEND_URL is read this way. Anything else (PostgreSQL, a bucket, `pulumi login` without the
variable, a zstd checkpoint, a file that does not parse) returns None and the caller asks the CLI, as before;
`OCPLAB_STACK_OUTPUTS=cli` forces that.
"""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

# The key and value pulumi's state format marks a secret with (sdk/go/common/resource/sig: Key, Secret).
SECRET_SIG = "4dabf18193072939515e22adb298388d"
SECRET_VALUE = "1b47061264138c4ac30d75fd1eb44270"


def backend_directory(environ: dict[str, str] | os._Environ[str] = os.environ) -> Path | None:
    """The file backend's directory from PULUMI_BACKEND_URL, or None when outputs must come from the CLI."""
    if environ.get("OCPLAB_STACK_OUTPUTS") == "cli":
        return None
    url = environ.get("PULUMI_BACKEND_URL", "")
    if not url.startswith("file://"):
        return None
    parsed = urlparse(url)
    path = unquote(parsed.netloc + parsed.path)  # file:///abs -> /abs; file://~/x -> ~/x
    return Path(path).expanduser() if path else None


def checkpoint_path(backend: Path, project: str, stack: str) -> Path | None:
    """The newest of the plain and gzip checkpoints of the project-scoped layout, or None (absent, zstd, legacy)."""
    base = backend / ".pulumi" / "stacks" / project / f"{stack}.json"
    if Path(f"{base}.zst").exists():
        return None
    found = [p for p in (base, Path(f"{base}.gz")) if p.exists()]
    return max(found, key=lambda p: p.stat().st_mtime_ns) if found else None


def _public(value: Any) -> Any:
    """Outputs as `pulumi stack output --json` prints them without --show-secrets."""
    if isinstance(value, dict):
        if value.get(SECRET_SIG) == SECRET_VALUE:
            return "[secret]"
        return {k: _public(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_public(v) for v in value]
    return value


def checkpoint_outputs(backend: Path, project: str, stack: str) -> dict[str, Any] | None:
    """The stack's outputs ({} for a stack with no completed update), or None when the CLI must answer."""
    path = checkpoint_path(backend, project, stack)
    if path is None:
        return None
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        document = json.loads(raw)
        resources = (document.get("checkpoint", {}).get("latest") or {}).get("resources") or []
    except (OSError, ValueError, AttributeError, EOFError):
        return None
    root = next((r for r in resources if isinstance(r, dict) and r.get("type") == "pulumi:pulumi:Stack"), None)
    if root is None:
        return {}
    outputs = root.get("outputs") or {}
    return dict(_public(outputs)) if isinstance(outputs, dict) else None
