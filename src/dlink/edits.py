"""Apply text edits: non-overlapping ones in one pass; the rest wait for the next round."""

from __future__ import annotations

from collections.abc import Iterable

from dlink.findings import Edit


def apply_edits(text: str, edits: Iterable[Edit]) -> tuple[str, int]:
    """Apply every edit that does not overlap an earlier-chosen one; return (text, applied)."""
    chosen: list[Edit] = []
    for edit in sorted(set(edits), key=lambda e: (e.start, e.end)):
        if chosen and (edit.start < chosen[-1].end or edit.start == chosen[-1].start):
            continue  # overlaps (or inserts at the same place): left for the next round
        chosen.append(edit)
    pieces: list[str] = []
    cursor = 0
    for edit in chosen:
        pieces.append(text[cursor : edit.start])
        pieces.append(edit.replacement)
        cursor = edit.end
    pieces.append(text[cursor:])
    return "".join(pieces), len(chosen)
