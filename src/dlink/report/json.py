"""Machine output: `{"version": 1, "findings": [...], "errors": [...]}`, keys sorted, indented by 2.

`errors` lists what kept the run from checking everything (exit 2); a clean run has
none, so an empty findings list with errors never reads as clean.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from dlink.findings import Finding, RuleInfo
from dlink.report import NO_CONTEXT, RunContext, fingerprints

# Bumped only when a field changes meaning or disappears; new fields keep version 1.
SCHEMA_VERSION = 1


def render(
    findings: Sequence[Finding],
    rules: Sequence[RuleInfo],
    *,
    color: bool = False,
    context: RunContext = NO_CONTEXT,
) -> str:
    """Every finding with its location, rule and severity; edits stay internal."""
    hashes = fingerprints(findings, context.anchors)
    document = {
        "version": SCHEMA_VERSION,
        "findings": [_finding(f, h) for f, h in zip(findings, hashes)],
        "errors": [
            {"message": error.message, "hint": error.hint, "path": error.path}
            for error in context.errors
        ],
    }
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def _finding(finding: Finding, fingerprint: str) -> dict[str, object]:
    return {
        "path": finding.path,
        "line": finding.line,
        "column": finding.column,
        "end_line": finding.end_line,
        "end_column": finding.end_column,
        "code": finding.code,
        "name": finding.name,
        "severity": finding.severity.value,
        "message": finding.message,
        "fixable": finding.fixable,
        "fingerprint": fingerprint,
        # ruff's model: "safe" applies with `dlink fix`, "unsafe" only with --unsafe-fixes.
        "fix": _fix(finding),
    }


def _fix(finding: Finding) -> dict[str, str | None] | None:
    if not finding.fixable:
        return None
    return {
        "applicability": "safe" if finding.fix_safe else "unsafe",
        "message": finding.fix_title,
    }
