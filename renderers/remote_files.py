"""Shell fragments that write files atomically on a remote host, for remote commands.

Content travels base64-encoded inside the script, so no quoting of user data can break it, and
lands as a dotfile first: dnsmasq's inotify ignores dotfiles, so a rename is the only change it
sees.
"""

from __future__ import annotations

import base64
import posixpath
import shlex


def temp_path(path: str) -> str:
    """The dotfile a new version of `path` is written to before it is renamed into place."""
    directory, name = posixpath.split(path)
    return posixpath.join(directory, f".{name}.ocplab-new")


def stage_file(path: str, content: str, mode: str = "0644") -> str:
    """Fragment that writes `content` next to `path` (not yet in place); see commit_file."""
    encoded = base64.b64encode(content.encode()).decode()
    tmp = shlex.quote(temp_path(path))
    return (f"mkdir -p {shlex.quote(posixpath.dirname(path))} && "
            f"echo {encoded} | base64 -d > {tmp} && chmod {mode} {tmp}")


def commit_file(path: str) -> str:
    """Fragment that renames the staged file over `path` in one step."""
    return f"mv -f {shlex.quote(temp_path(path))} {shlex.quote(path)}"


def write_file(path: str, content: str, mode: str = "0644") -> str:
    """Fragment that stages and commits in one go, for files nobody watches."""
    return f"{stage_file(path, content, mode)} && {commit_file(path)}"
