"""GitLab Code Quality report: a JSON array of issues, shown in merge requests.

GitLab displays `description`, so it starts with the rule; severities follow GitLab's
documented scale (info, minor, major, critical, blocker): an error is major, a token in
a label (DLK104) critical, a warning minor, info info, and a run that failed adds a
blocker issue so the merge request cannot look clean.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

from dlink.findings import Finding, RuleInfo, Severity
from dlink.report import NO_CONTEXT, RunContext, fingerprints

_SEVERITY = {Severity.ERROR: "major", Severity.WARNING: "minor", Severity.INFO: "info"}
_CRITICAL = frozenset({"DLK104"})
ERROR_CHECK = "dlink-run-failed"


def severity(finding: Finding) -> str:
    return "critical" if finding.code in _CRITICAL else _SEVERITY[finding.severity]


def render(
    findings: Sequence[Finding],
    rules: Sequence[RuleInfo],
    *,
    color: bool = False,
    context: RunContext = NO_CONTEXT,
) -> str:
    """One issue per finding, each with a fingerprint that is stable across runs."""
    issues: list[dict[str, object]] = []
    for finding, fingerprint in zip(findings, fingerprints(findings, context.anchors)):
        issues.append(
            {
                "type": "issue",
                "description": f"{finding.code} ({finding.name}): {finding.message}",
                "check_name": finding.code,
                "fingerprint": fingerprint,
                "severity": severity(finding),
                "location": {"path": finding.path, "lines": {"begin": finding.line}},
            }
        )
    for error in context.errors:
        text = f"{error.message} (hint: {error.hint})" if error.hint else error.message
        path = error.path or "."
        issues.append(
            {
                "type": "issue",
                "description": f"dlink could not check: {text}",
                "check_name": ERROR_CHECK,
                "fingerprint": hashlib.sha256(f"{ERROR_CHECK}\0{path}".encode()).hexdigest(),
                "severity": "blocker",
                "location": {"path": path, "lines": {"begin": 1}},
            }
        )
    return json.dumps(issues, indent=2) + "\n"
