"""DLK102 source-label-mismatch: the source label points at another repository.

The label must name the repository that holds the Dockerfile (its git remote,
or --repo-url / repo-url in config). A fork, a mirror or a copied Dockerfile
often carries someone else's URL, and the package then links to the wrong
repository or to none (GitHub links only when the image and the repository
share an owner). A value written as `${NAME:-URL}` after `ARG NAME` is the
fallback the build uses unless it passes NAME: that fallback is checked, and
`fix` rewrites the fallback word only.

Bad:
    LABEL org.opencontainers.image.source="https://github.com/upstream/my_repo"

Good:
    LABEL org.opencontainers.image.source="https://github.com/monalisa/my_repo"
"""

from __future__ import annotations

from dlink.findings import Finding, RuleInfo, Severity
from dlink.rules.base import Subject, has_variables
from dlink.rules.source_value import ValueKind, interpret, value_finding

RULE = RuleInfo(
    code="DLK102",
    name="source-label-mismatch",
    severity=Severity.ERROR,
    fixable=True,
    summary="The source label points at another repository than the one holding the file.",
    doc=__doc__ or "",
)


def check(subject: Subject) -> list[Finding]:
    setting = subject.source_setting()
    if setting is None or setting.unresolved:
        return []
    if interpret(setting.value, subject.context.repo_url).kind is not ValueKind.OTHER_REPOSITORY:
        return []
    from dlink.repo import redact_url

    message = (
        f"source label is {redact_url(setting.value)!r}, "
        f"but this file belongs to {subject.context.repo_url}"
    )
    if has_variables(setting.token.value.text):
        message += " (the value comes from a variable: change its default or the build argument)"
    return [value_finding(RULE, subject, setting, message)]
