"""The go command's h1: hash of a module zip (golang.org/x/mod/sumdb/dirhash.HashZip), so that
engine/build.sh can refuse an overlay zip that is not the one we pinned before go ever reads it."""

from __future__ import annotations

import base64
import hashlib
import sys
import zipfile


def h1_of_zip(path: str) -> str:
    """sha256 over the sorted "<sha256 hex>  <name>\\n" lines of every file in the zip."""
    with zipfile.ZipFile(path) as archive:
        lines = []
        for name in sorted(archive.namelist()):
            if name.endswith("/"):
                continue
            lines.append(f"{hashlib.sha256(archive.read(name)).hexdigest()}  {name}\n")
    return "h1:" + base64.b64encode(hashlib.sha256("".join(lines).encode()).digest()).decode()


if __name__ == "__main__":
    print(h1_of_zip(sys.argv[1]))
