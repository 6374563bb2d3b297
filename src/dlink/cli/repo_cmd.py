"""`dlink repo`: print the canonical URL of the repository holding a path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from dlink.cli import output
from dlink.cli.app import app, fail, repository_of
from dlink.errors import DlinkError


@app.command("repo")
def repo_command(
    path: Annotated[
        Path,
        typer.Argument(
            metavar="PATH",
            help="A Dockerfile or directory inside the repository.",
            show_default="the current directory",
        ),
    ] = Path("."),
    repo_url: Annotated[
        str | None,
        typer.Option(
            "--repo-url",
            metavar="URL",
            help="Use this repository URL instead of the repo-url setting, CI or git "
            "(it is normalised).",
        ),
    ] = None,
    remote: Annotated[
        str | None,
        typer.Option(
            "--remote",
            metavar="NAME",
            help="Take the URL from this git remote (default: the remote `gh repo "
            "set-default` chose, then upstream, github, origin, then the only remote).",
        ),
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help='Print {"url", "source", "remote", "reason", "remote_url", "remotes"}: the '
            "URL, how it was found (flag, config, ci:github, ci:gitlab, remote:NAME), which "
            "remote and why, that remote's URL with credentials redacted, and every remote's "
            "repository.",
        ),
    ] = False,
) -> None:
    """Print the web URL of the git repository that holds PATH.

    This is the value org.opencontainers.image.source should have. The repository is
    the one containing PATH (its submodule or worktree, if any), not the current
    directory.

    Examples:

      dlink repo services/api/Dockerfile

      dlink repo --json --remote upstream
    """
    try:
        identity = repository_of(path, repo_url=repo_url, remote=remote)
    except DlinkError as error:
        raise fail(error) from None
    if as_json:
        record = {
            "url": identity.url,
            "source": identity.source,
            "remote": identity.remote,
            "reason": identity.reason,
            "remote_url": identity.remote_url,
            "remotes": dict(identity.remotes),
        }
        output.out(json.dumps(record, indent=2))
    else:
        output.out(identity.url)
