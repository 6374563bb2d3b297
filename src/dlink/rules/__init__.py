"""The rules, in one explicit list. Each module holds one rule: its metadata and a pure check."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from dlink.record import Record
from dlink.rules import (
    dlk000_unreadable,
    dlk101_missing_source_label,
    dlk102_source_label_mismatch,
    dlk103_source_label_not_canonical,
    dlk104_source_label_credentials,
    dlk105_source_label_unresolved,
    dlk106_legacy_label_format,
    dlk107_duplicate_label,
    dlk108_global_arg_out_of_scope,
    dlk109_source_label_placeholder,
    dlk110_invalid_directive,
    dlk111_misplaced_directive,
    dlk112_build_source_label_mismatch,
    dlk113_build_label_conflict,
)
from dlink.rules.base import SOURCE_KEY, Context, Subject

if TYPE_CHECKING:
    from dlink.findings import Finding, RuleInfo


class Rule(Record):
    __slots__ = ("info", "check")
    info: RuleInfo
    check: Callable[[Subject], list[Finding]] | None  # None: reported by the engine (DLK000)

    def __init__(self, info: RuleInfo, check: Callable[[Subject], list[Finding]] | None) -> None:
        self.info = info
        self.check = check


ALL_RULES: tuple[Rule, ...] = (
    Rule(dlk000_unreadable.RULE, None),
    Rule(dlk101_missing_source_label.RULE, dlk101_missing_source_label.check),
    Rule(dlk102_source_label_mismatch.RULE, dlk102_source_label_mismatch.check),
    Rule(dlk103_source_label_not_canonical.RULE, dlk103_source_label_not_canonical.check),
    Rule(dlk104_source_label_credentials.RULE, dlk104_source_label_credentials.check),
    Rule(dlk105_source_label_unresolved.RULE, dlk105_source_label_unresolved.check),
    Rule(dlk106_legacy_label_format.RULE, dlk106_legacy_label_format.check),
    Rule(dlk107_duplicate_label.RULE, dlk107_duplicate_label.check),
    Rule(dlk108_global_arg_out_of_scope.RULE, dlk108_global_arg_out_of_scope.check),
    Rule(dlk109_source_label_placeholder.RULE, dlk109_source_label_placeholder.check),
    Rule(dlk110_invalid_directive.RULE, dlk110_invalid_directive.check),
    Rule(dlk111_misplaced_directive.RULE, dlk111_misplaced_directive.check),
    Rule(dlk112_build_source_label_mismatch.RULE, dlk112_build_source_label_mismatch.check),
    Rule(dlk113_build_label_conflict.RULE, dlk113_build_label_conflict.check),
)
RULES_BY_CODE = {rule.info.code: rule for rule in ALL_RULES}


def markdown_table() -> str:
    """The rules table of the README, made from the rules' own metadata."""
    rows = ["| code | name | severity | fix | what it means |", "|---|---|---|---|---|"]
    for rule in ALL_RULES:
        info = rule.info
        fix = "yes" if info.fixable else "no"
        rows.append(
            f"| {info.code} | {info.name} | {info.severity.value} | {fix} | {info.summary} |"
        )
    return "\n".join(rows) + "\n"


UNREADABLE = dlk000_unreadable.RULE

__all__ = [
    "ALL_RULES",
    "RULES_BY_CODE",
    "SOURCE_KEY",
    "UNREADABLE",
    "Context",
    "Rule",
    "Subject",
    "markdown_table",
]
