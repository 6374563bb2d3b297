"""DLK103 source-label-not-canonical: the source label names the right repository in the wrong form.

GitHub links a package only when the label is the repository's web URL: a `.git`
suffix stops the link, and scp/ssh forms (`git@github.com:owner/repo.git`),
`http://`, a missing scheme, `www.`, an upper-case host, a page of the repository
(`/tree/main/sub`, `/blob/...`), blanks around the URL and trailing slashes are
not that URL either. `dlink fix` writes the canonical URL.

Bad:
    LABEL org.opencontainers.image.source="git@github.com:monalisa/my_repo.git"
    LABEL org.opencontainers.image.source="github.com/monalisa/my_repo/tree/main/app"

Good:
    LABEL org.opencontainers.image.source="https://github.com/monalisa/my_repo"
"""

from __future__ import annotations

from dlink.findings import Finding, RuleInfo, Severity
from dlink.rules.base import Subject
from dlink.rules.source_value import ValueKind, interpret, value_finding

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
    from dlink.repo import redact_url, url_has_credentials

    context = subject.context
    meaning = interpret(setting.value, context.repo_url)
    found = meaning.found
    if found is None or meaning.kind is ValueKind.CANONICAL:
        return []  # right, or DLK109's business
    if meaning.kind is ValueKind.OTHER_REPOSITORY and (
        context.remote_naming(found) is None or setting.value == found
    ):
        return []  # DLK102's business (another remote of the checkout is still written right)
    if url_has_credentials(setting.value):
        return []  # DLK104 rewrites it anyway
    value = setting.value
    message = f"source label {redact_url(value)!r} is not the canonical form {found}"
    if value != value.strip():
        message += " (blanks around the URL)"
    elif value.endswith(".git"):
        message += " (a .git suffix stops GitHub from linking the package)"
    # The label's own repository in canonical form: never another repository.
    return [value_finding(RULE, subject, setting, message, found)]
