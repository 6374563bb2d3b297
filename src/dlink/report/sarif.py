"""SARIF 2.1.0, for code scanning (GitHub, GitLab, IDEs).

Paths are relative to the repository root, resolved through `originalUriBaseIds`
SRCROOT; a failed run says so in its invocation; every result has a fingerprint that
survives unrelated edits, and a fixable one carries its fix as a SARIF `fix`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import PurePosixPath, PureWindowsPath
from urllib.parse import quote

from dlink import __version__
from dlink.findings import Finding, RuleInfo, Severity
from dlink.report import NO_CONTEXT, RunContext, fingerprints

# The schema's own id (OASIS, errata 01).
SCHEMA_URI = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
BASE_ID = "SRCROOT"
FINGERPRINT_KEY = "dlinkFinding/v1"
_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
# GitHub code scanning's problem.severity values.
_PROBLEM_SEVERITY = {
    Severity.ERROR: "error",
    Severity.WARNING: "warning",
    Severity.INFO: "recommendation",
}
# Rules whose findings are security problems: code scanning shows security-severity
# (CVSS-like, 0-10; 7.0 and up is "high") only for these. A token in a label ships
# with every image pulled from the registry.
SECURITY_SEVERITY = {"DLK104": "8.0"}


def homepage() -> str | None:
    """The project's page from the installed package's metadata (`[project.urls]`), or
    None: SARIF links nowhere rather than to a page that does not exist."""
    from importlib import metadata

    try:
        urls = metadata.metadata("dlink").get_all("Project-URL") or []
    except metadata.PackageNotFoundError:
        return None
    for entry in urls:
        label, _, url = entry.partition(",")
        if label.strip().lower() in ("homepage", "source", "repository") and url.strip():
            return str(url.strip())
    return None


def render(
    findings: Sequence[Finding],
    rules: Sequence[RuleInfo],
    *,
    color: bool = False,
    context: RunContext = NO_CONTEXT,
) -> str:
    """One run of dlink: every rule in `rules` as a reportingDescriptor, every finding a result."""
    index = {rule.code: position for position, rule in enumerate(rules)}
    page = homepage()
    driver: dict[str, object] = {"name": "dlink", "version": __version__}
    if page:
        driver["informationUri"] = page
    driver["rules"] = [_rule(rule, page) for rule in rules]
    hashes = fingerprints(findings, context.anchors)
    invocation: dict[str, object] = {"executionSuccessful": not context.errors}
    if context.errors:
        invocation["toolExecutionNotifications"] = [
            _notification(error.message, error.hint, error.path) for error in context.errors
        ]
    run: dict[str, object] = {"tool": {"driver": driver}, "invocations": [invocation]}
    if context.root_uri:
        run["originalUriBaseIds"] = {BASE_ID: {"uri": context.root_uri}}
    # Finding columns count characters (code points), not SARIF's default UTF-16 units.
    run["columnKind"] = "unicodeCodePoints"
    run["results"] = [
        _result(finding, index, fingerprint) for finding, fingerprint in zip(findings, hashes)
    ]
    document = {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}
    return json.dumps(document, indent=2) + "\n"


def _rule(rule: RuleInfo, page: str | None) -> dict[str, object]:
    doc = rule.doc.strip() or rule.summary
    tags = ["oci", "dockerfile", "supply-chain"]
    properties: dict[str, object] = {
        "precision": "very-high",
        "problem.severity": _PROBLEM_SEVERITY[rule.severity],
    }
    if rule.code in SECURITY_SEVERITY:
        tags.append("security")
        properties["security-severity"] = SECURITY_SEVERITY[rule.code]
    properties["tags"] = tags
    descriptor: dict[str, object] = {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": doc},
        "help": {"text": doc, "markdown": _markdown_help(rule)},
        "defaultConfiguration": {"level": _LEVEL[rule.severity]},
        "properties": properties,
    }
    if page:
        descriptor["helpUri"] = f"{page}#rules"
    return descriptor


def _markdown_help(rule: RuleInfo) -> str:
    """The rule's docstring as Markdown: indented examples become fenced Dockerfile blocks."""
    lines = [f"**{rule.code} {rule.name}**: {rule.summary}", ""]
    in_code = False
    for line in (rule.doc.strip() or rule.summary).splitlines():
        indented = line.startswith("    ")
        if indented and not in_code:
            lines.append("```dockerfile")
            in_code = True
        elif not indented and line.strip() and in_code:
            lines.append("```")
            in_code = False
        lines.append(line[4:] if indented else line)
    if in_code:
        while lines and not lines[-1].strip():
            lines.pop()
        lines.append("```")
    lines += ["", f"Fix with `dlink fix`; explain with `dlink explain {rule.code}`."]
    return "\n".join(lines)


def _notification(message: str, hint: str | None, path: str | None) -> dict[str, object]:
    text = f"{message} (hint: {hint})" if hint else message
    notification: dict[str, object] = {"level": "error", "message": {"text": text}}
    if path:
        notification["locations"] = [
            {"physicalLocation": {"artifactLocation": _artifact_location(path)}}
        ]
    return notification


def _result(finding: Finding, index: dict[str, int], fingerprint: str) -> dict[str, object]:
    result: dict[str, object] = {"ruleId": finding.code}
    if finding.code in index:
        # A finding without a listed rule (e.g. a parse error) is still valid SARIF.
        result["ruleIndex"] = index[finding.code]
    result["level"] = _LEVEL[finding.severity]
    result["message"] = {"text": finding.message}
    if finding.fixable:
        # Whether `dlink fix` applies it by default (safe) or only with --unsafe-fixes.
        result["properties"] = {"fixApplicability": "safe" if finding.fix_safe else "unsafe"}
    location = _artifact_location(finding.path)
    result["locations"] = [
        {"physicalLocation": {"artifactLocation": location, "region": _region(finding)}}
    ]
    result["partialFingerprints"] = {FINGERPRINT_KEY: fingerprint}
    if finding.fixable and finding.edits:
        result["fixes"] = [
            {
                "description": {"text": finding.fix_title or f"dlink fix: {finding.name}"},
                "artifactChanges": [
                    {
                        "artifactLocation": location,
                        # Offsets count characters of the text after a byte-order mark.
                        "replacements": [
                            {
                                "deletedRegion": {
                                    "charOffset": edit.start,
                                    "charLength": edit.end - edit.start,
                                },
                                "insertedContent": {"text": edit.replacement},
                            }
                            for edit in finding.edits
                        ],
                    }
                ],
            }
        ]
    return result


def _artifact_location(path: str) -> dict[str, str]:
    # A relative path is relative to the repository root (SRCROOT); a file outside it
    # is named by its absolute file: URI.
    for flavour in (PurePosixPath, PureWindowsPath):
        absolute = flavour(path)
        if absolute.is_absolute():
            return {"uri": absolute.as_uri()}
    posix = path.replace("\\", "/")
    while posix.startswith("./"):
        posix = posix[2:]
    # A URI percent-encodes the name's bytes: os.fsencode gives back a name that is not
    # UTF-8 byte for byte (Python holds it with surrogate escapes, which quote refuses).
    return {"uri": quote(os.fsencode(posix), safe="/"), "uriBaseId": BASE_ID}


def _region(finding: Finding) -> dict[str, int]:
    region = {"startLine": finding.line, "startColumn": finding.column}
    # SARIF forbids values below 1; an end of 0 means "unknown", so it is left out.
    if finding.end_line >= finding.line:
        region["endLine"] = finding.end_line
    if finding.end_column >= 1:
        region["endColumn"] = finding.end_column
    return region
