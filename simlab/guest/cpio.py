"""A minimal writer of "newc" cpio archives, the format the kernel unpacks as an initramfs.

Written here rather than with cpio(1) so entries get root ownership, fixed timestamps and a
/dev/console node without running as root or touching the host's filesystem.
"""

from __future__ import annotations

import stat
from typing import BinaryIO

_MAGIC = b"070701"
_TRAILER = "TRAILER!!!"


class CpioWriter:
    """Appends entries to a binary stream; `close()` writes the trailer (not the stream)."""

    def __init__(self, out: BinaryIO) -> None:
        self._out = out
        self._ino = 0
        self._offset = 0
        self._names: set[str] = set()

    def _write(self, data: bytes) -> None:
        self._out.write(data)
        self._offset += len(data)

    def _pad(self) -> None:
        self._write(b"\0" * (-self._offset % 4))

    def _entry(self, name: str, mode: int, data: bytes = b"", rdev: tuple[int, int] = (0, 0)) -> None:
        name = name.strip("/") or "."
        if name in self._names and name != _TRAILER:
            raise ValueError(f"duplicate initramfs entry {name}")
        self._names.add(name)
        self._ino += 1
        encoded = name.encode() + b"\0"
        fields = (self._ino, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1], len(encoded), 0)
        self._write(_MAGIC + b"".join(b"%08X" % value for value in fields))
        self._write(encoded)
        self._pad()
        self._write(data)
        self._pad()

    def directory(self, name: str, perm: int = 0o755) -> None:
        self._entry(name, stat.S_IFDIR | perm)

    def file(self, name: str, data: bytes, perm: int = 0o644) -> None:
        self._entry(name, stat.S_IFREG | perm, data)

    def symlink(self, name: str, target: str) -> None:
        self._entry(name, stat.S_IFLNK | 0o777, target.encode())

    def char_device(self, name: str, major: int, minor: int, perm: int = 0o600) -> None:
        self._entry(name, stat.S_IFCHR | perm, rdev=(major, minor))

    def close(self) -> None:
        self._entry(_TRAILER, 0)
