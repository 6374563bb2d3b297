"""A Markdown summary (GitHub's job summary): counts, then a table of findings.

GitHub shows at most ten annotations of each kind per step; the summary lists every
finding, so none is missed.
"""

from __future__ import annotations

from collections.abc import Sequence

from dlink.findings import Finding, RuleInfo
from dlink.report import NO_CONTEXT, RunContext

_MAX_ROWS = 500  # GitHub caps a step summary at 1 MiB


def render(
    findings: Sequence[Finding],
    rules: Sequence[RuleInfo],
    *,
    color: bool = False,
    context: RunContext = NO_CONTEXT,
) -> str:
    lines = ["### dlink", ""]
    for error in context.errors:
        hint = f" (hint: {_cell(error.hint)})" if error.hint else ""
        lines.append(f"- :x: **could not check**: {_cell(error.message)}{hint}")
    if context.errors:
        lines.append("")
    if not findings:
        lines.append("No findings." if not context.errors else "No findings in what was checked.")
        return "\n".join(lines) + "\n"
    fixable = sum(1 for finding in findings if finding.fixable)
    count = f"{len(findings)} finding{'s' * (len(findings) != 1)}"
    lines.append(f"{count}, {fixable} fixable with `dlink fix`.")
    lines += ["", "| File | Line | Rule | Severity | Message |", "| --- | --- | --- | --- | --- |"]
    for finding in findings[:_MAX_ROWS]:
        lines.append(
            f"| `{_cell(finding.path)}` | {finding.line} | {finding.code} {finding.name} "
            f"| {finding.severity.value} | {_cell(finding.message)} |"
        )
    if len(findings) > _MAX_ROWS:
        lines.append(f"\n…and {len(findings) - _MAX_ROWS} more (see the job log).")
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")
