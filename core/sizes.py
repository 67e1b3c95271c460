"""Sizes as users write them in inventories ('42G', 16384, '512M'), as plain numbers."""

from __future__ import annotations

import re

_UNITS = {"": 1, "B": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?\s*$", re.IGNORECASE)


def parse_bytes(value: object, default_unit: str = "G") -> int:
    """Bytes of a disk size: '42G', '512M', 10 (taken in `default_unit`); ValueError if not a size."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a size")
    if isinstance(value, int | float):
        return int(value * _UNITS[default_unit])
    match = _SIZE.match(str(value))
    if not match:
        raise ValueError(f"{value!r} is not a size like 42G or 512M")
    number, unit = match.groups()
    return int(float(number) * _UNITS[(unit or default_unit).upper()])

