"""dlink's command line. Importing this package registers every command on `app`."""

from dlink.cli.app import app, main

# Command modules register themselves on `app` when imported.
from dlink.cli import image_cmd, lint_cmd, repo_cmd  # noqa: E402,F401

__all__ = ["app", "main"]
