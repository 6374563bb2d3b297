"""`# dlink:` comments: what each one says, and which instruction it applies to. Pure.

Grammar (decided after hadolint's `# hadolint ignore=DL3006` and ruff's `# noqa`):

    # dlink: ignore=CODE[,CODE...] [reason]   the instruction directly below
    # dlink: skip-file [reason]              the whole file; only in the leading comment block

A comment is a directive when its text starts with `dlink:`. CODE is a rule code
or a prefix of codes (`DLK1`). Free text after the codes is a reason, as ruff
reads it (`# dlink: ignore=DLK101 -- dev image`); a reason may not start with
something that looks like another code, since that is a missing comma. As in
hadolint, `ignore` applies only to the instruction directly below its comment
block: other comment lines may sit between them, a blank line or an empty `#`
line may not (BuildKit itself ends a comment block there). A directive that
says nothing dlink understands (DLK110) or applies to nothing (DLK111) is
reported rather than silently doing nothing.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from dlink.record import Record

if TYPE_CHECKING:
    from dlink.syntax import Dockerfile

_PREFIX = re.compile(r"dlink\s*:", re.IGNORECASE)
# What follows the prefix; compiled on first use (by re's own cache), as most files
# have no `# dlink:` comment at all.
_IGNORE = r"(?i)ignore\s*=\s*([A-Za-z0-9]+(?:\s*,\s*[A-Za-z0-9]+)*)(?:\s+(.*))?\Z"
_SKIP_FILE = r"(?i)skip-file(?:\s+(.*))?\Z"
_CODE_LIKE = r"[A-Za-z]{2,}[0-9]+\b"
GRAMMAR = "`# dlink: ignore=CODE[,CODE] [reason]` or `# dlink: skip-file`"


class Directive(Record):
    __slots__ = (
        "line", "start", "end", "kind", "codes", "unknown_codes", "problem", "target", "misplaced",
    )  # fmt: skip
    line: int  # 1-based
    start: int  # text offsets of the comment's text (after `#` and blanks) to the line's end
    end: int
    kind: str  # "ignore", "skip-file" or "invalid"
    codes: tuple[str, ...]  # ignore: upper-cased codes and prefixes, known ones only
    unknown_codes: tuple[str, ...]  # ignore: codes no rule has
    problem: str | None  # invalid: what is wrong
    target: int | None  # ignore: index of the instruction it applies to
    misplaced: str | None  # why it applies to nothing

    def __init__(
        self,
        line: int,
        start: int,
        end: int,
        kind: str,
        codes: tuple[str, ...] = (),
        unknown_codes: tuple[str, ...] = (),
        problem: str | None = None,
        target: int | None = None,
        misplaced: str | None = None,
    ) -> None:
        self.line = line
        self.start = start
        self.end = end
        self.kind = kind
        self.codes = codes
        self.unknown_codes = unknown_codes
        self.problem = problem
        self.target = target
        self.misplaced = misplaced


class Directives(Record):
    __slots__ = ("items", "skip_file", "ignored", "_starts", "_ends")
    items: tuple[Directive, ...]
    skip_file: bool
    ignored: dict[int, frozenset[str]]  # instruction index -> codes and prefixes it ignores
    _starts: Sequence[int]
    _ends: Sequence[int]

    def __init__(
        self,
        items: tuple[Directive, ...],
        skip_file: bool,
        ignored: dict[int, frozenset[str]],
        _starts: Sequence[int],  # each instruction's first and last line (the reader's arrays)
        _ends: Sequence[int],
    ) -> None:
        self.items = items
        self.skip_file = skip_file
        self.ignored = ignored
        self._starts = _starts
        self._ends = _ends

    def suppresses(self, code: str, line: int) -> bool:
        """Whether an `ignore` directive covers a finding of `code` on `line`."""
        index = bisect_right(self._starts, line) - 1
        if index < 0 or line > self._ends[index]:
            return False
        return any(code.startswith(prefix) for prefix in self.ignored.get(index, ()))


def scan(dockerfile: Dockerfile, known_codes: Iterable[str]) -> Directives:
    """Every `# dlink:` comment of the file, in one linear pass."""
    instructions = dockerfile.instructions
    starts = instructions.start_lines()
    ends = instructions.end_lines()
    if _PREFIX.search(dockerfile.text) is None:
        # No `dlink:` anywhere, so no directive: most files. One search in C instead of
        # the passes over every line below (a tenth of a batch's rule time).
        return Directives((), False, {}, starts, ends)
    known = tuple(known_codes)
    n = len(dockerfile.lines)
    # 0-based line -> index of the instruction whose span holds it (-1: trivia);
    # heredoc instructions mark their lines -2, since their bodies are data.
    owner = [-1] * n
    starts_at: dict[int, int] = {}
    for index in range(len(instructions)):
        mark = -2 if instructions.has_heredoc(index) else index
        for line in range(starts[index] - 1, ends[index]):
            owner[line] = mark
        starts_at[starts[index] - 1] = index
    first = starts[0] - 1 if instructions else n

    comment_text: list[str | None] = [None] * n
    for line in range(n):
        if owner[line] == -1:
            stripped = dockerfile.lines[line].strip()
            if stripped.startswith("#"):
                comment_text[line] = stripped[1:].strip()
    # The instruction a comment line's block sits directly above (None: nothing), and
    # else what ends the block first: computed once from the end, so linear.
    attached: list[int | None] = [None] * (n + 1)
    ends_with = ["it is at the end of the file"] * (n + 1)
    for line in range(n - 1, -1, -1):
        below = line + 1
        if below in starts_at:
            attached[line] = starts_at[below]
        elif below < n and comment_text[below]:
            attached[line], ends_with[line] = attached[below], ends_with[below]
        elif below < n:
            ends_with[line] = (
                "an empty `#` line ends its comment block before the next instruction"
                if comment_text[below] == ""
                else "a blank line ends its comment block before the next instruction"
            )

    items: list[Directive] = []
    ignored: dict[int, set[str]] = {}
    skip_file = False
    for line in range(n):
        text = comment_text[line]
        if owner[line] >= 0:
            stripped = dockerfile.lines[line].strip()
            if stripped.startswith("#") and _PREFIX.match(stripped[1:].strip()):
                start, end = _offsets(dockerfile, line)
                why = "it sits inside a continued instruction, where it applies to nothing"
                items.append(Directive(line + 1, start, end, "ignore", misplaced=why))
            continue
        prefix = _PREFIX.match(text) if text else None
        if text is None or prefix is None:
            continue
        body = text[prefix.end() :].strip()
        start, end = _offsets(dockerfile, line)
        skip = re.match(_SKIP_FILE, body)
        if skip:
            if line < first:
                skip_file = True
                items.append(Directive(line + 1, start, end, "skip-file"))
            else:
                why = "skip-file works only in the comment block at the top of the file"
                items.append(Directive(line + 1, start, end, "skip-file", misplaced=why))
            continue
        ignore = re.match(_IGNORE, body)
        reason = ignore.group(2) if ignore else None
        if ignore is None or (reason and re.match(_CODE_LIKE, reason)):
            problem = f"cannot read `{text}`: write {GRAMMAR}"
            if ignore is not None:
                problem = f"cannot read `{text}`: separate codes with commas"
            items.append(Directive(line + 1, start, end, "invalid", problem=problem))
            continue
        codes = [code.strip().upper() for code in ignore.group(1).split(",")]
        good = tuple(c for c in codes if any(k.startswith(c) for k in known))
        bad = tuple(c for c in codes if c not in good)
        target = attached[line]
        misplaced = None
        if target is None:
            misplaced = ends_with[line]
        elif good:
            ignored.setdefault(target, set()).update(good)
        items.append(Directive(line + 1, start, end, "ignore", good, bad, None, target, misplaced))
    return Directives(
        tuple(items),
        skip_file,
        {index: frozenset(codes) for index, codes in ignored.items()},
        starts,
        ends,
    )


def _offsets(dockerfile: Dockerfile, line: int) -> tuple[int, int]:
    raw = dockerfile.lines[line]
    content = raw.rstrip("\r\n")
    lead = len(content) - len(content.lstrip())
    return dockerfile.line_starts[line] + lead, dockerfile.line_starts[line] + len(content)
