"""GitHub Actions workflow commands: each finding becomes an annotation on the diff."""

from __future__ import annotations

from collections.abc import Sequence

from dlink.findings import Finding, RuleInfo, Severity
from dlink.report import NO_CONTEXT, RunContext

_COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def render(
    findings: Sequence[Finding],
    rules: Sequence[RuleInfo],
    *,
    color: bool = False,
    context: RunContext = NO_CONTEXT,
) -> str:
    """`::error file=...,line=...::message` lines; nothing at all when there are no findings.
    A failed run adds an error annotation per problem, so the check cannot look clean."""
    lines = [_command(finding) + "\n" for finding in findings]
    for error in context.errors:
        text = f"{error.message} (hint: {error.hint})" if error.hint else error.message
        where = f"file={_escape_property(error.path)}," if error.path else ""
        lines.append(f"::error {where}title=dlink could not check::{_escape_data(text)}\n")
    return "".join(lines)


def _command(finding: Finding) -> str:
    properties = {
        "file": finding.path,
        "line": str(finding.line),
        "col": str(finding.column),
        "endLine": str(finding.end_line),
        "endColumn": str(finding.end_column),
        "title": f"{finding.code} ({finding.name})",
    }
    joined = ",".join(f"{key}={_escape_property(value)}" for key, value in properties.items())
    return f"::{_COMMAND[finding.severity]} {joined}::{_escape_data(finding.message)}"


def _escape_data(value: str) -> str:
    # The runner splits commands on newlines and un-escapes these three; `%` goes first so
    # the escapes it introduces are not themselves escaped.
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    # Properties are separated by `,` and end at `::`, so both need escaping too.
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")
