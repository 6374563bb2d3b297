"""GitLab Code Quality report: a JSON array of issues, shown in merge requests."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

from dlink.findings import Finding, RuleInfo, Severity

_SEVERITY = {Severity.ERROR: "major", Severity.WARNING: "minor", Severity.INFO: "info"}


def render(findings: Sequence[Finding], rules: Sequence[RuleInfo], *, color: bool = False) -> str:
    """One issue per finding, each with a fingerprint that is stable across runs."""
    seen: dict[str, int] = {}
    issues = []
    for finding in findings:
        fingerprint = _fingerprint(finding, seen)
        issues.append(
            {
                "type": "issue",
                "description": finding.message,
                "check_name": finding.code,
                "fingerprint": fingerprint,
                "severity": _SEVERITY[finding.severity],
                "location": {"path": finding.path, "lines": {"begin": finding.line}},
            }
        )
    return json.dumps(issues, indent=2) + "\n"


def _fingerprint(finding: Finding, seen: dict[str, int]) -> str:
    # GitLab matches issues between the base and the merge request by fingerprint, so it
    # must not depend on anything but what the issue is; NUL separates the parts so that
    # no two different tuples hash alike. Identical findings on one line get an
    # occurrence number, because GitLab drops issues whose fingerprint repeats.
    parts = (finding.path, finding.code, str(finding.line), finding.message)
    base = "\0".join(parts)
    occurrence = seen.get(base, 0)
    seen[base] = occurrence + 1
    key = base if occurrence == 0 else f"{base}\0{occurrence}"
    return hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()
