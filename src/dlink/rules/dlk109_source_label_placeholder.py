"""DLK109 source-label-placeholder: the source label is empty or not a URL at all.

A value such as `unknown`, `TODO` or an empty string is a placeholder someone
meant to fill in: no registry can link the package with it. This is not a
different repository (DLK102), just no repository. `dlink fix` writes the
repository's URL in its place.

Bad:
    LABEL org.opencontainers.image.source="TODO"
    LABEL org.opencontainers.image.source=""

Good:
    LABEL org.opencontainers.image.source="https://github.com/monalisa/my_repo"
"""

from __future__ import annotations

from dlink.findings import Finding, RuleInfo, Severity
from dlink.rules.base import Subject
from dlink.rules.source_value import ValueKind, interpret, value_finding

RULE = RuleInfo(
    code="DLK109",
    name="source-label-placeholder",
    severity=Severity.ERROR,
    fixable=True,
    summary="The source label is empty or a placeholder, not a URL.",
    doc=__doc__ or "",
)


def check(subject: Subject) -> list[Finding]:
    setting = subject.source_setting()
    if setting is None or setting.unresolved or setting.out_of_scope:
        return []  # DLK105 / DLK108 say why the value is what it is
    if interpret(setting.value, subject.context.repo_url).kind is not ValueKind.PLACEHOLDER:
        return []
    url = subject.context.repo_url
    should = f"; it should be {url}" if url is not None else ""
    if not setting.value.strip():
        message = f"source label is empty{should}"
    else:
        message = f"source label {setting.value.strip()!r} is a placeholder, not a URL{should}"
    return [value_finding(RULE, subject, setting, message)]
