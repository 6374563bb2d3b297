"""DLK103 source-label-not-canonical: the source label names the right repository in the wrong form.

GitHub links a package only when the label is the repository's web URL: a `.git`
suffix stops the link, and scp/ssh forms (`git@github.com:owner/repo.git`),
`http://` and trailing slashes are not web URLs either.

Bad:
    LABEL org.opencontainers.image.source="git@github.com:monalisa/my_repo.git"

Good:
    LABEL org.opencontainers.image.source="https://github.com/monalisa/my_repo"
"""

from __future__ import annotations

from dlink.findings import Finding, RuleInfo, Severity
from dlink.rules.base import Subject
from dlink.rules.source_value import source_repository, value_finding

RULE = RuleInfo(
    code="DLK103",
    name="source-label-not-canonical",
    severity=Severity.WARNING,
    fixable=True,
    summary="The source label is not the repository's canonical https URL.",
    doc=__doc__ or "",
)


def check(subject: Subject) -> list[Finding]:
    setting = subject.source_setting()
    if setting is None or setting.unresolved:
        return []
    from dlink.repo import redact_url, same_repository, url_has_credentials

    found = source_repository(setting.value)
    if found is None:
        return []
    context = subject.context
    repo_url = context.repo_url
    if (
        repo_url is not None
        and not same_repository(found, repo_url)
        and context.remote_naming(found) is None
    ):
        return []  # DLK102's business
    if url_has_credentials(setting.value):
        return []  # DLK104 rewrites it anyway
    value = setting.value.strip()
    if value == found or value == repo_url:
        return []
    message = f"source label {redact_url(value)!r} is not the canonical form {found}"
    if value.endswith(".git"):
        message += " (a .git suffix stops GitHub from linking the package)"
    # The label's own repository in canonical form: never another repository.
    return [value_finding(RULE, subject, setting, message, found)]
