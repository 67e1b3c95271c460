"""IPv4 ranges of the lab network: parsing 'a-b' or CIDR text and answering overlap questions."""

from __future__ import annotations

from dataclasses import dataclass

import netaddr


@dataclass(frozen=True)
class AddressRange:
    """An inclusive range of IPv4 addresses, written 'first-last' or as a CIDR."""

    first: netaddr.IPAddress
    last: netaddr.IPAddress

    @classmethod
    def parse(cls, text: str) -> AddressRange:
        """Parse '10.0.0.5-10.0.0.9', '10.0.0.8/29' or a single address; ValueError if bad."""
        if not isinstance(text, str) or not text.strip():
            raise ValueError("expected 'first-last', a CIDR or an address")
        text = text.strip()
        try:
            if "-" in text:
                first_text, last_text = (part.strip() for part in text.split("-", 1))
                first, last = netaddr.IPAddress(first_text, 4), netaddr.IPAddress(last_text, 4)
            elif "/" in text:
                net = netaddr.IPNetwork(text, version=4)
                first, last = net.network, net.broadcast or net.network
            else:
                first = last = netaddr.IPAddress(text, 4)
        except (netaddr.AddrFormatError, ValueError) as exc:
            raise ValueError(f"{text!r} is not an IPv4 range ('first-last' or CIDR): {exc}") from exc
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

    def addresses(self) -> list[netaddr.IPAddress]:
        return [netaddr.IPAddress(value, 4) for value in range(int(self.first), int(self.last) + 1)]

    def __str__(self) -> str:
        return str(self.first) if self.first == self.last else f"{self.first}-{self.last}"
