"""Reading and rewriting the value of the source label, shared by DLK102-DLK104."""

from __future__ import annotations

from dlink.errors import DlinkError
from dlink.findings import Edit, Finding, RuleInfo
from dlink.model import LabelSetting
from dlink.rules.base import Subject, finding_at, has_variables, quote_value


def source_repository(value: str) -> str | None:
    """The canonical repository URL a label value names, or None when it names none."""
    from dlink.repo import normalise_remote_url

    try:
        return normalise_remote_url(value.strip())
    except DlinkError:
        return None


def replace_source(subject: Subject, setting: LabelSetting, url: str) -> Edit:
    """Rewrite the value token to `url`, in the token's quote style."""
    token = setting.token.value
    value = quote_value(url, token.text, subject.dockerfile.escape)
    return Edit(token.start, token.end, value)


def value_finding(
    rule: RuleInfo, subject: Subject, setting: LabelSetting, message: str, url: str | None = None
) -> Finding:
    """A finding on the label's value token, fixed by writing `url` (default: the repository's).

    Fixable only when the value is written in the file and there is a URL to write: a
    value that comes from a variable is the user's parametrisation, reported and never
    replaced by a literal.
    """
    token = setting.token.value
    url = url if url is not None else subject.context.repo_url
    fixable = url is not None and not has_variables(token.text)
    edits = (replace_source(subject, setting, url),) if fixable and url is not None else ()
    return finding_at(rule, subject, token.start, token.end, message, edits)
