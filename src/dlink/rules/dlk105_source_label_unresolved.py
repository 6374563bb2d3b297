"""DLK105 source-label-unresolved: the source label's value is not known until build time.

The value comes from an ARG without a default (or an ENV built from one), so
dlink cannot check it; the image gets whatever the build passes, or nothing.
Pass `--build-arg NAME=VALUE` to check what CI builds, or write the URL. A source
label set at build time (a `--label`, a bake variable, a workflow expression) whose
value dlink cannot know is reported the same way, on the build definition's line.

Bad:
    ARG REPO_URL
    LABEL org.opencontainers.image.source=$REPO_URL

Good:
    ARG REPO_URL=https://github.com/monalisa/my_repo
    LABEL org.opencontainers.image.source=$REPO_URL
"""

from __future__ import annotations

from dlink.findings import Finding, RuleInfo, Severity
from dlink.rules.base import Subject, finding_at, finding_elsewhere

RULE = RuleInfo(
    code="DLK105",
    name="source-label-unresolved",
    severity=Severity.WARNING,
    fixable=False,
    summary="The source label comes from a variable with no value at lint time.",
    doc=__doc__ or "",
)


def check(subject: Subject) -> list[Finding]:
    built = subject.build_source()
    if built is not None:
        if not built.unresolved:
            return []
        names = ", ".join(sorted(built.unresolved))
        message = (
            f"source label set by {built.via} comes from {names}, which dlink cannot know "
            f"at lint time; the image built from {subject.context.path} gets whatever it is"
        )
        return [finding_elsewhere(RULE, built, message)]
    setting = subject.source_setting()
    if setting is None or not setting.unresolved:
        return []
    names = ", ".join("$" + name for name in sorted(setting.unresolved))
    message = (
        f"source label comes from {names}, which has no value at lint time; "
        "pass --build-arg to check it, or write the URL"
    )
    token = setting.token.value
    return [finding_at(RULE, subject, token.start, token.end, message)]
