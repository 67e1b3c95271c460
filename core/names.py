"""DNS name rules: every host, cluster and hypervisor name ends up in dnsmasq and in FQDNs."""

from __future__ import annotations

import re

_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


def label_problem(name: object) -> str | None:
    """Why `name` is not a lowercase RFC 1123 DNS label, or None when it is one."""
    if not isinstance(name, str) or not name:
        return "must be a non-empty string"
    if not _LABEL.match(name):
        return (
            f"{name!r} is not a DNS label: use 1-63 lowercase letters, digits or '-', "
            "starting and ending with a letter or digit"
        )
    return None


def domain_problem(domain: object) -> str | None:
    """Why `domain` is not a dotted DNS domain of valid labels, or None."""
    if not isinstance(domain, str) or not domain:
        return "must be a non-empty DNS domain such as lab.example.com"
    if len(domain) > 253:
        return "is longer than 253 characters"
    for label in domain.split("."):
        problem = label_problem(label)
        if problem:
            return f"{domain!r} has a bad label: {problem}"
    return None
