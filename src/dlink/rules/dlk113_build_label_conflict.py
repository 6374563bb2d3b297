"""DLK113 build-label-conflict: the Dockerfile's source label differs from the one set at build time.

The build sets `org.opencontainers.image.source` itself (docker/metadata-action,
a bake target's `labels`, a `--label` flag), and that value wins: the Dockerfile's
LABEL is dead and tells readers something the image does not say. Make them
agree, or drop one of them.

Bad:
    # the workflow's docker/metadata-action labels the image with monalisa/my_repo
    LABEL org.opencontainers.image.source="https://github.com/upstream/my_repo"

Good:
    LABEL org.opencontainers.image.source="https://github.com/monalisa/my_repo"
"""

from __future__ import annotations

from dlink.findings import Finding, RuleInfo, Severity
from dlink.rules.base import Subject, finding_at

RULE = RuleInfo(
    code="DLK113",
    name="build-label-conflict",
    severity=Severity.WARNING,
    fixable=False,
    summary="The Dockerfile's source label differs from the one the build sets, which wins.",
    doc=__doc__ or "",
)


def check(subject: Subject) -> list[Finding]:
    built = subject.build_source()
    setting = subject.source_setting()
    if built is None or setting is None or built.unresolved or setting.unresolved:
        return []
    if "${{" in built.value:
        return []  # "this repository" with no repository known: nothing to compare
    if built.value.strip().rstrip("/") == setting.value.strip().rstrip("/"):
        return []
    from dlink.repo import redact_url

    message = (
        f"source label {redact_url(setting.value)!r} is overridden at build time by "
        f"{built.via} at {built.where} with {redact_url(built.value)!r}"
    )
    token = setting.token.value
    return [finding_at(RULE, subject, token.start, token.end, message)]
