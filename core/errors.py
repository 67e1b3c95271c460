"""The errors a user causes and can fix, under one root: the `ocplab` command shows any of them as one line
and its exit code (tools/cli.py), the Pulumi programs before any resource exists."""

from __future__ import annotations


class OcplabError(Exception):
    """Bad input or a stack that cannot be read: the message says what is wrong and how to fix it, without
    a traceback. `exit_code` is the `ocplab` command's status for it (2: bad input)."""

    exit_code = 2

    def one_line(self) -> str:
        """The message as the `ocplab` command shows it: one line on stderr."""
        return " ".join(line.strip() for line in str(self).splitlines())


# ValueError stays a base of the core's errors: pydantic validators and the core's `except ValueError`
# treat them as the bad values they are.
class ConfigError(OcplabError, ValueError):
    """Bad stack configuration: each problem names the config field and how to fix it."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(["invalid ocplab configuration:", *(f"  - {p}" for p in problems)]))

    def one_line(self) -> str:
        return "invalid ocplab configuration: " + "; ".join(self.problems)


class Problems:
    """Collects every problem of one config so a user fixes them all in one pass."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, field: str, message: str) -> None:
        self.items.append(f"{field}: {message}")

    def raise_if_any(self) -> None:
        if self.items:
            raise ConfigError(self.items)
