"""The one error of the syntax package."""

from __future__ import annotations

import re
from functools import cache


@cache
def _control() -> re.Pattern[str]:
    """Control characters to show escaped (compiled on the first error, not at import)."""
    return re.compile("[\x00-\x08\x0a-\x1f\x7f]")


class ParseError(ValueError):
    """BuildKit would refuse this file. `line` is 1-based; `reason` is one line.

    `instruction_level` tells a refusal of BuildKit's instruction parser (after
    the line parser accepted the file) from one of its line parser.
    """

    def __init__(
        self,
        reason: str,
        line: int,
        end_line: int | None = None,
        *,
        instruction_level: bool = False,
    ) -> None:
        # Bytes that are not UTF-8 (kept as lone surrogates) must not reach a printer,
        # nor control characters (a NUL, a line break) reach a terminal or a log line.
        reason = reason.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        reason = _control().sub(lambda m: f"\\x{ord(m.group()):02x}", reason)
        super().__init__(f"line {line}: {reason}")
        self.reason = reason
        self.line = line
        self.end_line = end_line if end_line is not None else line
        self.instruction_level = instruction_level
