"""Human output: `path:line:col: CODE [severity] message`, then a one-line summary."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from dlink.findings import Finding, RuleInfo, Severity

_RESET = "\033[0m"
_BOLD = "\033[1m"
_SEVERITY_COLOR = {
    Severity.ERROR: "\033[1;31m",
    Severity.WARNING: "\033[1;33m",
    Severity.INFO: "\033[1;36m",
}
# Most severe first, the order a reader triages in.
_SUMMARY_ORDER = (Severity.ERROR, Severity.WARNING, Severity.INFO)


def render(findings: Sequence[Finding], rules: Sequence[RuleInfo], *, color: bool = False) -> str:
    """One line per finding and a summary; ANSI colours only when `color` is true."""
    lines = [_line(finding, color) for finding in findings]
    lines.append(_summary(findings))
    return "\n".join(lines) + "\n"


def _line(finding: Finding, color: bool) -> str:
    location = f"{finding.path}:{finding.line}:{finding.column}:"
    severity = f"[{finding.severity.value}]"
    code = finding.code
    if color:
        location = f"{_BOLD}{location}{_RESET}"
        code = f"{_BOLD}{code}{_RESET}"
        severity = f"{_SEVERITY_COLOR[finding.severity]}{severity}{_RESET}"
    return f"{location} {code} {severity} {finding.message}"


def _summary(findings: Sequence[Finding]) -> str:
    if not findings:
        return "No findings."
    counts = Counter(finding.severity for finding in findings)
    by_severity = ", ".join(
        _plural(counts[severity], severity.value) for severity in _SUMMARY_ORDER if counts[severity]
    )
    summary = f"{_plural(len(findings), 'finding')} ({by_severity})"
    fixable = sum(1 for finding in findings if finding.fixable and finding.fix_safe)
    unsafe = sum(1 for finding in findings if finding.fixable and not finding.fix_safe)
    if fixable:
        summary += f", {fixable} fixable with dlink fix"
    if unsafe:
        summary += f", {unsafe} more with dlink fix --unsafe-fixes"
    return summary


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
