"""dlink's command line. Each command module registers its commands on `app` when imported.

`main` (the console script) imports only the module of the command it runs; `app` and
`COMMAND_MODULES`, read from this package, import every command module first, so that
`from dlink.cli import app` is the whole command line as before.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from dlink.cli.app import entry, main, register_commands

# Importing dlink.cli.app bound `app` here to that submodule; drop the binding so that
# `app` goes through __getattr__ below and comes back as the typer application.
globals().pop("app", None)


def __getattr__(name: str) -> Any:
    if name == "app":
        import sys

        register_commands()
        module: ModuleType = sys.modules["dlink.cli.app"]
        return module.app
    if name == "COMMAND_MODULES":
        import importlib

        from dlink.cli.app import COMMAND_MODULES as names

        register_commands()
        return tuple(importlib.import_module(f"dlink.cli.{n}") for n in names)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["COMMAND_MODULES", "app", "entry", "main"]
