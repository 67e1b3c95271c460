"""The one error type bad input raises, so callers can show it before any resource exists."""

from __future__ import annotations


class ConfigError(ValueError):
    """Bad stack configuration: each problem names the config field and how to fix it."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(["invalid ocplab configuration:", *(f"  - {p}" for p in problems)]))


class Problems:
    """Collects every problem of one config so a user fixes them all in one pass."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, field: str, message: str) -> None:
        self.items.append(f"{field}: {message}")

    def raise_if_any(self) -> None:
        if self.items:
            raise ConfigError(self.items)
