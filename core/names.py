"""DNS name rules: every host, cluster and hypervisor name ends up in dnsmasq and in FQDNs."""

from __future__ import annotations

import re

# A lowercase RFC 1123 label, and a dotted domain of them (full-match patterns; the config schema uses them).
LABEL = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
DOMAIN = rf"{LABEL}(\.{LABEL})*"


def label_problem(name: object) -> str | None:
    """Why `name` is not a lowercase RFC 1123 DNS label, or None when it is one."""
    if not isinstance(name, str) or not name:
        return "must be a non-empty string"
    if not re.fullmatch(LABEL, name):
        return (
            f"{name!r} is not a DNS label: use 1-63 lowercase letters, digits or '-', "
            "starting and ending with a letter or digit"
        )
    return None
