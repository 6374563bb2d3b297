"""The typer application, the error boundary and the entry point.

The `dlink.cli` package is the only place that prints and picks exit codes; each
command group lives in its own module here and registers itself on `app`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from dlink import __version__
from dlink.errors import DlinkError, ExitCode

if TYPE_CHECKING:
    from dlink.config import Config
    from dlink.repo import RepoIdentity, RepoResolver

app = typer.Typer(
    name="dlink",
    help="Keep the OCI source label (org.opencontainers.image.source) of your images right.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        from dlink.cli.output import out

        out(f"dlink {__version__}")
        raise typer.Exit(ExitCode.OK)


@app.callback()
def _root(
    version: Annotated[
        bool | None,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = None,
) -> None:
    """Keep the OCI source label (org.opencontainers.image.source) of your images right."""


def parse_build_args(items: Sequence[str], environ: Mapping[str, str]) -> dict[str, str]:
    """--build-arg values as the build sees them: NAME=VALUE, or a bare NAME taken from the
    environment (and, like docker's CLI, dropped when the environment has no such variable)."""
    values: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not name:
            raise DlinkError(f"--build-arg {item!r}: no name", hint="write --build-arg NAME=VALUE")
        if sep:
            values[name] = value
        elif name in environ:
            values[name] = environ[name]
    return values


def repository_of(
    path: Path,
    *,
    repo_url: str | None,
    remote: str | None,
    settings: Config | None = None,
    resolver: RepoResolver | None = None,
) -> RepoIdentity:
    """The repository holding `path` (see `dlink.repo.resolve_repository`)."""
    from dlink.repo import resolve_repository

    return resolve_repository(
        path, repo_url=repo_url, remote=remote, settings=settings, resolver=resolver
    )


def fail(error: DlinkError) -> typer.Exit:
    """Print a user error as one line (plus its hint) on stderr; return the exit to raise."""
    from dlink.cli.output import error_line

    error_line(error)  # redacted: a message may quote a URL the user gave
    return typer.Exit(ExitCode.ERROR)


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point: every way out is an exit code, never a traceback for user errors."""
    try:
        # Standalone mode lets click report usage errors itself (exit 2, one message).
        app(args=argv, prog_name="dlink", standalone_mode=True)
    except SystemExit as stop:
        code = stop.code
        if code is None:
            return int(ExitCode.OK)
        return code if isinstance(code, int) else int(ExitCode.ERROR)
    except DlinkError as error:
        return int(fail(error).exit_code)
    except KeyboardInterrupt:
        from dlink.cli.output import err

        err("dlink: interrupted")
        return 130
    return int(ExitCode.OK)
