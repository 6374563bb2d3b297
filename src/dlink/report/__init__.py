"""Output formats: one module per format, each a pure `render(findings, rules, *, color, context)`.

Every renderer returns the whole output as one string ending in a newline (or the empty
string when the format has nothing to say), keeps the findings in the order given, and
does no I/O; the CLI decides where the text goes. Modules are imported only when their
format is asked for, so `dlink check` does not pay for SARIF.

`render` hands each renderer findings whose messages are already redacted; the CLI's
output module redacts the finished text again, so no format can print a secret.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Protocol

from dlink.errors import DlinkError
from dlink.record import Record

if TYPE_CHECKING:
    from dlink.findings import Finding, RuleInfo

FORMATS = ("text", "json", "sarif", "github", "gitlab")
# Written by the CLI beside the chosen format (GitHub's step summary), never asked for.
INTERNAL_FORMATS = ("markdown",)


class RunError(Record):
    """Why (part of) a run failed: the report must not look like a clean one."""

    __slots__ = ("message", "hint", "path")
    message: str
    hint: str | None
    path: str | None  # the file it concerns, as the format names files

    def __init__(self, message: str, hint: str | None = None, path: str | None = None) -> None:
        self.message = message
        self.hint = hint
        self.path = path


class RunContext(Record):
    """What a report knows about the run beyond its findings."""

    __slots__ = ("errors", "anchors", "root_uri", "sources", "quiet", "frames")
    errors: Sequence[RunError]
    # Per finding (same order): what it is about, independent of its line: the stage
    # and label key (see dlink.lint.finding_anchor). Fingerprints hash it.
    anchors: Sequence[str]
    # The repository root as a file:// URI ending in '/': SARIF's SRCROOT.
    root_uri: str | None
    # Path as shown -> the file's text, for code frames in text output.
    sources: Mapping[str, str]
    quiet: bool  # text: findings only, no summary
    frames: bool  # text: show each finding's lines with a caret (on a terminal)

    def __init__(
        self,
        errors: Sequence[RunError] = (),
        anchors: Sequence[str] = (),
        root_uri: str | None = None,
        sources: Mapping[str, str] | None = None,
        quiet: bool = False,
        frames: bool = False,
    ) -> None:
        self.errors = errors
        self.anchors = anchors
        self.root_uri = root_uri
        self.sources = {} if sources is None else sources
        self.quiet = quiet
        self.frames = frames


NO_CONTEXT = RunContext()


class Renderer(Protocol):
    def __call__(
        self,
        findings: Sequence[Finding],
        rules: Sequence[RuleInfo],
        *,
        color: bool = False,
        context: RunContext = ...,
    ) -> str: ...


def render(
    fmt: str,
    findings: Sequence[Finding],
    rules: Sequence[RuleInfo],
    color: bool = False,
    context: RunContext | None = None,
) -> str:
    """`findings` in format `fmt`; `rules` are every rule that ran (SARIF lists them all)."""
    from dlink.redact import redact

    if fmt not in FORMATS + INTERNAL_FORMATS:
        raise DlinkError(
            f"unknown output format {fmt!r}", hint="choose one of: " + ", ".join(FORMATS)
        )
    context = context or RunContext()
    safe_findings = [
        f.replace(message=redact(f.message), fix_title=f.fix_title and redact(f.fix_title))
        for f in findings
    ]
    safe_errors = [
        RunError(redact(e.message), redact(e.hint) if e.hint else None, e.path)
        for e in context.errors
    ]
    context = context.replace(errors=safe_errors)
    renderer: Renderer = importlib.import_module(f"dlink.report.{fmt}").render
    return renderer(safe_findings, rules, color=color, context=context)


def fingerprints(findings: Sequence[Finding], anchors: Sequence[str]) -> list[str]:
    """One stable hash per finding, for code scanning and GitLab to match findings
    between runs: rule, path and anchor (stage and label key), never the line or the
    message, so an unrelated edit above a finding does not make it new. NUL separates
    the parts so different tuples cannot hash alike; identical ones get an occurrence
    number, because GitLab drops issues whose fingerprint repeats."""
    import hashlib  # only GitLab's report needs it: 2 ms a plain check need not pay

    seen: dict[str, int] = {}
    hashes = []
    for position, finding in enumerate(findings):
        anchor = anchors[position] if position < len(anchors) else ""
        base = f"{finding.code}\0{finding.path}\0{anchor}"
        occurrence = seen.get(base, 0)
        seen[base] = occurrence + 1
        key = base if occurrence == 0 else f"{base}\0{occurrence}"
        hashes.append(hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest())
    return hashes
