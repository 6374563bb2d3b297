"""Output formats: one module per format, each a pure `render(findings, rules, *, color)`.

Every renderer returns the whole output as one string ending in a newline (or the empty
string when the format has nothing to say), keeps the findings in the order given, and
does no I/O; the CLI decides where the text goes. Modules are imported only when their
format is asked for, so `dlink check` does not pay for SARIF.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Protocol

from dlink.errors import DlinkError
from dlink.findings import Finding, RuleInfo

FORMATS = ("text", "json", "sarif", "github", "gitlab")


class Renderer(Protocol):
    def __call__(
        self, findings: Sequence[Finding], rules: Sequence[RuleInfo], *, color: bool = False
    ) -> str: ...


def render(
    fmt: str, findings: Sequence[Finding], rules: Sequence[RuleInfo], color: bool = False
) -> str:
    """`findings` in format `fmt`; `rules` are every rule that ran (SARIF lists them all)."""
    if fmt not in FORMATS:
        raise DlinkError(
            f"unknown output format {fmt!r}", hint="choose one of: " + ", ".join(FORMATS)
        )
    renderer: Renderer = importlib.import_module(f"dlink.report.{fmt}").render
    return renderer(findings, rules, color=color)
