"""DLK107 duplicate-label: the same label is set more than once for the image.

Only the last setting counts, so the earlier ones are dead text that misleads
readers (and a stale source URL often hides there). `dlink fix` removes the
earlier ones when they are in the same stage as the last; one in a stage other
images may also be built from is reported but left alone. A label other than
the source label set again to the same value in a derived stage is harmless
(that stage may be built on its own) and is not reported; a different value,
and any second source label, is.

Bad:
    LABEL org.opencontainers.image.source="https://github.com/old/name"
    LABEL org.opencontainers.image.source="https://github.com/monalisa/my_repo"

Good:
    LABEL org.opencontainers.image.source="https://github.com/monalisa/my_repo"
"""

from __future__ import annotations

from dlink.findings import Edit, Finding, RuleInfo, Severity
from dlink.model import LabelSetting
from dlink.rules.base import SOURCE_KEY, Subject, finding_at

RULE = RuleInfo(
    code="DLK107",
    name="duplicate-label",
    severity=Severity.WARNING,
    fixable=True,
    summary="The same label key is set more than once for the final image.",
    doc=__doc__ or "",
)


def check(subject: Subject) -> list[Finding]:
    settings = subject.image_labels()
    last: dict[str, LabelSetting] = {}
    for setting in settings:
        last[setting.key] = setting
    # Each pair's place in its instruction, found once (a LABEL may hold thousands).
    place: dict[int, int] = {}
    for instruction in {id(s.instruction): s.instruction for s in settings}.values():
        place.update((id(pair), i) for i, pair in enumerate(instruction.pairs))
    findings = []
    for setting in settings:
        final = last[setting.key]
        if final is setting:
            continue
        if setting.key != SOURCE_KEY and setting.stage != final.stage and (
            (setting.value, setting.unresolved) == (final.value, final.unresolved)
        ):
            continue  # restated in a derived stage: nothing misleading
        message = f"label {setting.key} is set again on line {final.instruction.start_line}; only the last counts"
        edits: tuple[Edit, ...] = ()
        if setting.stage == final.stage:
            edits = (_removal(setting, place[id(setting.token)]),)
        token = setting.token
        findings.append(finding_at(RULE, subject, token.key.start, token.value.end, message, edits))
    return findings


def _removal(setting: LabelSetting, index: int) -> Edit:
    """Remove one pair (the `index`th of its instruction); the whole instruction when it is the only one."""
    pairs = setting.instruction.pairs
    if len(pairs) == 1:
        return Edit(setting.instruction.start, setting.instruction.end, "")
    if index + 1 < len(pairs):
        return Edit(setting.token.key.start, pairs[index + 1].key.start, "")
    return Edit(pairs[index - 1].value.end, setting.token.value.end, "")
