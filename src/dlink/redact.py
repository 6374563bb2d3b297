"""The one redaction every string leaving dlink goes through.

`redact(text)` hides, anywhere in a text (a message, a diff line, a JSON payload, a
child process's output):

- the password of `scheme://user:password@host`: everything from the first `:` of the
  user information to the last `@` before the next URL, so a password with a raw `/`,
  `"`, `'`, blank, `#` or `@` in it cannot leak; a user name that looks like a token
  (`https://ghp_...@`, `https://user%3Atoken@`) is hidden too, an SSH account is not;
- the password of an scp-like remote `user:password@host:path`, and a token used as
  its user (`ghp_xxx@github.com:o/r.git`);
- query parameters that carry secrets (`access_token`, `token`, `private_token`,
  `pat`, `password`, `sig`, anything named like a key, secret or session);
- tokens by their shape: GitHub `ghp_`/`gho_`/`ghu_`/`ghs_`/`ghr_`/`github_pat_`,
  GitLab `glpat-` and its siblings, Bitbucket/Atlassian `ATBB`/`ATCTT`/`ATATT`;
- every secret registered at run time with `register_secret` (a registry token), as
  given and percent-encoded.

Each secret becomes `***`. The work is linear in the length of the text: every scan
starts from a literal (`://`, `@`, `?`/`&`/`;`, a token prefix) and no pattern can
backtrack over more than a bounded window, so a 10 MB value costs a few passes.
Imports nothing of dlink's, so anything may use it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import quote

__all__ = [
    "MASK",
    "clear_registered_secrets",
    "contains_token",
    "has_credentials",
    "looks_like_token",
    "redact",
    "redact_url",
    "register_secret",
]

MASK = "***"

# Prefixes of well-known access tokens: GitHub, GitLab, Bitbucket, Atlassian.
TOKEN_PREFIXES = (
    "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_",
    "glpat-", "gloas-", "gldt-", "glrt-", "glcbt-", "glptt-", "glft-", "glimt-", "glsoat-",
    "ATBB", "ATCTT", "ATATT",
)  # fmt: skip
_TOKEN_PREFIX = r"(?:gh[pousr]_|github_pat_|gl(?:pat|oas|dt|rt|cbt|ptt|ft|imt|soat)-|ATBB|ATCTT|ATATT)"
# Redaction hides a prefix with a few characters after it: better a word too many than a
# shortened token shown.
_TOKEN_SHAPE = re.compile(_TOKEN_PREFIX + r"[A-Za-z0-9_\-]{6,}")
# Deciding that a text *carries* a token (build-push refuses to build) takes a full-length
# one, so that a word which merely starts like a token does not stop a build.
# (Compiled on first use, like the patterns below, by re's own cache: most runs print
# nothing with an `@` or a `=` in it, and only build-push asks about full tokens.)
_FULL_TOKEN = _TOKEN_PREFIX + r"[A-Za-z0-9_\-]{16,}"
# A query (or matrix) parameter: the name is bounded so a failed match costs O(1).
_QUERY_PARAMETER = r"([?&;])([A-Za-z0-9_.\-\[\]]{1,64})=([^&#;\s\"'<>`]*)"
_SECRET_NAME_PARTS = (
    "token", "secret", "passw", "pwd", "auth", "key", "sig", "credential", "session",
)  # fmt: skip
_SECRET_NAMES = frozenset({"pat", "pass", "pw", "code"})

_SCHEME_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-")
# Characters after which a URL starts a new word (so its `://` bounds the previous URL).
_WORD_BOUNDARY = frozenset(" \t\r\f\v\"'`=(<[{,|")
# The user part of a URL's authority, up to whatever ends it.
_USER = r"[^/@:\s?#]*"
_WORD = r"\S+"
# `host:8443/path` is a port, not a password, when what follows is prose.
_PORT = r"[0-9]{1,5}(?:[/?#]|\Z)"
# An image reference pinned by digest: `name:tag@sha256:...` carries no password.
_DIGEST = r"@[a-z0-9]+(?:[+._-][a-z0-9]+)*:[0-9a-fA-F]{32,}"
_SCP_USER_START = r"[\"'`=(<\[{,|]"

_WEB_SCHEMES = frozenset({"http", "https", "git"})
_SSH_SCHEMES = frozenset({"ssh", "git+ssh", "ssh+git", "sftp"})

# Shorter values would blank out ordinary words; registries never issue such tokens.
_MIN_REGISTERED_LENGTH = 4
_registered: set[str] = set()


def register_secret(value: str | None) -> None:
    """Hide `value` (and its percent-encoded form) wherever it appears from now on."""
    if value and len(value) >= _MIN_REGISTERED_LENGTH:
        _registered.add(value)
        encoded = quote(value, safe="")
        if encoded != value:
            _registered.add(encoded)


def clear_registered_secrets() -> None:
    """Forget registered secrets (one process, one run; tests run many)."""
    _registered.clear()


def looks_like_token(user: str) -> bool:
    """Whether a bare URL user name is really a token (git hosts accept tokens as user names)."""
    if user == MASK:
        return False
    if user.startswith(TOKEN_PREFIXES) or len(user) >= 20 or "%3a" in user.lower():
        return True
    has_mixed = any(c.isupper() for c in user) and any(c.islower() for c in user)
    return len(user) >= 12 and has_mixed and any(c.isdigit() for c in user)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with every credential dlink can recognise replaced by `***`; see the module doc.

    `secrets` are extra values to hide in this call only.
    """
    if not text:
        return text
    for secret in (*_registered, *secrets):
        if secret and secret in text:
            text = text.replace(secret, MASK)
    if "@" in text:
        text = "\n".join(_redact_line(line) for line in text.split("\n"))
    if "=" in text:
        text = re.sub(_QUERY_PARAMETER, _query_parameter, text)
    return _TOKEN_SHAPE.sub(MASK, text)


def contains_token(text: str) -> bool:
    """Whether `text` holds a full-length access token of a known shape."""
    return re.search(_FULL_TOKEN, text) is not None


def has_credentials(text: str) -> bool:
    """Whether `redact` would change `text`."""
    return redact(text) != text


def redact_url(url: str) -> str:
    """One URL (or a line of prose quoting URLs) with its credentials hidden.

    A string without blanks is taken as a single URL, so everything up to its last `@`
    counts as user information, even a password with `://` in it.
    """
    body = url.strip()
    if body and not any(character.isspace() for character in body) and "@" in body:
        lead = url[: len(url) - len(url.lstrip())]
        tail = url[len(lead) + len(body) :]
        url = lead + _redact_single(body) + tail
    return redact(url)


def _redact_single(url: str) -> str:
    marker = url.find("://")
    at = url.rfind("@")
    if marker > 0 and all(c in _SCHEME_CHARACTERS for c in url[:marker]) and at > marker:
        scheme = url[:marker].lower()
        start = marker + 3
        return url[:start] + _userinfo(url[start:at], scheme) + url[at:]
    colon = url.find(":")
    if 0 <= colon < at - 1:
        return f"{url[: colon + 1]}{MASK}{url[at:]}"
    if 0 < at and looks_like_token(url[:at]):
        return MASK + url[at:]
    return url


def _userinfo(userinfo: str, scheme: str) -> str:
    user, separator, password = userinfo.partition(":")
    if scheme in _SSH_SCHEMES:
        hide_user = False  # an SSH user name is an account, never a secret
    elif scheme in _WEB_SCHEMES:
        hide_user = looks_like_token(user)
    else:
        hide_user = user != MASK  # a scheme nobody agreed on: assume the worst
    shown_user = MASK if hide_user and user else user
    if separator:
        return f"{shown_user}:{MASK}" if password else f"{shown_user}:"
    return shown_user


def _redact_line(line: str) -> str:
    if "@" not in line:
        return line
    if "://" in line:
        line = _redact_scheme_urls(line)
    return re.sub(_WORD, _redact_scp_word, line)


def _scheme_start(line: str, marker: int) -> int:
    """Where the scheme ending at `marker` (the index of `://`) starts; `marker` if none."""
    start = marker
    while start > 0 and marker - start < 32 and line[start - 1] in _SCHEME_CHARACTERS:
        start -= 1
    while start < marker and not line[start].isalpha():
        start += 1
    return start


def _redact_scheme_urls(line: str) -> str:
    # Each URL: (scheme start, index of "://"). A URL that starts a word bounds the
    # user information of the URL before it; one glued to other text (a `://` inside a
    # password) does not.
    urls: list[tuple[int, int]] = []
    marker = line.find("://")
    while marker >= 0:
        start = _scheme_start(line, marker)
        if start < marker:
            urls.append((start, marker))
        marker = line.find("://", marker + 3)
    if not urls:
        return line
    segment_ends: list[int] = []
    for index, (start, _) in enumerate(urls):
        if index and (start == 0 or line[start - 1] in _WORD_BOUNDARY):
            segment_ends.append(start)
    segment_ends.append(len(line))

    user_part, port_number = re.compile(_USER), re.compile(_PORT)
    pieces: list[str] = []
    done = 0  # line[:done] is already in `pieces`
    segment = 0
    segment_start = 0
    last_at = -2  # the last '@' of the current segment; -2: not looked up yet
    for start, marker in urls:
        while start >= segment_ends[segment]:
            segment_start = segment_ends[segment]
            segment += 1
            last_at = -2
        authority = marker + 3
        if authority < done:
            continue  # inside the user information already hidden
        limit = segment_ends[segment]
        user_end = user_part.match(line, authority, limit)
        assert user_end is not None  # `*` always matches
        stop = user_end.end()
        if stop >= limit:
            continue
        scheme = line[start:marker].lower()
        if line[stop] == "@":
            shown = _userinfo(line[authority:stop], scheme)
            pieces += [line[done:authority], shown]
            done = stop
        elif line[stop] == ":":
            if last_at == -2:
                last_at = line.rfind("@", segment_start, limit)
            port = port_number.match(line, stop + 1)
            if last_at > stop and not (port and _has_space(line, stop, min(last_at, stop + 256))):
                pieces += [line[done:authority], _userinfo(line[authority:last_at], scheme)]
                done = last_at
    pieces.append(line[done:])
    return "".join(pieces)


def _has_space(line: str, start: int, end: int) -> bool:
    return any(character.isspace() for character in line[start:end])


def _redact_scp_word(word_match: re.Match[str]) -> str:
    word = word_match[0]
    at = word.find("@")
    if at < 0:
        return word
    # The user starts after the last quote, `=` or bracket before the '@' (a LABEL
    # value, key=value); a '/' before it means the '@' belongs to a path or a URL.
    head = word[:at]
    user_start = 0
    for found in re.finditer(_SCP_USER_START, head):
        user_start = found.end()
    user = head[user_start:]
    if not user or "/" in user or user.startswith(MASK):
        return word
    if re.compile(_DIGEST).match(word, at):
        return word
    colon = user.find(":")
    if colon >= 0:
        last_at = word.rfind("@")
        password_start = user_start + colon + 1
        if last_at <= password_start or word[password_start:last_at] == MASK:
            return word
        return word[:password_start] + MASK + word[last_at:]
    if looks_like_token(user):
        return word[:user_start] + MASK + word[at:]
    return word


def _query_parameter(parameter: re.Match[str]) -> str:
    name = parameter[2].lower()
    if not parameter[3] or parameter[3] == MASK:
        return parameter[0]
    if name in _SECRET_NAMES or any(part in name for part in _SECRET_NAME_PARTS):
        return f"{parameter[1]}{parameter[2]}={MASK}"
    return parameter[0]
