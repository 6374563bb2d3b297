"""Stages and labels as the built image sees them.

BuildKit builds the target stage (the last one unless --target names another).
A stage built `FROM` an earlier stage starts from that stage's image, labels and
ENV included; ARGs are scoped to the stage that declares them, and global ARGs
(before the first FROM) reach a stage only when it re-declares them. Labels are
expanded with BuildKit's lexer in that environment. Labels of external base
images are unknown to dlink.

BuildKit's automatic platform ARGs (TARGETOS, BUILDARCH, ...) exist in the
global scope without an ARG line, for the platform being built. An ARG declared
without a value and not passed is unset at build time, so `${URL:-fallback}`
gives the fallback. Every step is linear in the file: scopes are chained
mappings, never copied per instruction.
"""

from __future__ import annotations

import re
from collections import ChainMap
from collections.abc import Callable, Mapping, MutableMapping
from functools import cache

from dlink.record import Record
from dlink.syntax import Dockerfile, Instruction, LabelToken
from dlink.syntax.lexer import LexError, ShellLex, WordResult
from dlink.syntax.reader import Instructions


class ModelError(ValueError):
    """The file parses but cannot be built (e.g. no FROM); `line` is 1-based."""

    def __init__(self, reason: str, line: int) -> None:
        super().__init__(f"line {line}: {reason}")
        self.reason = reason
        self.line = line


DEFAULT_PLATFORM = "linux/amd64"
# What BuildKit defines in the global scope for every build, without an ARG line.
PLATFORM_ARGS = (
    "TARGETPLATFORM", "TARGETOS", "TARGETARCH", "TARGETVARIANT",
    "BUILDPLATFORM", "BUILDOS", "BUILDARCH", "BUILDVARIANT",
)  # fmt: skip


def platform_args(target: str, build: str = DEFAULT_PLATFORM) -> dict[str, str]:
    """BuildKit's automatic platform ARGs for `os/arch[/variant]` (the build platform
    is the machine that builds; dlink cannot know it and assumes linux/amd64)."""
    values: dict[str, str] = {}
    for prefix, platform in (("TARGET", target), ("BUILD", build)):
        os_name, _, rest = platform.partition("/")
        arch, _, variant = rest.partition("/")
        values.update({
            prefix + "PLATFORM": platform, prefix + "OS": os_name,
            prefix + "ARCH": arch, prefix + "VARIANT": variant,
        })  # fmt: skip
    return values


@cache
def _platform() -> re.Pattern[str]:
    """`os/arch[/variant]` (only `--platform` needs it: compiled then)."""
    return re.compile(r"[a-z0-9]+/[a-z0-9_]+(/[a-z0-9]+)?\Z")


def parse_platforms(items: list[str]) -> tuple[str, ...]:
    """`--platform` values (repeatable, comma-separated) as `os/arch[/variant]`, in order,
    each once. Raises ValueError naming a value that is not a platform."""
    platforms: list[str] = []
    for item in items:
        for part in item.split(","):
            platform = part.strip().lower()
            if not _platform().match(platform):
                raise ValueError(f"--platform {part.strip()!r} is not os/arch[/variant], e.g. linux/arm64")
            if platform not in platforms:
                platforms.append(platform)
    return tuple(platforms) or (DEFAULT_PLATFORM,)


# One empty set for every label and stage that has no names to keep (most of them).
_NO_NAMES: frozenset[str] = frozenset()
# What a stage's instructions are until the file is read whole (ModelBuilder.finish).
_NOT_YET = Instructions()
# The instructions whose words the model reads; of the others it needs only where they are.
_MODELLED = frozenset({"from", "arg", "env", "label"})
# The ENV of every stage that has none. Only `build` writes a stage's ENV, and it
# gives the stage a mapping of its own first (Stage.own_env).
_NO_ENV: dict[str, str] = {}


class LabelSetting(Record):
    """One label as an instruction sets it, expanded where possible."""

    __slots__ = ("instruction", "key", "out_of_scope", "stage", "token", "unresolved", "value")

    def __init__(
        self,
        key: str,
        value: str,
        unresolved: frozenset[str],  # variables with no value at lint time
        instruction: Instruction,
        token: LabelToken,
        stage: int,
        # Global ARGs (declared before the first FROM, or BuildKit's platform ARGs)
        # used here without an ARG line in the stage: empty at build time, whatever
        # --build-arg says.
        out_of_scope: frozenset[str] = _NO_NAMES,
    ) -> None:
        self.key = key
        self.value = value
        self.unresolved = unresolved
        self.instruction = instruction
        self.token = token
        self.stage = stage
        self.out_of_scope = out_of_scope


class Stage:
    """One stage while it is built and after. A file may have 200,000 of them: the
    containers most stages leave empty (labels, unknown ENV names) are made on first use,
    and the stage keeps where its instructions are, not the instructions."""

    __slots__ = (
        "_all",
        "_first",
        "_labels",
        "_stop",
        "base",
        "env",
        "env_unknown",
        "from_scratch",
        "index",
        "name",
        "parent",
    )  # fmt: skip

    def __init__(
        self,
        index: int,
        name: str | None,  # lower-cased, as BuildKit matches it
        base: str,  # the expanded image reference (or stage name)
        parent: int | None,  # index of the stage this one is built FROM, if any
        first: int,  # index of the stage's FROM among the file's instructions
        labels: list[LabelSetting] | None = None,
        env: dict[str, str] | None = None,
        from_scratch: bool = False,  # the lineage starts at `scratch`: no unknown base ENV
        # ENV names whose value dlink cannot know (from an unresolved variable).
        env_unknown: set[str] | frozenset[str] = _NO_NAMES,
    ) -> None:
        self.index = index
        self.name = name
        self.base = base
        self.parent = parent
        self._all = _NOT_YET  # the file's, set by ModelBuilder.finish
        self._first = first
        self._stop = first + 1  # moved on as `build` reads the stage's instructions
        self._labels = labels or None
        # The stage's ENV; stages without one share an empty mapping until build sets one.
        self.env: dict[str, str] = _NO_ENV if env is None else env
        self.from_scratch = from_scratch
        self.env_unknown = env_unknown

    @property
    def from_instruction(self) -> Instruction:
        return self._all[self._first]

    @property
    def start_line(self) -> int:
        """The FROM line (without reading the instruction again)."""
        return self._all.start_line(self._first)

    @property
    def instructions(self) -> list[Instruction]:
        """The stage's instructions after its FROM (made anew for a large file: see
        `Instructions`)."""
        return self._all[self._first + 1 : self._stop]

    @property
    def labels(self) -> list[LabelSetting]:
        """The labels the stage's own instructions set, in order."""
        return self._labels if self._labels is not None else []

    def add_label(self, setting: LabelSetting) -> None:
        if self._labels is None:
            self._labels = [setting]
        else:
            self._labels.append(setting)

    def own_env(self) -> dict[str, str]:
        """The stage's ENV mapping, made its own (not the shared empty one) to write to."""
        if self.env is _NO_ENV:
            self.env = {}
        return self.env

    def set_env_unknown(self, name: str, unknown: bool) -> None:
        if unknown:
            if not isinstance(self.env_unknown, set):
                self.env_unknown = set(self.env_unknown)
            self.env_unknown.add(name)
        elif name in self.env_unknown:
            assert isinstance(self.env_unknown, set)
            self.env_unknown.discard(name)

    def __repr__(self) -> str:
        return f"Stage(index={self.index}, name={self.name!r}, base={self.base!r}, parent={self.parent})"


class Model:
    __slots__ = ("dockerfile", "global_args", "platform", "stages")

    def __init__(
        self,
        dockerfile: Dockerfile,
        stages: list[Stage],
        global_args: dict[str, str | None],
        platform: str = DEFAULT_PLATFORM,
    ) -> None:
        self.dockerfile = dockerfile
        self.stages = stages
        self.global_args = global_args
        self.platform = platform

    def target(self, name: str | None = None) -> Stage:
        """The stage that becomes the image: the last one, or the one named by --target."""
        if name is None:
            return self.stages[-1]
        index = self._named().get(name.lower())
        if index is not None:
            return self.stages[index]
        known = ", ".join(s.name for s in self.stages if s.name) or "none"
        raise ModelError(f"target stage {name!r} not found (stages with names: {known})", 1)

    def _named(self) -> dict[str, int]:
        """Stage names to indexes (the first stage of a name, as BuildKit picks)."""
        named: dict[str, int] = {}
        for stage in self.stages:
            if stage.name is not None:
                named.setdefault(stage.name, stage.index)
        return named

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


class _Scope:
    """The variables an instruction sees: the stage's ENV over its ARGs, as BuildKit
    resolves them, without copying either mapping."""

    def __init__(self, stage: Stage, args: dict[str, str], arg_unknown: set[str]) -> None:
        self.values: ChainMap[str, str] = ChainMap(stage.env, args)
        self.stage = stage
        self.args = args
        self.arg_unknown = arg_unknown

    def unknown(self, name: str) -> bool:
        if name in self.stage.env:
            return name in self.stage.env_unknown
        return name in self.arg_unknown


def _unknown_in(result: WordResult, is_unknown: Callable[[str], bool], from_scratch: bool) -> frozenset[str]:
    """The variables of an expansion whose value dlink cannot know.

    A variable nobody in this file defines may still come from the base image's
    ENV, so it is unknowable, unless the stage is built from scratch.
    """
    if not result.unmatched and not result.matched:
        return _NO_NAMES  # most words: no variable at all
    undefined = {n for n in result.unmatched if not from_scratch or is_unknown(n)}
    return frozenset(undefined | {n for n in result.matched if is_unknown(n)}) or _NO_NAMES


def _defaulted(raw: str, names: frozenset[str]) -> frozenset[str]:
    """The names every reference of which in `raw` carries a default (`${N:-w}`, `${N-w}`)."""
    covered = set()
    for name in names:
        word = re.escape(name)
        refs = re.finditer(r"\$(?:\{" + word + r"(?![A-Za-z0-9_])(:?-)?|" + word + r"(?![A-Za-z0-9_]))", raw)
        modifiers = [ref.group(1) for ref in refs]
        if modifiers and all(modifiers):
            covered.add(name)
    return frozenset(covered)


def build(
    dockerfile: Dockerfile,
    build_args: Mapping[str, str] | None = None,
    platform: str = DEFAULT_PLATFORM,
) -> Model:
    """Stages, their environments and labels. Raises ModelError where BuildKit would not build."""
    builder = ModelBuilder(build_args, platform)
    instructions = dockerfile.instructions
    for index, name in enumerate(instructions.names()):
        if builder.needs(name):
            builder.feed(instructions[index], dockerfile.escape)
        else:
            builder.skip()
    return builder.finish(dockerfile)


class ModelBuilder:
    """`build`, one instruction at a time, so that the reader can feed it as it reads:
    a large file's instructions are then not read a second time for the model.

    Like the reader's instruction checker it keeps its first error; `finish` raises it.
    """

    def __init__(
        self, build_args: Mapping[str, str] | None = None, platform: str = DEFAULT_PLATFORM
    ) -> None:
        self.build_args = dict(build_args or {})
        self.platform = platform
        self.lex: ShellLex | None = None  # made for the file's escape character
        self.stages: list[Stage] = []
        self.named: dict[str, int] = {}
        self.bases: dict[str, str] = {}
        self.global_values: dict[str, str] = platform_args(platform)
        self.global_args: dict[str, str | None] = {}
        self.global_unknown: set[str] = set()
        self.current: Stage | None = None
        self.scope: _Scope | None = None
        # ARG lines without a value that the build does not pass
        self.declared_unset: set[str] = set()
        self.error: ModelError | None = None
        self.has_from = False  # (read on after an error: "no FROM" is said first)
        self.index = 0  # of the next instruction

    def needs(self, name: str) -> bool:
        """Whether `feed` must see the instruction (else `skip` does): only FROM, ARG, ENV
        and LABEL after the first FROM; of the others the model needs only where they are."""
        return self.current is None or name in _MODELLED

    def skip(self) -> None:
        if self.current is not None:
            self.current._stop = self.index + 1
        self.index += 1

    def feed(self, instruction: Instruction, escape: str) -> None:
        if not self.needs(instruction.name):
            self.skip()
            return
        if instruction.name == "from":
            self.has_from = True
        if self.error is None:
            if self.lex is None:
                self.lex = ShellLex(escape)
            try:
                self._feed(instruction, self.lex)
            except ModelError as error:
                self.error = error
        self.index += 1

    def finish(self, dockerfile: Dockerfile) -> Model:
        if not self.has_from:
            raise ModelError("no FROM instruction: there is no stage to build", 1)
        if self.error is not None:
            raise self.error
        for stage in self.stages:
            stage._all = dockerfile.instructions
        return Model(dockerfile, self.stages, self.global_args, self.platform)

    def _feed(self, instruction: Instruction, lex: ShellLex) -> None:
        name = instruction.name
        index = self.index
        if name == "from":
            stage = _start_stage(
                instruction, index, self.stages, self.named, lex, self.global_values,
                self.global_unknown, self.bases,
            )  # fmt: skip
            self.stages.append(stage)
            if stage.name is not None:
                self.named.setdefault(stage.name, stage.index)
            self.current, self.scope = stage, _Scope(stage, {}, set())
            self.declared_unset = set()
            return
        current, scope = self.current, self.scope
        if current is None or scope is None:
            if name == "arg":
                _declare_args(
                    instruction, lex, self.build_args, self.global_values, self.global_unknown,
                    None, self.global_args, set(),
                )  # fmt: skip
                return
            raise ModelError(
                f"{instruction.keyword} before the first FROM: BuildKit builds only ARG there",
                instruction.start_line,
            )
        current._stop = index + 1
        line, scratch = instruction.start_line, current.from_scratch
        if name == "arg":
            _declare_args(
                instruction, lex, self.build_args, scope.args, scope.arg_unknown,
                self.global_values, None, self.declared_unset, scope.values,
            )  # fmt: skip
        elif name == "env":
            for pair in instruction.pairs:
                try:
                    key = lex.process_word(pair.key_text, scope.values).value
                    result = lex.process_word(pair.value_text, scope.values)
                except LexError:
                    continue  # BuildKit fails this ENV when it builds the stage; not a label matter
                missing = _unknown_in(result, scope.unknown, scratch)
                if current.env is _NO_ENV:
                    scope.values.maps[0] = current.own_env()  # the scope reads the new mapping
                current.env[key] = result.value
                current.set_env_unknown(key, bool(missing))
        elif name == "label":
            global_values, global_unknown = self.global_values, self.global_unknown
            for pair in instruction.pairs:
                try:
                    key = lex.process_word(pair.key_text, scope.values).value
                    result = lex.process_word(pair.value_text, scope.values)
                except LexError as error:
                    raise ModelError(f"LABEL: {error}", line) from None
                missing = _unknown_in(result, scope.unknown, scratch)
                # A global ARG the stage never declares is empty at build time.
                out_of_scope = _NO_NAMES
                if result.unmatched:
                    out_of_scope = frozenset(
                        n for n in result.unmatched if n in global_values or n in global_unknown
                    ) or _NO_NAMES
                unresolved = missing
                if missing:
                    # `ARG URL` then `${URL:-fallback}`: unset unless passed, so the fallback.
                    fallback = _defaulted(pair.value_text, missing & frozenset(self.declared_unset))
                    unresolved = (missing - out_of_scope - fallback) or _NO_NAMES
                current.add_label(
                    LabelSetting(
                        key, result.value, unresolved, instruction, pair, current.index, out_of_scope
                    )
                )


def _start_stage(
    instruction: Instruction,
    index: int,
    stages: list[Stage],
    named: Mapping[str, int],
    lex: ShellLex,
    global_values: Mapping[str, str],
    global_unknown: set[str],
    bases: dict[str, str],
) -> Stage:
    args = instruction.args
    if not args:
        raise ModelError("FROM requires an image", instruction.start_line)
    try:
        base = lex.process_word(args[0], global_values).value
    except LexError as error:
        raise ModelError(f"FROM: {error}", instruction.start_line) from None
    base = bases.setdefault(base, base)  # one string for the stages of one base
    stage_name = None
    if len(args) >= 3 and args[1].lower() == "as":
        stage_name = args[2].lower()
        if stage_name == args[2]:
            stage_name = args[2]  # already lower-case: no second copy of the name
    base_key = base.lower()
    parent = named.get(base_key)
    stage = Stage(len(stages), stage_name, base, parent, index)
    if parent is not None:
        if stages[parent].env:
            stage.env = dict(stages[parent].env)
        if stages[parent].env_unknown:
            stage.env_unknown = set(stages[parent].env_unknown)
        stage.from_scratch = stages[parent].from_scratch
    else:
        stage.from_scratch = base_key == "scratch"
    return stage


def _declare_args(
    instruction: Instruction,
    lex: ShellLex,
    build_args: Mapping[str, str],
    values: dict[str, str],
    unknown: set[str],
    global_values: Mapping[str, str] | None,
    record: dict[str, str | None] | None,
    declared_unset: set[str],
    env: MutableMapping[str, str] | None = None,
) -> None:
    # Names declared earlier on the same line are visible to later defaults;
    # a chained mapping keeps that local without copying the environment.
    scope: ChainMap[str, str] = ChainMap({}, env if env is not None else values)
    for word in instruction.words:
        raw_name, has_default, raw_default = word.text.partition("=")
        try:
            name = lex.process_word(raw_name, scope).value
        except LexError:
            continue  # a name BuildKit cannot expand declares nothing dlink can use
        declared_unset.discard(name)
        if name in build_args:
            values[name] = build_args[name]
            unknown.discard(name)
        elif has_default:
            try:
                result = lex.process_word(raw_default, scope)
                value, missing = result.value, _unknown_in(result, unknown.__contains__, False)
            except LexError:
                value, missing = "", frozenset({name})
            values[name] = value
            (unknown.add if missing else unknown.discard)(name)
        elif global_values is not None and name in global_values:
            values[name] = global_values[name]
        else:
            # Declared without a value: unset at build time unless the build passes it.
            values.pop(name, None)
            unknown.add(name)
            declared_unset.add(name)
        scope.maps[0][name] = values.get(name, "")
        if record is not None:
            record[name] = values.get(name)
