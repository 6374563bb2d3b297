"""Parse, run the rules, honour suppressions, and fix until nothing changes. No I/O.

Every fix is verified before it is returned (`verify_fix`): the new text must
read, keep every non-LABEL instruction, give every stage exactly the labels
intended, and be left alone by another fix round. Otherwise the fix is withheld
and the caller writes nothing.
"""

from __future__ import annotations

import gc
import itertools
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

from dlink.directives import scan
from dlink.edits import apply_edits
from dlink.findings import Finding
from dlink.model import DEFAULT_PLATFORM, Model, ModelBuilder, ModelError, build
from dlink.record import Record
from dlink.rules import ALL_RULES, RULES_BY_CODE, SOURCE_KEY, Context, Subject
from dlink.rules.dlk000_unreadable import finding as unreadable_finding
from dlink.syntax import Dockerfile, Instruction, ParseError, parse
from dlink.syntax.lexer import LexError, ShellLex
from dlink.syntax.text import encode

MAX_ROUNDS = 10
# The rules whose fix sets the image's source label to the repository's URL (DLK103 and
# DLK104 write the canonical form of the repository the label already names).
_SOURCE_FIXES = frozenset({"DLK101", "DLK102", "DLK109"})


class Selection(Record):
    __slots__ = ("ignore", "select")

    def __init__(self, select: tuple[str, ...] = (), ignore: tuple[str, ...] = ()) -> None:
        self.select = select
        self.ignore = ignore

    def wants(self, code: str) -> bool:
        from dlink.config import code_selected

        return code_selected(code, self.select, self.ignore)


EVERY_RULE = Selection()


class Analysis(Record):
    __slots__ = ("dockerfile", "findings", "model", "models", "skipped")

    def __init__(
        self,
        findings: list[Finding],
        dockerfile: Dockerfile | None,  # None when the file could not be read
        skipped: bool = False,  # `# dlink: skip-file`
        model: Model | None = None,  # built (for the first platform) unless unreadable or skipped
        models: tuple[Model, ...] = (),  # one per platform
    ) -> None:
        self.findings = findings
        self.dockerfile = dockerfile
        self.skipped = skipped
        self.model = model
        self.models = models


class FixResult(Record):
    __slots__ = ("changed", "data", "fixed", "remaining", "withheld")

    def __init__(
        self,
        data: bytes,  # the fixed file (the input when nothing changed or the fix was withheld)
        changed: bool,
        fixed: int,  # edits applied
        remaining: list[Finding],  # what is still wrong after fixing (before, when withheld)
        withheld: str | None = None,  # why a fix was computed but must not be written
    ) -> None:
        self.data = data
        self.changed = changed
        self.fixed = fixed
        self.remaining = remaining
        self.withheld = withheld


def _merge(per_platform: list[tuple[str, list[Finding]]]) -> list[Finding]:
    """One list of findings for all platforms; one found for some platforms only says which."""
    seen: dict[tuple[str, int, int, str, str], tuple[Finding, list[str]]] = {}
    for platform, findings in per_platform:
        for finding in findings:
            key = (finding.path, finding.line, finding.column, finding.code, finding.message)
            if key in seen:
                seen[key][1].append(platform)
            else:
                seen[key] = (finding, [platform])
    merged = []
    for finding, platforms in seen.values():
        if len(platforms) < len(per_platform):
            finding = finding.replace(message=f"{finding.message} (platform {', '.join(platforms)})")
        merged.append(finding)
    return merged


@contextmanager
def _without_cyclic_collector() -> Iterator[None]:
    """Parsing and modelling make millions of small objects and next to no reference
    cycles, so the cyclic collector would mostly rescan them, again and again (a fifth
    of the time on 200,000 stages; a fix, which holds one reading while it makes the
    next, a quarter). It runs as usual once the file is done."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def analyse(data: bytes, context: Context, selection: Selection = EVERY_RULE) -> Analysis:
    """All findings for one file's bytes, for every platform of the context."""
    with _without_cyclic_collector():
        return _analyse(data, context, selection)


def _analyse(data: bytes, context: Context, selection: Selection) -> Analysis:
    try:
        # The models are built as the file is read (a large file's instructions are
        # then read once); a model error is raised only after the file has read well.
        builders = [
            ModelBuilder(context.build_args, platform)
            for platform in context.platforms or (DEFAULT_PLATFORM,)
        ]
        dockerfile = parse(data, observers=builders)
        directives = scan(dockerfile, RULES_BY_CODE)
        if directives.skip_file:
            return Analysis([], dockerfile, skipped=True)
        models = []
        for builder in builders:
            model = builder.finish(dockerfile)
            model.target(context.target)
            models.append(model)
    except (ParseError, ModelError) as error:
        finding = unreadable_finding(context.path, error.line, error.reason)
        return Analysis([finding] if selection.wants(finding.code) else [], None)
    wanted = [r for r in ALL_RULES if r.check is not None and selection.wants(r.info.code)]
    per_platform = []
    for model in models:
        subject = Subject(dockerfile, model, context, directives)
        found: list[Finding] = []
        for rule in wanted:
            assert rule.check is not None
            # A finding on a build definition's line: the Dockerfile's comments do not apply.
            found += [
                f
                for f in rule.check(subject)
                if f.path != context.path or not directives.suppresses(f.code, f.line)
            ]
        per_platform.append((model.platform, found))
    findings = _merge(per_platform)
    findings.sort(key=lambda f: (f.line, f.column, f.code))
    return Analysis(findings, dockerfile, model=models[0], models=tuple(models))


def fix(
    data: bytes, context: Context, selection: Selection = EVERY_RULE, *, unsafe_fixes: bool = False
) -> FixResult:
    """Apply fixes round by round (bounded) until no fixable finding is left, then verify.

    Only safe fixes, unless `unsafe_fixes`: an unsafe one stays among `remaining`.
    """
    with _without_cyclic_collector():
        return _fix(data, context, selection, unsafe_fixes)


def _fix(data: bytes, context: Context, selection: Selection, unsafe_fixes: bool) -> FixResult:
    current = data
    applied = 0
    first = analysis = analyse(current, context, selection)
    # Verification needs of the first reading only its findings, its text, where each
    # instruction is, and what each stage ends with: the rest is let go before the fixed
    # text is read (a LABEL of 200,000 pairs, read twice, was held twice).
    before_stages = [StageOutcome(model) for model in first.models]
    slim = first.dockerfile.slim() if first.dockerfile is not None else None
    first = analysis = first.replace(dockerfile=slim, model=None, models=())
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
    if current == data:
        return FixResult(data, False, 0, analysis.findings)
    problem = verify_fix(
        first, current, context, selection, analysis,
        unsafe_fixes=unsafe_fixes, before_stages=before_stages,
    )  # fmt: skip
    if problem is not None:
        return FixResult(data, False, 0, first.findings, withheld=problem)
    return FixResult(current, True, applied, analysis.findings)


def _shape(instruction: Instruction, escape: str = "\\") -> tuple[object, ...]:
    """What BuildKit builds from an instruction: command, flags, arguments, heredocs.

    For `ONBUILD LABEL` (which images built FROM this one run) the labels it sets,
    each pair as the lexer reads it, so that re-quoting that keeps the values passes.
    """
    sub = instruction.sub
    if sub is not None and sub.name == "label":
        lex = ShellLex(escape)
        pairs = []
        for pair in sub.pairs:
            try:
                key, value = lex.process_word(pair.key.text, {}), lex.process_word(pair.value.text, {})
            except LexError:
                return (instruction.name, sub.logical)
            pairs.append((key.value, value.value, frozenset(key.unmatched | value.unmatched)))
        return (instruction.name, "label", tuple(pairs))
    return (instruction.name, instruction.flags, instruction.args, instruction.json,
            instruction.heredocs, _shape(sub, escape) if sub else None)  # fmt: skip


_StageLabels = tuple[dict[str, tuple[str, frozenset[str]]], object]
# A stage that sets no label and whose image has no source label (most stages): one
# value for all of them. Never written to.
_NO_STAGE_LABELS: _StageLabels = ({}, None)


class StageOutcome:
    """What verification needs of one model: each stage's parent and labels (see
    `_stage_labels`). A fix keeps this of the file as it was, not the whole model, while
    it reads the fixed file."""

    __slots__ = ("labels", "parents")

    def __init__(self, model: Model) -> None:
        self.parents = [stage.parent for stage in model.stages]
        self.labels = _stage_labels(model)


def _stage_labels(model: Model) -> list[_StageLabels]:
    """Per stage: the labels it sets itself (last one wins, source label left out) and the
    source label its image ends with. Linear: a stage's parent always comes before it."""
    unset = object()
    result: list[_StageLabels] = []
    for stage in model.stages:
        if not stage.labels:
            inherited = result[stage.parent] if stage.parent is not None else _NO_STAGE_LABELS
            result.append(_NO_STAGE_LABELS if inherited[1] is None else ({}, inherited[1]))
            continue
        own: dict[str, tuple[str, frozenset[str]]] = {}
        for setting in stage.labels:
            own[setting.key] = (setting.value, setting.unresolved)
        source = own.pop(SOURCE_KEY, unset)
        if source is unset:
            source = result[stage.parent][1] if stage.parent is not None else None
        result.append((own, source))
    return result


def _canonical_of(old: object, new: object) -> bool:
    """Whether the new source label is the canonical URL of the repository the old one named."""
    from dlink.rules.source_value import source_repository

    if not (isinstance(old, tuple) and isinstance(new, tuple)) or new[1]:
        return False
    return bool(source_repository(str(old[0])) == new[0])


def _changed_instruction(old: Dockerfile, new: Dockerfile) -> str | None:
    """The first instruction but LABEL that the new text builds differently, if any.

    Pairs of instructions are compared one at a time: a large file's instructions are
    made anew when asked for, and none of them need be kept. Two instructions written
    the same (the escape character being the same) build the same, so only those whose
    text differs are read.
    """
    kept = [
        (i for i, name in enumerate(df.instructions.names()) if name != "label")
        for df in (old, new)
    ]
    for where, (a, b) in enumerate(itertools.zip_longest(*kept)):
        if a is not None and b is not None:
            (a_start, a_end), (b_start, b_end) = old.instructions.span(a), new.instructions.span(b)
            if (
                a_end - a_start == b_end - b_start
                and old.text[a_start:a_end] == new.text[b_start:b_end]
            ):
                continue
        was = [_shape(old.instructions[a], old.escape)] if a is not None else []
        now = [_shape(new.instructions[b], new.escape)] if b is not None else []
        if was != now:
            return f"the fix would change instruction {where + 1} (not a LABEL): {was}"
    return None


def verify_fix(
    before: Analysis,
    fixed: bytes,
    context: Context,
    selection: Selection,
    after: Analysis | None = None,
    *,
    unsafe_fixes: bool = False,
    before_stages: list[StageOutcome] | None = None,  # of `before`, when its models are dropped
) -> str | None:
    """Why the fixed bytes must not be written, or None when they are safe.

    (a) the text reads and builds; (b) every instruction but LABEL is what it was;
    (c) every stage ends with the labels it had, except the source label, which may
    only become the repository's URL, and does in the target stage when a source
    fix was made; (d) another fix round would change nothing. `after` is the analysis
    of `fixed` when the caller has it already.

    The source label may also become the canonical form of the repository it already
    names (DLK103 and DLK104 keep the label's own repository).
    """
    old = before.dockerfile
    if old is None:
        return "the file could not be read before the fix"
    if after is not None and after.dockerfile is not None:
        new = after.dockerfile  # the caller's reading of `fixed`: not parsed a second time
    else:
        try:
            new = parse(fixed)
        except ParseError as error:
            return f"the fixed text would not parse (line {error.line}: {error.reason})"
    if (new.escape, new.directives) != (old.escape, old.directives):
        return "the fix would change the parser directives"
    rebuilt = _changed_instruction(old, new)
    if rebuilt is not None:
        return rebuilt
    if after is None:
        after = analyse(fixed, context, selection)
    if after.dockerfile is None or not after.models:
        reason = after.findings[0].message if after.findings else "it is skipped"
        return f"the fixed file would not build: {reason}"
    url = context.repo_url
    applies = [f for f in before.findings if f.edits and (f.fix_safe or unsafe_fixes)]
    source_fixed = url is not None and any(f.code in _SOURCE_FIXES for f in applies)
    wanted = (url, frozenset[str]()) if url is not None else None
    if before_stages is None:
        before_stages = [StageOutcome(model) for model in before.models]
    for outcome, new_model in zip(before_stages, after.models):
        if outcome.parents != [s.parent for s in new_model.stages]:
            return "the fix would change the stages"
        target = new_model.target(context.target).index
        # With the same stages and parents, every stage ends with the same labels when
        # each sets the same ones itself (a fix removes only duplicates within a stage).
        pairs = zip(outcome.labels, _stage_labels(new_model))
        for index, ((was, old_source), (now, new_source)) in enumerate(pairs):
            if was != now:
                changed = sorted(k for k in was.keys() | now.keys() if was.get(k) != now.get(k))
                return f"the fix would change labels other than the source label: {', '.join(changed)}"
            if new_source != old_source and new_source != wanted and not _canonical_of(old_source, new_source):
                return f"the fix would set the source label of stage {index + 1} to something else than {url}"
            if index == target and source_fixed and new_source != wanted:
                return f"after the fix the image's source label would still not be {url}"
    again = [
        edit
        for finding in after.findings
        if finding.fix_safe or unsafe_fixes
        for edit in finding.edits
    ]
    if again and apply_edits(after.dockerfile.text, again)[0] != after.dockerfile.text:
        return "a second fix round would change the file again"
    return None


class SourceLabelPlan(Record):
    """What build-push needs to know about a Dockerfile's source label."""

    __slots__ = ("current", "fixed", "ok")

    def __init__(self, ok: bool, current: str | None, fixed: bytes | None) -> None:
        self.ok = ok  # the image's source label equals the repository URL, in canonical form
        self.current = current  # the label's value as the image would get it
        self.fixed = fixed  # the whole file with the label fixed; None when it cannot be fixed


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
