"""Which files of a repository can be build definitions: their names, in one place.

Every `dlink check` lists the repository's files and asks this module which of them
could define a build. Most repositories that hold one Dockerfile hold none, and then the
readers (and the value resolver, and the parsers they load) are never imported: the
scan they would make finds nothing. The scanner asks the same function, so the filter
and the scan cannot disagree about what a build definition is.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

# Directories that hold other people's code or generated files, never the repository's builds.
SKIP_DIRECTORIES = frozenset(
    {".git", "node_modules", "vendor", "third_party", ".venv", "venv", ".tox"}
)
_MAX_WALKED_FILES = 50_000

_SCRIPT_SUFFIXES = (".sh", ".bash", ".ps1")
_BAKE_NAMES = frozenset({"docker-bake.hcl", "docker-bake.json", "docker-bake.override.hcl",
                         "docker-bake.override.json"})  # fmt: skip
# Compiled (and cached by `re`) the first time a name containing the word is met.
_GORELEASER = r"\.?goreleaser(\.[\w-]+)?\.ya?ml"
_COMPOSE = r"(docker-)?compose([.-][\w.-]+)?\.ya?ml"


def kind_of(relative: str) -> str | None:
    """Which reader a repository-relative path needs, or None when it is no build definition.

    Called for every file of the repository: cheap string tests first, regexes last.
    """
    parent, _, name = relative.rpartition("/")
    lower = name.lower()
    if lower.endswith((".yml", ".yaml")):
        if parent == ".github/workflows":
            return "github-actions"
        if lower == ".gitlab-ci.yml" or lower.endswith(".gitlab-ci.yml"):
            return "gitlab-ci"
        if "goreleaser" in lower and re.fullmatch(_GORELEASER, lower):
            return "goreleaser"
        if "compose" in lower and re.fullmatch(_COMPOSE, lower):
            return "compose"
        return None
    if lower.endswith(_SCRIPT_SUFFIXES):
        return "script"
    if lower in _BAKE_NAMES or lower.endswith((".bake.hcl", ".bake.json")):
        return "bake"
    if name.startswith("Jenkinsfile") or lower.endswith(".jenkinsfile"):
        return "jenkins"
    if lower.startswith(("makefile", "gnumakefile")) or lower.endswith(".mk"):
        return "make" if lower in ("makefile", "gnumakefile") or "." in lower else None
    if lower == "package.json":
        return "npm"
    return None


def build_definitions(listed: list[str]) -> list[tuple[str, str]]:
    """`(relative path, kind)` of every file the scanner reads, in the order listed:
    files `kind_of` recognises, outside the directories of other people's code."""
    found = []
    for relative in listed:
        kind = kind_of(relative)
        if kind is not None and SKIP_DIRECTORIES.isdisjoint(relative.split("/")[:-1]):
            found.append((relative, kind))
    return found


def repository_files(root: Path) -> list[str]:
    """Every file of the repository (git's view when it is one), relative, POSIX."""
    if (root / ".git").exists():
        try:
            completed = subprocess.run(
                ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                cwd=root,
                capture_output=True,
                check=False,
                timeout=60,
            )
        except (OSError, subprocess.SubprocessError):
            completed = None
        if completed is not None and completed.returncode == 0:
            names = completed.stdout.decode("utf-8", "surrogateescape").split("\0")
            # A tracked file deleted from the work tree is still listed; reading it fails
            # quietly later, which is cheaper than a stat per file here.
            return [n for n in dict.fromkeys(names) if n]
    found: list[str] = []
    # Outside git nothing bounds the walk (a home directory): stop at a generous count.
    for directory, subdirectories, names in os.walk(root):
        if len(found) > _MAX_WALKED_FILES:
            break
        subdirectories[:] = [d for d in subdirectories if d not in SKIP_DIRECTORIES]
        relative = os.path.relpath(directory, root)
        for name in names:
            found.append(name if relative == "." else Path(relative, name).as_posix())
    return found
