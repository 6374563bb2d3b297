"""Finding Dockerfiles, reading them as bytes, and the one place dlink writes a file.

Discovery answers two questions for every file it meets: is it a Dockerfile (by name),
and is it the project's own (not vendored, generated, a dev container or a test
fixture)? Every file it leaves out keeps a reason, so `--show-files` (and `dlink
images`) can say why. Nothing here prints; every failure a user can cause is a
DlinkError.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from dlink.errors import DlinkError
from dlink.record import Record

if TYPE_CHECKING:
    from pathspec import GitIgnoreSpec
    from pathspec.patterns.gitignore.spec import GitIgnoreSpecPattern

    from dlink.config import Config

# The name forms, in any letter case: `Dockerfile`, `Containerfile`, `<stem>.<variant>`,
# `<stem>-<variant>`, `<stem>_<variant>` and `<name>.<stem>`.
_STEMS = ("dockerfile", "containerfile")
_VARIANT_SEPARATORS = frozenset("._-")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# A last extension that says the file is something else. Chosen from what real
# repositories hold next to their Dockerfiles: Go sources and tests (`dockerfile.go`,
# `dockerfile_test.go`: moby/buildkit, kaniko, moby's vendor tree), man pages and docs
# (`Dockerfile.5.md`: docker/cli), BuildKit's per-Dockerfile ignore files
# (`Dockerfile.dockerignore`: containerd, kaniko), golden/JSON test data, and
# generator templates (`Dockerfile.j2`: 191 in openstack/kolla;
# `Dockerfile-linux.template`: docker-library/python). The README lists them.
SOURCE_EXTENSIONS = _words(
    "go py pyi rs js mjs cjs ts tsx jsx java kt kts scala groovy gradle rb php pl pm "
    "c h cc cpp cxx hpp cs fs swift hs ex exs erl clj lua r dart zig nim vb sql proto "
    "sh bash zsh fish ps1 psm1 bat cmd nix tf hcl el vim mk cmake"
)
DATA_EXTENSIONS = _words(
    "json jsonc json5 yaml yml toml xml ini cfg csv tsv lock golden snap expected out "
    "diff patch orig rej bak swp log"
)
DOC_EXTENSIONS = _words("md markdown rst adoc asciidoc txt html htm pdf org tex")
MEDIA_EXTENSIONS = _words("png jpg jpeg gif svg ico zip tar gz tgz bz2 xz zst")
TEMPLATE_EXTENSIONS = _words(
    "j2 jinja jinja2 tpl tmpl template in erb mustache hbs handlebars gotmpl gotpl njk "
    "liquid twig ejs eex mako tt ctmpl m4"
)
# BuildKit reads `<dockerfile>.dockerignore` beside a Dockerfile: an ignore list.
COMPANION_EXTENSIONS = frozenset({"dockerignore"})

_DEVCONTAINER_JSON = ("devcontainer.json", ".devcontainer.json")


class DefaultExclude(Record):
    __slots__ = ("pattern", "why")
    pattern: str  # gitignore syntax
    why: str

    def __init__(self, pattern: str, why: str) -> None:
        self.pattern = pattern
        self.why = why


# What `exclude` replaces and `extend-exclude` adds to. Besides these patterns, the
# default set leaves out paths `.gitattributes` marks linguist-vendored or
# linguist-generated and the Dockerfiles a devcontainer.json names.
DEFAULT_EXCLUDE: tuple[DefaultExclude, ...] = (
    DefaultExclude("vendor/", "vendored dependencies"),
    DefaultExclude("third_party/", "third-party code"),
    DefaultExclude("third-party/", "third-party code"),
    DefaultExclude("node_modules/", "npm packages"),
    DefaultExclude(".devcontainer/", "a dev container: a local editor image, never published"),
    DefaultExclude("testdata/", "test data"),
    DefaultExclude("__fixtures__/", "test fixtures"),
    DefaultExclude("fixtures/", "test fixtures"),
    DefaultExclude("__snapshots__/", "test snapshots"),
)
LINGUIST_ATTRIBUTES = ("linguist-vendored", "linguist-generated")


def name_refusal(name: str) -> str | None:
    """Why a file with a Dockerfile-like name is not one; None when it is a Dockerfile."""
    lower = name.lower()
    if not _has_name_form(lower):
        return "not a Dockerfile name"
    stem, dot, extension = lower.rpartition(".")
    if not dot or not stem or extension in _STEMS:
        return None
    if extension in TEMPLATE_EXTENSIONS:
        return f"a template (.{extension}), not a Dockerfile"
    if extension in COMPANION_EXTENSIONS:
        return "a .dockerignore file, not a Dockerfile"
    if extension in SOURCE_EXTENSIONS | DATA_EXTENSIONS | DOC_EXTENSIONS | MEDIA_EXTENSIONS:
        return f"a .{extension} file, not a Dockerfile"
    return None


def is_dockerfile_name(name: str) -> bool:
    """True when a file called `name` is a Dockerfile by name (any letter case)."""
    return name_refusal(name) is None


def _has_name_form(lower: str) -> bool:
    for stem in _STEMS:
        if lower == stem or lower.endswith("." + stem):
            return True
        if lower.startswith(stem) and lower[len(stem)] in _VARIANT_SEPARATORS:
            return True
    return False


def _is_candidate(name: str) -> bool:
    """Names discovery looks at: Dockerfile-like ones, and devcontainer.json files."""
    return name in _DEVCONTAINER_JSON or _has_name_form(name.lower())


class Skipped(Record):
    """A file discovery met and left out, with the reason as one phrase."""

    __slots__ = ("path", "reason")
    path: Path
    reason: str

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        self.reason = reason


class Discovery:
    """The Dockerfiles to check (sorted) and the files left out, in the order met."""

    __slots__ = ("files", "skipped", "unused_patterns")
    files: list[Path]
    skipped: list[Skipped]
    # `exclude`/`extend-exclude` patterns that matched none of the Dockerfiles met, as
    # "'PATTERN' (KEY in FILE)"; filled only when discover(..., unused_patterns=True).
    unused_patterns: list[str]

    def __init__(self) -> None:
        self.files = []
        self.skipped = []
        self.unused_patterns = []


def discover(
    paths: Sequence[Path],
    *,
    config: Config | None = None,
    force_exclude: bool = False,
    unused_patterns: bool = False,
) -> Discovery:
    """The Dockerfiles to check: explicit files as given, directories searched recursively.

    In a directory, a file is taken when its name is a Dockerfile name and no exclude
    (the default set, `exclude`, `extend-exclude` of the config that applies to it, or
    `config` for all) leaves it out; `.git` is never entered. Inside a git work tree the
    files git ignores are skipped, and submodules and nested repositories are searched
    as repositories of their own.

    What the user names is checked: a file named explicitly whatever its name and the
    excludes, a directory named explicitly even when an exclude covers it (the files
    below it still obey the patterns that reach deeper). `force_exclude` makes named
    files and directories obey the excludes too (pre-commit names every file).

    A file reached twice (through `.` and `./sub`, or through a symlink and its target)
    is checked once, under the name the user gave, else the first in sorted order.
    Paths keep the caller's spelling (relative stays relative). `unused_patterns` also
    lists the config patterns that matched no Dockerfile met (it costs a match per pattern
    that could match, so only --show-files asks).
    """
    from dlink import config as config_module

    def settings_for(path: str) -> Config:
        return config if config is not None else config_module.find_config(Path(path))

    explicit: list[Path] = []
    dirs: list[Path] = []
    for path in paths:
        if path.is_dir():
            dirs.append(path)
        elif os.path.lexists(path):
            explicit.append(path)
        else:
            raise DlinkError(f"{path}: no such file or directory")

    # absolute path -> (path as shown, the directory the user named that it was found in)
    met: dict[str, tuple[Path, Path | None]] = {}
    devcontainer_files: set[str] = set()
    for directory, absolute_files in _files_below(dirs):
        base = os.path.abspath(directory)
        for absolute in absolute_files:
            if os.path.basename(absolute) in _DEVCONTAINER_JSON:
                devcontainer_files.add(absolute)
                continue
            relative = Path(os.path.relpath(absolute, base))
            met.setdefault(absolute, (directory / relative, directory))
    roots = {_root_of(os.path.abspath(p)) for p in [*dirs, *explicit]}
    for root in roots:
        devcontainer_files.update(_standard_devcontainer_files(root))
    dev_images = _devcontainer_dockerfiles(sorted(devcontainer_files))

    excluder = _Excluder(
        settings_for, dev_images, force_exclude, [*met, *map(os.path.abspath, explicit)]
    )
    result = Discovery()
    checked: dict[str, Path] = {}  # real path -> shown path
    ordered: list[tuple[Path, str, Path | None]]
    ordered = [(path, os.path.abspath(path), None) for path in explicit]
    ordered += sorted(
        ((shown, absolute, named) for absolute, (shown, named) in met.items()),
        key=lambda entry: entry[0],
    )
    seen_absolute: set[str] = set()
    for shown, absolute, named in ordered:
        if absolute in seen_absolute:
            continue
        seen_absolute.add(absolute)
        if named is not None:
            refusal = name_refusal(os.path.basename(absolute))
            if refusal is not None:
                result.skipped.append(Skipped(shown, refusal))
                continue
            if not os.path.isfile(absolute):
                result.skipped.append(Skipped(shown, "a broken symlink"))
                continue
        if named is not None or force_exclude:
            reason = excluder.reason(absolute, named)
            if reason is not None:
                result.skipped.append(Skipped(shown, reason))
                continue
        real = os.path.realpath(absolute)
        if real in checked:
            result.skipped.append(Skipped(shown, f"same file as {checked[real]}"))
            continue
        checked[real] = shown
    result.files = sorted(checked.values())
    if unused_patterns:
        result.unused_patterns = excluder.unused_patterns()
    return result


class _Excluder:
    """The exclusion decision for one run: patterns compiled once, git asked once per repository."""

    def __init__(
        self,
        settings_for: Callable[[str], Config],
        dev_images: dict[str, str],
        force_exclude: bool,
        candidates: Sequence[str],
    ) -> None:
        self._settings_for = settings_for
        self._candidates = candidates
        self._dev_images = dev_images
        self._force_exclude = force_exclude
        self._linguist: dict[str, dict[str, str]] = {}  # repository root -> path -> attribute
        self._named_excluded: dict[tuple[str, int], bool] = {}
        # Per config: the config and the paths (relative to its patterns' base) met under it.
        self._met: dict[int, tuple[Config, list[str]]] = {}

    def reason(self, absolute: str, named: Path | None) -> str | None:
        """Why `absolute` is excluded, or None; `named` is the directory the user named."""
        settings = self._settings_for(absolute)
        base = _pattern_base(absolute, settings, named)
        self._met.setdefault(id(settings), (settings, []))[1].append(
            _relative_posix(absolute, base)
        )
        if (
            named is not None
            and not self._force_exclude
            and self._named_dir_excluded(os.path.abspath(named), settings, base)
        ):
            return None
        return self._reason_at(absolute, _relative_posix(absolute, base), settings, base)

    def unused_patterns(self) -> list[str]:
        unused: list[str] = []
        for settings, met in self._met.values():
            for key, patterns in (
                ("exclude", settings.exclude or ()),
                ("extend-exclude", settings.extend_exclude),
            ):
                if not patterns:
                    continue
                compiled = _compile(patterns)
                used = {index for relative in met for index in compiled.matching(relative)}
                where = f" in {settings.path}" if settings.path else ""
                unused += [
                    f"{pattern!r} ({key}{where})"
                    for index, pattern in enumerate(patterns)
                    if index not in used
                ]
        return unused

    def _named_dir_excluded(self, directory: str, settings: Config, base: str) -> bool:
        # A directory the user named is theirs to check even when an exclude covers it.
        key = (directory, id(settings))
        if key not in self._named_excluded:
            relative = _relative_posix(directory, base)
            excluded = (
                relative != "."
                and not relative.startswith("../")
                and self._reason_at(directory, relative + "/", settings, base) is not None
            )
            self._named_excluded[key] = excluded
        return self._named_excluded[key]

    def _reason_at(
        self, absolute: str, relative: str, settings: Config, base: str
    ) -> str | None:
        reason: str | None = None
        where = f" in {settings.path}" if settings.path else ""
        if settings.exclude is None:
            reason = self._default_reason(absolute, relative, base)
        elif settings.exclude:
            excluded, index = _compile(settings.exclude).check(relative)
            if excluded and index is not None:
                reason = f"excluded by {settings.exclude[index]!r} (exclude{where})"
        if settings.extend_exclude:
            extended, index = _compile(settings.extend_exclude).check(relative)
            if extended is False:
                return None  # a negation (`!path`) takes the file back
            if extended and index is not None:
                reason = f"excluded by {settings.extend_exclude[index]!r} (extend-exclude{where})"
        return reason

    def _default_reason(self, absolute: str, relative: str, base: str) -> str | None:
        excluded, index = _default_spec().check(relative)
        if excluded and index is not None:
            default = DEFAULT_EXCLUDE[index]
            why = default.why
            if default.pattern == "vendor/" and _beside_go_modules(absolute, base):
                why = "a Go vendor tree with modules.txt"
            return f"excluded by default ({default.pattern}: {why})"
        if absolute in self._dev_images:
            return f"excluded by default (the dev container image of {self._dev_images[absolute]})"
        attribute = self._linguist_attribute(absolute)
        if attribute is not None:
            return f"excluded by default (marked {attribute} in .gitattributes)"
        return None

    def _linguist_attribute(self, absolute: str) -> str | None:
        root = _repository_root(os.path.dirname(absolute))
        if root is None:
            return None  # .gitattributes is git's: outside a repository nothing is marked
        if root not in self._linguist:
            # One `git check-attr` per repository, for every file met in it; none when
            # git has nowhere to read an attribute from.
            below = [path for path in self._candidates if _repository_root(os.path.dirname(path)) == root]
            files = below or [absolute]
            marks = _linguist_marks(root, files) if _may_set_attributes(root, files) else {}
            self._linguist[root] = marks
        return self._linguist[root].get(absolute) or None


class PatternList:
    """Gitignore-style patterns, answering exactly as pathspec's GitIgnoreSpec of the whole
    list would, but compiling and trying only the patterns that can match a path.

    Literal characters between wildcards match themselves, inside one path segment: a
    pattern can match a path only if its longest literal run (`vendor` in `vendor/`,
    `-12.Dockerfile` in `*-12.Dockerfile`) is part of one of the path's segments. Patterns
    are indexed by that run and compiled on first use; patterns without one are always
    tried. A pattern that does not match a path cannot change gitignore's answer for it,
    so trying the candidates in their original order gives the whole list's answer. With
    10,000 patterns over 300 files this is compiling a few regular expressions instead of
    10,000, and a few hundred dictionary lookups per path instead of 10,000 searches.
    """

    def __init__(self, patterns: Sequence[str]) -> None:
        self.patterns = tuple(patterns)
        self._by_run: dict[str, list[int]] = {}
        always: list[int] = []
        for index, pattern in enumerate(self.patterns):
            run = _literal_run(pattern)
            if run is None:
                always.append(index)
            else:
                self._by_run.setdefault(run, []).append(index)
        self._always = tuple(always)
        self._run_lengths = sorted({len(run) for run in self._by_run})
        self._compiled: dict[int, GitIgnoreSpecPattern] = {}
        self._specs: dict[tuple[int, ...], GitIgnoreSpec] = {}

    def check(self, relative: str) -> tuple[bool | None, int | None]:
        """(True: excluded, False: taken back by a `!` pattern, None: no pattern matched;
        the index of the deciding pattern)."""
        indexed = self._indexed_candidates(relative)
        candidates = tuple(sorted({*self._always, *indexed})) if indexed else self._always
        if not candidates:
            return None, None
        result = self._spec(candidates).check_file(relative)
        return result.include, None if result.index is None else candidates[result.index]

    def _indexed_candidates(self, relative: str) -> set[int]:
        found: set[int] = set()
        by_run = self._by_run
        for segment in set(relative.split("/")):
            for length in self._run_lengths:
                if length > len(segment):
                    break
                for start in range(len(segment) - length + 1):
                    indexes = by_run.get(segment[start : start + length])
                    if indexes:
                        found.update(indexes)
        return found

    def match(self, relative: str) -> bool:
        return self.check(relative)[0] is True

    def matching(self, relative: str) -> set[int]:
        """Every pattern that matches `relative` on its own, whether or not it decides."""
        candidates = {*self._always, *self._indexed_candidates(relative)}
        self._spec(tuple(sorted(candidates)))  # compiles them
        return {
            index
            for index in candidates
            if self._compiled[index].include is not None
            and self._compiled[index].match_file(relative) is not None
        }

    def _spec(self, candidates: tuple[int, ...]) -> GitIgnoreSpec:
        spec = self._specs.get(candidates)
        if spec is None:
            from pathspec import GitIgnoreSpec
            from pathspec.patterns.gitignore.spec import GitIgnoreSpecPattern

            for index in candidates:
                if index not in self._compiled:
                    self._compiled[index] = GitIgnoreSpecPattern(self.patterns[index])
            spec = GitIgnoreSpec([self._compiled[index] for index in candidates])
            if len(self._specs) < 4096:  # files in one directory share their candidates
                self._specs[candidates] = spec
        return spec


_WILDCARDS = r"[*?\[\]/]+"  # compiled on first use (by re's cache): only configs need it


def _literal_run(pattern: str) -> str | None:
    """The longest run of literal characters in `pattern` (wildcards and `/` end a run);
    None when the pattern is one this shortcut does not reason about (escapes, comments,
    surrounding spaces, character classes' insides are wildcards anyway)."""
    if not pattern or pattern != pattern.strip() or "\\" in pattern or pattern[0] == "#":
        return None
    body = pattern[1:] if pattern[0] == "!" else pattern
    # A character class `[...]` matches one character: its insides are not literal.
    body = re.sub(r"\[[^\]]*\]?", "/", body)
    runs = [run for run in re.split(_WILDCARDS, body) if run not in ("", ".", "..")]
    return max(runs, key=len) if runs else None


@lru_cache(maxsize=64)
def _compile(patterns: tuple[str, ...]) -> PatternList:
    return PatternList(patterns)


def _default_spec() -> PatternList:
    return _compile(tuple(default.pattern for default in DEFAULT_EXCLUDE))


def compile_patterns(patterns: Sequence[str]) -> PatternList:
    """Gitignore-style patterns as dlink matches them (config.py's per-file table uses it)."""
    return _compile(tuple(patterns))


def _pattern_base(absolute: str, settings: Config, named: Path | None) -> str:
    """Where patterns are anchored: the config file's directory, else the repository root,
    else the directory the user named, else the file's own directory."""
    if settings.path is not None:
        config_dir = os.path.dirname(os.path.abspath(settings.path))
        if _is_below(absolute, config_dir):
            return config_dir
    root = _repository_root(os.path.dirname(absolute))
    if root is not None:
        return root
    if named is not None:
        return os.path.abspath(named)
    return os.path.dirname(absolute)


def _relative_posix(absolute: str, base: str) -> str:
    # relpath's answer is already normal (no `.` segments, no doubled separators): only
    # Windows' separator needs changing. (Two pathlib objects a call cost a batch of
    # files about 2 ms.)
    relative = os.path.relpath(absolute, base)
    return relative if os.sep == "/" else relative.replace(os.sep, "/")


def _beside_go_modules(absolute: str, base: str) -> bool:
    """Whether the nearest `vendor` directory above the file holds Go's modules.txt."""
    directory = os.path.dirname(absolute)
    while _is_below(directory, base):
        if os.path.basename(directory) == "vendor":
            return os.path.isfile(os.path.join(directory, "modules.txt"))
        directory = os.path.dirname(directory)
    return False


def _linguist_marks(root: str, files: Sequence[str]) -> dict[str, str]:
    """path -> the linguist attribute (`linguist-vendored`, ...) git says is set on it."""
    relative = [os.path.relpath(path, root) for path in files]
    try:
        completed = subprocess.run(
            ["git", "check-attr", "-z", "--stdin", *LINGUIST_ATTRIBUTES],
            cwd=root,
            input=b"\0".join(os.fsencode(path) for path in relative) + b"\0",
            capture_output=True,
            check=False,
        )
    except OSError:
        return {}
    if completed.returncode != 0:
        return {}
    marks: dict[str, str] = {path: "" for path in files}
    fields = completed.stdout.split(b"\0")
    for start in range(0, len(fields) - 2, 3):
        path, attribute, value = fields[start : start + 3]
        if value in (b"set", b"true"):
            absolute = os.path.join(root, os.fsdecode(path))
            marks[absolute] = marks.get(absolute) or attribute.decode()
    return marks


# Where git reads attributes besides the work tree's .gitattributes files
# (gitattributes(5)): $GIT_DIR/info/attributes, core.attributesFile (by default
# $XDG_CONFIG_HOME/git/attributes, else ~/.config/git/attributes) and the system file
# ($(prefix)/etc/gitattributes). Variables that move the git directory, the tree that
# attributes are read from, or add config on the command line send the question to git.
_SYSTEM_ATTRIBUTES = ("/etc/gitattributes", "/usr/local/etc/gitattributes")
_SYSTEM_CONFIG = ("/etc/gitconfig", "/usr/local/etc/gitconfig")
_GIT_LOCATION_VARIABLES = (
    "GIT_DIR", "GIT_COMMON_DIR", "GIT_WORK_TREE", "GIT_ATTR_SOURCE", "GIT_CONFIG",
    "GIT_CONFIG_PARAMETERS", "GIT_CONFIG_COUNT",
)  # fmt: skip
# Config that can name another attributes file (core.attributesFile, attr.tree) or pull
# in config that does (include, includeIf): seen in a config file, git is asked.
_ATTRIBUTE_CONFIG_WORDS = (b"attributesfile", b"[attr", b"[include")


def _may_set_attributes(root: str, files: Sequence[str]) -> bool:
    """Whether git could find an attribute for any of `files` (in the repository at
    `root`). False only when none of the places git reads attributes from exists, so
    that a repository without .gitattributes costs no `git check-attr` (a child process,
    about 2 ms of a single-file check); in any doubt, True."""
    if os.name != "posix" or any(name in os.environ for name in _GIT_LOCATION_VARIABLES):
        return True
    git_dir = os.path.join(root, ".git")
    if not os.path.isdir(git_dir) or os.path.islink(git_dir):
        return True  # a worktree or submodule: its git directory is elsewhere
    home = os.path.expanduser("~")
    config_home = os.environ.get("XDG_CONFIG_HOME") or os.path.join(home, ".config")
    attribute_files = (
        os.path.join(git_dir, "info", "attributes"),
        os.path.join(config_home, "git", "attributes"),
        *_SYSTEM_ATTRIBUTES,
    )
    if any(os.path.lexists(path) for path in attribute_files):
        return True
    config_files = [os.path.join(git_dir, "config"), os.path.join(git_dir, "config.worktree")]
    global_config = os.environ.get("GIT_CONFIG_GLOBAL")
    if global_config is not None:
        config_files.append(global_config)
    else:
        config_files += [os.path.join(home, ".gitconfig"), os.path.join(config_home, "git", "config")]
    system_config = os.environ.get("GIT_CONFIG_SYSTEM")
    if system_config is not None:
        config_files.append(system_config)
    elif not os.environ.get("GIT_CONFIG_NOSYSTEM"):
        config_files += _SYSTEM_CONFIG
    for path in config_files:
        if not path:
            continue
        try:
            with open(path, "rb") as stream:
                text = stream.read(1_000_000).lower()
        except FileNotFoundError:
            continue
        except OSError:
            return True
        if len(text) == 1_000_000 or any(word in text for word in _ATTRIBUTE_CONFIG_WORDS):
            return True
    # A .gitattributes file applies to the paths below its own directory.
    looked: set[str] = set()
    for path in files:
        directory = os.path.dirname(path)
        while directory not in looked and (directory == root or _is_below(directory, root)):
            looked.add(directory)
            if os.path.lexists(os.path.join(directory, ".gitattributes")):
                return True
            directory = os.path.dirname(directory)
    return False


def _root_of(absolute: str) -> str:
    directory = absolute if os.path.isdir(absolute) else os.path.dirname(absolute)
    return _repository_root(directory) or directory


def _standard_devcontainer_files(root: str) -> list[str]:
    """Where dev container tools look: .devcontainer.json, .devcontainer/devcontainer.json,
    .devcontainer/<name>/devcontainer.json."""
    found = [
        os.path.join(root, ".devcontainer.json"),
        os.path.join(root, ".devcontainer", "devcontainer.json"),
    ]
    folder = os.path.join(root, ".devcontainer")
    try:
        found += [os.path.join(folder, name, "devcontainer.json") for name in os.listdir(folder)]
    except OSError:
        pass  # no such folder (the usual case), or one we may not read: it names nothing
    return [path for path in found if os.path.isfile(path)]


# JSON with comments and trailing commas (devcontainer.json is JSONC): a string is kept,
# a comment or a comma before a closing bracket is dropped.
# Compiled on first use (by re's cache): most repositories have no devcontainer.json.
_JSONC_NOISE = r'(?s)("(?:\\.|[^"\\])*")|//[^\n]*|/\*.*?\*/|,(?=\s*[}\]])'


def _devcontainer_dockerfiles(json_files: Sequence[str]) -> dict[str, str]:
    """absolute Dockerfile path -> the devcontainer.json (relative to its root) naming it."""
    named: dict[str, str] = {}
    for json_file in json_files:
        import json  # only repositories with a devcontainer.json need the parser

        try:
            text = Path(json_file).read_text(encoding="utf-8")
            document = json.loads(re.sub(_JSONC_NOISE, lambda m: m.group(1) or "", text))
        except (OSError, UnicodeDecodeError, ValueError, RecursionError):
            continue  # not ours to validate: an unreadable one names nothing
        if not isinstance(document, dict):
            continue
        build = document.get("build")
        dockerfile = build.get("dockerfile") if isinstance(build, dict) else None
        dockerfile = dockerfile or document.get("dockerFile")  # the older spelling
        if isinstance(dockerfile, str) and dockerfile:
            target = os.path.normpath(os.path.join(os.path.dirname(json_file), dockerfile))
            shown = os.path.relpath(json_file, _root_of(os.path.dirname(json_file)))
            named.setdefault(target, Path(shown).as_posix())
    return named


def _files_below(dirs: Sequence[Path]) -> Iterator[tuple[Path, list[str]]]:
    """For each searched directory, the absolute paths of the candidate files below it."""
    by_repository: dict[str, list[str]] = {}
    for directory in dirs:
        root = _repository_root(os.path.abspath(directory))
        if root is None:
            yield directory, list(_walk(os.path.abspath(directory)))
        else:
            by_repository.setdefault(root, []).append(os.path.abspath(directory))
    listed: dict[str, list[str] | None] = {
        root: _git_files(root, bases) for root, bases in by_repository.items()
    }
    for directory in dirs:
        base = os.path.abspath(directory)
        root = _repository_root(base)
        if root is None:
            continue
        files = listed[root]
        if files is None:
            # git is missing or refused the repository (e.g. `safe.directory` when the
            # checkout belongs to another user): finding too many files beats failing.
            yield directory, list(_walk(base))
        else:
            yield directory, [path for path in files if _is_below(path, base)]


def _repository_root(absolute: str) -> str | None:
    """The nearest directory at or above `absolute` holding `.git` (a worktree has a file)."""
    candidate = absolute
    while True:
        if os.path.lexists(os.path.join(candidate, ".git")):
            return candidate
        parent = os.path.dirname(candidate)
        if parent == candidate:
            return None
        candidate = parent


# `git ls-files -s` prefixes tracked entries with "MODE OBJECT STAGE<TAB>"; untracked
# ones come bare. Mode 160000 is a gitlink: a submodule whose files git does not list.
_STAGED_ENTRY = rb"([0-7]{6}) [0-9a-f]{40,64} [0-3]\t(.*)"
_GITLINK_MODE = b"160000"
# Compiled on first use (by re's cache), like _SIZE: most runs never need them (a file
# named on the command line is not searched for).
_GIT_UNREADABLE = rb"could not open directory '(.*?)/?': Permission denied"


def _git_files(root: str, bases: Sequence[str]) -> list[str] | None:
    """Candidate files below `bases` that git does not ignore, from one `git ls-files`."""
    # Pathspecs are made relative to the root and taken literally so that a directory
    # called `[abc]` or `*` means itself.
    pathspecs = [os.path.relpath(base, root) for base in bases]
    command = [
        "git",
        "--literal-pathspecs",
        "ls-files",
        "--cached",
        "--others",
        "--exclude-standard",
        "--stage",
        "-z",
        "--",
        *pathspecs,
    ]
    try:
        completed = subprocess.run(command, cwd=root, capture_output=True, check=False)
    except OSError:
        return None
    if completed.returncode != 0:
        return None
    unreadable = re.search(_GIT_UNREADABLE, completed.stderr) if completed.stderr else None
    if unreadable:
        # git warns and goes on; a Dockerfile in there would go unchecked unseen.
        directory = os.path.join(root, os.fsdecode(unreadable.group(1)))
        raise DlinkError(f"cannot read directory {directory}: permission denied")
    files: set[str] = set()
    repositories: set[str] = set()
    staged_entry = re.compile(_STAGED_ENTRY, re.DOTALL)
    for entry in completed.stdout.split(b"\0"):
        if not entry:
            continue
        staged = staged_entry.fullmatch(entry)
        mode, raw_path = (staged.group(1), staged.group(2)) if staged else (None, entry)
        path = os.path.join(root, os.fsdecode(raw_path))
        if mode == _GITLINK_MODE or raw_path.endswith(b"/"):
            # A submodule, or an untracked nested repository (listed as `dir/`): its
            # files are another repository's business, so ask that repository.
            repositories.add(path.rstrip("/"))
        elif _is_candidate(os.path.basename(path)) and os.path.lexists(path):
            # Only names that can matter are stat'ed: a monorepo lists a lot of files.
            # A tracked file deleted from the work tree is still listed; lexists drops it.
            files.add(path)
    for nested in sorted(repositories):
        # An uninitialised submodule is an empty directory without `.git`; asking git
        # about it would only list the gitlink again.
        if os.path.lexists(os.path.join(nested, ".git")) and not os.path.islink(nested):
            files.update(path for _, found in _files_below([Path(nested)]) for path in found)
    return sorted(files)


def _is_below(path: str, base: str) -> bool:
    return path.startswith(base.rstrip(os.sep) + os.sep)


def _unreadable_directory(error: OSError) -> None:
    # os.walk skips a directory it cannot list unless told: a Dockerfile in there
    # would go unchecked without anyone knowing.
    raise DlinkError(f"cannot read directory {error.filename}: {_reason(error)}")


def _walk(base: str) -> Iterator[str]:
    for dirpath, dirnames, filenames in os.walk(base, onerror=_unreadable_directory):
        # Pruning in place stops os.walk from descending into `.git`.
        dirnames[:] = [name for name in dirnames if name != ".git"]
        for name in filenames:
            path = os.path.join(dirpath, name)
            if _is_candidate(name) and (os.path.isfile(path) or os.path.islink(path)):
                yield path


# Generated Dockerfiles are big but never this big; a file above the limit is refused
# (DLK000) instead of being processed slowly. Override with DLINK_MAX_FILE_SIZE (bytes,
# or with a K/M/G suffix, powers of 1024).
DEFAULT_MAX_FILE_SIZE = 10 * 1024 * 1024
MAX_FILE_SIZE_VARIABLE = "DLINK_MAX_FILE_SIZE"
_SIZE = r"(?i)\s*([0-9]{1,15})\s*([KMG]i?B?|B)?\s*"
_READ_CHUNK = 1024 * 1024
# Our temporary files: `.NAME.PID.RANDOM.dlink-tmp`, so a later run can tell a leftover
# of a process that died (kill -9, power loss) from one another run is writing now.
_TEMPORARY_SUFFIX = ".dlink-tmp"


class FileTooLarge(DlinkError):
    """The file is larger than the size limit; reported as DLK000, not as a failed run."""


def max_file_size(environ: Mapping[str, str] | None = None) -> int:
    """The size limit in bytes: DLINK_MAX_FILE_SIZE when set, else 10 MiB."""
    raw = (os.environ if environ is None else environ).get(MAX_FILE_SIZE_VARIABLE)
    if raw is None or not raw.strip():
        return DEFAULT_MAX_FILE_SIZE
    match = re.fullmatch(_SIZE, raw)
    if match is None:
        raise DlinkError(
            f"{MAX_FILE_SIZE_VARIABLE}={raw[:40]!r} is not a size",
            hint="write a number of bytes, optionally with K, M or G (e.g. 20M)",
        )
    unit = (match.group(2) or "B")[:1].upper()
    return int(match.group(1)) * {"B": 1, "K": 1024, "M": 1024**2, "G": 1024**3}[unit]


def read_dockerfile(path: Path, limit: int | None = None) -> bytes:
    """The file's raw bytes; decoding (BOM, UTF-8) is the parser's business.

    Only regular files are read: a FIFO would block forever and a device such as
    /dev/zero never ends, so anything else (followed through symlinks) is refused.
    The size limit (`max_file_size()` unless given) is enforced while reading, not only
    from the size `stat` reports, so a file that grows while it is read cannot exhaust
    memory. FileTooLarge is raised above it; every other failure is a DlinkError.
    """
    limit = max_file_size() if limit is None else limit
    try:
        # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
        # It changes nothing for a regular file, the only kind read past fstat.
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
        descriptor = os.open(path, flags | getattr(os, "O_BINARY", 0))
    except OSError as error:
        raise DlinkError(f"cannot read {path}: {_reason(error)}") from None
    try:
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):
            raise DlinkError(f"cannot read {path}: {_not_regular(mode)}")
        chunks: list[bytes] = []
        size = 0
        while True:
            chunk = os.read(descriptor, min(_READ_CHUNK, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                raise FileTooLarge(
                    f"file larger than {_size(limit)}, not read",
                    hint=f"set {MAX_FILE_SIZE_VARIABLE}=50M (or another size) to check larger files",
                )
        return b"".join(chunks)
    except OSError as error:
        raise DlinkError(f"cannot read {path}: {_reason(error)}") from None
    finally:
        os.close(descriptor)


def _not_regular(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "is a directory"  # as the operating system words it
    if stat.S_ISFIFO(mode):
        kind = "a FIFO (named pipe)"
    elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        kind = "a device"
    elif stat.S_ISSOCK(mode):
        kind = "a socket"
    else:
        kind = "a special file"
    return f"is {kind}, not a regular file"


def _size(count: int) -> str:
    for unit, factor in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if count >= factor and count % factor == 0:
            return f"{count // factor} {unit}"
    return f"{count} bytes"


def write_atomic(path: Path, data: bytes, expected: bytes | None = None) -> bool:
    """Replace the contents of the existing file `path` with `data`; False when already equal.

    Equal bytes mean no write at all: mtime, inode and directory stay as they were.
    Otherwise a temporary file in the target's directory is written, synced, given the
    original's mode (and owner, where permitted) and renamed over the target, so a reader
    sees either the old or the new file, never half of one. A symlink is followed: its
    target changes, the link stays; but a link inside a git repository that leads out of
    it is refused (a fix of this repository must not rewrite another one's file unseen).
    Hard links to the file are not kept (the path gets a new inode), and a file that is
    not writable by us is refused even though its directory would allow the rename,
    because a read-only file is the user saying "no".

    `expected` is the content the new data was computed from. When the file no longer
    holds it (someone saved it while dlink was working) the write is refused rather than
    overwrite their change; when it already holds `data` (another dlink run was faster)
    nothing is written and the result is False. The check is repeated just before the
    rename, under an advisory lock that concurrent dlink runs respect.

    On failure the original is untouched, no temporary file is left, and DlinkError says
    `cannot write PATH: reason`. Leftovers of runs that died mid-write are the business of
    `remove_leftovers`.
    """
    target = Path(os.path.realpath(path))
    _refuse_link_out_of_repository(path, target)
    try:
        original = target.stat()
        current = target.read_bytes()
    except OSError as error:
        raise DlinkError(f"cannot write {path}: {_reason(error)}") from None
    if current == data:
        return False
    if expected is not None and current != expected:
        raise _changed(path)
    if not os.access(target, os.W_OK):
        raise DlinkError(f"cannot write {path}: permission denied")
    if _append_only(target.parent):
        # Creating the temporary file would work, but neither the rename nor removing
        # it would: refuse before leaving anything behind.
        raise DlinkError(f"cannot write {path}: its directory is append-only or immutable")

    import tempfile  # only writes need it (and its import pulls in random and hashlib)

    temporary: str | None = None
    try:
        descriptor, temporary = tempfile.mkstemp(
            prefix=f".{target.name}.{os.getpid()}.", suffix=_TEMPORARY_SUFFIX, dir=target.parent
        )
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        mode = stat.S_IMODE(original.st_mode)
        os.chmod(temporary, mode)
        if _try_chown(temporary, original) and mode & (stat.S_ISUID | stat.S_ISGID):
            # chown clears setuid/setgid; putting them back needs to own the file or
            # CAP_FOWNER, so it is best effort like the chown itself.
            _try(os.chmod, temporary, mode)
        with _locked(target):
            now = target.read_bytes()
            if now == data:
                return False
            if now != (current if expected is None else expected):
                raise _changed(path)
            os.replace(temporary, target)
        temporary = None
    except OSError as error:
        raise DlinkError(f"cannot write {path}: {_reason(error)}") from None
    finally:
        if temporary is not None:
            _remove_quietly(temporary)
    _fsync_directory(target.parent)
    return True


# FS_IOC_GETFLAGS (the generic Linux encoding, x86-64 and arm64) and the attribute bits
# `chattr +a` / `chattr +i` set.
_FS_IOC_GETFLAGS = 0x80086601
_FS_APPEND_OR_IMMUTABLE = 0x20 | 0x10


def _append_only(directory: Path) -> bool:
    """Whether the directory has the append-only or immutable attribute (Linux; else False)."""
    if not sys.platform.startswith("linux"):
        return False
    import fcntl

    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return False
    try:
        flags = bytearray(8)
        fcntl.ioctl(descriptor, _FS_IOC_GETFLAGS, flags)
    except OSError:
        return False  # the filesystem keeps no such attributes
    finally:
        os.close(descriptor)
    return bool(int.from_bytes(flags[:4], sys.byteorder) & _FS_APPEND_OR_IMMUTABLE)


def _changed(path: Path) -> DlinkError:
    return DlinkError(
        f"cannot write {path}: it changed on disk while dlink was fixing it; left as it is",
        hint="run dlink fix again",
    )


def _refuse_link_out_of_repository(path: Path, target: Path) -> None:
    absolute = os.path.abspath(path)
    if str(target) == absolute:
        return
    root = _repository_root(os.path.dirname(absolute))
    if root is None:
        return
    real_root = os.path.realpath(root)
    if not _is_below(str(target), real_root):
        raise DlinkError(
            f"cannot write {path}: it is a symbolic link to {target}, outside the repository "
            f"{root}; not rewritten through the link",
            hint="fix the file it points to in its own repository",
        )


class _locked:
    """An advisory lock on the target while it is compared and replaced (POSIX only).

    Two dlink runs on one tree take turns here; editors do not lock, which is why the
    content is compared again inside. Where locking is unavailable this does nothing.
    """

    def __init__(self, target: Path) -> None:
        self._target = target
        self._descriptor: int | None = None

    def __enter__(self) -> None:
        try:
            import fcntl
        except ImportError:  # Windows
            return
        try:
            self._descriptor = os.open(self._target, os.O_RDONLY)
            fcntl.flock(self._descriptor, fcntl.LOCK_EX)
        except OSError:
            self._close()

    def __exit__(self, *_: object) -> None:
        self._close()

    def _close(self) -> None:
        if self._descriptor is not None:
            os.close(self._descriptor)
            self._descriptor = None


def remove_leftovers(directory: Path) -> int:
    """Remove the temporary files dead dlink runs left in `directory`; how many went.

    A leftover names the process that made it; it is removed only when that process no
    longer exists (or is us: a finished write of ours never leaves one), so a concurrent
    run's file being written is never touched. Best effort: failures are ignored. `fix`
    calls this once per directory it writes in (once: a directory of many files would
    otherwise be listed once per file).
    """
    removed = 0
    try:
        names = os.listdir(directory)
    except OSError:
        return 0
    for name in names:
        if not (name.startswith(".") and name.endswith(_TEMPORARY_SUFFIX)):
            continue
        # `.NAME.PID.RANDOM.dlink-tmp`: NAME may contain dots, PID and RANDOM do not.
        parts = name[: -len(_TEMPORARY_SUFFIX)].rsplit(".", 2)
        if len(parts) != 3 or not parts[1].isdigit() or not _process_gone(int(parts[1])):
            continue
        try:
            os.unlink(directory / name)
            removed += 1
        except OSError:
            pass
    return removed


def _process_gone(pid: int) -> bool:
    if os.name == "nt":
        return False  # os.kill(pid, 0) would send CTRL_C_EVENT there, not probe
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (OSError, OverflowError):
        return False  # alive but not ours (EPERM), or not a pid we can ask about
    return False


def _try_chown(temporary: str, original: os.stat_result) -> bool:
    # Only root (or the owner giving the file to a group of theirs) may chown; for
    # everyone else the new file keeps our ownership, which is the usual outcome anyway.
    if not hasattr(os, "chown"):
        return False
    return _try(os.chown, temporary, original.st_uid, original.st_gid)


def _try(operation: Callable[..., None], *args: object) -> bool:
    try:
        operation(*args)
    except OSError:
        return False
    return True


def _remove_quietly(temporary: str) -> None:
    try:
        os.unlink(temporary)
    except OSError:
        pass


def _fsync_directory(directory: Path) -> None:
    # Makes the rename itself durable. Best effort: Windows cannot open a directory, and
    # some filesystems refuse fsync on one; the data is already safe either way.
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def _reason(error: OSError) -> str:
    """An OSError as a short lower-case phrase, without the path it usually repeats."""
    reason = error.strerror or str(error)
    return reason[:1].lower() + reason[1:]
