"""DLK102 source-label-mismatch: the source label points at another repository.

The label must name the repository that holds the Dockerfile (--repo-url, repo-url
in config, the CI's variables, or the checkout's git remote). A mirror or a copied
Dockerfile often carries someone else's URL, and the package then links to the
wrong repository or to none (GitHub links only when the image and the repository
share an owner). A value written as `${NAME:-URL}` after `ARG NAME` is the
fallback the build uses unless it passes NAME: that fallback is checked, and
`fix` rewrites the fallback word only. A value that is no URL at all (empty,
`TODO`) is DLK109, never this rule.

A label naming another remote of the same checkout (the fork's `origin` next to the
project's `upstream`) is not an error: it is reported as information, with how to
pin the remote you mean. A label that differs from the remote only by owner or by
name is said to be perhaps a stale remote (a transferred or renamed repository).

Repointing a label at another repository is an unsafe fix unless the repository
came from --repo-url, repo-url or the CI: `dlink fix` applies it only with
--unsafe-fixes (or `unsafe-fixes = true`). Without a repository (no git, no remote)
this rule does not run; dlink says so once.

Bad:
    LABEL org.opencontainers.image.source="https://github.com/someone-else/my_repo"

Good:
    LABEL org.opencontainers.image.source="https://github.com/monalisa/my_repo"
"""

from __future__ import annotations

from dlink.findings import Finding, RuleInfo, Severity
from dlink.rules.base import Subject, has_variables
from dlink.rules.source_value import ValueKind, interpret, source_repository, value_finding

RULE = RuleInfo(
    code="DLK102",
    name="source-label-mismatch",
    severity=Severity.ERROR,
    fixable=True,
    summary="The source label points at another repository than the one holding the file.",
    doc=__doc__ or "",
)


# Other labels that often name the project's page; when they agree with the source
# label and not with the remote, the remote is the odd one out.
_PAGE_KEYS = ("org.opencontainers.image.url", "org.opencontainers.image.documentation")


def check(subject: Subject) -> list[Finding]:
    context = subject.context
    repo_url = context.repo_url
    setting = subject.source_setting()
    if repo_url is None or setting is None or setting.unresolved:
        return []
    meaning = interpret(setting.value, repo_url)
    if meaning.kind is not ValueKind.OTHER_REPOSITORY:
        return []
    found = meaning.found
    from dlink.repo import differs_by_owner_or_name, redact_url

    origin = f" ({context.repo_source})" if context.repo_source else ""
    other = context.remote_naming(found) if found is not None else None
    if other is not None:
        message = (
            f"source label names remote {other!r} ({found}); dlink takes the repository from "
            f"{context.repo_source or 'elsewhere'} ({repo_url}): both are remotes of this "
            f'checkout; to make one the rule, set remote = "{other}" or repo-url = "URL" '
            "in the dlink config"
        )
        finding = value_finding(RULE, subject, setting, message)
        return [finding.replace(severity=Severity.INFO, fixable=False, edits=())]

    shown = redact_url(setting.value)
    message = f"source label is {shown!r}, but this file belongs to {repo_url}{origin}"
    if has_variables(setting.token.value.text):
        message += " (the value comes from a variable: change its default or the build argument)"
    if not context.repo_authoritative:
        named = [found] if found is not None else []
        named += [
            page
            for label in subject.image_labels()
            if label.key in _PAGE_KEYS and (page := source_repository(label.value)) is not None
        ]
        if any(differs_by_owner_or_name(url, repo_url) for url in named):
            message += (
                "; the remote may be stale (the repository transferred or renamed: "
                "`git remote set-url`), or this checkout is a fork"
            )
    finding = value_finding(RULE, subject, setting, message)
    return [
        finding.replace(
            fix_safe=context.repo_authoritative,
            fix_title=f"repoint the label from {shown} to {repo_url}",
        )
    ]
