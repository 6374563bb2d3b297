"""DLK108 global-arg-out-of-scope: a label uses an ARG declared only before FROM.

An ARG before the first FROM (and BuildKit's automatic platform ARGs such as
TARGETOS) belongs to the global scope: FROM lines can use it, but inside a stage
it is empty unless the stage declares it again with `ARG NAME` (no value needed),
whatever `--build-arg` says. The label then gets an empty value (or the
fallback of `${NAME:-...}`) in every build.

Bad:
    ARG URL=https://github.com/monalisa/my_repo
    FROM alpine
    LABEL org.opencontainers.image.source=$URL

Good:
    ARG URL=https://github.com/monalisa/my_repo
    FROM alpine
    ARG URL
    LABEL org.opencontainers.image.source=$URL
"""

from __future__ import annotations

from dlink.findings import Finding, RuleInfo, Severity
from dlink.rules.base import Subject, finding_at

RULE = RuleInfo(
    code="DLK108",
    name="global-arg-out-of-scope",
    severity=Severity.ERROR,
    fixable=False,
    summary="A label uses an ARG declared only before FROM, which is empty inside the stage.",
    doc=__doc__ or "",
)


def check(subject: Subject) -> list[Finding]:
    findings = []
    for setting in subject.image_labels():
        for name in sorted(setting.out_of_scope):
            message = (
                f"label {setting.key} uses ${name}, which is declared only before FROM and is "
                f"empty in this stage whatever --build-arg says: declare `ARG {name}` inside the stage"
            )
            token = setting.token.value
            findings.append(finding_at(RULE, subject, token.start, token.end, message))
    return findings
