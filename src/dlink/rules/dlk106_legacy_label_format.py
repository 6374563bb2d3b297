"""DLK106 legacy-label-format: `LABEL key value` instead of `LABEL key="value"`.

The space-separated form is in many old docs; BuildKit warns about it
(LegacyKeyValueFormat) and it cannot hold more than one label. `dlink fix`
rewrites it to `key="value"` so that the image gets exactly the same value
(a value with `$` variables and spaces is left for you to rewrite).

Bad:
    LABEL org.opencontainers.image.source https://github.com/monalisa/my_repo

Good:
    LABEL org.opencontainers.image.source="https://github.com/monalisa/my_repo"
"""

from __future__ import annotations

from dlink.findings import Edit, Finding, RuleInfo, Severity
from dlink.rules.base import Subject, finding_at, quote_value
from dlink.syntax.lexer import LexError, ShellLex
from dlink.syntax.words import parse_words

RULE = RuleInfo(
    code="DLK106",
    name="legacy-label-format",
    severity=Severity.WARNING,
    fixable=True,
    summary="LABEL uses the legacy `key value` form.",
    doc=__doc__ or "",
)


def check(subject: Subject) -> list[Finding]:
    findings = []
    instructions = subject.dockerfile.instructions
    for index, name in enumerate(instructions.names()):
        if name != "label" and name != "onbuild":
            continue
        instruction = instructions[index]
        target = instruction.sub or instruction
        if target.name != "label":
            continue
        for pair in target.pairs:
            if not pair.legacy:
                continue
            key, value = pair.key, pair.value
            message = f'LABEL {key.text} uses the legacy `key value` form; write {key.text}="..."'
            replacement = _as_key_value(value.text, subject.dockerfile.escape)
            edits: tuple[Edit, ...] = ()
            if (
                replacement is not None
                and "\n" not in subject.dockerfile.text[key.end : value.start]
            ):
                edits = (Edit(key.end, value.end, replacement),)
            findings.append(finding_at(RULE, subject, key.start, value.end, message, edits))
    return findings


def _as_key_value(raw: str, escape: str) -> str | None:
    """`=value` giving the image the same value as the legacy form, or None when unsure."""
    words = parse_words(raw, escape)
    if len(words) == 1 and (words[0].start, words[0].end) == (0, len(raw)):
        if not any(ch in raw for ch in "'\"" + escape):
            return f'="{raw}"'  # `$` expands the same inside double quotes
        return "=" + raw  # one word with its own quoting: only the separator changes
    if "$" in raw:
        return None  # re-quoting would have to keep each expansion as it is
    try:
        literal = ShellLex(escape).process_word(raw, {}).value
    except LexError:
        return None
    return "=" + quote_value(literal, '"', escape)
