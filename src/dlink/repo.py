"""The repository a file belongs to, as the canonical web URL of that repository.

Two halves. Pure functions over URL strings (normalise, redact, compare, pick a
remote, apply `insteadOf`) that never touch the disk. And `RepoResolver`, which
asks git about a checkout once per repository root and remembers the answer for
the rest of the run, so checking a thousand Dockerfiles costs one `git` process
per repository, not per file.

Credentials are common in remote URLs (`https://x-access-token:TOKEN@github.com/...`).
Nothing this module returns or raises carries them: identities hold the redacted
remote URL, and every error message quotes URLs through `redact_url`.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dlink.errors import DlinkError

if TYPE_CHECKING:
    import git

    from dlink.config import Config

__all__ = [
    "ConfigEntry",
    "HeadFacts",
    "RepoIdentity",
    "RepoResolver",
    "apply_instead_of",
    "branch_remote",
    "choose_remote",
    "ci_repository_url",
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

_SCHEME_URL = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://(.*)\Z", re.DOTALL)
_REMOTE_HELPER = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*::")
_DOS_DRIVE = re.compile(r"[A-Za-z]:(?:[\\/]|\Z)")
_HOSTNAME = re.compile(r"[a-z0-9](?:[a-z0-9_.-]*[a-z0-9])?\Z")
_IPV6_HOST = re.compile(r"\[[0-9a-f:.]+(?:%25[0-9a-z._~-]+)?\]\Z")
_BAD_PATH_CHARS = re.compile(r"[\x00-\x1f\x7f\\\[\]\t\n\r\f\v]")
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
    if not (_HOSTNAME.match(host) or _IPV6_HOST.match(host)):
        raise _not_hosted(url, "the host is not a valid host name")
    return _HOST_ALIASES.get(host, host)


def _path_segments(url: str, path: str) -> list[str]:
    if _BAD_PATH_CHARS.search(path):
        raise _not_hosted(url, "the path contains characters a repository path cannot have")
    # Empty segments are how '/', '//' and a trailing '/' show up; none names anything.
    segments = [segment for segment in path.replace(" ", "%20").split("/") if segment]
    if segments and segments[-1].endswith(".git"):
        segments[-1] = segments[-1][: -len(".git")]
        if not segments[-1]:
            segments.pop()
    if any(segment in {".", ".."} for segment in segments):
        raise _not_hosted(url, "the path has '.' or '..' segments")
    if not segments:
        raise _not_hosted(url, "it names a host but no repository")
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


def normalise_remote_url(url: str) -> str:
    """The canonical `https://host[:port]/path` web URL of the repository a git URL names.

    Accepts every form git accepts for a hosted repository: scp-like `git@host:o/r.git`,
    `ssh://`, `git+ssh://`, `git://`, `http(s)://`, IPv6 hosts in brackets. Drops user
    names, passwords and tokens, SSH and git-daemon ports and the `.git` suffix; keeps a
    non-default HTTPS port. Raises `DlinkError` for local paths, `file://`, remote
    helpers (`s3::...`) and anything that is not a URL. Pure: no I/O.
    """
    text = url.strip()
    if not text:
        raise _not_hosted(url, "it is empty")
    if _REMOTE_HELPER.match(text):
        raise _not_hosted(url, "it goes through a git remote helper, which has no web page")

    scheme_url = _SCHEME_URL.match(text)
    if scheme_url:
        scheme, rest = scheme_url[1].lower(), scheme_url[2]
        if scheme == "file":
            raise _not_hosted(url, "it is a local path, not a hosted repository")
        if scheme not in _WEB_SCHEMES | _SSH_SCHEMES | _GIT_SCHEMES:
            raise _not_hosted(url, f"dlink does not know the {scheme}:// scheme")
        # Everything up to the LAST '@' is user information: a password with an
        # unescaped '@', '/' or '#' must never be mistaken for a host or a path.
        rest = rest[rest.rfind("@") + 1 :]
        if scheme in _WEB_SCHEMES:
            rest = re.split(r"[?#]", rest, maxsplit=1)[0]
        authority, _, path = rest.partition("/")
        host_text, port = _split_host_port(url, authority)
    else:
        colon, slash = text.find(":"), text.find("/")
        # git's own rule: scp-like only when a ':' comes before any '/'.
        if colon < 0 or 0 <= slash < colon or _DOS_DRIVE.match(text):
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

    host = _check_host(url, host_text)
    segments = _path_segments(url, path)
    azure_host, segments = _azure(url, host, segments)
    if azure_host != host:
        host, port = azure_host, None
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


def same_repository(a: str, b: str) -> bool:
    """Whether two URLs name the same repository, whatever their form.

    Hosts compare case-insensitively; on github.com so do owner and repository, which
    GitHub treats that way; elsewhere the path is case-sensitive. A string that is not
    a hosted repository URL is the same as nothing.
    """
    try:
        first, second = normalise_remote_url(a), normalise_remote_url(b)
    except DlinkError:
        return False
    if first == second:
        return True
    first_host, _, first_path = first[len("https://") :].partition("/")
    second_host, _, second_path = second[len("https://") :].partition("/")
    return first_host == second_host == "github.com" and first_path.lower() == second_path.lower()


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


@dataclass(frozen=True)
class ConfigEntry:
    """One line of `git config --list`: key split into its parts, in git's order."""

    section: str  # lower-cased by git
    subsection: str | None  # case kept, may contain dots
    name: str  # lower-cased by git
    value: str | None  # None for a bare boolean key


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


def branch_remote(entries: Sequence[ConfigEntry], branch: str | None) -> str | None:
    """`branch.<branch>.remote`, the remote the current branch pulls from (last value wins)."""
    if branch is None:
        return None
    found: str | None = None
    for entry in entries:
        if (
            entry.section == "branch"
            and entry.subsection == branch
            and entry.name == "remote"
            and entry.value
        ):
            found = entry.value
    return found


def choose_remote(
    names: Sequence[str], *, requested: str | None, upstream_remote: str | None, where: str
) -> str:
    """Which remote names the repository: the requested one, else the current branch's
    upstream remote, else `origin`, else `upstream`, else the only one."""
    if requested is not None:
        if requested in names:
            return requested
        known = ", ".join(sorted(names)) or "none"
        raise DlinkError(
            f"{where} has no remote named {requested!r} (remotes: {known})",
            hint="pick one of its remotes with --remote NAME, or pass --repo-url",
        )
    for candidate in (upstream_remote, "origin", "upstream"):
        if candidate is not None and candidate in names:
            return candidate
    if len(names) == 1:
        return names[0]
    if not names:
        raise DlinkError(
            f"{where} has no git remote to take the repository URL from",
            hint="add one with `git remote add origin https://HOST/OWNER/REPO`, or pass --repo-url",
        )
    raise DlinkError(
        f"cannot tell which remote of {where} names the repository: {', '.join(sorted(names))}",
        hint="pick one with --remote NAME, or pass --repo-url",
    )


# ---------------------------------------------------------------------- git, I/O


@dataclass(frozen=True)
class RepoIdentity:
    """Which repository a file belongs to and how dlink found out.

    `source` is "flag", "config", "ci:github", "ci:gitlab" or "remote:<name>".
    `remote_url` is the URL git fetches from, already redacted (None when the URL did
    not come from a remote); `root` is the top of the working tree (None likewise).
    """

    url: str
    source: str
    remote_url: str | None
    root: Path | None


@dataclass(frozen=True)
class HeadFacts:
    """What a build records about the checkout: HEAD commit, uncommitted changes, last tag."""

    commit: str | None  # None before the first commit
    dirty: bool  # tracked files differ from HEAD (untracked files do not count)
    tag: str | None  # `git describe --tags --abbrev=0`; None when no tag is reachable


@dataclass(frozen=True)
class _Checkout:
    root: Path
    branch: str | None
    entries: tuple[ConfigEntry, ...]


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
    if path.is_dir():
        directory = path
    elif path.exists() or path.is_symlink():
        directory = path.parent
    else:
        raise DlinkError(
            f"{path}: no such file or directory",
            hint="give a Dockerfile or a directory inside the repository",
        )
    return Path(os.path.abspath(directory))


def _open_repository(directory: Path) -> tuple[git.Repo, Path]:
    """The repository holding `directory` (GitPython) and the top of its working tree."""
    try:
        import git  # GitPython costs ~60 ms to import; only runs that ask git pay it.
    except ImportError as error:
        raise DlinkError(
            f"cannot use git: {str(error).splitlines()[0]}",
            hint="install git, or pass --repo-url",
        ) from None
    try:
        repo = git.Repo(directory, search_parent_directories=True)
    except (git.exc.InvalidGitRepositoryError, git.exc.NoSuchPathError, OSError, ValueError):
        raise DlinkError(
            f"{directory} is not inside a git repository",
            hint="run dlink on files in a git checkout, or pass --repo-url",
        ) from None
    if repo.working_tree_dir is None:
        repo.close()
        raise DlinkError(
            f"{directory} is inside a bare git repository, which has no files to check",
            hint="run dlink on files in a git checkout, or pass --repo-url",
        )
    return repo, Path(repo.working_tree_dir)


def _current_branch(repo: git.Repo) -> str | None:
    try:
        head = repo.head
        if head.is_detached:
            return None
        path = head.reference.path
    except (TypeError, ValueError, OSError):
        return None
    return path[len("refs/heads/") :] if path.startswith("refs/heads/") else None


def _read_checkout(repo: git.Repo, root: Path) -> _Checkout:
    listing = _run_git(root, "config", "-z", "--list", "--show-scope")
    if listing.returncode != 0:
        raise DlinkError(
            f"git cannot read the configuration of {root}: {_git_message(listing)}",
            hint="fix the git configuration, or pass --repo-url",
        )
    scopes = listing.stdout.split(b"\0")[0::2]
    if b"local" not in scopes:
        # git ignores a repository it refuses to trust (safe.directory) and lists only
        # global settings; say so instead of reporting "no remote".
        probe = _run_git(root, "rev-parse", "--git-dir")
        if probe.returncode != 0:
            raise DlinkError(
                f"git refuses to read {root}: {_git_message(probe)}",
                hint="follow git's advice (git config --global --add safe.directory PATH), "
                "or pass --repo-url",
            )
    return _Checkout(root, _current_branch(repo), tuple(parse_config_listing(listing.stdout)))


def _identity_from_remote(checkout: _Checkout, requested: str | None) -> RepoIdentity:
    urls = remote_urls(checkout.entries)
    name = choose_remote(
        list(urls),
        requested=requested,
        upstream_remote=branch_remote(checkout.entries, checkout.branch),
        where=f"the repository at {checkout.root}",
    )
    fetch_url = apply_instead_of(urls[name][0], url_rewrites(checkout.entries))
    try:
        url = normalise_remote_url(fetch_url)
    except DlinkError as error:
        raise DlinkError(f"remote {name!r}: {error.message}", error.hint) from None
    return RepoIdentity(url, SOURCE_REMOTE_PREFIX + name, redact_url(fetch_url), checkout.root)


def _normalise_given(url: str, source: str, label: str) -> RepoIdentity:
    try:
        return RepoIdentity(normalise_remote_url(url), source, None, None)
    except DlinkError as error:
        raise DlinkError(f"{label}: {error.message}", error.hint) from None


class RepoResolver:
    """Finds the repository of files; asks git once per repository root and remote.

    One resolver lives for one run: it does not notice a remote changed meanwhile.
    """

    def __init__(self) -> None:
        self._root_of_directory: dict[Path, Path] = {}
        self._checkouts: dict[Path, _Checkout | DlinkError] = {}
        self._identities: dict[tuple[Path, str | None], RepoIdentity | DlinkError] = {}

    def resolve(
        self,
        path: Path,
        *,
        repo_url: str | None = None,
        remote: str | None = None,
        config_repo_url: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> RepoIdentity:
        """The repository holding `path` (a file or directory).

        Precedence: `repo_url` (the --repo-url flag), `config_repo_url` (the `repo-url`
        setting), the CI's variables (unless `remote` is given, and only for files of
        the checkout the CI job describes: a submodule keeps its own remote), the git
        remote (`remote`, else the branch's upstream remote, `origin`, `upstream`, the
        only one). Raises `DlinkError`.
        """
        directory = _directory_of(path)
        if repo_url is not None:
            return _normalise_given(repo_url, SOURCE_FLAG, "--repo-url")
        if config_repo_url is not None:
            return _normalise_given(config_repo_url, SOURCE_CONFIG, "repo-url in the dlink config")
        environment = os.environ if env is None else env
        # An explicit --remote is the user's choice and beats the CI's guess.
        from_ci = ci_repository_url(environment) if remote is None else None
        if from_ci is not None and self._in_ci_checkout(directory, environment):
            source, url = from_ci
            return _normalise_given(url, source, f"the {source[len('ci:') :]} CI variables")

        checkout = self._checkout(directory)
        key = (checkout.root, remote)
        identity = self._identities.get(key)
        if identity is None:
            try:
                identity = _identity_from_remote(checkout, remote)
            except DlinkError as error:
                identity = error
            self._identities[key] = identity
        if isinstance(identity, DlinkError):
            raise DlinkError(identity.message, identity.hint)
        return identity

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
            return self._checkout(directory).root.resolve() == top
        except DlinkError:
            # Not a git checkout (a source tarball): inside the workspace is enough.
            return directory.resolve() == top or top in directory.resolve().parents

    def _checkout(self, directory: Path) -> _Checkout:
        root = self._root_of_directory.get(directory)
        if root is None:
            repo, root = _open_repository(directory)
            try:
                if root not in self._checkouts:
                    try:
                        self._checkouts[root] = _read_checkout(repo, root)
                    except DlinkError as error:
                        self._checkouts[root] = error
            finally:
                repo.close()
            self._root_of_directory[directory] = root
        checkout = self._checkouts[root]
        if isinstance(checkout, DlinkError):
            raise DlinkError(checkout.message, checkout.hint)
        return checkout


def head_facts(path: Path) -> HeadFacts:
    """HEAD commit, dirtiness and nearest tag of the repository holding `path`."""
    repo, root = _open_repository(_directory_of(path))
    repo.close()
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
        remote=remote or settings.remote,
        config_repo_url=settings.repo_url,
    )
