"""Address ranges of the lab network, IPv4 or IPv6: parsing 'a-b' or CIDR text and answering overlap questions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import netaddr


@dataclass(frozen=True)
class AddressRange:
    """An inclusive range of addresses of one family, written 'first-last' or as a CIDR."""

    first: netaddr.IPAddress
    last: netaddr.IPAddress

    @classmethod
    def parse(cls, text: str, version: Literal[4, 6] = 4) -> AddressRange:
        """Parse '10.0.0.5-10.0.0.9', '10.0.0.8/29', 'fd00::10-fd00::1f' (version 6) or a single address;
        ValueError if bad."""
        if not isinstance(text, str) or not text.strip():
            raise ValueError("expected 'first-last', a CIDR or an address")
        text = text.strip()
        try:
            if "-" in text:
                first_text, last_text = (part.strip() for part in text.split("-", 1))
                first, last = netaddr.IPAddress(first_text, version), netaddr.IPAddress(last_text, version)
            elif "/" in text:
                net = netaddr.IPNetwork(text, version=version)
                # IPv6 has no broadcast address: a CIDR's last address is its own.
                first = net.network
                last = (net.broadcast or net.network) if version == 4 else netaddr.IPAddress(net.last, 6)
            else:
                first = last = netaddr.IPAddress(text, version)
        except (netaddr.AddrFormatError, ValueError) as exc:
            raise ValueError(f"{text!r} is not an IPv{version} range ('first-last' or CIDR): {exc}") from exc
        if first > last:
            raise ValueError(f"{text!r} ends before it starts")
        return cls(first, last)

    @property
    def size(self) -> int:
        return int(self.last) - int(self.first) + 1

    def overlaps(self, other: AddressRange) -> bool:
        return self.first <= other.last and other.first <= self.last

    def contains(self, address: netaddr.IPAddress) -> bool:
        return self.first <= address <= self.last

    def within(self, network: netaddr.IPNetwork) -> bool:
        return self.first in network and self.last in network

    @property
    def version(self) -> Literal[4, 6]:
        return 6 if self.first.version == 6 else 4

    def addresses(self) -> list[netaddr.IPAddress]:
        return [netaddr.IPAddress(value, self.version) for value in range(int(self.first), int(self.last) + 1)]

    def __str__(self) -> str:
        return str(self.first) if self.first == self.last else f"{self.first}-{self.last}"
