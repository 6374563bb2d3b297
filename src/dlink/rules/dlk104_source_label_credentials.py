"""DLK104 source-label-credentials: the source label carries a user, password or token.

A URL copied from a CI remote (`https://x-access-token:TOKEN@github.com/...`)
puts a secret into every image built from the file, for anyone who can pull it.
dlink never shows the secret; `dlink fix` strips it.

Bad:
    LABEL org.opencontainers.image.source="https://x-access-token:ghs_xxx@github.com/monalisa/my_repo"

Good:
    LABEL org.opencontainers.image.source="https://github.com/monalisa/my_repo"
"""

from __future__ import annotations

from dlink.findings import Finding, RuleInfo, Severity
from dlink.rules.base import Subject
from dlink.rules.source_value import source_repository, value_finding

RULE = RuleInfo(
    code="DLK104",
    name="source-label-credentials",
    severity=Severity.ERROR,
    fixable=True,
    summary="The source label URL contains credentials.",
    doc=__doc__ or "",
)


def check(subject: Subject) -> list[Finding]:
    from dlink.repo import redact_url, url_has_credentials

    findings = []
    # Every source label setting that reaches the image is baked into its
    # history, not only the last one, so each is reported.
    for setting in subject.image_labels():
        if setting.key != "org.opencontainers.image.source" or not url_has_credentials(
            setting.value
        ):
            continue
        message = f"source label contains credentials: {redact_url(setting.value)!r}"
        # Stripping the credentials keeps the repository the label names; whether that
        # is the right repository is DLK102's question (and maybe an unsafe fix).
        own = source_repository(setting.value)
        findings.append(value_finding(RULE, subject, setting, message, own))
    return findings
