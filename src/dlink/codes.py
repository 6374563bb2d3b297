"""Rule codes as users write them (`--select`, `--ignore`, config, directives): one validator.

A code is a rule code ("DLK101") or a prefix of some ("DLK1", "DLK"). Anything else is
a usage error with a "did you mean" suggestion, the same from the command line and the
config, so a typo (`DLK1O1` with a letter O, `DLK999`) never silently turns rules off.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

from dlink.errors import DlinkError


def known_codes() -> list[str]:
    from dlink.rules import ALL_RULES

    return [rule.info.code for rule in ALL_RULES]


def check_codes(codes: Iterable[str], where: str) -> tuple[str, ...]:
    """`codes` upper-cased; DlinkError naming `where` for the first one no rule has."""
    known = known_codes()
    checked: list[str] = []
    for raw in codes:
        code = raw.strip().upper()
        if not code or not any(rule.startswith(code) for rule in known):
            raise DlinkError(f"{where}: unknown rule code {raw!r}", hint=suggest(raw))
        checked.append(code)
    return tuple(checked)


_LOOKALIKE_DIGITS = str.maketrans({"O": "0", "I": "1", "L": "1", "S": "5", "B": "8"})


def suggest(code: str) -> str:
    """A hint for a code no rule has: the closest real code, else where to look."""
    wanted = code.strip().upper()
    known = known_codes()
    # Letters typed for digits (DLK1O1, DLKI01) first: closer than any edit distance says.
    digits = wanted[:3] + wanted[3:].translate(_LOOKALIKE_DIGITS)
    if digits != wanted and any(rule.startswith(digits) for rule in known):
        return f"did you mean {digits}? (dlink rules lists every code)"
    close = difflib.get_close_matches(wanted, known, n=1, cutoff=0.6)
    if close:
        return f"did you mean {close[0]}? (dlink rules lists every code)"
    return "dlink rules lists every code; a prefix such as DLK1 selects a group"


# The engine's suppression comment, `# dlink: ignore=DLK101,DLK103`, as a whole line.
_DIRECTIVE = re.compile(r"^[ \t]*#[ \t]*dlink:[ \t]*ignore[ \t]*=[ \t]*([^\r\n]*)", re.MULTILINE)


def check_directives(text: str) -> None:
    """DlinkError `line N: dlink: ignore=...` for the first suppression comment naming a
    code no rule has: a typo there would silently suppress nothing."""
    if "dlink:" not in text:
        return
    for match in _DIRECTIVE.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        codes = [code for code in re.split(r"[,\s]+", match.group(1)) if code]
        check_codes(codes, f"line {line}: dlink: ignore")
