"""Reading and rewriting the value of the source label, shared by DLK102-DLK104 and DLK109."""

from __future__ import annotations

import re
from enum import Enum
from typing import TYPE_CHECKING

from dlink.errors import DlinkError
from dlink.findings import Edit, Finding, RuleInfo
from dlink.record import Record
from dlink.rules.base import Subject, finding_at, has_variables, quote_value

if TYPE_CHECKING:
    from dlink.model import LabelSetting

# Path segments after OWNER/REPO that name a page of the repository, not another one:
# GitHub's /tree/<ref>/<dir>, /blob/<ref>/<file>, GitLab's /-/tree/..., Bitbucket's /src/...
_PAGE_SEGMENTS = frozenset({"tree", "blob", "-", "src", "commit", "commits", "releases", "raw"})
# Compiled on first use (by re's own cache), like _FALLBACK: most values are plain URLs.
_HOST_LIKE = r"[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+(:\d+)?\Z"
# `${NAME:-WORD}` or `${NAME-WORD}` as the whole value (optionally in double quotes),
# with a literal WORD: what `fix` may rewrite when the value comes from a fallback.
_FALLBACK = r'\A("?)\$\{([A-Za-z_][A-Za-z0-9_]*):?-([^"\'$`\\{}\s]*)\}\1\Z'


class ValueKind(Enum):
    CANONICAL = "canonical"  # the repository's URL as it should be written
    OTHER_FORM = "other-form"  # the same repository written another way (DLK103)
    OTHER_REPOSITORY = "other-repository"  # a URL of something else (DLK102)
    PLACEHOLDER = "placeholder"  # not a URL at all: empty, `unknown`, `TODO` (DLK109)


class SourceValue(Record):
    __slots__ = ("kind", "found")
    kind: ValueKind
    found: str | None  # the canonical URL of the repository the value names, if any

    def __init__(self, kind: ValueKind, found: str | None) -> None:
        self.kind = kind
        self.found = found


def _normalise(text: str) -> str | None:
    from dlink.repo import normalise_remote_url

    try:
        return normalise_remote_url(text)
    except DlinkError:
        return None


def _as_repository_url(value: str) -> str | None:
    """The repository a label value names, reading it as people write it in labels:
    without a scheme, with `www.`, or pointing at a page of the repository."""
    found = _normalise(value)
    if found is None:
        first = value.split("/", 1)[0]
        if "://" not in value and re.match(_HOST_LIKE, first) and "/" in value:
            found = _normalise("https://" + value)
    if found is None:
        return None
    host, _, path = found[len("https://") :].partition("/")
    host = host.removeprefix("www.")
    segments = path.split("/")
    if host == "github.com":
        segments = segments[:2]  # always OWNER/REPO; anything after is a page of it
    for index, segment in enumerate(segments[2:], start=2):
        if segment.lower() in _PAGE_SEGMENTS:
            segments = segments[:index]
            break
    return f"https://{host}/{'/'.join(segments)}"


def interpret(value: str, repo_url: str | None) -> SourceValue:
    """What a source label value means for the repository holding the file (None: unknown,
    so no value counts as another repository)."""
    from dlink.repo import same_repository

    text = value.strip()
    if not text:
        return SourceValue(ValueKind.PLACEHOLDER, None)
    found = _as_repository_url(text)
    if found is None:
        url_like = any(mark in text for mark in ("://", "/", "@", "."))
        return SourceValue(ValueKind.OTHER_REPOSITORY if url_like else ValueKind.PLACEHOLDER, None)
    if repo_url is not None and not same_repository(found, repo_url):
        return SourceValue(ValueKind.OTHER_REPOSITORY, found)
    if value == repo_url or value == found:
        return SourceValue(ValueKind.CANONICAL, found)
    return SourceValue(ValueKind.OTHER_FORM, found)


def source_repository(value: str) -> str | None:
    """The canonical repository URL a label value names, or None when it names none."""
    return _as_repository_url(value.strip())


def replace_source(subject: Subject, setting: LabelSetting, url: str) -> Edit | None:
    """Rewrite the value to `url`, in the token's quote style.

    A value written as `${NAME:-URL}` gets its fallback word rewritten and keeps
    the variable; any other value built from variables is left alone (None).
    """
    token = setting.token.value
    if not has_variables(token.text):
        return Edit(token.start, token.end, quote_value(url, token.text, subject.dockerfile.escape))
    match = re.match(_FALLBACK, token.text)
    if match is None or quote_value(url, "", subject.dockerfile.escape) != url:
        return None
    if match.group(2) in subject.context.build_args or setting.value != match.group(3):
        return None  # the value is not the fallback's (a build argument gives it)
    return Edit(token.start + match.start(3), token.start + match.end(3), url)


def value_finding(
    rule: RuleInfo, subject: Subject, setting: LabelSetting, message: str, url: str | None = None
) -> Finding:
    """A finding on the label's value token, fixed by writing `url` (default: the repository's).

    Fixable only when there is a URL to write and the value is written in the file (or is
    the fallback of `${NAME:-URL}`): any other value that comes from a variable is the
    user's parametrisation, reported and never replaced by a literal.
    """
    token = setting.token.value
    url = url if url is not None else subject.context.repo_url
    edit = replace_source(subject, setting, url) if url is not None else None
    return finding_at(rule, subject, token.start, token.end, message, (edit,) if edit else ())
