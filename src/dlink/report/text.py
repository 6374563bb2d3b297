"""Human output: `path:line:col: CODE [severity] message`, then a summary.

With `frames` (on a terminal) each finding also shows its lines, ruff style, with a
caret under the offending text. Colours are ANSI and only when asked; source lines
are redacted before they are coloured, so an escape code cannot split a secret.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from dlink.findings import Finding, RuleInfo, Severity
from dlink.report import NO_CONTEXT, RunContext

_RESET = "\033[0m"
_BOLD = "\033[1m"
_DIM = "\033[2m"
_BLUE = "\033[1;34m"
_SEVERITY_COLOR = {
    Severity.ERROR: "\033[1;31m",
    Severity.WARNING: "\033[1;33m",
    Severity.INFO: "\033[1;36m",
}
# Most severe first, the order a reader triages in.
_SUMMARY_ORDER = (Severity.ERROR, Severity.WARNING, Severity.INFO)
_CONTEXT_LINES = 1


def render(
    findings: Sequence[Finding],
    rules: Sequence[RuleInfo],
    *,
    color: bool = False,
    context: RunContext = NO_CONTEXT,
) -> str:
    """One line per finding (with a code frame when `context.frames`) and a summary."""
    lines: list[str] = []
    for finding in findings:
        lines.append(_line(finding, color))
        source = context.sources.get(finding.path)
        if context.frames and source is not None:
            lines += _frame(finding, source, color)
    if not context.quiet:
        by_rule = _by_rule(findings)
        if by_rule:
            lines.append(by_rule)
        lines.append(_summary(findings))
    return "\n".join(lines) + "\n" if lines else ""


def _paint(text: str, code: str, color: bool) -> str:
    return f"{code}{text}{_RESET}" if color and text else text


def _line(finding: Finding, color: bool) -> str:
    location = _paint(f"{finding.path}:{finding.line}:{finding.column}:", _BOLD, color)
    code = _paint(finding.code, _BOLD, color)
    severity = _paint(f"[{finding.severity.value}]", _SEVERITY_COLOR[finding.severity], color)
    return f"{location} {code} {severity} {finding.message}"


def _frame(finding: Finding, source: str, color: bool) -> list[str]:
    from dlink.redact import redact

    text_lines = source.splitlines()
    first = max(1, finding.line - _CONTEXT_LINES)
    last = min(len(text_lines), max(finding.end_line, finding.line) + _CONTEXT_LINES)
    if finding.line > len(text_lines):
        return []
    width = len(str(last))
    gutter = _paint(" " * width + " |", _BLUE, color)
    frame = [gutter]
    for number in range(first, last + 1):
        raw = text_lines[number - 1]
        shown = redact(raw.expandtabs(4) if "\t" in raw else raw)
        frame.append(f"{_paint(str(number).rjust(width) + ' |', _BLUE, color)} {shown}")
        if number == finding.line:
            # The caret marks the finding's columns on its first line (to the end of
            # that line when it spans more); a redacted line can be shorter.
            start = min(finding.column - 1, len(shown))
            end = finding.end_column - 1 if finding.end_line == finding.line else len(shown)
            end = min(max(end, start + 1), max(len(shown), start + 1))
            marks = _paint("^" * (end - start), _SEVERITY_COLOR[finding.severity], color)
            frame.append(f"{gutter} {' ' * start}{marks}")
    frame.append(gutter)
    return frame


def _by_rule(findings: Sequence[Finding]) -> str:
    if len(findings) < 2:
        return ""  # one finding already names its rule
    counts = Counter((finding.code, finding.name) for finding in findings)
    parts = [f"{count} × {code} {name}" for (code, name), count in sorted(counts.items())]
    return "By rule: " + ", ".join(parts)


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


def color_diff_line(line: str, color: bool) -> str:
    """A unified diff line, coloured like git's: headers bold, hunks cyan, -red, +green."""
    if not color:
        return line
    body, newline = (line[:-1], "\n") if line.endswith("\n") else (line, "")
    if line.startswith(("---", "+++")):
        return f"{_BOLD}{body}{_RESET}{newline}"
    if line.startswith("@@"):
        return f"\033[36m{body}{_RESET}{newline}"
    if line.startswith("-"):
        return f"\033[31m{body}{_RESET}{newline}"
    if line.startswith("+"):
        return f"\033[32m{body}{_RESET}{newline}"
    return line
