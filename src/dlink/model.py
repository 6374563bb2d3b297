"""Stages and labels as the built image sees them.

BuildKit builds the target stage (the last one unless --target names another).
A stage built `FROM` an earlier stage starts from that stage's image, labels and
ENV included; ARGs are scoped to the stage that declares them, and global ARGs
(before the first FROM) reach a stage only when it re-declares them. Labels are
expanded with BuildKit's lexer in that environment. Labels of external base
images are unknown to dlink.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from dlink.syntax import Dockerfile, Instruction, LabelToken
from dlink.syntax.lexer import LexError, ShellLex


class ModelError(ValueError):
    """The file parses but cannot be built (e.g. no FROM); `line` is 1-based."""

    def __init__(self, reason: str, line: int) -> None:
        super().__init__(f"line {line}: {reason}")
        self.reason = reason
        self.line = line


@dataclass(frozen=True)
class LabelSetting:
    """One label as an instruction sets it, expanded where possible."""

    key: str
    value: str
    unresolved: frozenset[str]  # variables with no value at lint time
    instruction: Instruction
    token: LabelToken
    stage: int


@dataclass
class Stage:
    index: int
    name: str | None  # lower-cased, as BuildKit matches it
    base: str  # the expanded image reference (or stage name)
    parent: int | None  # index of the stage this one is built FROM, if any
    from_instruction: Instruction
    instructions: list[Instruction] = field(default_factory=list)
    labels: list[LabelSetting] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    from_scratch: bool = False  # the lineage starts at `scratch`: no unknown base ENV
    # ENV names whose value dlink cannot know (from an unresolved variable).
    env_unknown: set[str] = field(default_factory=set)


@dataclass
class Model:
    dockerfile: Dockerfile
    stages: list[Stage]
    global_args: dict[str, str | None]

    def target(self, name: str | None = None) -> Stage:
        """The stage that becomes the image: the last one, or the one named by --target."""
        if name is None:
            return self.stages[-1]
        for stage in self.stages:
            if stage.name == name.lower():
                return stage
        known = ", ".join(s.name for s in self.stages if s.name) or "none"
        raise ModelError(f"target stage {name!r} not found (stages with names: {known})", 1)

    def lineage(self, stage: Stage) -> list[Stage]:
        """The stage and the stages it is built from, oldest first."""
        chain = [stage]
        while chain[-1].parent is not None:
            chain.append(self.stages[chain[-1].parent])
        return chain[::-1]

    def image_labels(self, target: str | None = None) -> list[LabelSetting]:
        """Every label setting that reaches the image, in the order BuildKit applies them."""
        settings: list[LabelSetting] = []
        for stage in self.lineage(self.target(target)):
            settings += stage.labels
        return settings


def _expand(
    lex: ShellLex,
    word: str,
    values: Mapping[str, str],
    unknown: set[str],
    line: int,
    from_scratch: bool = False,
) -> tuple[str, frozenset[str]]:
    """Expand a word; also name the variables whose value dlink cannot know.

    A variable nobody in this file defines may still come from the base image's
    ENV, so it is unknowable, unless the stage is built from scratch. Raises
    LexError for a word BuildKit cannot expand either.
    """
    result = lex.process_word(word, values)
    undefined = result.unmatched if not from_scratch else result.unmatched & unknown
    return result.value, frozenset(undefined | (result.matched & unknown))


def build(dockerfile: Dockerfile, build_args: Mapping[str, str] | None = None) -> Model:
    """Stages, their environments and labels. Raises ModelError where BuildKit would not build."""
    build_args = dict(build_args or {})
    lex = ShellLex(dockerfile.escape)
    stages: list[Stage] = []
    global_values: dict[str, str] = {}
    global_args: dict[str, str | None] = {}
    global_unknown: set[str] = set()
    current: Stage | None = None
    arg_values: dict[str, str] = {}
    unknown: set[str] = set()

    if not any(i.name == "from" for i in dockerfile.instructions):
        raise ModelError("no FROM instruction: there is no stage to build", 1)
    for instruction in dockerfile.instructions:
        name = instruction.name
        if name == "from":
            current, arg_values, unknown = _start_stage(
                instruction, stages, lex, global_values, global_unknown
            )
            stages.append(current)
            continue
        if current is None:
            if name == "arg":
                _declare_args(
                    instruction, lex, build_args, global_values, global_unknown, None, global_args
                )
                continue
            raise ModelError(
                f"{instruction.keyword} before the first FROM: BuildKit builds only ARG there",
                instruction.start_line,
            )
        current.instructions.append(instruction)
        env = {**current.env, **arg_values}
        env_unknown = current.env_unknown | unknown
        line, scratch = instruction.start_line, current.from_scratch
        if name == "arg":
            _declare_args(
                instruction, lex, build_args, arg_values, unknown, global_values, None, env
            )
        elif name == "env":
            for pair in instruction.pairs:
                try:
                    key, _ = _expand(lex, pair.key.text, env, env_unknown, line, scratch)
                    value, missing = _expand(lex, pair.value.text, env, env_unknown, line, scratch)
                except LexError:
                    continue  # BuildKit fails this ENV when it builds the stage; not a label matter
                current.env[key] = value
                (current.env_unknown.add if missing else current.env_unknown.discard)(key)
                arg_values.pop(key, None)
                env = {**current.env, **arg_values}
                env_unknown = current.env_unknown | unknown
        elif name == "label":
            for pair in instruction.pairs:
                try:
                    key, _ = _expand(lex, pair.key.text, env, env_unknown, line, scratch)
                    value, missing = _expand(lex, pair.value.text, env, env_unknown, line, scratch)
                except LexError as error:
                    raise ModelError(f"LABEL: {error}", line) from None
                current.labels.append(
                    LabelSetting(key, value, missing, instruction, pair, current.index)
                )

    return Model(dockerfile, stages, global_args)


def _start_stage(
    instruction: Instruction,
    stages: list[Stage],
    lex: ShellLex,
    global_values: Mapping[str, str],
    global_unknown: set[str],
) -> tuple[Stage, dict[str, str], set[str]]:
    args = instruction.args
    if not args:
        raise ModelError("FROM requires an image", instruction.start_line)
    try:
        base, _ = _expand(lex, args[0], global_values, global_unknown, instruction.start_line)
    except LexError as error:
        raise ModelError(f"FROM: {error}", instruction.start_line) from None
    stage_name = args[2].lower() if len(args) >= 3 and args[1].lower() == "as" else None
    parent = next((s.index for s in stages if s.name and s.name == base.lower()), None)
    stage = Stage(len(stages), stage_name, base, parent, instruction)
    if parent is not None:
        stage.env = dict(stages[parent].env)
        stage.env_unknown = set(stages[parent].env_unknown)
        stage.from_scratch = stages[parent].from_scratch
    else:
        stage.from_scratch = base.lower() == "scratch"
    return stage, {}, set()


def _declare_args(
    instruction: Instruction,
    lex: ShellLex,
    build_args: Mapping[str, str],
    values: dict[str, str],
    unknown: set[str],
    global_values: Mapping[str, str] | None,
    record: dict[str, str | None] | None,
    env: Mapping[str, str] | None = None,
) -> None:
    scope = dict(env) if env is not None else dict(values)
    for word in instruction.words:
        raw_name, has_default, raw_default = word.text.partition("=")
        try:
            name, _ = _expand(lex, raw_name, scope, unknown, instruction.start_line)
        except LexError:
            continue  # a name BuildKit cannot expand declares nothing dlink can use
        if name in build_args:
            values[name] = build_args[name]
            unknown.discard(name)
        elif has_default:
            try:
                value, missing = _expand(lex, raw_default, scope, unknown, instruction.start_line)
            except LexError:
                value, missing = "", frozenset({name})
            values[name] = value
            (unknown.add if missing else unknown.discard)(name)
        elif global_values is not None and name in global_values:
            values[name] = global_values[name]
        else:
            # Declared without a value: set to nothing at build time, unknowable here.
            values.pop(name, None)
            unknown.add(name)
        scope[name] = values.get(name, "")
        if record is not None:
            record[name] = values.get(name)
