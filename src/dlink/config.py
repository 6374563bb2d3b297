"""dlink's settings: `[tool.dlink]` in pyproject.toml, or top-level keys in `.dlink.toml`.

A file's settings come from the nearest such file at or above it, searching no higher
than its repository root (the first directory holding `.git`). Nothing found means
`DEFAULT`. Every mistake in a config file is a DlinkError naming the file and the key.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dlink.errors import DlinkError
from dlink.record import Record

if TYPE_CHECKING:
    import re

DLINK_TOML = ".dlink.toml"
PYPROJECT_TOML = "pyproject.toml"
FAIL_ON_CHOICES = ("error", "warning", "info", "never")


class PerFile(Record):
    """One entry of the `per-file` table: settings for the files a pattern matches."""

    __slots__ = ("pattern", "targets", "select", "ignore", "build_args", "platforms")
    pattern: str  # gitignore syntax, relative to the config file's directory
    targets: tuple[str, ...] | None
    select: tuple[str, ...] | None
    ignore: tuple[str, ...]
    build_args: tuple[tuple[str, str], ...]
    platforms: tuple[str, ...] | None

    def __init__(
        self,
        pattern: str,
        targets: tuple[str, ...] | None = None,
        select: tuple[str, ...] | None = None,
        ignore: tuple[str, ...] = (),
        build_args: tuple[tuple[str, str], ...] = (),
        platforms: tuple[str, ...] | None = None,
    ) -> None:
        self.pattern = pattern
        self.targets = targets
        self.select = select
        self.ignore = ignore
        self.build_args = build_args
        self.platforms = platforms


class Config(Record):
    """Settings for the files below one config file; `path` is that file (None: defaults).

    `exclude` None means the default exclude set (dlink.files.DEFAULT_EXCLUDE); a list
    replaces it, `extend_exclude` adds to whichever applies.
    """

    __slots__ = (
        "repo_url", "remote", "select", "ignore", "exclude", "extend_exclude", "per_file",
        "fail_on", "unsafe_fixes", "scope", "path",
    )  # fmt: skip
    repo_url: str | None
    remote: str | None
    select: tuple[str, ...]
    ignore: tuple[str, ...]
    exclude: tuple[str, ...] | None
    extend_exclude: tuple[str, ...]
    per_file: tuple[PerFile, ...]
    fail_on: str | None
    unsafe_fixes: bool | None  # fix: also apply unsafe fixes (repointing the label)
    scope: str | None  # "published" (default) or "all": which Dockerfiles are images
    path: Path | None

    def __init__(
        self,
        repo_url: str | None = None,
        remote: str | None = None,
        select: tuple[str, ...] = (),
        ignore: tuple[str, ...] = (),
        exclude: tuple[str, ...] | None = None,
        extend_exclude: tuple[str, ...] = (),
        per_file: tuple[PerFile, ...] = (),
        fail_on: str | None = None,
        unsafe_fixes: bool | None = None,
        scope: str | None = None,
        path: Path | None = None,
    ) -> None:
        self.repo_url = repo_url
        self.remote = remote
        self.select = select
        self.ignore = ignore
        self.exclude = exclude
        self.extend_exclude = extend_exclude
        self.per_file = per_file
        self.fail_on = fail_on
        self.unsafe_fixes = unsafe_fixes
        self.scope = scope
        self.path = path


class FileSettings(Record):
    """What the `per-file` entries matching one file say (None: not set by any)."""

    __slots__ = ("targets", "select", "ignore", "build_args", "platforms")
    targets: tuple[str, ...] | None
    select: tuple[str, ...] | None
    ignore: tuple[str, ...]
    build_args: dict[str, str] | None
    platforms: tuple[str, ...] | None

    def __init__(
        self,
        targets: tuple[str, ...] | None = None,
        select: tuple[str, ...] | None = None,
        ignore: tuple[str, ...] = (),
        build_args: dict[str, str] | None = None,
        platforms: tuple[str, ...] | None = None,
    ) -> None:
        self.targets = targets
        self.select = select
        self.ignore = ignore
        self.build_args = build_args
        self.platforms = platforms


DEFAULT = Config()


@cache
def _code_prefix() -> re.Pattern[str]:
    """A rule code ("DLK101") or a prefix of one ("DLK1", "DLK"); compiled when a config
    file is read, which most runs never do."""
    import re

    return re.compile(r"[A-Z]+[0-9]*")


def load_config(path: Path) -> Config:
    """Read an explicit config file (`--config FILE`).

    A file named pyproject.toml must have a `[tool.dlink]` table; a file with any other
    name is read like `.dlink.toml`, keys at the top level.
    """
    document = _read_toml(path)
    if path.name == PYPROJECT_TOML:
        table = _tool_dlink(document, path)
        if table is None:
            raise DlinkError(
                f"{path}: no [tool.dlink] table",
                hint="add a [tool.dlink] table, or point --config at a .dlink.toml file",
            )
        return _parse(table, path, where="[tool.dlink]")
    return _parse(document, path, where=None)


def find_config(start: Path) -> Config:
    """The config that applies to the file or directory `start`: the nearest one upward.

    Results are cached per directory, for the life of the process, so checking many
    files costs one lookup per directory; `clear_cache()` forgets them.
    """
    absolute = Path(os.path.abspath(start))
    directory = absolute if absolute.is_dir() else absolute.parent
    return _config_for_directory(directory)


def clear_cache() -> None:
    """Forget every config found so far (for tests, and for config files that changed)."""
    _CACHE.clear()


def code_selected(code: str, select: Sequence[str], ignore: Sequence[str]) -> bool:
    """Whether rule `code` runs under `select` and `ignore` (codes or code prefixes).

    An empty `select` selects everything. When both a select and an ignore entry match,
    the longer (more specific) one decides, so `select=["DLK101"], ignore=["DLK1"]` runs
    DLK101 alone of the DLK1xx rules; on a tie, ignore wins.
    """
    selected_by = _longest_prefix(code, select) if select else 0
    if selected_by is None:
        return False
    ignored_by = _longest_prefix(code, ignore)
    return ignored_by is None or selected_by > ignored_by


def file_settings(config: Config, path: Path) -> FileSettings:
    """The `per-file` settings for `path`: every matching entry, in order; for each key the
    last entry that sets it wins (`ignore` and `build-args` accumulate)."""
    if not config.per_file or config.path is None:
        return FileSettings()
    from dlink.files import compile_patterns

    base = Path(os.path.abspath(config.path)).parent
    try:
        relative = Path(os.path.abspath(path)).relative_to(base).as_posix()
    except ValueError:
        return FileSettings()  # --config FILE elsewhere: its per-file table has no anchor here
    targets = select = platforms = None
    ignore: tuple[str, ...] = ()
    build_args: dict[str, str] | None = None
    for entry in config.per_file:
        if not compile_patterns((entry.pattern,)).match(relative):
            continue
        targets = entry.targets if entry.targets is not None else targets
        select = entry.select if entry.select is not None else select
        platforms = entry.platforms if entry.platforms is not None else platforms
        ignore += entry.ignore
        if entry.build_args:
            build_args = {**(build_args or {}), **dict(entry.build_args)}
    return FileSettings(targets, select, ignore, build_args, platforms)


def _longest_prefix(code: str, prefixes: Sequence[str]) -> int | None:
    lengths = [len(prefix) for prefix in prefixes if code.startswith(prefix)]
    return max(lengths) if lengths else None


_CACHE: dict[Path, Config] = {}


def _config_for_directory(directory: Path) -> Config:
    visited: list[Path] = []
    found = DEFAULT
    for candidate in (directory, *directory.parents):
        cached = _CACHE.get(candidate)
        if cached is not None:
            found = cached
            break
        visited.append(candidate)
        config = _config_in(candidate)
        if config is not None:
            found = config
            break
        if os.path.lexists(candidate / ".git"):
            break
    # Every directory on the way up shares the answer, so siblings cost no further stat.
    for seen in visited:
        _CACHE[seen] = found
    return found


def _config_in(directory: Path) -> Config | None:
    """The config file in `directory` itself, if any; `.dlink.toml` wins over pyproject."""
    dlink_toml = directory / DLINK_TOML
    if dlink_toml.is_file():
        return _parse(_read_toml(dlink_toml), dlink_toml, where=None)
    if os.path.lexists(dlink_toml):
        # A directory (or a FIFO, a broken symlink) where a config file should be: saying
        # so beats silently running with other settings.
        raise DlinkError(
            f"{dlink_toml}: not a regular file",
            hint="a .dlink.toml must be a TOML file; remove or rename this one",
        )
    pyproject = directory / PYPROJECT_TOML
    if pyproject.is_file():
        try:
            raw = pyproject.read_bytes()
        except OSError as error:
            raise DlinkError(f"cannot read {pyproject}: {_reason(error)}") from None
        # A pyproject.toml that never says "dlink" cannot have [tool.dlink]: skip it
        # unparsed, so another tool's broken pyproject.toml above us is not our error.
        if b"dlink" not in raw:
            return None
        table = _tool_dlink(_parse_toml(raw, pyproject), pyproject)
        if table is not None:
            return _parse(table, pyproject, where="[tool.dlink]")
    return None


def _read_toml(path: Path) -> dict[str, Any]:
    if path.is_dir():
        raise DlinkError(f"{path}: is a directory, not a config file")
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise DlinkError(f"cannot read {path}: {_reason(error)}") from None
    return _parse_toml(raw, path)


def _parse_toml(raw: bytes, path: Path) -> dict[str, Any]:
    # Imported here: most repositories have no config file, and the parser costs 2 ms.
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised only on Python 3.10
        import tomli as tomllib

    try:
        return tomllib.loads(raw.decode("utf-8"))
    except RecursionError:
        # tomllib reads arrays and inline tables recursively: thousands of levels exhaust
        # Python's stack. No real config nests like that.
        raise DlinkError(f"{path}: invalid TOML: nested too deeply") from None
    except UnicodeDecodeError as error:
        raise DlinkError(f"{path}: not UTF-8 ({error.reason} at byte {error.start})") from None
    except tomllib.TOMLDecodeError as error:
        raise DlinkError(f"{path}: invalid TOML: {_with_line(str(error), raw)}") from None


def _with_line(detail: str, raw: bytes) -> str:
    # tomllib says "(at line L, column C)", except for an unclosed construct, where it
    # says "(at end of document)": the last line is where the reader should look.
    end = "(at end of document)"
    if end not in detail:
        return detail
    last_line = raw.count(b"\n") + (0 if raw.endswith(b"\n") else 1)
    return detail.replace(end, f"(at end of document, line {last_line})")


def _tool_dlink(document: Mapping[str, Any], path: Path) -> Mapping[str, Any] | None:
    tool = document.get("tool")
    if not isinstance(tool, dict) or "dlink" not in tool:
        return None
    table = tool["dlink"]
    if not isinstance(table, dict):
        raise DlinkError(f"{path}: tool.dlink must be a table")
    return table


def _parse(table: Mapping[str, Any], path: Path, *, where: str | None) -> Config:
    place = f" in {where}" if where else ""
    values: dict[str, Any] = {}
    for key, value in table.items():
        spec = _KEYS.get(key)
        if spec is None:
            raise DlinkError(f"{path}: unknown key {key!r}{place}", hint=_unknown_key_hint(key))
        field_name, convert, expected = spec
        converted = _per_file(value, path, place) if key == "per-file" else convert(value)
        codes = field_name in ("select", "ignore") and isinstance(value, list)
        if converted is None:
            hint = _codes_hint(value) if codes else None
            raise DlinkError(f"{path}: {key!r}{place} must be {expected}, not {_short(value)}", hint)
        if codes:
            from dlink.codes import check_codes  # the CLI validates with the same function

            check_codes(value, f"{path}: {key!r}{place}")
        values[field_name] = converted
    return Config(path=path, **values)


def _codes_hint(value: list[object]) -> str | None:
    from dlink.codes import suggest

    for item in value:
        if isinstance(item, str) and not _code_prefix().fullmatch(item):
            return suggest(item)
    return None


def _short(value: object) -> str:
    # reprlib bounds depth and length: a value nested thousands deep prints as `[[...]]`.
    import reprlib

    return reprlib.repr(value)


def _per_file(value: object, path: Path, place: str) -> tuple[PerFile, ...] | None:
    """`per-file = { "PATTERN" = { targets = [...], ... } }`, in the order written."""
    if not isinstance(value, dict):
        return None
    entries: list[PerFile] = []
    for pattern, table in value.items():
        where = f"per-file {pattern!r}{place}"
        if not pattern:
            raise DlinkError(f"{path}: per-file{place}: an empty pattern matches nothing")
        if not isinstance(table, dict):
            raise DlinkError(f"{path}: {where} must be a table, not {_short(table)}")
        fields: dict[str, Any] = {}
        for key, item in table.items():
            spec = _PER_FILE_KEYS.get(key)
            if spec is None:
                known = ", ".join(sorted(_PER_FILE_KEYS))
                raise DlinkError(
                    f"{path}: unknown key {key!r} in {where}", hint=f"known keys: {known}"
                )
            field_name, convert, expected = spec
            converted = convert(item)
            if converted is None:
                raise DlinkError(f"{path}: {key!r} in {where} must be {expected}, not {_short(item)}")
            if field_name in ("select", "ignore"):
                from dlink.codes import check_codes

                check_codes(item, f"{path}: {key!r} in {where}")
            fields[field_name] = converted
        entries.append(PerFile(pattern, **fields))
    return tuple(entries)


def _unknown_key_hint(key: str) -> str:
    kebab = key.replace("_", "-")
    if kebab in _KEYS:
        return f"did you mean {kebab!r}? dlink's keys are kebab-case"
    if key == "tool":
        return (
            "only a file named pyproject.toml is read for [tool.dlink]; "
            "other files take the keys at the top level"
        )
    return "known keys: " + ", ".join(sorted(_KEYS))


# Each converter returns the field's value, or None when `value` is not acceptable.
def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _bool(value: object) -> bool | None:
    return value if isinstance(value, bool) else None


def _fail_on(value: object) -> str | None:
    return value if isinstance(value, str) and value in FAIL_ON_CHOICES else None


def _codes(value: object) -> tuple[str, ...] | None:
    if not isinstance(value, list):
        return None
    if not all(isinstance(item, str) and _code_prefix().fullmatch(item) for item in value):
        return None
    return tuple(value)


def _globs(value: object) -> tuple[str, ...] | None:
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        return None
    return tuple(value)


def _names(value: object) -> tuple[str, ...] | None:
    if not isinstance(value, list) or not all(
        isinstance(item, str) and item.strip() for item in value
    ):
        return None
    return tuple(value)


def _build_args(value: object) -> tuple[tuple[str, str], ...] | None:
    if not isinstance(value, dict) or not all(
        isinstance(name, str) and name and isinstance(item, str) for name, item in value.items()
    ):
        return None
    return tuple(value.items())


_KEYS: dict[str, tuple[str, Callable[[object], object | None], str]] = {
    "repo-url": ("repo_url", _text, "a non-empty string"),
    "remote": ("remote", _text, "a non-empty string"),
    "select": ("select", _codes, 'a list of rule codes or prefixes such as "DLK1" or "DLK101"'),
    "ignore": ("ignore", _codes, 'a list of rule codes or prefixes such as "DLK1" or "DLK101"'),
    "exclude": ("exclude", _globs, "a list of non-empty gitignore-style patterns"),
    "extend-exclude": ("extend_exclude", _globs, "a list of non-empty gitignore-style patterns"),
    "per-file": ("per_file", _globs, 'a table of tables: per-file."PATTERN" = { targets = [...] }'),
    "fail-on": ("fail_on", _fail_on, "one of " + ", ".join(map(repr, FAIL_ON_CHOICES))),
    "scope": ("scope", lambda v: _scope(v), "'published' or 'all'"),
    "unsafe-fixes": ("unsafe_fixes", _bool, "true or false"),
}


def _scope(value: object) -> str | None:
    return value if isinstance(value, str) and value in ("published", "all") else None


_CODES = 'a list of rule codes or prefixes such as "DLK1" or "DLK101"'
_PER_FILE_KEYS: dict[str, tuple[str, Callable[[object], object | None], str]] = {
    "targets": ("targets", _names, "a list of stage names"),
    "select": ("select", _codes, _CODES),
    "ignore": ("ignore", _codes, _CODES),
    "build-args": ("build_args", _build_args, 'a table of strings: { NAME = "value" }'),
    "platforms": ("platforms", _names, 'a list of platforms such as "linux/amd64"'),
}


def _reason(error: OSError) -> str:
    reason = error.strerror or str(error)
    return reason[:1].lower() + reason[1:]
