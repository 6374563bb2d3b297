"""The typer application, the error boundary and the entry point.

The `dlink.cli` package is the only place that prints and picks exit codes; each
command group lives in its own module here and registers itself on `app`.
"""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer

from dlink import __version__
from dlink.errors import DlinkError, ExitCode

app = typer.Typer(
    name="dlink",
    help="Keep the OCI source label (org.opencontainers.image.source) of your images right.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"dlink {__version__}")
        raise typer.Exit(ExitCode.OK)


@app.callback()
def _root(
    version: Annotated[
        Optional[bool],
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit."),
    ] = None,
) -> None:
    """Keep the OCI source label (org.opencontainers.image.source) of your images right."""


def fail(error: DlinkError) -> typer.Exit:
    """Print a user error as one line (plus its hint) on stderr; return the exit to raise."""
    typer.echo(f"dlink: error: {error.message}", err=True)
    if error.hint:
        typer.echo(f"hint: {error.hint}", err=True)
    return typer.Exit(ExitCode.ERROR)


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point."""
    try:
        app(args=argv, prog_name="dlink", standalone_mode=False)
    except typer.Exit as stop:
        return int(stop.exit_code)
    except DlinkError as error:
        stop = fail(error)
        return int(stop.exit_code)
    except KeyboardInterrupt:
        typer.echo("dlink: interrupted", err=True)
        return 130
    except Exception as error:  # click usage errors and friends
        import click

        if isinstance(error, click.exceptions.ClickException):
            error.show(file=sys.stderr)
            return int(ExitCode.ERROR)
        if isinstance(error, click.exceptions.Abort):
            return 130
        raise
    return int(ExitCode.OK)
