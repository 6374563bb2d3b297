"""SARIF 2.1.0, for code scanning (GitHub, GitLab, IDEs)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import PurePosixPath, PureWindowsPath
from urllib.parse import quote

from dlink import __version__
from dlink.findings import Finding, RuleInfo, Severity

SCHEMA_URI = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
INFORMATION_URI = "https://pypi.org/project/dlink/"
_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def render(findings: Sequence[Finding], rules: Sequence[RuleInfo], *, color: bool = False) -> str:
    """One run of dlink: every rule in `rules` as a reportingDescriptor, every finding a result."""
    index = {rule.code: position for position, rule in enumerate(rules)}
    run = {
        "tool": {
            "driver": {
                "name": "dlink",
                "version": __version__,
                "informationUri": INFORMATION_URI,
                "rules": [_rule(rule) for rule in rules],
            }
        },
        # Assumes Finding columns count characters (code points), not SARIF's default
        # UTF-16 code units; this must follow whatever the engine counts.
        "columnKind": "unicodeCodePoints",
        "results": [_result(finding, index) for finding in findings],
    }
    document = {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}
    return json.dumps(document, indent=2) + "\n"


def _rule(rule: RuleInfo) -> dict[str, object]:
    doc = rule.doc.strip() or rule.summary
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": doc},
        "help": {"text": doc},
        "defaultConfiguration": {"level": _LEVEL[rule.severity]},
    }


def _result(finding: Finding, index: dict[str, int]) -> dict[str, object]:
    result: dict[str, object] = {"ruleId": finding.code}
    if finding.code in index:
        # A finding without a listed rule (e.g. a parse error) is still valid SARIF.
        result["ruleIndex"] = index[finding.code]
    result["level"] = _LEVEL[finding.severity]
    result["message"] = {"text": finding.message}
    if finding.fixable:
        # Whether `dlink fix` applies it by default (safe) or only with --unsafe-fixes.
        result["properties"] = {"fixApplicability": "safe" if finding.fix_safe else "unsafe"}
    result["locations"] = [
        {
            "physicalLocation": {
                "artifactLocation": _artifact_location(finding.path),
                "region": _region(finding),
            }
        }
    ]
    return result


def _artifact_location(path: str) -> dict[str, str]:
    # Code scanning resolves a relative URI against the checkout, which is what the
    # paths dlink reports are relative to; an absolute path becomes a file: URI.
    for flavour in (PurePosixPath, PureWindowsPath):
        absolute = flavour(path)
        if absolute.is_absolute():
            return {"uri": absolute.as_uri()}
    posix = path.replace("\\", "/")
    while posix.startswith("./"):
        posix = posix[2:]
    return {"uri": quote(posix, safe="/"), "uriBaseId": "%SRCROOT%"}


def _region(finding: Finding) -> dict[str, int]:
    region = {"startLine": finding.line, "startColumn": finding.column}
    # SARIF forbids values below 1; an end of 0 means "unknown", so it is left out.
    if finding.end_line >= finding.line:
        region["endLine"] = finding.end_line
    if finding.end_column >= 1:
        region["endColumn"] = finding.end_column
    return region
