"""docs/layout.md's map names every module of core/, renderers/, components/ and tools/, and only those:
a module added, removed or renamed without the map fails here, so the map cannot go stale."""

from __future__ import annotations

import re
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]
LAYOUT = PROJECT / "docs" / "layout.md"
FOLDERS = ("core", "renderers", "components", "tools")
_MODULE = re.compile(r"(?<![\w./-])([\w/]*\w+\.py)\b")


def modules_on_disk() -> set[str]:
    """Every .py module of the mapped folders (subfolders included), as a path from the project root."""
    return {path.relative_to(PROJECT).as_posix() for folder in FOLDERS for path in (PROJECT / folder).rglob("*.py")
            if path.name != "__init__.py" and "__pycache__" not in path.parts}


def map_block(text: str) -> list[str]:
    """The lines of the fenced block under the "## Map" heading."""
    after = text.split("\n## Map\n", 1)[1]
    return after.split("```", 2)[1].splitlines()[1:]


def modules_in_map(lines: list[str]) -> set[str]:
    """Module paths the map names. A line starting at column 0 with `folder/` opens that folder; an indented
    line names modules of the folder last opened; a name with a slash is a path from the project root."""
    folder, named = "", set()
    for line in lines:
        if line[:1].strip():
            first = line.split()[0]
            folder = first if first.endswith("/") else ""
            continue
        for name in _MODULE.findall(line):
            path = name if "/" in name else folder + name
            if path.split("/", 1)[0] in FOLDERS:
                named.add(path)
    return named


def test_the_map_names_every_module_and_no_other() -> None:
    named, present = modules_in_map(map_block(LAYOUT.read_text())), modules_on_disk()
    assert not present - named, f"modules missing from docs/layout.md's map: {sorted(present - named)}"
    assert not named - present, f"docs/layout.md's map names modules that do not exist: {sorted(named - present)}"


def test_the_parser_sees_what_the_map_says() -> None:
    lines = ["core/                  the core", "  a.py b.py   two modules; see renderers/c.py",
             "tools/                 the tools", "  d.py", "stacks/  not mapped", "  e.py"]
    assert modules_in_map(lines) == {"core/a.py", "core/b.py", "renderers/c.py", "tools/d.py"}
