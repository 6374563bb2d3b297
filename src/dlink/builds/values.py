"""The values build definitions write: expressions dlink understands, and what stays unknown.

Pure functions. A build definition writes a label value with its own expression
language: GitHub's `${{ github.repository }}`, goreleaser's `{{ .GitURL }}`, make's
`$(VAR)`, the shell's `${VAR:-default}`, bake's `${VAR}`. What can be known from the
repository is filled in; everything else is reported as unresolved, never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping

from dlink.builds.site import RepoFacts
from dlink.record import Record

# ${{ ... }} (GitHub), {{ ... }} (goreleaser / Go templates), $(...) (make, or a shell
# command substitution), ${...} and $NAME (shell, bake, make).
_GITHUB = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
_TEMPLATE = re.compile(r"(?<!\$)\{\{-?\s*(.*?)\s*-?\}\}")
_PAREN = re.compile(r"\$\(([^()]*)\)")
_BRACE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-=])([^}]*))?\}")
_ARRAY = re.compile(r'"?\$\{([A-Za-z_][A-Za-z0-9_]*)\[[@*]\]\}"?')
_BARE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_ANY_VARIABLE = re.compile(
    r"\$\{\{.*?\}\}|\{\{.*?\}\}|\$\([^()]*\)|\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*|\$[*@<^?%]"
)

GIT_URL = ".GitURL"
_CI_PROJECT_URL = re.compile(r"\$\{?CI_PROJECT_URL\}?(?![A-Za-z0-9_])")
_CI_GITHUB_URL = re.compile(r"\$\{?GITHUB_SERVER_URL\}?/\$\{?GITHUB_REPOSITORY\}?(?![A-Za-z0-9_])")


class Resolved(Record):
    __slots__ = ("value", "unresolved", "note")

    def __init__(self, value: str, unresolved: frozenset[str], note: str | None = None) -> None:
        self.value = value
        self.unresolved = unresolved
        self.note = note


def substitute(text: str, variables: Mapping[str, str], depth: int = 0) -> str:
    """Replace `$(NAME)`, `${NAME}`, `${NAME:-default}` and `$NAME` whose value is known.

    Used by readers for their own variables (make, shell, bake); unknown ones stay
    as written so that they are reported later.
    """
    if depth > 8 or "$" not in text:
        return text

    def paren(match: re.Match[str]) -> str:
        name = match.group(1).strip()
        return variables[name] if name in variables else match.group(0)

    def brace(match: re.Match[str]) -> str:
        name, operator, default = match.group(1), match.group(2), match.group(3)
        if name in variables and (variables[name] or not (operator or "").startswith(":")):
            return variables[name]
        if operator is not None and not _ANY_VARIABLE.search(default or ""):
            return default or ""
        return match.group(0)

    def bare(match: re.Match[str]) -> str:
        name = match.group(1)
        return variables[name] if name in variables else match.group(0)

    def array(match: re.Match[str]) -> str:
        name = match.group(1) + "[@]"
        return variables[name] if name in variables else match.group(0)

    result = _ARRAY.sub(array, text)
    result = _PAREN.sub(paren, result)
    result = _BRACE.sub(brace, result)
    result = _BARE.sub(bare, result)
    return substitute(result, variables, depth + 1) if result != text else result


def has_unknowns(text: str) -> bool:
    return _ANY_VARIABLE.search(text) is not None


def as_glob(text: str) -> str:
    """A path with unknown parts, as a glob with `*` in their place."""
    return _ANY_VARIABLE.sub("*", text)


_THIS_REPOSITORY = {
    "github.server_url",
    "github.repository",
    "github.repository_owner",
    "github.event.repository.owner.login",
    "github.event.repository.html_url",
    "github.event.repository.name",
}


def resolve(raw: str, facts: RepoFacts | None) -> Resolved:
    """The value a build-time label gets, with GitHub's and goreleaser's facts filled in.

    Without facts (no repository known) an expression for "the repository the workflow
    runs in" stays as written but is not unknown: it is right by definition.
    """
    if facts is None:
        expressions = [m.group(1) for m in _GITHUB.finditer(raw)]
        unknown = {"${{ " + e + " }}" for e in expressions if e not in _THIS_REPOSITORY}
        unknown |= {"{{ " + m.group(1) + " }}" for m in _TEMPLATE.finditer(raw)}
        rest = _TEMPLATE.sub("", _GITHUB.sub("", raw))
        unknown |= {m.group(0) for m in _ANY_VARIABLE.finditer(rest)}
        return Resolved(raw, frozenset(unknown))
    server, _, repository = facts.url.partition("://")[2].partition("/")
    scheme = facts.url.partition("://")[0]
    unresolved: set[str] = set()
    note: str | None = None

    def github(match: re.Match[str]) -> str:
        expression = match.group(1)
        if expression == "github.server_url":
            return f"{scheme}://{server}"
        if expression == "github.repository":
            return repository
        if expression in ("github.repository_owner", "github.event.repository.owner.login"):
            return repository.split("/")[0]
        if expression == "github.event.repository.html_url":
            return facts.url
        if expression == "github.event.repository.name":
            return repository.rsplit("/", 1)[-1]
        if expression == "github.repositoryUrl":
            return f"git://{server}/{repository}.git"  # what GitHub documents this to be
        unresolved.add("${{ " + expression + " }}")
        return match.group(0)

    def template(match: re.Match[str]) -> str:
        nonlocal note
        expression = match.group(1)
        if expression == GIT_URL:
            note = "goreleaser's {{ .GitURL }} is the git remote URL exactly as configured"
            if facts.git_url is None:
                unresolved.add("{{ .GitURL }}")
                return match.group(0)
            return facts.git_url
        unresolved.add("{{ " + expression + " }}")
        return match.group(0)

    value = _GITHUB.sub(github, raw)
    value = _TEMPLATE.sub(template, value)
    # The CI's own variables for the repository being built (GitLab, GitHub).
    value = _CI_PROJECT_URL.sub(facts.url, value)
    value = _CI_GITHUB_URL.sub(facts.url, value)
    for match in _ANY_VARIABLE.finditer(value):
        if not match.group(0).startswith(("${{", "{{")):
            unresolved.add(match.group(0))
    return Resolved(value, frozenset(unresolved), note)


def glob_match(path: str, pattern: str) -> bool:
    """Whether `path` matches a glob made by `as_glob`: `*` stays within one directory,
    so `-f $DOCKERFILE` means a Dockerfile beside the build, not every one below it."""
    return globs_matcher([pattern])(path)


def globs_matcher(patterns: Iterable[str]) -> Callable[[str], bool]:
    """`glob_match` against any of `patterns`, each compiled once: a plain name is a set
    lookup, so matching N names against M patterns costs N + M, not N times M."""
    exact: set[str] = set()
    regexes: list[str] = []
    for pattern in dict.fromkeys(patterns):
        if "*" in pattern:
            regexes.append("".join("[^/]*" if ch == "*" else re.escape(ch) for ch in pattern))
        else:
            exact.add(pattern)
    compiled = re.compile("|".join(f"(?:{r})" for r in regexes)) if regexes else None
    return lambda path: (
        path in exact or (compiled is not None and compiled.fullmatch(path) is not None)
    )


__all__ = ["GIT_URL", "RepoFacts", "Resolved", "as_glob", "glob_match", "globs_matcher", "has_unknowns", "resolve",
           "substitute"]  # fmt: skip
