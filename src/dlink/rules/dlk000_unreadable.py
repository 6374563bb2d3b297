"""DLK000 unreadable-dockerfile: the file cannot be read or parsed.

BuildKit would refuse this file too (or it is not UTF-8 text), so no label in it
can be checked. The message names the line and BuildKit's reason.

Bad:
    FROM alpine
    RUN <<EOF
    echo the heredoc never ends

Good:
    FROM alpine
    RUN <<EOF
    echo done
    EOF
"""

from __future__ import annotations

from dlink.findings import Finding, RuleInfo, Severity

RULE = RuleInfo(
    code="DLK000",
    name="unreadable-dockerfile",
    severity=Severity.ERROR,
    fixable=False,
    summary="The Dockerfile cannot be read or parsed.",
    doc=__doc__ or "",
)


def finding(path: str, line: int, message: str) -> Finding:
    """The file cannot be checked at all: one finding at the start of `line`."""
    return Finding(path, line, 1, line, 1, RULE.code, RULE.name, RULE.severity, message, False)
