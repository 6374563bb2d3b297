"""Values shared by rules, the engine and the reports: severities, edits, rule metadata, findings."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Severity(str, Enum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.ERROR: 2}


@dataclass(frozen=True)
class Edit:
    """Replace characters [start, end) of the decoded file text with `replacement`.

    Offsets are into the text after the byte-order mark; the writer re-encodes,
    so every byte outside the edit comes back exactly as it was.
    """

    start: int
    end: int
    replacement: str


@dataclass(frozen=True)
class RuleInfo:
    """What a rule is, independent of any file: used by `dlink rules`, `explain` and SARIF."""

    code: str
    name: str
    severity: Severity
    fixable: bool
    summary: str
    doc: str


@dataclass(frozen=True)
class Finding:
    """One problem at one place. Lines and columns are 1-based; end_column is exclusive."""

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
    edits: tuple[Edit, ...] = field(default=(), compare=False)
    # ruff's model: a safe fix keeps what the file means and applies by default; an unsafe
    # one (repointing the label at another repository) only with --unsafe-fixes.
    fix_safe: bool = True
    fix_title: str | None = None  # what the fix does, e.g. "repoint the label from A to B"
