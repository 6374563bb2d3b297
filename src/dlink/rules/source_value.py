"""Reading and rewriting the value of the source label, shared by DLK102-DLK104."""

from __future__ import annotations

from dlink.errors import DlinkError
from dlink.findings import Edit
from dlink.model import LabelSetting
from dlink.rules.base import Subject, quote_value


def source_repository(value: str) -> str | None:
    """The canonical repository URL a label value names, or None when it names none."""
    from dlink.repo import normalise_remote_url

    try:
        return normalise_remote_url(value.strip())
    except DlinkError:
        return None


def replace_source(subject: Subject, setting: LabelSetting) -> Edit:
    """Rewrite the value token to the repository's canonical URL, in the token's quote style."""
    token = setting.token.value
    value = quote_value(subject.context.repo_url, token.text, subject.dockerfile.escape)
    return Edit(token.start, token.end, value)
