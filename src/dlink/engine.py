"""Parse, run the rules, honour suppressions, and fix until nothing changes. No I/O."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from dlink.edits import apply_edits
from dlink.findings import Finding
from dlink.model import Model, ModelError, build
from dlink.rules import ALL_RULES, SOURCE_KEY, UNREADABLE, Context, Subject
from dlink.syntax import Dockerfile, ParseError, parse
from dlink.syntax.text import encode

_IGNORE = re.compile(r"dlink:\s*ignore\s*=\s*([A-Za-z0-9_, ]+)")
_SKIP_FILE = re.compile(r"dlink:\s*skip-file\b")
MAX_ROUNDS = 10


@dataclass(frozen=True)
class Selection:
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()

    def wants(self, code: str) -> bool:
        from dlink.config import code_selected

        return code_selected(code, self.select, self.ignore)


@dataclass(frozen=True)
class Analysis:
    findings: list[Finding]
    dockerfile: Dockerfile | None  # None when the file could not be read
    skipped: bool = False  # `# dlink: skip-file`
    model: Model | None = None  # built unless the file is unreadable or skipped


@dataclass(frozen=True)
class FixResult:
    data: bytes  # the fixed file (the input when nothing changed)
    changed: bool
    fixed: int  # edits applied
    remaining: list[Finding]  # what is still wrong after fixing


def _unreadable(path: str, error: ParseError | ModelError) -> Finding:
    info = UNREADABLE
    return Finding(
        path, error.line, 1, error.line, 1, info.code, info.name, info.severity, error.reason, False
    )


def _skips_file(dockerfile: Dockerfile) -> bool:
    first = dockerfile.instructions[0].start if dockerfile.instructions else len(dockerfile.text)
    return any(
        line.lstrip().startswith("#") and _SKIP_FILE.search(line)
        for line in dockerfile.text[:first].splitlines()
    )


def _suppressed(finding: Finding, dockerfile: Dockerfile) -> bool:
    for instruction in dockerfile.instructions:
        if instruction.start_line <= finding.line <= instruction.end_line:
            for comment in instruction.comments:
                match = _IGNORE.search(comment)
                if match and any(
                    finding.code.startswith(code.strip().upper())
                    for code in match.group(1).split(",")
                    if code.strip()
                ):
                    return True
            return False
    return False


def analyse(data: bytes, context: Context, selection: Selection = Selection()) -> Analysis:
    """All findings for one file's bytes."""
    try:
        dockerfile = parse(data)
        if _skips_file(dockerfile):
            return Analysis([], dockerfile, skipped=True)
        model = build(dockerfile, context.build_args)
        model.target(context.target)
    except (ParseError, ModelError) as error:
        finding = _unreadable(context.path, error)
        return Analysis([finding] if selection.wants(finding.code) else [], None)
    subject = Subject(dockerfile, model, context)
    findings: list[Finding] = []
    for rule in ALL_RULES:
        if rule.check is None or not selection.wants(rule.info.code):
            continue
        findings += [f for f in rule.check(subject) if not _suppressed(f, dockerfile)]
    findings.sort(key=lambda f: (f.line, f.column, f.code))
    return Analysis(findings, dockerfile, model=model)


def fix(
    data: bytes, context: Context, selection: Selection = Selection(), *, unsafe_fixes: bool = False
) -> FixResult:
    """Apply fixes round by round (bounded) until no fixable finding is left.

    Only safe fixes, unless `unsafe_fixes`: an unsafe one stays among `remaining`.
    """
    current = data
    applied = 0
    analysis = analyse(current, context, selection)
    for _ in range(MAX_ROUNDS):
        dockerfile = analysis.dockerfile
        edits = [
            edit
            for finding in analysis.findings
            if finding.fix_safe or unsafe_fixes
            for edit in finding.edits
        ]
        if dockerfile is None or not edits:
            break
        text, count = apply_edits(dockerfile.text, edits)
        candidate = encode(dockerfile.has_bom, text)
        if candidate == current:
            break
        current = candidate
        applied += count
        analysis = analyse(current, context, selection)
    return FixResult(current, current != data, applied, analysis.findings)


@dataclass(frozen=True)
class SourceLabelPlan:
    """What build-push needs to know about a Dockerfile's source label."""

    ok: bool  # the image's source label equals the repository URL, in canonical form
    current: str | None  # the label's value as the image would get it
    fixed: bytes | None  # the whole file with the label fixed; None when it cannot be fixed


def source_label_plan(
    data: bytes,
    *,
    path: str,
    repo_url: str,
    target: str | None = None,
    build_args: Mapping[str, str] | None = None,
) -> SourceLabelPlan:
    """Is the source label right, what is it now, and what would the fixed file be."""
    context = Context(path, repo_url, target, dict(build_args or {}))
    source_rules = Selection(select=("DLK000", "DLK101", "DLK102", "DLK103", "DLK104", "DLK105"))
    analysis = analyse(data, context, source_rules)
    if analysis.dockerfile is None:
        reason = analysis.findings[0].message if analysis.findings else "unreadable"
        from dlink.errors import DlinkError

        raise DlinkError(f"{path}: {reason}")
    current = None
    model = analysis.model or build(analysis.dockerfile, context.build_args)  # skip-file: not built
    settings = [s for s in model.image_labels(target) if s.key == SOURCE_KEY]
    if settings:
        current = settings[-1].value
    if not analysis.findings:
        return SourceLabelPlan(True, current, None)
    result = fix(data, context, source_rules)
    fixable = result.changed and not result.remaining
    return SourceLabelPlan(False, current, result.data if fixable else None)


def select_findings(findings: Sequence[Finding], fail_on: str) -> list[Finding]:
    """The findings at or above the --fail-on level ("never" selects none)."""
    if fail_on == "never":
        return []
    order = {"info": 0, "warning": 1, "error": 2}
    return [f for f in findings if f.severity.rank >= order[fail_on]]
