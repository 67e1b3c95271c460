"""The one way remote scripts are made: real `.sh` files under files/, joined after the script's
inputs as single-quoted shell assignments. No user value is ever spliced into code.

`script("bridge-common", "bridge-nmcli-create", nic="eth0", br="br0")` gives lib-common.sh, then
`nic='eth0'`, `br='br0'`, then the two files, each without its leading comment block.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from importlib import resources

ShellValue = str | int | Sequence[str]

_NAME = re.compile(r"[a-z_][a-z0-9_]*\Z")
# A list travels as one string of words that the script expands unquoted: no blank, quote or glob.
_WORD = re.compile(r"[A-Za-z0-9=._:/@+-]+\Z")


def script_file(name: str) -> str:
    """The text of files/<name>.sh, as shellcheck sees it."""
    return resources.files("renderers").joinpath(f"files/{name}.sh").read_text()


def _body(name: str) -> str:
    """The file without its shebang and leading comment block (that stays in the repository)."""
    lines = script_file(name).splitlines(keepends=True)
    start = 0
    while start < len(lines) and (lines[start].startswith("#") or not lines[start].strip()):
        start += 1
    return "".join(lines[start:])


def assignment(name: str, value: ShellValue) -> str:
    """`name='value'`; a sequence becomes one space-separated string of plain words, for
    `for w in $name` (a word that would split or glob is refused)."""
    if not _NAME.match(name):
        raise ValueError(f"{name!r} is not a shell variable name")
    if isinstance(value, str | int):
        return f"{name}={_quoted(str(value))}"
    words = [str(v) for v in value]
    if bad := [w for w in words if not _WORD.match(w)]:
        raise ValueError(f"{name}: {bad[0]!r} cannot be a word of a shell list")
    return f"{name}={_quoted(' '.join(words))}"


def _quoted(text: str) -> str:
    """Always in single quotes (shlex.quote leaves `admin` bare, which shellcheck takes for a command)."""
    return "'" + text.replace("'", "'\"'\"'") + "'"


def b64(text: str) -> str:
    """File content as `stage`/`put` in lib-common.sh take it."""
    return base64.b64encode(text.encode()).decode()


def script(*parts: str, **values: ShellValue) -> str:
    """lib-common.sh, the quoted inputs, then each part's body, as one POSIX sh script."""
    head = _body("lib-common")
    inputs = "".join(assignment(name, value) + "\n" for name, value in values.items())
    return head + inputs + "".join(_body(part) for part in parts)
