"""The one error type the simlab raises on purpose, so the CLI can print one line, not a trace."""

from __future__ import annotations


class SimlabError(Exception):
    """A failure with a message a person can act on (what is wrong and how to fix it).

    exit_code 2 means the machine or the input is not fit (not root, tool missing),
    1 means bringing up or tearing down the lab itself failed.
    """

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class PreflightError(SimlabError):
    """The machine cannot host the lab as it is; the message names the fix."""

    def __init__(self, message: str) -> None:
        super().__init__(message, exit_code=2)
