"""The repository a file belongs to, as the canonical web URL of that repository.

Two halves. Pure functions over URL strings (normalise, redact, compare, pick a
remote, apply `insteadOf`) that never touch the disk. And `RepoResolver`, which
finds each file's checkout by looking for `.git` upward (a few `stat` calls, cached
per directory), then asks git about each checkout once for the whole run: two `git`
processes per repository, however many files and directories it holds. Plain `git`
subprocesses, not GitPython: the two facts dlink needs (the top of the working tree
and the configuration) are one command each, and GitPython's import alone cost
50-70 ms of every run.

Credentials are common in remote URLs (`https://x-access-token:TOKEN@github.com/...`).
Nothing this module returns or raises carries them: identities hold the redacted
remote URL, and every error message quotes URLs through `redact_url`.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from dlink.errors import DlinkError
from dlink.record import Record

if TYPE_CHECKING:
    from dlink.config import Config

__all__ = [
    "ConfigEntry",
    "HeadFacts",
    "NoRepository",
    "RepoIdentity",
    "RepoResolver",
    "apply_instead_of",
    "choose_remote",
    "ci_repository_url",
    "differs_by_owner_or_name",
    "gh_default_remote",
    "head_facts",
    "normalise_remote_url",
    "parse_config_listing",
    "redact_url",
    "remote_urls",
    "resolve_repository",
    "same_repository",
    "url_has_credentials",
    "url_rewrites",
]

SOURCE_FLAG = "flag"
SOURCE_CONFIG = "config"
SOURCE_CI_GITHUB = "ci:github"
SOURCE_CI_GITLAB = "ci:gitlab"
SOURCE_REMOTE_PREFIX = "remote:"

REPO_URL_HINT = "pass the repository's web URL, e.g. --repo-url https://github.com/OWNER/REPO"

# --------------------------------------------------------------------------- URLs

# Every run normalises its remote's URL, so the common tests are plain string tests
# (compiling their regexes cost more than the run uses them); the rare ones are
# patterns that `re` compiles, and caches, on first use.
_ASCII_LETTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_SCHEME_CHARACTERS = _ASCII_LETTERS | frozenset("0123456789+.-")
_HOST_ENDS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
_HOST_CHARACTERS = _HOST_ENDS | frozenset("_.-")
# Control characters, and what a path in a URL cannot hold unescaped.
_BAD_PATH_CHARS = frozenset([*map(chr, range(0x20)), "\x7f", "\\", "[", "]"])
_DOS_DRIVE = r"[A-Za-z]:(?:[\\/]|\Z)"
_IPV6_HOST = r"\[[0-9a-f:.]+(?:%25[0-9a-z._~-]+)?\]\Z"
_WEB_SCHEMES = frozenset({"http", "https"})
_SSH_SCHEMES = frozenset({"ssh", "git+ssh", "ssh+git"})
_GIT_SCHEMES = frozenset({"git"})

# Hosts that serve git over SSH on port 443 (for networks that block port 22) or
# that redirect to the canonical name; the repository page lives on the canonical one.
_HOST_ALIASES = {
    "ssh.github.com": "github.com",
    "www.github.com": "github.com",
    "altssh.gitlab.com": "gitlab.com",
    "altssh.bitbucket.org": "bitbucket.org",
}
# On these hosts a repository is always OWNER/REPO (or deeper on GitLab); a single
# segment is a user or group page, never a repository.
_OWNER_REPO_HOSTS = frozenset({"github.com", "gitlab.com", "bitbucket.org"})
_AZURE_SSH_HOSTS = frozenset({"ssh.dev.azure.com", "vs-ssh.visualstudio.com"})


def _scheme_before(text: str, separator: str) -> str | None:
    """The scheme when `text` starts with `SCHEME` + `separator` (`://`, or `::` for a
    remote helper): a letter, then letters, digits, `+`, `.` or `-`; else None."""
    colon = text.find(":")
    scheme = text[:colon]
    if (
        colon > 0
        and text.startswith(separator, colon)
        and scheme[0] in _ASCII_LETTERS
        and _SCHEME_CHARACTERS.issuperset(scheme)
    ):
        return scheme
    return None


def _is_hostname(host: str) -> bool:
    """A lower-case DNS-like name: letters, digits, `_`, `.`, `-`; a letter or digit at
    each end (IPv4 addresses included)."""
    return (
        bool(host)
        and host[0] in _HOST_ENDS
        and host[-1] in _HOST_ENDS
        and _HOST_CHARACTERS.issuperset(host)
    )


def _not_hosted(url: str, reason: str) -> DlinkError:
    return DlinkError(
        f"cannot use {redact_url(url)!r} as a repository URL: {reason}", hint=REPO_URL_HINT
    )


def _split_host_port(url: str, authority: str) -> tuple[str, int | None]:
    if authority.startswith("["):
        close = authority.find("]")
        if close < 0:
            raise _not_hosted(url, "the IPv6 host has no closing ']'")
        host, tail = authority[: close + 1], authority[close + 1 :]
        if tail and not tail.startswith(":"):
            raise _not_hosted(url, "unexpected text after the host")
        port_text = tail[1:]
    else:
        host, _, port_text = authority.partition(":")
    if not port_text:
        return host, None
    if not (port_text.isascii() and port_text.isdigit()) or not 0 < int(port_text) < 65536:
        raise _not_hosted(url, f"{port_text!r} is not a port")
    return host, int(port_text)


def _check_host(url: str, host: str) -> str:
    host = host.lower()
    if not host:
        raise _not_hosted(url, "it has no host")
    if not (_is_hostname(host) or re.match(_IPV6_HOST, host)):
        raise _not_hosted(url, "the host is not a valid host name")
    return _HOST_ALIASES.get(host, host)


_PERCENT_ESCAPE = r"%([0-9A-Fa-f]{2})"
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def _percent_normalised(segment: str) -> str:
    """RFC 3986 6.2.2: decode escaped unreserved characters, upper-case the other escapes.

    `wid%67et` and `widget` are one repository; `%2f` and `%2F` one escape.
    """

    def one(escape: re.Match[str]) -> str:
        character = chr(int(escape[1], 16))
        return character if character in _UNRESERVED else "%" + escape[1].upper()

    return re.sub(_PERCENT_ESCAPE, one, segment) if "%" in segment else segment


def _path_segments(url: str, path: str) -> list[str]:
    if not _BAD_PATH_CHARS.isdisjoint(path):
        raise _not_hosted(url, "the path contains characters a repository path cannot have")
    # Empty segments are how '/', '//' and a trailing '/' show up; none names anything.
    segments = [
        _percent_normalised(segment) for segment in path.replace(" ", "%20").split("/") if segment
    ]
    # After decoding, so that '%2e%2e' is caught too.
    if any(segment in {".", ".."} for segment in segments):
        raise _not_hosted(url, "the path has '.' or '..' segments")
    if not segments:
        raise _not_hosted(url, "it names a host but no repository")
    return segments


# Web pages inside a repository (`/tree/main`, `/blob/main/Dockerfile`): the repository is
# what comes before them. GitLab puts `/-/` before its pages; GitHub (and Enterprise,
# Gitea, Forgejo) use `tree`/`blob` right after OWNER/REPO.
_WEB_PAGE_SEGMENTS = frozenset({"tree", "blob"})
_TWO_SEGMENT_HOSTS = frozenset({"github.com", "bitbucket.org"})


def _repository_segments(host: str, segments: list[str]) -> list[str]:
    if "-" in segments[2:]:
        segments = segments[: segments.index("-", 2)]
    page_follows = len(segments) > 2 and segments[2] in _WEB_PAGE_SEGMENTS
    if host in _TWO_SEGMENT_HOSTS or (page_follows and host != "gitlab.com"):
        segments = segments[:2]
    # Every `.git` goes: `r.git.git` is `r` (neither GitHub nor GitLab allows a
    # repository name ending in .git), so normalising a normalised URL changes nothing.
    while segments and segments[-1].endswith(".git"):
        segments[-1] = segments[-1][: -len(".git")]
        if not segments[-1]:
            segments.pop()
    return segments


def _azure(url: str, host: str, segments: list[str]) -> tuple[str, list[str]]:
    """Azure DevOps SSH and legacy visualstudio.com URLs -> dev.azure.com/ORG/PROJECT/_git/REPO."""
    if host in _AZURE_SSH_HOSTS:
        if len(segments) != 4 or segments[0] != "v3":
            raise _not_hosted(url, "an Azure DevOps SSH path is v3/ORGANIZATION/PROJECT/REPO")
        _, organization, project, repository = segments
        return "dev.azure.com", [organization, project, "_git", repository]
    if host.endswith(".visualstudio.com"):
        organization = host[: -len(".visualstudio.com")]
        if "." in organization:
            return host, segments
        if segments[0].lower() == "defaultcollection":
            segments = segments[1:]
        return "dev.azure.com", [organization, *segments]
    return host, segments


def normalise_remote_url(url: str, *, ssh_hostname: Callable[[str], str] | None = None) -> str:
    """The canonical `https://host[:port]/path` web URL of the repository a git URL names.

    Accepts every form git accepts for a hosted repository: scp-like `git@host:o/r.git`
    (also `git@host:/abs/path`), `ssh://`, `git+ssh://`, `git://`, `http(s)://`, IPv6
    hosts in brackets, and a repository's web pages (`.../tree/main`, `.../-/blob/x`).
    Drops user names, passwords and tokens, SSH and git-daemon ports, every `.git`
    suffix and escapes of plain characters; keeps a non-default HTTPS port. Normalising
    a normalised URL gives it back unchanged. `ssh_hostname` maps the host of an SSH
    URL to the host it really connects to (an alias in ~/.ssh/config); without it the
    function is pure. Raises `DlinkError` for local paths, `file://`, remote helpers
    (`s3::...`) and anything that is not a URL.
    """
    if ssh_hostname is not None:
        return _normalise(url, ssh_hostname)
    # Rules compare the same few URLs for every file of a run: remember the answers.
    known = _NORMALISED.get(url)
    if known is None:
        try:
            known = _normalise(url, None)
        except DlinkError as error:
            known = error
        if len(_NORMALISED) >= _NORMALISED_LIMIT:
            _NORMALISED.clear()
        _NORMALISED[url] = known
    if isinstance(known, DlinkError):
        raise DlinkError(known.message, known.hint)
    return known


_NORMALISED: dict[str, str | DlinkError] = {}
_NORMALISED_LIMIT = 4096


def _normalise(url: str, ssh_hostname: Callable[[str], str] | None) -> str:
    text = url.strip()
    if not text:
        raise _not_hosted(url, "it is empty")
    if _scheme_before(text, "::") is not None:
        raise _not_hosted(url, "it goes through a git remote helper, which has no web page")

    scheme_text = _scheme_before(text, "://")
    if scheme_text is not None:
        scheme, rest = scheme_text.lower(), text[len(scheme_text) + 3 :]
        if scheme == "file":
            raise _not_hosted(url, "it is a local path, not a hosted repository")
        if scheme not in _WEB_SCHEMES | _SSH_SCHEMES | _GIT_SCHEMES:
            raise _not_hosted(url, f"dlink does not know the {scheme}:// scheme")
        # Everything up to the LAST '@' is user information: a password with an
        # unescaped '@', '/' or '#' must never be mistaken for a host or a path.
        rest = rest[rest.rfind("@") + 1 :]
        if scheme in _WEB_SCHEMES:
            rest = rest.partition("?")[0].partition("#")[0]
        authority, _, path = rest.partition("/")
        host_text, port = _split_host_port(url, authority)
        if scheme in _SSH_SCHEMES and ssh_hostname is not None and not host_text.startswith("["):
            host_text = ssh_hostname(host_text)
    else:
        colon, slash = text.find(":"), text.find("/")
        # git's own rule: scp-like only when a ':' comes before any '/'.
        if colon < 0 or 0 <= slash < colon or re.match(_DOS_DRIVE, text):
            raise _not_hosted(url, "it is a local path, not a hosted repository")
        scheme, port = "ssh", None
        rest = text[text.rfind("@") + 1 :]
        if rest.startswith("["):
            close = rest.find("]")
            if close < 0 or rest[close + 1 : close + 2] != ":":
                raise _not_hosted(url, "it is not a URL git understands")
            host_text, path = rest[: close + 1], rest[close + 2 :]
        else:
            host_text, separator, path = rest.partition(":")
            if not separator:
                raise _not_hosted(url, "it is not a URL git understands")
            if ssh_hostname is not None:
                host_text = ssh_hostname(host_text)

    host = _check_host(url, host_text)
    segments = _path_segments(url, path)
    azure_host, segments = _azure(url, host, segments)
    if azure_host != host:
        host, port = azure_host, None
    segments = _repository_segments(host, segments)
    if not segments:
        raise _not_hosted(url, "it names a host but no repository")
    if host in _OWNER_REPO_HOSTS and len(segments) < 2:
        raise _not_hosted(url, f"a repository on {host} is OWNER/REPO")

    # The web page of an SSH or git-daemon remote is on the default HTTPS port; the
    # port of an http(s) remote is the web server's own and stays.
    keep_port = scheme in _WEB_SCHEMES and port is not None
    if keep_port and (port == 443 or (scheme == "http" and port == 80)):
        keep_port = False
    authority = f"{host}:{port}" if keep_port else host
    return f"https://{authority}/{'/'.join(segments)}"


def redact_url(url: str) -> str:
    """`url` with passwords and tokens replaced by `***`; safe on any string.

    Delegates to `dlink.redact`, the one redactor of everything dlink prints.
    """
    from dlink.redact import redact_url as redact_one

    return redact_one(url)


def url_has_credentials(url: str) -> bool:
    """Whether `url` carries a password or token (a plain `git@` SSH user is not one)."""
    return redact_url(url) != url


def _paths_ignore_case(authority: str) -> bool:
    """Whether the host is GitHub, which routes `Acme/Widget` and `acme/widget` alike.

    GitHub Enterprise has no fixed name: Cloud is `*.ghe.com`, Server is by convention
    `github.*` or `ghe.*`. Other forges keep the path's case (a false "different" costs a
    finding whose fix is unsafe; a false "same" would hide a wrong label).
    """
    host = authority.partition(":")[0] if not authority.startswith("[") else authority
    return host == "github.com" or host.endswith(".ghe.com") or host.startswith(("github.", "ghe."))


def _split_canonical(url: str) -> tuple[str, str]:
    """(authority, path) of a URL `normalise_remote_url` returned; the path in the host's case rule."""
    authority, _, path = url[len("https://") :].partition("/")
    return authority, path.lower() if _paths_ignore_case(authority) else path


def same_repository(a: str, b: str) -> bool:
    """Whether two URLs name the same repository, whatever their form.

    Hosts compare case-insensitively; on GitHub (github.com and Enterprise) so do the
    paths, which GitHub routes that way; elsewhere the path is case-sensitive. A string that is not a hosted repository URL
    is the same as nothing.
    """
    try:
        first, second = normalise_remote_url(a), normalise_remote_url(b)
    except DlinkError:
        return False
    return first == second or _split_canonical(first) == _split_canonical(second)


def differs_by_owner_or_name(a: str, b: str) -> bool:
    """Whether `a` and `b` are on one host and differ only in owner or only in name.

    That is what a transferred or renamed repository looks like next to an old clone
    (and what a fork looks like next to its parent).
    """
    try:
        first, second = normalise_remote_url(a), normalise_remote_url(b)
    except DlinkError:
        return False
    first_host, first_path = _split_canonical(first)
    second_host, second_path = _split_canonical(second)
    if first_host != second_host or first_path == second_path:
        return False
    first_owner, _, first_name = first_path.rpartition("/")
    second_owner, _, second_name = second_path.rpartition("/")
    return bool(first_owner and second_owner) and (
        first_owner == second_owner or first_name == second_name
    )


def ci_repository_url(env: Mapping[str, str]) -> tuple[str, str] | None:
    """`(source, url)` of the repository a CI job builds, from the CI's own variables."""
    if env.get("GITHUB_ACTIONS") == "true":
        server = env.get("GITHUB_SERVER_URL", "").strip().rstrip("/")
        repository = env.get("GITHUB_REPOSITORY", "").strip().strip("/")
        if server and repository:
            return SOURCE_CI_GITHUB, f"{server}/{repository}"
    if env.get("GITLAB_CI") == "true":
        project = env.get("CI_PROJECT_URL", "").strip()
        if project:
            return SOURCE_CI_GITLAB, project
    return None


# ------------------------------------------------------------------ git config, pure


class ConfigEntry(Record):
    """One line of `git config --list`: key split into its parts, in git's order."""

    __slots__ = ("section", "subsection", "name", "value")

    def __init__(self, section: str, subsection: str | None, name: str, value: str | None) -> None:
        self.section = section  # lower-cased by git
        self.subsection = subsection  # case kept, may contain dots
        self.name = name  # lower-cased by git
        self.value = value  # None for a bare boolean key


def parse_config_listing(listing: bytes) -> list[ConfigEntry]:
    """Parse `git config -z --list --show-scope` output (scope dropped)."""
    fields = listing.decode("utf-8", errors="replace").split("\0")
    entries: list[ConfigEntry] = []
    # Fields alternate: scope, then "key\nvalue" (or just "key"); a trailing "" ends it.
    for key_and_value in fields[1::2]:
        key, newline, value = key_and_value.partition("\n")
        section, _, remainder = key.partition(".")
        subsection, dot, name = remainder.rpartition(".")
        entries.append(
            ConfigEntry(section, subsection if dot else None, name, value if newline else None)
        )
    return entries


def remote_urls(entries: Sequence[ConfigEntry]) -> dict[str, list[str]]:
    """Each remote's `url` values in the order git reads them (first one is used)."""
    urls: dict[str, list[str]] = {}
    for entry in entries:
        if (
            entry.section == "remote"
            and entry.subsection is not None
            and entry.name == "url"
            and entry.value is not None
        ):
            urls.setdefault(entry.subsection, []).append(entry.value)
    return urls


def url_rewrites(entries: Sequence[ConfigEntry]) -> list[tuple[str, str]]:
    """`(prefix, base)` pairs from `url.<base>.insteadOf`, in the order git tries them."""
    by_base: dict[str, list[str]] = {}
    for entry in entries:
        if (
            entry.section == "url"
            and entry.subsection is not None
            and entry.name == "insteadof"
            and entry.value is not None
        ):
            by_base.setdefault(entry.subsection, []).append(entry.value)
    # git groups rewrites by base in order of the base's first appearance.
    return [(prefix, base) for base, prefixes in by_base.items() for prefix in prefixes]


def apply_instead_of(url: str, rewrites: Sequence[tuple[str, str]]) -> str:
    """The URL git uses for `url`: the longest matching `insteadOf` prefix replaced.

    Ties go to the rule git meets first, as in git's own `alias_url`.
    """
    best: tuple[str, str] | None = None
    for prefix, base in rewrites:
        if url.startswith(prefix) and (best is None or len(prefix) > len(best[0])):
            best = (prefix, base)
    return url if best is None else best[1] + url[len(best[0]) :]


def gh_default_remote(entries: Sequence[ConfigEntry]) -> str | None:
    """The remote `gh repo set-default` chose: `remote.<name>.gh-resolved = base`."""
    for entry in entries:
        if (
            entry.section == "remote"
            and entry.subsection is not None
            and entry.name == "gh-resolved"
            and entry.value == "base"
        ):
            return entry.subsection
    return None


# The GitHub CLI's order: in a fork clone `upstream` is the project and `origin` the
# fork; `gh pr checkout` adds the contributor's fork as a remote and makes the branch
# track it. The project is never "whatever the current branch tracks".
PREFERRED_REMOTES = ("upstream", "github", "origin")


def choose_remote(
    names: Sequence[str],
    *,
    requested: str | None,
    requested_by: str = "--remote",
    gh_default: str | None = None,
    where: str,
) -> tuple[str, str]:
    """Which remote names the repository, and why: `(name, reason)`.

    The requested one; else the one `gh repo set-default` chose; else `upstream`, then
    `github`, then `origin`, as the GitHub CLI prefers them; else the only one. Raises
    `NoRepository` when there is no remote at all, `DlinkError` when the choice is
    impossible or ambiguous.
    """
    if requested is not None:
        if requested in names:
            return requested, f"chosen with {requested_by}"
        known = ", ".join(sorted(names)) or "none"
        raise DlinkError(
            f"{where} has no remote named {requested!r} (remotes: {known})",
            hint="pick one of its remotes with --remote NAME, or pass --repo-url",
        )
    if gh_default is not None and gh_default in names:
        return gh_default, "chosen with `gh repo set-default`"
    for candidate in PREFERRED_REMOTES:
        if candidate in names:
            return candidate, f"named {candidate!r} (dlink prefers upstream, github, origin)"
    if len(names) == 1:
        return names[0], "the only remote"
    if not names:
        raise NoRepository(
            f"{where} has no git remote to take the repository URL from",
            hint="add one with `git remote add origin https://HOST/OWNER/REPO`, or pass --repo-url",
        )
    raise DlinkError(
        f"cannot tell which remote of {where} names the repository: {', '.join(sorted(names))}",
        hint="pick one with --remote NAME (or `remote =` in the dlink config), or pass --repo-url",
    )


# ---------------------------------------------------------------------- git, I/O


class NoRepository(DlinkError):
    """There is no repository to ask: not a git checkout, or a checkout without a remote.

    `check` and `fix` still run the rules that need no repository; commands that need
    one (`repo`, `build-push`) report it as an error.
    """


class RepoIdentity(Record):
    """Which repository a file belongs to and how dlink found out.

    `source` is "flag", "config", "ci:github", "ci:gitlab" or "remote:<name>".
    `remote_url` is the URL git fetches from, already redacted (None when the URL did
    not come from a remote); `root` is the top of the working tree (None likewise).
    `reason` says why that remote was chosen; `remotes` maps every remote of the
    checkout whose URL names a hosted repository to that repository's URL.
    """

    __slots__ = ("url", "source", "remote_url", "root", "reason", "remotes")

    def __init__(
        self,
        url: str,
        source: str,
        remote_url: str | None,
        root: Path | None,
        reason: str = "",
        remotes: tuple[tuple[str, str], ...] = (),
    ) -> None:
        self.url = url
        self.source = source
        self.remote_url = remote_url
        self.root = root
        self.reason = reason
        self.remotes = remotes

    @property
    def remote(self) -> str | None:
        """The remote the URL came from (None when it did not come from one)."""
        return self.source[len(SOURCE_REMOTE_PREFIX) :] if self.from_remote else None

    @property
    def from_remote(self) -> bool:
        return self.source.startswith(SOURCE_REMOTE_PREFIX)

    @property
    def authoritative(self) -> bool:
        """Whether the user or the CI said which repository this is (not a remote's guess).

        Only then may `fix` repoint a label at it without --unsafe-fixes.
        """
        return not self.from_remote


class HeadFacts(Record):
    """What a build records about the checkout: HEAD commit, uncommitted changes, last tag."""

    __slots__ = ("commit", "dirty", "tag")

    def __init__(self, commit: str | None, dirty: bool, tag: str | None) -> None:
        self.commit = commit  # None before the first commit
        self.dirty = dirty  # tracked files differ from HEAD (untracked files do not count)
        self.tag = tag  # `git describe --tags --abbrev=0`; None when no tag is reachable


class _Checkout(Record):
    __slots__ = ("root", "entries")

    def __init__(self, root: Path, entries: tuple[ConfigEntry, ...]) -> None:
        self.root = root
        self.entries = entries


# Variables that point git at a repository (a git hook exports GIT_DIR, for one). dlink
# asks about the repository holding a file, so git must find it from the directory.
_REPOSITORY_LOCATING_VARIABLES = (
    "GIT_DIR", "GIT_WORK_TREE", "GIT_IMPLICIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR",
    "GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_PREFIX",
)  # fmt: skip


def _run_git(cwd: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if k not in _REPOSITORY_LOCATING_VARIABLES}
    # Reading must not take index.lock: an editor or another git may be running.
    env["GIT_OPTIONAL_LOCKS"] = "0"
    try:
        return subprocess.run(
            ["git", *args],
            cwd=cwd,
            env=env,
            capture_output=True,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except OSError as error:
        raise DlinkError(
            f"cannot run git: {error.strerror}", hint="install git, or pass --repo-url"
        ) from None


def _git_message(completed: subprocess.CompletedProcess[bytes]) -> str:
    lines = completed.stderr.decode("utf-8", errors="replace").strip().splitlines()
    return redact_url(lines[0]) if lines else f"git exited with status {completed.returncode}"


def _directory_of(path: Path) -> Path:
    try:
        is_directory = stat.S_ISDIR(os.stat(path).st_mode)  # one stat: this runs per file
    except OSError:
        if not os.path.islink(path):
            raise DlinkError(
                f"{path}: no such file or directory",
                hint="give a Dockerfile or a directory inside the repository",
            ) from None
        is_directory = False  # a dangling symlink: its directory still has a repository
    return Path(os.path.abspath(path if is_directory else path.parent))


def _not_a_checkout(directory: Path) -> NoRepository:
    return NoRepository(
        f"{directory} is not inside a git repository",
        hint="run dlink on files in a git checkout, or pass --repo-url",
    )


def _looks_like_git_directory(directory: Path) -> bool:
    """git's own test for a repository directory (a bare repository, or inside `.git`)."""
    return (
        (directory / "HEAD").is_file()
        and (directory / "objects").is_dir()
        and (directory / "refs").is_dir()
    )


def _work_tree_root(candidate: Path, asked_for: Path) -> Path:
    """The top of the working tree git finds from `candidate` (one `git rev-parse`)."""
    completed = _run_git(candidate, "rev-parse", "--is-inside-work-tree", "--show-toplevel")
    lines = completed.stdout.decode("utf-8", errors="surrogateescape").splitlines()
    if completed.returncode == 0 and len(lines) == 2 and lines[0] == "true":
        return Path(lines[1])
    message = _git_message(completed)
    if lines[:1] == ["false"] or "must be run in a work tree" in message:
        raise DlinkError(
            f"{asked_for} is inside a bare git repository, which has no files to check",
            hint="run dlink on files in a git checkout, or pass --repo-url",
        )
    if "not a git repository" in message:
        raise _not_a_checkout(asked_for)
    # safe.directory ("dubious ownership"), a broken .git file, ...: git's own words.
    raise DlinkError(
        f"git refuses to read {candidate}: {message}",
        hint="follow git's advice (for ownership: git config --global --add safe.directory "
        "PATH), or pass --repo-url",
    )


def _read_checkout(root: Path) -> _Checkout:
    listing = _run_git(root, "config", "-z", "--list", "--show-scope")
    if listing.returncode != 0:
        raise DlinkError(
            f"git cannot read the configuration of {root}: {_git_message(listing)}",
            hint="fix the git configuration, or pass --repo-url",
        )
    return _Checkout(root, tuple(parse_config_listing(listing.stdout)))


_OPENSSH = r"ssh(?:\.exe)?\Z"
# Hosts nobody aliases in ~/.ssh/config under their own name: no `ssh -G` for them.
_WELL_KNOWN_SSH_HOSTS = frozenset(
    {"github.com", "gitlab.com", "bitbucket.org", *_HOST_ALIASES, *_AZURE_SSH_HOSTS}
)
_SSH_ALIAS = r"[A-Za-z0-9][A-Za-z0-9_.-]*\Z"


def _ssh_program(entries: Sequence[ConfigEntry]) -> list[str]:
    """The OpenSSH command git would run for this checkout (GIT_SSH_COMMAND, core.sshCommand).

    Only an OpenSSH command is used (its options, e.g. `-F FILE`, decide the aliases);
    any other program (plink, a wrapper script) might not understand `-G`: plain `ssh`.
    """
    command = os.environ.get("GIT_SSH_COMMAND")
    if not command:
        for entry in entries:
            if entry.section == "core" and entry.name == "sshcommand" and entry.value:
                command = entry.value  # last one wins, as in git
    words: list[str] = []
    if command:
        import shlex  # only with an SSH command configured

        try:
            words = shlex.split(command)
        except ValueError:
            words = []
    if words and re.search(_OPENSSH, words[0]):
        return words
    return ["ssh"]


class _SshHosts:
    """Real host names of SSH aliases, from `ssh -G ALIAS` (cached for the run).

    `git@github-work:acme/widget.git` with `Host github-work / HostName github.com` in
    ~/.ssh/config (the usual setup for two GitHub accounts) is github.com/acme/widget.
    """

    def __init__(self) -> None:
        self._known: dict[tuple[tuple[str, ...], str], str] = {}

    def resolver(self, entries: Sequence[ConfigEntry]) -> Callable[[str], str]:
        program = tuple(_ssh_program(entries))
        return lambda host: self._hostname(program, host)

    def _hostname(self, program: tuple[str, ...], host: str) -> str:
        if host.lower() in _WELL_KNOWN_SSH_HOSTS or not re.match(_SSH_ALIAS, host):
            return host
        key = (program, host)
        if key not in self._known:
            self._known[key] = _ssh_config_hostname(list(program), host)
        return self._known[key]


def _ssh_config_hostname(program: list[str], host: str) -> str:
    try:
        completed = subprocess.run(
            [*program, "-G", "--", host],
            capture_output=True,
            stdin=subprocess.DEVNULL,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return host  # no ssh here: the host is taken as written
    if completed.returncode != 0:
        return host
    for line in completed.stdout.decode("utf-8", errors="replace").splitlines():
        key, _, value = line.partition(" ")
        if key.lower() == "hostname" and value.strip():
            return value.strip()
    return host


def _identity_from_remote(
    checkout: _Checkout,
    requested: str | None,
    requested_by: str,
    ssh_hostname: Callable[[str], str] | None,
) -> RepoIdentity:
    urls = remote_urls(checkout.entries)
    rewrites = url_rewrites(checkout.entries)
    name, reason = choose_remote(
        list(urls),
        requested=requested,
        requested_by=requested_by,
        gh_default=gh_default_remote(checkout.entries),
        where=f"the repository at {checkout.root}",
    )
    remotes: list[tuple[str, str]] = []
    for other, values in urls.items():
        other_url = apply_instead_of(values[0], rewrites)
        try:
            remotes.append((other, normalise_remote_url(other_url, ssh_hostname=ssh_hostname)))
        except DlinkError:
            continue  # a local path or a helper: it names no hosted repository
    fetch_url = apply_instead_of(urls[name][0], rewrites)
    try:
        url = normalise_remote_url(fetch_url, ssh_hostname=ssh_hostname)
    except DlinkError as error:
        raise DlinkError(f"remote {name!r}: {error.message}", error.hint) from None
    return RepoIdentity(
        url,
        SOURCE_REMOTE_PREFIX + name,
        redact_url(fetch_url),
        checkout.root,
        reason=reason,
        remotes=tuple(remotes),
    )


def _normalise_given(url: str, source: str, label: str) -> RepoIdentity:
    try:
        return RepoIdentity(normalise_remote_url(url), source, None, None, reason=label)
    except DlinkError as error:
        raise DlinkError(f"{label}: {error.message}", error.hint) from None


def _raise_again(error: DlinkError) -> DlinkError:
    """A fresh copy of a remembered error (same type, so NoRepository stays NoRepository)."""
    return type(error)(error.message, error.hint)


class RepoResolver:
    """Finds the repository of files; asks git once per checkout for the whole run.

    Finding a file's checkout is a walk up its directories looking for `.git`, shared
    by every directory on the way (so 2,000 directories of one repository cost a few
    thousand `stat` calls and two `git` processes). One resolver lives for one run: it
    does not notice a remote changed meanwhile.
    """

    def __init__(self) -> None:
        self._physical: dict[str, str] = {}
        self._candidate_of_directory: dict[str, str | None] = {}
        self._roots: dict[str, Path | DlinkError] = {}
        self._checkouts: dict[Path, _Checkout | DlinkError] = {}
        self._identities: dict[tuple[Path, str | None], RepoIdentity | DlinkError] = {}
        self._ssh_hosts = _SshHosts()

    def resolve(
        self,
        path: Path,
        *,
        repo_url: str | None = None,
        remote: str | None = None,
        config_repo_url: str | None = None,
        config_remote: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> RepoIdentity:
        """The repository holding `path` (a file or directory).

        Precedence: `repo_url` (the --repo-url flag), `config_repo_url` (the `repo-url`
        setting), the CI's variables (unless a remote is asked for, and only for files
        of the checkout the CI job describes: a submodule keeps its own remote), the git
        remote (`remote` (--remote), else `config_remote` (`remote =`), else the one
        `gh repo set-default` chose, `upstream`, `github`, `origin`, the only one).
        Raises `NoRepository` outside a git checkout or in one without remotes, and
        `DlinkError` for everything else that stops the answer.
        """
        directory = _directory_of(path)
        if repo_url is not None:
            return _normalise_given(repo_url, SOURCE_FLAG, "--repo-url")
        if config_repo_url is not None:
            return _normalise_given(config_repo_url, SOURCE_CONFIG, "repo-url in the dlink config")
        environment = os.environ if env is None else env
        requested, requested_by = remote, "--remote"
        if requested is None and config_remote is not None:
            requested, requested_by = config_remote, "remote = in the dlink config"
        # An explicit remote is the user's choice and beats the CI's guess.
        from_ci = ci_repository_url(environment) if requested is None else None
        if from_ci is not None and self._in_ci_checkout(directory, environment):
            source, url = from_ci
            return _normalise_given(url, source, f"the {source[len('ci:') :]} CI variables")

        checkout = self._checkout(directory)
        key = (checkout.root, requested)
        identity = self._identities.get(key)
        if identity is None:
            try:
                identity = _identity_from_remote(
                    checkout, requested, requested_by, self._ssh_hosts.resolver(checkout.entries)
                )
            except DlinkError as error:
                identity = error
            self._identities[key] = identity
        if isinstance(identity, DlinkError):
            raise _raise_again(identity)
        return identity

    def root(self, path: Path) -> Path:
        """The top of the working tree holding `path`. Raises like `resolve`."""
        return self._root(_directory_of(path))

    def _in_ci_checkout(self, directory: Path, env: Mapping[str, str]) -> bool:
        """Whether `directory` belongs to the checkout the CI variables describe.

        GitHub Actions names it GITHUB_WORKSPACE, GitLab CI_PROJECT_DIR; without
        them there is nothing to compare, and the variables apply.
        """
        workspace = env.get("GITHUB_WORKSPACE") or env.get("CI_PROJECT_DIR")
        if not workspace:
            return True
        top = Path(workspace).resolve()
        try:
            return self._root(directory).resolve() == top
        except DlinkError:
            # Not a git checkout (a source tarball): inside the workspace is enough.
            return directory.resolve() == top or top in directory.resolve().parents

    # The walks below use plain strings: pathlib's objects cost more than the stat
    # calls they wrap, and these run once per directory of a large tree.

    def _candidate(self, directory: str) -> str | None:
        """The nearest directory at or above `directory` that holds `.git` (or is a git
        directory itself); None when there is none. Remembered for every directory walked."""
        walked: list[str] = []
        current = directory
        while True:
            if current in self._candidate_of_directory:
                found = self._candidate_of_directory[current]
                break
            walked.append(current)
            # A git directory itself (a bare `name.git`, or `.git` when asked about a path
            # inside it) is only looked for under its conventional name: one stat per
            # directory, not four.
            if os.path.lexists(os.path.join(current, ".git")) or (
                current.endswith(".git") and _looks_like_git_directory(Path(current))
            ):
                found = current
                break
            parent = os.path.dirname(current)
            if parent == current:
                found = None
                break
            current = parent
        for seen in walked:
            self._candidate_of_directory[seen] = found
        return found

    def _physical_directory(self, directory: str) -> str:
        """`directory` with symlinks resolved, as git sees it (a symlink to a directory
        inside a checkout belongs to that checkout). One `lstat` per new directory: the
        parent's answer is reused."""
        known = self._physical.get(directory)
        if known is None:
            parent, name = os.path.split(directory)
            if parent == directory or not name:
                known = directory
            elif os.path.islink(directory):
                known = os.path.realpath(directory)
            else:
                known = os.path.join(self._physical_directory(parent), name)
            self._physical[directory] = known
        return known

    def _root(self, directory: Path) -> Path:
        found = self._candidate(self._physical_directory(str(directory)))
        if found is None:
            raise _not_a_checkout(directory)
        root = self._roots.get(found)
        if root is None:
            try:
                root = _work_tree_root(Path(found), directory)
            except DlinkError as error:
                root = error
            self._roots[found] = root
        if isinstance(root, DlinkError):
            if isinstance(root, NoRepository):
                raise _not_a_checkout(directory)
            raise _raise_again(root)
        return root

    def _checkout(self, directory: Path) -> _Checkout:
        root = self._root(directory)
        checkout = self._checkouts.get(root)
        if checkout is None:
            try:
                checkout = _read_checkout(root)
            except DlinkError as error:
                checkout = error
            self._checkouts[root] = checkout
        if isinstance(checkout, DlinkError):
            raise _raise_again(checkout)
        return checkout


def head_facts(path: Path) -> HeadFacts:
    """HEAD commit, dirtiness and nearest tag of the repository holding `path`."""
    root = RepoResolver().root(path)
    # status first: it works before the first commit, and its failure is the real error.
    status = _run_git(root, "status", "--porcelain", "--untracked-files=no")
    if status.returncode != 0:
        raise DlinkError(
            f"git cannot read the state of {root}: {_git_message(status)}",
            hint="fix the checkout, or build without the git facts",
        )
    head = _run_git(root, "rev-parse", "--verify", "--quiet", "HEAD^{commit}")
    commit = head.stdout.decode("ascii").strip() if head.returncode == 0 else None
    tag: str | None = None
    if commit is not None:
        described = _run_git(root, "describe", "--tags", "--abbrev=0")
        if described.returncode == 0:
            tag = described.stdout.decode("utf-8", errors="replace").strip() or None
    return HeadFacts(commit=commit, dirty=bool(status.stdout.strip()), tag=tag)


def resolve_repository(
    path: Path,
    *,
    repo_url: str | None,
    remote: str | None,
    settings: Config | None = None,
    resolver: RepoResolver | None = None,
) -> RepoIdentity:
    """The repository holding `path`, read with the settings of the config file over it.

    Every command answers "which repository?" this one way, so they all agree.
    """
    from dlink.config import find_config

    settings = settings if settings is not None else find_config(path)
    return (resolver or RepoResolver()).resolve(
        path,
        repo_url=repo_url,
        remote=remote,
        config_repo_url=settings.repo_url,
        config_remote=settings.remote,
    )
