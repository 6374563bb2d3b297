"""Values shared by rules, the engine and the reports: severities, edits, rule metadata, findings."""

from __future__ import annotations

from enum import Enum
from typing import Any

from dlink.record import Record


class Severity(str, Enum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.ERROR: 2}


class Edit(Record):
    """Replace characters [start, end) of the decoded file text with `replacement`.

    Offsets are into the text after the byte-order mark; the writer re-encodes,
    so every byte outside the edit comes back exactly as it was.
    """

    __slots__ = ("start", "end", "replacement")
    start: int
    end: int
    replacement: str

    def __init__(self, start: int, end: int, replacement: str) -> None:
        self.start = start
        self.end = end
        self.replacement = replacement


class RuleInfo(Record):
    """What a rule is, independent of any file: used by `dlink rules`, `explain` and SARIF."""

    __slots__ = ("code", "name", "severity", "fixable", "summary", "doc")
    code: str
    name: str
    severity: Severity
    fixable: bool
    summary: str
    doc: str

    def __init__(
        self, code: str, name: str, severity: Severity, fixable: bool, summary: str, doc: str
    ) -> None:
        self.code = code
        self.name = name
        self.severity = severity
        self.fixable = fixable
        self.summary = summary
        self.doc = doc


class Finding(Record):
    """One problem at one place. Lines and columns are 1-based; end_column is exclusive.

    Two findings that differ only in their edits are equal (and hash alike): the same
    problem found again on a re-parse is the same finding, whatever fix it carries.
    """

    __slots__ = (
        "path", "line", "column", "end_line", "end_column", "code", "name", "severity",
        "message", "fixable", "edits", "fix_safe", "fix_title",
    )  # fmt: skip
    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    code: str
    name: str
    severity: Severity
    message: str
    fixable: bool
    edits: tuple[Edit, ...]
    # ruff's model: a safe fix keeps what the file means and applies by default; an unsafe
    # one (repointing the label at another repository) only with --unsafe-fixes.
    fix_safe: bool
    fix_title: str | None  # what the fix does, e.g. "repoint the label from A to B"

    def __init__(
        self,
        path: str,
        line: int,
        column: int,
        end_line: int,
        end_column: int,
        code: str,
        name: str,
        severity: Severity,
        message: str,
        fixable: bool,
        edits: tuple[Edit, ...] = (),
        fix_safe: bool = True,
        fix_title: str | None = None,
    ) -> None:
        self.path = path
        self.line = line
        self.column = column
        self.end_line = end_line
        self.end_column = end_column
        self.code = code
        self.name = name
        self.severity = severity
        self.message = message
        self.fixable = fixable
        self.edits = edits
        self.fix_safe = fix_safe
        self.fix_title = fix_title

    def _values(self) -> tuple[Any, ...]:
        # Equality and hash leave the edits out (they are in the repr and in replace()).
        return (
            self.path, self.line, self.column, self.end_line, self.end_column, self.code,
            self.name, self.severity, self.message, self.fixable, self.fix_safe, self.fix_title,
        )  # fmt: skip
