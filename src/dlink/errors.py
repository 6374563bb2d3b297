"""The one exception type a user can cause, and the exit codes dlink ends with."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes; documented in the README, used only at the CLI boundary."""

    OK = 0  # nothing at or above --fail-on
    FINDINGS = 1  # findings remain (check), could not fix (fix), would change (--diff)
    ERROR = 2  # usage/config error, unreadable file, unknown repository, failed write


class DlinkError(Exception):
    """An error the user can cause: a one-line message and an optional hint."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message
