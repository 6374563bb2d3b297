"""DLK106 legacy-label-format: `LABEL key value` instead of `LABEL key="value"`.

The space-separated form is in many old docs; BuildKit warns about it
(LegacyKeyValueFormat) and it cannot hold more than one label. `dlink fix`
rewrites it to `key="value"` when the value has no quotes or escapes whose
meaning would change.

Bad:
    LABEL org.opencontainers.image.source https://github.com/monalisa/my_repo

Good:
    LABEL org.opencontainers.image.source="https://github.com/monalisa/my_repo"
"""

from __future__ import annotations

from dlink.findings import Edit, Finding, RuleInfo, Severity
from dlink.rules.base import Subject, finding_at

RULE = RuleInfo(
    code="DLK106",
    name="legacy-label-format",
    severity=Severity.WARNING,
    fixable=True,
    summary="LABEL uses the legacy `key value` form.",
    doc=__doc__ or "",
)


def check(subject: Subject) -> list[Finding]:
    escape = subject.dockerfile.escape
    findings = []
    for instruction in subject.dockerfile.instructions:
        target = instruction.sub or instruction
        if target.name != "label":
            continue
        for pair in target.pairs:
            if not pair.legacy:
                continue
            key, value = pair.key, pair.value
            message = f"LABEL {key.text} uses the legacy `key value` form; write {key.text}=\"...\""
            edits: tuple[Edit, ...] = ()
            # Inside double quotes a single quote or escape would mean something
            # else than it does bare, so only plain values are rewritten.
            if not any(ch in value.text for ch in "'\"" + escape) and "\n" not in subject.dockerfile.text[key.end : value.start]:
                edits = (Edit(key.end, value.end, f'="{value.text}"'),)
            findings.append(finding_at(RULE, subject, key.start, value.end, message, edits))
    return findings
