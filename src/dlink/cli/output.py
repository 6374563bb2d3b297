"""The one way the CLI writes anything: every string goes through `dlink.redact` first.

Commands never call `print`, `typer.echo` or `sys.stdout.write` themselves
(tests/test_repo_secrets.py checks the source), so a report, a diff, an error or a
child process's output cannot reach a terminal, a log or a file unredacted.
Colour is decided here too, from `--color` and the environment conventions.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

from dlink.errors import DlinkError
from dlink.redact import redact

COLOR_CHOICES = ("auto", "always", "never")


def _write(stream: TextIO, text: str, nl: bool) -> None:
    text = redact(text)
    if nl and not text.endswith("\n"):
        text += "\n"
    stream.write(text)
    stream.flush()


def out(text: str = "", *, nl: bool = True) -> None:
    """Write `text` (redacted) to standard output, with a final newline unless `nl` is false."""
    _write(sys.stdout, text, nl)


def err(text: str = "", *, nl: bool = True) -> None:
    """Write `text` (redacted) to standard error."""
    _write(sys.stderr, text, nl)


def error_line(error: DlinkError) -> None:
    """A user error as one line on stderr, and its hint."""
    err(f"dlink: error: {error.message}")
    if error.hint:
        err(f"hint: {error.hint}")


def write_file(path: Path, text: str) -> None:
    """Write `text` (redacted) to `path` atomically: a reader sees the old file or the new one."""
    import tempfile  # only writes need it: kept out of every run's start-up

    text = redact(text)
    directory = path.parent if str(path.parent) else Path(".")
    temporary: str | None = None
    try:
        descriptor, temporary = tempfile.mkstemp(
            prefix=f".{path.name}.", suffix=".dlink-tmp", dir=directory
        )
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
        temporary = None
    except OSError as error:
        raise DlinkError(f"cannot write {path}: {error.strerror or type(error).__name__}") from None
    finally:
        if temporary is not None:
            try:
                os.unlink(temporary)
            except OSError:
                pass


def append_file(path: Path, text: str) -> None:
    """Append `text` (redacted) to `path` (GitHub's step summary is appended to, by design)."""
    try:
        with path.open("a", encoding="utf-8") as stream:
            stream.write(redact(text))
    except OSError as error:
        raise DlinkError(f"cannot write {path}: {error.strerror or type(error).__name__}") from None


def use_color(choice: str, stream: TextIO, environ: Mapping[str, str] = os.environ) -> bool:
    """Whether to colour `stream`: `--color always|never` decide; `auto` follows the
    conventions: a non-empty NO_COLOR turns colour off (an empty one does not), then a
    non-empty FORCE_COLOR turns it on, then TERM=dumb is plain, else only a terminal."""
    if choice not in COLOR_CHOICES:
        raise DlinkError(f"--color {choice!r} is not one of {', '.join(COLOR_CHOICES)}")
    if choice != "auto":
        return choice == "always"
    if environ.get("NO_COLOR"):
        return False
    if environ.get("FORCE_COLOR"):
        return True
    if environ.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
