"""A range of ports, as slices give their BMCs (`bmc_ports: 6230-6239`).

Its own module so that the config schema checks a range as the BMC plan reads it (bounds and order, not only the
pattern) without importing the plan, which imports the schema.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_RANGE = re.compile(r"\s*(\d{1,5})\s*-\s*(\d{1,5})\s*")


@dataclass(frozen=True)
class PortRange:
    """An inclusive range of UDP ports, written 'first-last', one virtual BMC per port."""

    first: int
    last: int

    @classmethod
    def parse(cls, text: Any) -> PortRange:
        """'6230-6239' or a single port; ValueError naming what is wrong."""
        if isinstance(text, int) and not isinstance(text, bool):
            text = str(text)
        if not isinstance(text, str):
            raise ValueError(f"{text!r} is not a port range like 6230-6239")
        match = _RANGE.fullmatch(text) or re.fullmatch(r"\s*(\d{1,5})\s*", text)
        if not match:
            raise ValueError(f"{text!r} is not a port range like 6230-6239")
        first = int(match.group(1))
        last = int(match.group(match.lastindex or 1))
        if not (1024 <= first <= 65535 and 1024 <= last <= 65535):
            raise ValueError(f"{text!r}: ports must be within 1024-65535 (no privileged ports)")
        if first > last:
            raise ValueError(f"{text!r} ends before it starts")
        return cls(first, last)

    @property
    def size(self) -> int:
        return self.last - self.first + 1

    def overlaps(self, other: PortRange) -> bool:
        return self.first <= other.last and other.first <= self.last

    def __str__(self) -> str:
        return f"{self.first}-{self.last}"
