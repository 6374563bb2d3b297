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
    # Plain click help: rendering it with rich imports rich (about 100 ms of the 150 ms
    # budget for `dlink --help`), and our help has no markup to render.
    rich_markup_mode=None,
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


# The module that registers each command, in the order of `dlink --help`. `main` imports
# only the one the command line names: building the others' options (typer turns every
# registered command into a click command on each run) and importing their modules cost
# about 10 ms of a 100 ms `dlink check`.
COMMAND_MODULES = ("image_cmd", "images_cmd", "lint_cmd", "repo_cmd")
_MODULE_OF = {
    "build-push": "image_cmd",
    "verify": "image_cmd",
    "images": "images_cmd",
    "check": "lint_cmd",
    "fix": "lint_cmd",
    "rules": "lint_cmd",
    "explain": "lint_cmd",
    "repo": "repo_cmd",
}


def _command_in(argv: Sequence[str]) -> str | None:
    """The command of ours `argv` names; None when the first word is no command of ours
    (--help, --version, a typo that click answers with the list) or under shell
    completion, which reads its words from the environment: then every command counts."""
    import os

    if any(name.endswith("_COMPLETE") for name in os.environ):
        return None
    for word in argv:
        if word.startswith("-") and word != "-" and word != "--":
            continue  # the root's options are all flags: the next word is the command
        return word if word in _MODULE_OF else None
    return None


def _modules_for(argv: Sequence[str]) -> tuple[str, ...]:
    """The command modules `argv` needs: the named command's, or all of them."""
    command = _command_in(argv)
    return (_MODULE_OF[command],) if command else COMMAND_MODULES


def register_commands(argv: Sequence[str] | None = None) -> None:
    """Import the command modules `argv` needs (all of them without argv), which registers
    their commands on `app`; afterwards the commands are in `COMMAND_MODULES` order,
    whichever module came first."""
    import importlib

    for name in COMMAND_MODULES if argv is None else _modules_for(argv):
        importlib.import_module(f"dlink.cli.{name}")
    prefix = "dlink.cli."
    order = {f"{prefix}{name}": index for index, name in enumerate(COMMAND_MODULES)}
    app.registered_commands.sort(
        key=lambda info: order.get(getattr(info.callback, "__module__", ""), len(order))
    )


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


def entry() -> None:
    """The console script (and `python -m dlink`): `main` in a process that ends with it.

    By the time this runs, typer and dlink's command line are loaded: tens of thousands
    of objects that live until the process exits. Frozen out of the cyclic collector's
    sight, they are no longer walked by each collection during the run nor by the last
    one at exit: about 10 ms of a 70-80 ms `dlink check` (benchmarks/versus_hadolint.py).
    Only the process entry does this; `main` called from other code leaves the
    collector alone.
    """
    import gc

    gc.freeze()
    raise SystemExit(main())


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point: every way out is an exit code, never a traceback.

    User errors are one line and exit 2. Anything else is a bug in dlink: it still ends
    with exit 2 (never 1, which a CI gate would read as "findings") and one line asking
    for a report; DLINK_DEBUG=1 shows the traceback for that report.
    """
    import sys

    words = sys.argv[1:] if argv is None else argv
    try:
        register_commands(words)
        _run(argv, _command_in(words))
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
    except RecursionError:
        from dlink.cli.output import err

        err(
            "dlink: error: input nested too deeply to process; this is a bug in dlink, "
            "please report it with the file that caused it"
        )
        return int(ExitCode.ERROR)
    except MemoryError:
        from dlink.cli.output import err

        err("dlink: error: out of memory")
        return int(ExitCode.ERROR)
    except Exception as error:  # noqa: BLE001 - the last resort: a bug must not look like findings
        return _internal_error(error)
    return int(ExitCode.OK)


def _run(argv: list[str] | None, command: str | None) -> None:
    """Run the application on `argv`, showing typer only `command` when one is named:
    typer turns every registered command into a click command on each run (inspecting
    its signature and evaluating its annotations), about 1.5 ms for the three that
    `check` does not need."""
    registered = app.registered_commands
    if command is not None:
        app.registered_commands = [info for info in registered if info.name == command]
    try:
        # Standalone mode lets click report usage errors itself (exit 2, one message).
        app(args=argv, prog_name="dlink", standalone_mode=True)
    finally:
        app.registered_commands = registered


def _internal_error(error: BaseException) -> int:
    import os

    from dlink.cli.output import err

    if os.environ.get("DLINK_DEBUG"):
        import traceback

        err("".join(traceback.format_exception(type(error), error, error.__traceback__)))
    # The message may quote input (a URL with credentials); print only the type and
    # where it was raised, which is what a bug report needs first.
    where = ""
    frame = error.__traceback__
    while frame is not None and frame.tb_next is not None:
        frame = frame.tb_next
    if frame is not None:
        code = frame.tb_frame.f_code
        where = f" in {os.path.basename(code.co_filename)}:{frame.tb_lineno} ({code.co_name})"
    err(
        f"dlink: internal error: {type(error).__name__}{where}; this is a bug in dlink "
        f"{__version__}, please report it with the command you ran (DLINK_DEBUG=1 shows "
        "the traceback)"
    )
    return int(ExitCode.ERROR)
