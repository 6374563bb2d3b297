"""Rule codes as users write them (`--select`, `--ignore`, config, directives): one validator.

A code is a rule code ("DLK101") or a prefix of some ("DLK1", "DLK"). Anything else is
a usage error with a "did you mean" suggestion, the same from the command line and the
config, so a typo (`DLK1O1` with a letter O, `DLK999`) never silently turns rules off.
"""

from __future__ import annotations

import difflib
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


def closest(code: str) -> str | None:
    """The real rule code `code` was most likely meant to be, if any is close."""
    wanted = code.strip().upper()
    known = known_codes()
    # Letters typed for digits (DLK1O1, DLKI01) first: closer than any edit distance says.
    digits = wanted[:3] + wanted[3:].translate(_LOOKALIKE_DIGITS)
    if digits != wanted and any(rule.startswith(digits) for rule in known):
        return digits
    close = difflib.get_close_matches(wanted, known, n=1, cutoff=0.6)
    return close[0] if close else None


def suggest(code: str) -> str:
    """A hint for a code no rule has: the closest real code, else where to look."""
    match = closest(code)
    if match:
        return f"did you mean {match}? (dlink rules lists every code)"
    return "dlink rules lists every code; a prefix such as DLK1 selects a group"
