"""DLK110 invalid-directive: a `# dlink:` comment dlink cannot read, or an unknown code.

A directive with a typo does nothing, silently, so the finding it was meant to
silence comes back one day, or one meant to stay silences nothing. The forms
are `# dlink: ignore=CODE[,CODE] [reason]` (codes or prefixes such as `DLK1`,
separated by commas; free text after them is the reason) and
`# dlink: skip-file`.

Bad:
    # dlink: ignore DLK101
    # dlink: ignore=DLK999
    FROM alpine

Good:
    # dlink: ignore=DLK101 -- a dev image, never published
    FROM alpine
"""

from __future__ import annotations

from dlink.findings import Finding, RuleInfo, Severity
from dlink.rules.base import Subject, finding_at

RULE = RuleInfo(
    code="DLK110",
    name="invalid-directive",
    severity=Severity.WARNING,
    fixable=False,
    summary="A `# dlink:` directive is malformed or names an unknown rule code.",
    doc=__doc__ or "",
)


def check(subject: Subject) -> list[Finding]:
    findings = []
    for directive in subject.directives.items:
        if directive.problem is not None:
            message = directive.problem
        elif directive.unknown_codes:
            names = ", ".join(directive.unknown_codes)
            message = f"unknown rule code{'s' * (len(directive.unknown_codes) > 1)} {names}"
            from dlink.codes import closest  # the same suggestion as --select and config

            match = closest(directive.unknown_codes[0])
            hint = f"did you mean {match}?" if match else "see `dlink rules`"
            message += f" in dlink directive ({hint})"
        else:
            continue
        findings.append(finding_at(RULE, subject, directive.start, directive.end, message))
    return findings
