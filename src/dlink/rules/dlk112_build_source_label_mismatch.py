"""DLK112 build-source-label-mismatch: the source label set at build time is wrong.

The publishing build sets the label itself (a `--label` flag, a bake target's
`labels`, goreleaser's `build_flag_templates` or `labels`), and the value does not
name this repository in canonical form. goreleaser's `{{ .GitURL }}` is the git
remote URL exactly as configured: with a remote ending in `.git` (or an SSH
remote) the registry does not link the package. The finding is on the build
definition's line; dlink does not rewrite build definitions.

Bad:
    # .goreleaser.yaml, in a clone whose remote is git@github.com:monalisa/my_repo.git
    build_flag_templates:
      - "--label=org.opencontainers.image.source={{ .GitURL }}"

Good:
    build_flag_templates:
      - "--label=org.opencontainers.image.source=https://github.com/monalisa/my_repo"
"""

from __future__ import annotations

from dlink.findings import Finding, RuleInfo, Severity
from dlink.rules.base import Subject, finding_elsewhere

RULE = RuleInfo(
    code="DLK112",
    name="build-source-label-mismatch",
    severity=Severity.ERROR,
    fixable=False,
    summary="The source label set at build time does not name this repository canonically.",
    doc=__doc__ or "",
)


def check(subject: Subject) -> list[Finding]:
    built = subject.build_source()
    if built is None or built.unresolved or subject.context.repo_url is None:
        return []
    from dlink.repo import redact_url
    from dlink.rules.source_value import source_repository

    expected = subject.context.repo_url
    if built.value.strip() == expected:
        return []
    found = source_repository(built.value)
    shown = redact_url(built.value) if built.value else "an empty value"
    if found is not None and found == expected:
        problem = f"is {shown!r}, not the canonical {expected}"
    else:
        problem = f"is {shown!r}, but the image is built from {expected}"
    message = f"source label set by {built.via} {problem}"
    if built.note:
        message += f" ({built.note})"
    return [finding_elsewhere(RULE, built, message)]
