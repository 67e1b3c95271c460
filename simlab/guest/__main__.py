"""CLI: `python -m simlab.guest build [--out PATH]` and `parse LOG` (console log -> JSON)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

from simlab.guest.build import DEFAULT_IMAGE, build
from simlab.guest.console import parse_console
from simlab.guest.tools import MissingToolError, ToolFailedError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m simlab.guest", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="build the guest image, or reuse it when its inputs are unchanged")
    b.add_argument("--out", type=Path, default=DEFAULT_IMAGE, help=f"image path (default {DEFAULT_IMAGE})")
    b.add_argument("--kernel-version", help="a /boot/vmlinuz-<version> (default: the newest)")
    b.add_argument("--force", action="store_true", help="rebuild even if the cached image is current")
    p = sub.add_parser("parse", help="print the report of a serial console log as JSON")
    p.add_argument("log", type=Path)
    args = parser.parse_args(argv)

    if args.command == "parse":
        report = parse_console(args.log.read_text(errors="replace"))
        print(json.dumps(dataclasses.asdict(report), indent=1))
        return 0
    try:
        result = build(args.out, kernel_version=args.kernel_version, force=args.force)
    except (MissingToolError, ToolFailedError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    state = "cached" if result.cached else "built"
    print(f"{result.path} ({state}, kernel {result.kernel_version}, {result.size} bytes, {result.seconds:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
