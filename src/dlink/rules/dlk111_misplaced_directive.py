"""DLK111 misplaced-directive: a `# dlink:` directive that applies to nothing.

`# dlink: ignore=...` applies to the instruction directly below its comment
block; a blank line or an empty `#` line in between (where BuildKit ends the
comment block), the end of the file, or a place inside a continued instruction
leave it applying to nothing. `# dlink: skip-file` works only in the comment
block at the top of the file.

Bad:
    # dlink: ignore=DLK101

    FROM alpine

Good:
    # dlink: ignore=DLK101
    FROM alpine
"""

from __future__ import annotations

from dlink.findings import Finding, RuleInfo, Severity
from dlink.rules.base import Subject, finding_at

RULE = RuleInfo(
    code="DLK111",
    name="misplaced-directive",
    severity=Severity.WARNING,
    fixable=False,
    summary="A `# dlink:` directive applies to no instruction.",
    doc=__doc__ or "",
)


def check(subject: Subject) -> list[Finding]:
    return [
        finding_at(
            RULE, subject, d.start, d.end, f"this dlink directive applies to nothing: {d.misplaced}"
        )
        for d in subject.directives.items
        if d.misplaced is not None and d.problem is None
    ]
