"""Machine output: `{"version": 1, "findings": [...]}`, keys sorted, indented by 2."""

from __future__ import annotations

import json
from collections.abc import Sequence

from dlink.findings import Finding, RuleInfo

# Bumped only when a field changes meaning or disappears; new fields keep version 1.
SCHEMA_VERSION = 1


def render(findings: Sequence[Finding], rules: Sequence[RuleInfo], *, color: bool = False) -> str:
    """Every finding with its location, rule and severity; edits stay internal."""
    document = {"version": SCHEMA_VERSION, "findings": [_finding(f) for f in findings]}
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def _finding(finding: Finding) -> dict[str, object]:
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
