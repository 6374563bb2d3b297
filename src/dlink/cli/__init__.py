"""dlink's command line. Importing this package registers every command on `app`."""

from dlink.cli import image_cmd, images_cmd, lint_cmd, repo_cmd
from dlink.cli.app import app, main

# The command modules register themselves on `app` when imported.
COMMAND_MODULES = (image_cmd, images_cmd, lint_cmd, repo_cmd)

__all__ = ["COMMAND_MODULES", "app", "main"]
