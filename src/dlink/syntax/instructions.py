"""BuildKit's second reading: the refusals of its instruction parser.

BuildKit reads a Dockerfile twice. Its line parser (reader.py) splits lines
into instructions; then `instructions.Parse` turns each into a typed command
and refuses more: unknown instructions, FROM with the wrong number of words or
an invalid stage name, LABEL/ENV/ARG without a name, COPY/ADD without a
destination, flags an instruction does not take, and so on. A file that fails
here never builds, so dlink must not read it as good, nor write one.

`InstructionChecker` makes those checks as the reader reads each instruction and
keeps the first refusal, in file order, as BuildKit would. Messages are BuildKit's own words.
The behaviour follows BuildKit's frontend/dockerfile/instructions (parse.go,
bflag.go) and dockerfile2llb (blank base names, stage names used twice).
"""

from __future__ import annotations

import re
from functools import cache
from typing import TYPE_CHECKING

from dlink.syntax.errors import ParseError
from dlink.syntax.lexer import LexError, ShellLex

if TYPE_CHECKING:  # the reader calls this module; types only, no import cycle
    from dlink.syntax.reader import Instruction

KNOWN_INSTRUCTIONS = frozenset(
    {
        "add",
        "arg",
        "cmd",
        "copy",
        "entrypoint",
        "env",
        "expose",
        "from",
        "healthcheck",
        "label",
        "maintainer",
        "onbuild",
        "run",
        "shell",
        "stopsignal",
        "user",
        "volume",
        "workdir",
    }
)

# BuildKit's automatic platform ARGs: always defined, so a FROM using them is
# not known to be blank here (the model expands them per platform).
PLATFORM_ARGS = frozenset(
    {
        "TARGETPLATFORM",
        "TARGETOS",
        "TARGETARCH",
        "TARGETVARIANT",
        "BUILDPLATFORM",
        "BUILDOS",
        "BUILDARCH",
        "BUILDVARIANT",
    }
)

_STAGE_NAME = re.compile(r"[a-z][a-z0-9\-_.]*\Z")
# parser.MustParseHeredoc: a word that is a heredoc reference.
_HEREDOC = re.compile(r"\d*<<-?[\t\n\f\r ]*[^<]+\Z")


@cache
def _go_duration() -> re.Pattern[str]:
    """Go's time.ParseDuration: "0", or signed runs of <decimal><unit> (HEALTHCHECK only)."""
    return re.compile(r"[-+]?(0|((\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h))+)\Z")


# What a flag takes: one value, repeated values, or a boolean.
_STRING = "string"
_STRINGS = "strings"  # may repeat
_BOOL = "bool"

# The flags each instruction declares (today's BuildKit, labs flags included, so
# that dlink never refuses what some BuildKit accepts). Instructions missing
# here (ARG, STOPSIGNAL) never look at their flags.
_FLAGS: dict[str, dict[str, str]] = {
    "from": {"platform": _STRING},
    "copy": {
        "chown": _STRING,
        "from": _STRING,
        "chmod": _STRING,
        "link": _BOOL,
        "parents": _BOOL,
        "exclude": _STRINGS,
    },
    "add": {
        "chown": _STRING,
        "chmod": _STRING,
        "link": _BOOL,
        "keep-git-dir": _BOOL,
        "checksum": _STRING,
        "exclude": _STRINGS,
        "unpack": _BOOL,
    },
    "run": {"mount": _STRINGS, "network": _STRING, "security": _STRING, "device": _STRINGS},
    "healthcheck": {
        "interval": _STRING,
        "timeout": _STRING,
        "start-period": _STRING,
        "start-interval": _STRING,
        "retries": _STRING,
    },
    **{
        name: {}
        for name in (
            "env",
            "label",
            "maintainer",
            "workdir",
            "cmd",
            "entrypoint",
            "shell",
            "user",
            "volume",
            "expose",
            "onbuild",
        )
    },
}


class _Refused(Exception):
    """One instruction's refusal, before its location is attached."""


class InstructionChecker:
    """BuildKit's instruction parser, fed one instruction at a time in file order.

    It keeps the first refusal (`refusal`) instead of raising it, so that the reader can
    check each instruction as it reads it and still let its own line errors, anywhere
    in the file, come first, as BuildKit reads every line before it parses instructions.
    """

    __slots__ = ("_global_args", "_in_stage", "_lex", "_stage_names", "refusal")

    def __init__(self) -> None:
        self._global_args: set[str] = set()
        self._stage_names: set[str] = set()
        self._in_stage = False
        self._lex: ShellLex | None = None
        self.refusal: ParseError | None = None

    def feed(self, instruction: Instruction, escape: str) -> None:
        if self.refusal is not None:
            return
        try:
            _check(instruction)
            name = instruction.name
            if name == "from":
                if self._lex is None:
                    self._lex = ShellLex(escape)
                _check_base(instruction, self._lex, self._global_args)
                stage = _stage_name(instruction)
                if stage is not None:
                    if stage in self._stage_names:
                        raise _Refused(f"duplicate stage name {_go_quote(stage)}")
                    self._stage_names.add(stage)
                self._in_stage = True
            elif name == "arg" and not self._in_stage:
                self._global_args.update(_arg_name(word) for word in instruction.args)
            # An instruction other than ARG before the first FROM ("no build stage
            # in current context") is left to the model, which says it plainly.
        except _Refused as refusal:
            self.refusal = ParseError(
                str(refusal),
                instruction.start_line,
                instruction.end_line,
                instruction_level=True,
            )


def _arg_name(word: str) -> str:
    return word.split("=", 1)[0]


def _go_quote(text: str) -> str:
    """Go's %q for the plain strings that reach these messages."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _stage_name(instruction: Instruction) -> str | None:
    args = instruction.args
    if len(args) == 3 and args[1].lower() == "as":
        return args[2].lower()
    return None


def _check(instruction: Instruction) -> None:
    name = instruction.name
    if name not in KNOWN_INSTRUCTIONS:
        raise _Refused(f"unknown instruction: {instruction.keyword}")
    args = instruction.args
    if name == "from":
        if len(args) == 3 and args[1].lower() == "as":
            if not _STAGE_NAME.match(args[2].lower()):
                raise _Refused(
                    f"invalid name for build stage: {_go_quote(args[2])}, "
                    "name can't start with a number or contain symbols"
                )
        elif len(args) != 1:
            raise _Refused("FROM requires either one or three arguments")
        _parse_flags(instruction)
    elif name in ("env", "label"):
        _parse_flags(instruction)
        if not instruction.pairs:
            raise _Refused(f"{name.upper()} requires at least one argument")
        if any(not pair.key_text for pair in instruction.pairs):
            raise _Refused(f"{name.upper()} names can not be blank")
    elif name == "arg":
        if not args:
            raise _Refused("ARG requires at least one argument")
        if any(word.startswith("=") for word in args):
            raise _Refused("ARG names can not be blank")
    elif name in ("copy", "add"):
        if len(args) < 2:
            raise _Refused(
                f"{name.upper()} requires at least two arguments, but only one was provided. "
                "Destination could not be determined"
            )
        _parse_flags(instruction)
        if _HEREDOC.match(args[-1]):
            raise _Refused(f"{name.upper()} cannot accept a heredoc as a destination")
    elif name in ("maintainer", "workdir", "user"):
        if len(args) != 1:
            raise _Refused(f"{name.upper()} requires exactly one argument")
        _parse_flags(instruction)
    elif name == "stopsignal":
        if len(args) != 1:
            raise _Refused("STOPSIGNAL requires exactly one argument")
    elif name in ("expose", "volume"):
        if not args:
            raise _Refused(f"{name.upper()} requires at least one argument")
        _parse_flags(instruction)
        if name == "volume" and any(not arg.strip() for arg in args):
            raise _Refused("VOLUME specified can not be an empty string")
    elif name == "shell":
        _parse_flags(instruction)
        if not args:
            raise _Refused("SHELL requires at least one argument")
        if not instruction.json:
            raise _Refused("SHELL requires the arguments to be in JSON form")
    elif name == "onbuild":
        _check_onbuild(instruction)
    elif name == "healthcheck":
        _check_healthcheck(instruction)
    else:  # run, cmd, entrypoint
        _parse_flags(instruction)


def _check_onbuild(instruction: Instruction) -> None:
    if instruction.sub is None:
        raise _Refused("ONBUILD requires at least one argument")
    _parse_flags(instruction)
    trigger = instruction.sub.keyword.upper()
    if trigger == "ONBUILD":
        raise _Refused("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed")
    if trigger in ("MAINTAINER", "FROM"):
        raise _Refused(f"{trigger} isn't allowed as an ONBUILD trigger")


def _check_healthcheck(instruction: Instruction) -> None:
    args = instruction.args
    if not args:
        raise _Refused("HEALTHCHECK requires at least one argument")
    kind = args[0].upper()
    if kind == "NONE":
        if len(args) > 1:
            raise _Refused("HEALTHCHECK NONE takes no arguments")
        return
    values = _parse_flags(instruction)
    if kind != "CMD":
        raise _Refused(f"Unknown type {_go_quote(kind)} in HEALTHCHECK (try CMD)")
    command = args[1:]
    if not command or (not instruction.json and not "".join(command)):
        raise _Refused("Missing command after HEALTHCHECK CMD")
    for flag in ("interval", "timeout", "start-period", "start-interval"):
        value = values.get(flag, "")
        if value and not _go_duration().match(value):
            raise _Refused(f"time: invalid duration {_go_quote(value)}")
    retries = values.get("retries", "")
    if retries:
        if not re.fullmatch(r"[-+]?\d+", retries) or not -(2**31) <= int(retries) < 2**31:
            raise _Refused(f"strconv.ParseInt: parsing {_go_quote(retries)}: invalid syntax")
        if int(retries) < 0:
            raise _Refused(f"--retries cannot be negative ({int(retries)})")


def _parse_flags(instruction: Instruction) -> dict[str, str]:
    """BFlags.Parse: every flag known to the instruction, once, with a value of its type."""
    if not instruction.flags:
        return {}  # most instructions
    declared = _FLAGS.get(instruction.name, {})
    values: dict[str, str] = {}
    for word in instruction.flags:
        if not word.startswith("--"):
            raise _Refused(f"Arg should start with -- : {word}")
        if word == "--":
            break
        name, has_value, value = word[2:].partition("=")
        flag = declared.get(name)
        if flag is None:
            raise _Refused(f"Unknown flag: {name}")
        if name in values and flag != "strings":
            raise _Refused(f"Duplicate flag specified: {name}")
        if flag == "bool":
            if has_value and not value:
                raise _Refused(f"Missing a value on flag: {name}")
            if value.lower() not in ("", "true", "false"):
                raise _Refused(f"Expecting boolean value for flag {name}, not: {value}")
        elif not has_value:
            raise _Refused(f"Missing a value on flag: {name}")
        values[name] = value
    return values


def _check_base(instruction: Instruction, lex: ShellLex, global_args: set[str]) -> None:
    """dockerfile2llb: a base name that expands to nothing.

    Only where the answer does not depend on the build: a name that uses no
    declared ARG (a `--build-arg` could set one) and no platform ARG.
    """
    if not instruction.args:
        return
    base = instruction.args[0]
    if not any(ch in base for ch in "$'\""):
        return  # nothing to expand or remove: a word of the line is never empty
    try:
        result = lex.process_word(base, {})
    except LexError:
        return  # the model reports expansion errors with their own message
    if result.value or result.unmatched & (global_args | PLATFORM_ARGS):
        return
    raise _Refused(f"base name ({base}) should not be blank")
