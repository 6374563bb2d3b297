"""The lossless reader: bytes in, instructions with exact spans out.

It follows BuildKit's parser loop line for line (parser directives, comments,
continuations, empty continuation lines, heredoc bodies), and also remembers
where every piece of each logical line came from, so that a fix can change a
single token and leave every other byte alone.
"""

from __future__ import annotations

import operator
import re
import sys
from array import array
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from functools import cache
from itertools import accumulate, islice
from typing import Any, Protocol, overload

from dlink.record import Record
from dlink.syntax.errors import ParseError
from dlink.syntax.instructions import InstructionChecker
from dlink.syntax.lexer import LexError, ShellLex
from dlink.syntax.text import (
    GO_SPACE,
    NOT_UTF8,
    DecodeError,
    byte_length,
    decode,
    encode,
    leading_space_len,
    split_lines,
    trim_newline,
)
from dlink.syntax.words import NameValue, Parsed, SyntaxProblem, Word, split_command

_DIRECTIVE = re.compile(r"([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*(.+?)[\t\n\f\r ]*\Z")
# BuildKit's longest line: bufio.MaxScanTokenSize - 1.
MAX_LINE_BYTES = 65_535
_KNOWN_DIRECTIVES = frozenset({"syntax", "escape", "check"})
_HEREDOC_INSTRUCTIONS = frozenset({"run", "copy", "add"})


@cache
def _heredoc_word() -> re.Pattern[str]:
    """A word that may start a heredoc (compiled for the first `<<` line, not at import)."""
    return re.compile(r"(\d*)<<(-?)[\t\n\f\r ]*([^<]*)\Z")


def _without_continuation(content: str, escape: str) -> str | None:
    """The line without its continuation (the escape character, not itself escaped, then
    blanks to the end), or None when it does not continue. Equivalent to BuildKit's
    `([^E])E[ \t]*$|^E[ \t]*$` search, without a regular expression for every line."""
    end = content.rstrip(" \t") if content[-1] in " \t" else content
    if end[-1:] != escape or (len(end) >= 2 and end[-2] == escape):
        return None
    return end[:-1]


class Heredoc(Record):
    __slots__ = ("chomp", "content", "expand", "fd", "name")

    def __init__(self, name: str, fd: int, expand: bool, chomp: bool, content: str) -> None:
        self.name = name
        self.fd = fd
        self.expand = expand
        self.chomp = chomp
        self.content = content  # the body lines exactly as written, line endings included


class Token:
    """A word of the file: BuildKit's text of it, and the span [start, end) it covers in the text.

    Most words are their own text (no continuation inside, no escape dropped at the
    end), so `end` is kept only when it is not `start + len(text)`: a LABEL or ENV of
    200,000 pairs holds 400,000 tokens.
    """

    __slots__ = ("_end", "start", "text")

    def __init__(self, text: str, start: int, end: int) -> None:
        self.text = text
        self.start = start
        self._end = None if end == start + len(text) else end

    @classmethod
    def _of(cls, text: str, start: int, end: int | None) -> Token:
        """A token from its fields as stored (`end` None: start + len(text))."""
        token = cls.__new__(cls)
        token.text, token.start, token._end = text, start, end
        return token

    @property
    def end(self) -> int:
        return self.start + len(self.text) if self._end is None else self._end

    def _values(self) -> tuple[str, int, int]:
        return (self.text, self.start, self.end)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, Token)
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash((Token, self._values()))

    def __repr__(self) -> str:
        return f"Token(text={self.text!r}, start={self.start!r}, end={self.end!r})"

    def replace(self, **changes: Any) -> Token:
        """A copy with some of text, start, end changed (as Record.replace)."""
        unknown = changes.keys() - {"text", "start", "end"}
        if unknown:
            raise TypeError(f"Token has no field {min(unknown)!r}")
        text, start, end = self._values()
        return Token(
            changes.get("text", text), changes.get("start", start), changes.get("end", end)
        )


class LabelToken(Record):
    """One key/value of a LABEL (or ENV) instruction.

    Its two tokens are kept as their fields and made when asked for: a LABEL of
    200,000 pairs held 600,000 objects for them, three to a pair.
    """

    __slots__ = ("_key_end", "_key_start", "_value_end", "_value_start", "key_text", "legacy", "value_text")  # fmt: skip

    def __init__(self, key: Token, value: Token, legacy: bool) -> None:
        # The words' texts, for readers that need no more (the model): no token made.
        self.key_text, self._key_start, self._key_end = key.text, key.start, key._end
        self.value_text, self._value_start, self._value_end = value.text, value.start, value._end
        self.legacy = legacy  # `LABEL key value` without `=`

    @property
    def key(self) -> Token:
        return Token._of(self.key_text, self._key_start, self._key_end)

    @property
    def value(self) -> Token:
        return Token._of(self.value_text, self._value_start, self._value_end)


# Equality, hashing, repr and replace see the two tokens, as when they were fields.
LabelToken._fields = ("key", "value", "legacy")


# Keyword as written -> its lower-case name, one string object per spelling.
_NAMES: dict[str, str] = {}


class Instruction:
    """One instruction: what BuildKit's parser makes of it, and where its bytes are.

    A file of 200,000 instructions holds 200,000 of these, so they are kept small: the
    logical line of an instruction on one physical line (nearly all of them) is not
    kept (`logical` slices it from the file's text when asked), and the fields most
    instructions leave empty (ONBUILD's instruction, LABEL/ENV pairs, ARG words,
    heredocs, comments above, a kept logical line) have slots only in `_Full`, the
    class an instruction gets when one of them is set; here they read as class-level
    empty defaults.
    """

    __slots__ = (
        "_text",
        "args",
        "content_start",
        "end",
        "end_line",
        "flags",
        "json",
        "keyword",
        "name",
        "start",
        "start_line",
    )  # fmt: skip

    # Empty unless the instance is a `_Full` (whose slots hold them).
    sub: Instruction | None = None  # ONBUILD's instruction
    pairs: tuple[LabelToken, ...] = ()  # LABEL / ENV
    words: tuple[Token, ...] = ()  # ARG
    heredocs: tuple[Heredoc, ...] = ()
    comments: tuple[str, ...] = ()  # the comment lines directly above, text after '#'
    _logical: str | None = None

    def __new__(  # noqa: PYI034 (returns a `_Full` when a rare field is set, not always `cls`)
        cls,
        keyword: str,
        flags: tuple[str, ...],
        args: tuple[str, ...],
        json: bool,
        heredocs: tuple[Heredoc, ...],
        start_line: int,
        end_line: int,
        start: int,
        end: int,
        content_start: int,
        logical: str | None,
        sub: Instruction | None = None,
        pairs: tuple[LabelToken, ...] = (),
        words: tuple[Token, ...] = (),
        comments: tuple[str, ...] = (),
        text: str = "",
    ) -> Instruction:
        full = heredocs or logical is not None or sub is not None or pairs or words or comments
        return object.__new__(_Full if full else cls)

    def __init__(
        self,
        keyword: str,  # as written, e.g. "FROM" or "label"
        flags: tuple[str, ...],
        args: tuple[str, ...],
        json: bool,
        heredocs: tuple[Heredoc, ...],
        start_line: int,  # 1-based, inclusive, heredoc bodies included
        end_line: int,
        start: int,  # span of the instruction's whole lines in the text, last line ending included
        end: int,
        content_start: int,  # where the keyword starts (after indentation)
        # The logical line as BuildKit joins it; None: text[content_start:] to the line's end.
        logical: str | None,
        sub: Instruction | None = None,
        pairs: tuple[LabelToken, ...] = (),
        words: tuple[Token, ...] = (),
        comments: tuple[str, ...] = (),
        text: str = "",  # the file's text (read only when `logical` is None)
    ) -> None:
        self.keyword = keyword
        name = _NAMES.get(keyword)
        if name is None:
            name = sys.intern(keyword.lower())
            if len(_NAMES) < 1000:  # bounded: a hostile file may spell keywords many ways
                _NAMES[keyword] = name
        self.name = name
        self.flags = flags
        self.args = args
        self.json = json
        self.start_line = start_line
        self.end_line = end_line
        self.start = start
        self.end = end
        self.content_start = content_start
        self._text = text if logical is None else ""
        if self.__class__ is _Full:
            self.heredocs = heredocs
            self.sub = sub
            self.pairs = pairs
            self.words = words
            self.comments = comments
            self._logical = logical

    @property
    def logical(self) -> str:
        """The logical line as BuildKit joins it (continuations joined, comments left out)."""
        if self._logical is not None:
            return self._logical
        line_end = self._text.find("\n", self.content_start, self.end)
        return self._text[self.content_start : self.end if line_end < 0 else line_end].rstrip("\r")

    def _key(self) -> tuple[object, ...]:
        return (
            self.keyword, self.flags, self.args, self.json, self.heredocs, self.start_line,
            self.end_line, self.start, self.end, self.content_start, self.logical, self.sub,
            self.pairs, self.words, self.comments,
        )  # fmt: skip

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Instruction):
            return NotImplemented
        return self._key() == other._key()

    __hash__ = None  # type: ignore[assignment]  # mutable, as the dataclass it replaced

    def __repr__(self) -> str:
        return (
            f"Instruction(keyword={self.keyword!r}, flags={self.flags!r}, args={self.args!r}, "
            f"json={self.json!r}, start_line={self.start_line}, end_line={self.end_line}, "
            f"start={self.start}, end={self.end})"
        )


class _Full(Instruction):
    """An instruction with at least one of the fields most leave empty."""

    __slots__ = ("_logical", "comments", "heredocs", "pairs", "sub", "words")


class Instructions(Sequence[Instruction]):
    """A file's instructions in order, each read again from its line when a compact file is asked for it.

    A file of ordinary size keeps every instruction as an object. A large one (over
    `_KEEP_LINES_UP_TO` characters, or parsed with `compact=True`) keeps an instruction
    that sits on one physical line without a heredoc (nearly all of them) as its line
    number and its name only, and reads that line again when the instruction is asked
    for: 200,000 one-line instructions held as objects took 28 to 50 times the file's
    size. Code that walks every instruction should look at `names()` first and ask only
    for the instructions it needs; each one asked for is a new object.
    """

    __slots__ = (
        "_comments", "_end_lines", "_escape", "_line_starts", "_names", "_objects",
        "_start_lines", "_text",
    )  # fmt: skip

    def __init__(self, text: str = "", line_starts: Sequence[int] = (), escape: str = "\\") -> None:
        self._text = text
        self._line_starts = line_starts
        self._escape = escape
        self._objects: list[Instruction | None] = []  # None: read again from its line
        self._names: list[str] = []
        self._start_lines = array("i")  # (a 10 MiB file has far fewer than 2**31 lines)
        self._end_lines = array("i")
        self._comments: dict[int, tuple[str, ...]] = {}  # of compact instructions that have some

    @classmethod
    def of(cls, instructions: Sequence[Instruction]) -> Instructions:
        """Every instruction kept as the object given."""
        result = cls()
        for instruction in instructions:
            result.append(instruction)
        return result

    def append(self, instruction: Instruction) -> None:
        """Add the next instruction, kept as an object (the reader keeps compact ones itself)."""
        self._objects.append(instruction)
        self._names.append(instruction.name)
        self._start_lines.append(instruction.start_line)
        self._end_lines.append(instruction.end_line)

    def names(self) -> Sequence[str]:
        """Each instruction's lower-case name, without making any instruction."""
        return self._names

    def start_line(self, index: int) -> int:
        return self._start_lines[index]

    def start_lines(self) -> Sequence[int]:
        """Each instruction's first line (1-based), without making any instruction."""
        return self._start_lines

    def end_lines(self) -> Sequence[int]:
        return self._end_lines

    def has_heredoc(self, index: int) -> bool:
        """Whether the instruction (or ONBUILD's) has a heredoc: never a compact one."""
        instruction = self._objects[index]
        if instruction is None:
            return False
        return bool(instruction.heredocs or (instruction.sub and instruction.sub.heredocs))

    def span(self, index: int) -> tuple[int, int]:
        """[start, end) of the instruction's whole lines in the text, without making it."""
        instruction = self._objects[index]
        if instruction is not None:
            return instruction.start, instruction.end
        starts = self._line_starts
        last = self._end_lines[index]
        end = starts[last] if last < len(starts) else len(self._text)
        return starts[self._start_lines[index] - 1], end

    def __len__(self) -> int:
        return len(self._objects)

    @overload
    def __getitem__(self, index: int) -> Instruction: ...

    @overload
    def __getitem__(self, index: slice) -> list[Instruction]: ...

    def __getitem__(self, index: int | slice) -> Instruction | list[Instruction]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self._objects)))]
        instruction = self._objects[index]
        if instruction is not None:
            return instruction
        if index < 0:
            index += len(self._objects)
        return self._read_again(index)

    def __iter__(self) -> Iterator[Instruction]:
        for index, instruction in enumerate(self._objects):
            yield instruction if instruction is not None else self._read_again(index)

    def _read_again(self, index: int) -> Instruction:
        """The instruction of one physical line, as the reader made it."""
        start_line = self._start_lines[index]
        start, end = self.span(index)
        content = self._text[start:end].rstrip("\r\n")
        indent = leading_space_len(content)
        body = content[indent:]
        parsed = split_command(body, self._escape)
        logical = None
        if parsed.pairs or parsed.words or parsed.sub is not None:
            logical = _LogicalLine(start + indent, body)
        comments = self._comments.get(index, ())
        return _instruction(
            parsed, logical, (), start_line, start_line, start, end, start + indent, None,
            comments, self._text,
        )  # fmt: skip

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Instructions):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other))
        if isinstance(other, list):
            return list(self) == other
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Instructions({len(self)})"


class Lines(Sequence[str]):
    """The physical lines of a text, each with its own line ending, sliced on demand.

    The reader keeps where every line starts, not a copy of every line: for a large
    file the copies were as big again as the text, and few lines are ever looked at.
    """

    __slots__ = ("_starts", "_text")

    def __init__(self, text: str, starts: Sequence[int]) -> None:
        self._text = text
        self._starts = starts

    def __len__(self) -> int:
        return len(self._starts)

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self._starts)))]
        starts = self._starts
        if index < 0:
            index += len(starts)
        start = starts[index] if index >= 0 else starts[len(starts)]  # IndexError when out of range
        stop = starts[index + 1] if index + 1 < len(starts) else len(self._text)
        return self._text[start:stop]

    def __iter__(self) -> Iterator[str]:
        return iter(split_lines(self._text))


class _Unread(Instructions):
    """A file's instructions kept as their names and spans only (`Dockerfile.slim`): the
    first one asked for reads the whole text again."""

    __slots__ = ("_again",)

    def __init__(self, instructions: Instructions, text: str, line_starts: Sequence[int]) -> None:
        # The file's text and line starts: every span is then found from them.
        super().__init__(text, line_starts, instructions._escape)
        self._objects = [None] * len(instructions)
        self._names = instructions._names
        self._start_lines = instructions._start_lines
        self._end_lines = instructions._end_lines
        self._comments = instructions._comments
        self._again: Instructions | None = None

    def _read_again(self, index: int) -> Instruction:
        if self._again is None:
            # (No BOM: the text has been read once, so no line of it is too long.)
            self._again = parse_text(False, self._text, compact=False).instructions
        return self._again[index]


class _LineAt:
    """`lines[i]` for the reader of a large file: the physical line, sliced from the text
    (the reader's hottest call; `Lines` does the same for any index or slice)."""

    __slots__ = ("_starts", "_stops", "_text")

    def __init__(self, text: str, starts: array[int]) -> None:
        self._text = text
        self._starts = starts
        self._stops = starts[1:]
        self._stops.append(len(text))

    def __getitem__(self, index: int) -> str:
        return self._text[self._starts[index] : self._stops[index]]

    def __len__(self) -> int:
        return len(self._starts)


# Files up to this many characters keep their list of lines (indexing a list is faster
# than slicing the text); larger ones get the view.
_KEEP_LINES_UP_TO = 1 << 20


class Dockerfile:
    """A parsed file: its text, where its lines start, directives and instructions."""

    __slots__ = (
        "_newline",
        "directives",
        "escape",
        "has_bom",
        "instructions",
        "line_starts",
        "lines",
        "spans",
        "text",
    )  # fmt: skip

    def __init__(
        self,
        has_bom: bool,
        text: str,
        line_starts: Sequence[int],  # a list, or an array for a large file
        escape: str,
        directives: dict[str, str],
        instructions: Instructions | list[Instruction],
        # Line ranges [start_line, end_line] owned by instructions; every other line is trivia.
        spans: list[tuple[int, int]] | None = None,
        lines: list[str] | None = None,  # the lines of `text`, when the reader has them
    ) -> None:
        self.has_bom = has_bom
        self.text = text
        self.line_starts = line_starts
        self.escape = escape
        self.directives = directives
        if not isinstance(instructions, Instructions):
            instructions = Instructions.of(instructions)
        self.instructions = instructions
        self.spans = [] if spans is None else spans
        # The physical lines, each with its line ending: the reader's list for a file of
        # ordinary size, a view that slices the text on demand for a large one (a copy of
        # every line of a 10 MB file is 10 MB more, and few of them are ever looked at).
        self.lines: Sequence[str] = (
            Lines(text, line_starts) if lines is None or len(text) > _KEEP_LINES_UP_TO else lines
        )
        self._newline: str | None = None

    def slim(self) -> Dockerfile:
        """The same file, its instructions kept as names and spans only until one is asked
        for (then the text is read again): what a fix keeps of the file it started from
        while it reads the fixed text."""
        return Dockerfile(
            self.has_bom, self.text, self.line_starts, self.escape, self.directives,
            _Unread(self.instructions, self.text, self.line_starts), self.spans,
        )  # fmt: skip

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, Dockerfile)
        return (self.has_bom, self.text, self.escape, self.directives, self.instructions) == (
            other.has_bom, other.text, other.escape, other.directives, other.instructions,
        )  # fmt: skip

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Dockerfile({len(self.line_starts)} lines, {len(self.instructions)} instructions)"

    def to_bytes(self) -> bytes:
        """Rebuild the file from its lines: trivia and instruction spans, in order."""
        pieces: list[str] = []
        cursor = 0
        for index in range(len(self.instructions)):
            start, end = self.instructions.span(index)
            pieces.append(self.text[cursor:start])
            pieces.append(self.text[start:end])
            cursor = end
        pieces.append(self.text[cursor:])
        return encode(self.has_bom, "".join(pieces))

    @property
    def newline(self) -> str:
        """The file's own line ending: the most common one, LF when there is none."""
        if self._newline is None:
            crlf = self.text.count("\r\n")
            lf = self.text.count("\n") - crlf
            self._newline = "\r\n" if crlf > lf else "\n"
        return self._newline

    def line_of(self, offset: int) -> int:
        """1-based line number of a text offset."""
        return bisect_right(self.line_starts, offset)

    def column_of(self, offset: int) -> int:
        """1-based column (in characters) of a text offset."""
        return offset - self.line_starts[self.line_of(offset) - 1] + 1


class _Directives:
    """BuildKit's DirectiveParser: only the leading comment block, each name once."""

    def __init__(self) -> None:
        self.done = False
        self.seen: dict[str, str] = {}
        self.escape = "\\"

    def feed(self, line: str) -> bool:
        if self.done:
            return False
        if not line.startswith("#"):
            self.done = True
            return False
        body = line[1:]
        match = _DIRECTIVE.match(body[leading_space_len(body) :])
        if match is None:
            self.done = True
            return False
        name = match.group(1).lower()
        if name not in _KNOWN_DIRECTIVES:
            self.done = True
            return False
        if name in self.seen:
            raise SyntaxProblem(f"only one {name} parser directive can be used")
        value = match.group(2)
        self.seen[name] = value
        if name == "escape":
            if value not in ("`", "\\"):
                raise SyntaxProblem(f"invalid escape token '{value}' does not match ` or \\")
            self.escape = value
        return True


class _LogicalLine:
    """The pieces of source text a logical line is made of, for mapping offsets back."""

    __slots__ = ("_length", "_parts", "_text", "logical_starts", "sources")

    def __init__(self, source: int, text: str) -> None:
        # Arrays, not lists of ints: a logical line may run over 200,000 lines.
        self.sources = array("q", (source,))
        self.logical_starts = array("q", (0,))
        # Pieces joined once: growing one string piece by piece is quadratic.
        self._parts: list[str] = [text]
        self._length = len(text)
        self._text: str | None = text

    def add(self, source: int, text: str) -> None:
        self.sources.append(source)
        self.logical_starts.append(self._length)
        self._parts.append(text)
        self._length += len(text)
        self._text = None

    @property
    def text(self) -> str:
        if self._text is None:
            self._text = "".join(self._parts)
            self._parts = [self._text]  # the pieces are not needed again
        return self._text

    def source_of(self, logical: int) -> int:
        if len(self.sources) == 1:
            return self.sources[0] + logical
        index = bisect_right(self.logical_starts, logical) - 1
        return self.sources[index] + logical - self.logical_starts[index]

    def token(self, word: Word) -> Token:
        start, last = word.start, word.end - 1
        if last < start:
            where = self.source_of(start) if start < len(self.text) else self._end_source()
            return Token(word.text, where, where)
        sources, starts = self.sources, self.logical_starts
        if len(sources) == 1:
            return Token(word.text, sources[0] + start, sources[0] + last + 1)
        # (source_of twice, inlined: a LABEL of 200,000 pairs maps 400,000 words)
        index = bisect_right(starts, start) - 1
        first = sources[index] + start - starts[index]
        if index + 1 < len(starts) and last >= starts[index + 1]:
            index = bisect_right(starts, last) - 1
        return Token(word.text, first, sources[index] + last - starts[index] + 1)

    def _end_source(self) -> int:
        last = len(self.sources) - 1
        return self.sources[last] + self._length - self.logical_starts[last]


def _heredocs_in(line: str) -> list[Heredoc]:
    """heredocsFromLine: which `<<WORD`s of the line start heredocs."""
    words = ShellLex(raw_quotes=True, raw_escapes=True, skip_unset_env=True)
    try:
        candidates = words.process_words(line, {})
    except LexError:
        return []  # BuildKit ignores this error and finds no heredoc
    docs = []
    for candidate in candidates:
        match = _heredoc_word().match(candidate)
        if match is None or not match.group(3):
            continue
        rest = match.group(3)
        plain = ShellLex(skip_unset_env=True)
        try:
            names = plain.process_words(rest, {})
            if len(names) != 1:
                continue
            raw = ShellLex(raw_quotes=True, skip_unset_env=True).process_words(rest, {})
        except LexError as error:
            raise SyntaxProblem(str(error)) from None
        quotes = names[0].count("'") + names[0].count('"')
        raw_quotes = raw[0].count("'") + raw[0].count('"')
        docs.append(
            Heredoc(
                name=names[0],
                fd=int(match.group(1) or 0),
                expand=quotes == raw_quotes,
                chomp=match.group(2) == "-",
                content="",
            )
        )
    return docs


def _can_contain_heredoc(parsed: Parsed) -> bool:
    inner = parsed.sub if parsed.keyword.lower() == "onbuild" and parsed.sub else parsed
    return inner.keyword.lower() in _HEREDOC_INSTRUCTIONS and not inner.json


def _instruction(
    parsed: Parsed,
    line: _LogicalLine | None,  # None only when the instruction has no words to map
    heredocs: tuple[Heredoc, ...],
    start_line: int,
    end_line: int,
    start: int,
    end: int,
    content_start: int,
    logical: str | None,
    comments: tuple[str, ...],
    text: str,
) -> Instruction:
    sub = None
    if parsed.sub is not None:
        sub = _instruction(
            parsed.sub, line, heredocs, start_line, end_line, start, end, content_start,
            logical, comments, text,
        )  # fmt: skip
    return Instruction(
        parsed.keyword,
        parsed.flags,
        parsed.args,
        parsed.json,
        heredocs,
        start_line,
        end_line,
        start,
        end,
        content_start,
        logical,
        sub,
        _label_tokens(parsed.pairs, line) if line and parsed.pairs else (),
        tuple([line.token(word) for word in parsed.words]) if line and parsed.words else (),
        comments,
        text,
    )


def _label_tokens(
    pairs: list[NameValue] | tuple[()], logical: _LogicalLine
) -> tuple[LabelToken, ...]:
    """The pairs' tokens in the file. The parser's pairs are dropped as they are mapped,
    so that a LABEL of many pairs never holds both whole."""
    if not isinstance(pairs, list):
        return ()
    pairs.reverse()
    tokens = []
    while pairs:
        pair = pairs.pop()
        key, value = logical.token(pair.key), logical.token(pair.value)
        tokens.append(LabelToken(key, value, pair.legacy))
    return tuple(tokens)


def _first_long_line(lines: Sequence[str], has_bom: bool) -> int | None:
    """Index of the first line BuildKit's line scanner cannot hold, if any.

    BuildKit reads lines with Go's bufio.Scanner and its default 64 KiB buffer:
    a line of more than 65,535 bytes, its '\r' and the BOM counted but not its
    '\n', stops the scanner.
    """
    for index, line in enumerate(lines):
        # A character is at most 4 bytes: most lines need no encoding to know.
        if len(line) * 4 <= MAX_LINE_BYTES:
            continue
        size = byte_length(line) - line.endswith("\n") + (3 if has_bom and index == 0 else 0)
        if size > MAX_LINE_BYTES:
            return index
    return None


def _not_utf8(start_line: int, end_line: int, logical: _LogicalLine, text: str) -> ParseError:
    """A byte that is not UTF-8 inside an instruction (comments and heredoc bodies may have them)."""
    match = NOT_UTF8.search(logical.text)
    assert match is not None
    offset = logical.source_of(match.start())
    return ParseError(
        f"byte {byte_length(text[:offset])} is not UTF-8: BuildKit would build the file with "
        "U+FFFD in its place, so dlink cannot tell what the image gets; "
        "dlink reads such bytes only in comments and heredoc bodies",
        start_line,
        end_line,
    )


_CHUNK = 1 << 20


def _line_starts(text: str) -> array[int]:
    """Where each physical line starts, without a copy of every line: the text is split a
    megabyte at a time, and the offsets summed in C."""
    starts = array("q")
    for base in range(0, len(text), _CHUNK):
        pieces = text[base : base + _CHUNK].split("\n")
        pieces.pop()  # what follows the chunk's last newline: continued in the next chunk
        # Each newline starts a line one past it: base + len(piece) + 1, and so on.
        after = accumulate(map((1).__add__, map(len, pieces)), initial=base)
        starts.extend(islice(after, 1, None))
    if text:
        starts.insert(0, 0)
        if starts[-1] == len(text):
            starts.pop()  # after the final newline: not a line
    return starts


def _first_long_line_at(text: str, starts: array[int], has_bom: bool) -> int | None:
    """`_first_long_line` from where the lines start, without the lines."""
    stops = starts[1:]
    stops.append(len(text))
    if max(map(operator.sub, stops, starts), default=0) * 4 <= MAX_LINE_BYTES:
        return None  # no line is long enough to be too long in bytes (found in C)
    for index, (start, stop) in enumerate(zip(starts, stops)):
        if (stop - start) * 4 > MAX_LINE_BYTES:
            found = _first_long_line([text[start:stop]], has_bom and index == 0)
            if found is not None:
                return index
    return None


class Observer(Protocol):
    """Sees each instruction as the reader makes it (the instruction checker, the model)."""

    def feed(self, instruction: Instruction, escape: str) -> None: ...


def parse_text(
    has_bom: bool,
    text: str,
    observers: Sequence[Observer] = (),
    *,
    compact: bool | None = None,
) -> Dockerfile:
    """Parse decoded text. Raises ParseError where BuildKit's line parser would fail.

    `observers` see every instruction, in order, as it is read: BuildKit's instruction
    checks and the model are made in the same pass, so that a large file's instructions
    are read once. An observer keeps its first error for the caller to raise after the
    whole file has been read, as BuildKit reads every line first.
    `compact` (default: for a file over `_KEEP_LINES_UP_TO` characters) keeps one-line
    instructions as their line numbers only (see `Instructions`).
    """
    if compact is None:
        compact = len(text) > _KEEP_LINES_UP_TO
    lines: Sequence[str] | _LineAt
    starts: Sequence[int]
    if compact:
        starts = _line_starts(text)
        lines = _LineAt(text, starts)
        long_line = _first_long_line_at(text, starts, has_bom)
    else:
        kept_lines = split_lines(text)
        starts = list(accumulate(map(len, kept_lines), initial=0))
        starts.pop()  # where the text ends: not a line
        lines = kept_lines
        long_line = _first_long_line(kept_lines, has_bom)
    directives = _Directives()
    instructions = Instructions(text, starts)
    add_object, add_name = instructions._objects.append, instructions._names.append
    add_start, add_end = instructions._start_lines.append, instructions._end_lines.append
    comments: list[str] = []
    has_foreign_bytes = NOT_UTF8.search(text) is not None
    # The scanner stops at a long line: BuildKit reads what came before, then fails.
    n = len(lines) if long_line is None else long_line
    no_comments: tuple[str, ...] = ()
    i = 0
    while i < n:
        content = lines[i].rstrip("\r\n")
        if content and content[0] in GO_SPACE:
            indent = leading_space_len(content)
            stripped = content[indent:]
        else:
            indent = 0
            stripped = content
        is_comment = stripped[:1] == "#"
        if not directives.done:
            try:
                is_directive = directives.feed(stripped)
            except SyntaxProblem as problem:
                raise ParseError(str(problem), i + 1) from None
        else:
            is_directive = False
        i += 1
        if is_comment:
            if not is_directive:
                note = stripped[1:].strip()
                if note:
                    comments.append(note)  # appended in place: a copy per line is quadratic
                else:
                    comments = []
            continue
        if not stripped:
            comments = []
            continue
        start_line = i
        escape = directives.escape
        body = stripped
        last = body[-1]
        joined = _without_continuation(body, escape) if last == escape or last in " \t" else None
        logical: _LogicalLine | None = None  # made for one line only when words need mapping
        if joined is None:
            line_text = body
            kept: str | None = None  # the instruction slices its one line from the text
        else:
            logical = _LogicalLine(starts[i - 1] + indent, joined)
            i = _continue_logical(lines, starts, i, n, logical, directives, escape)
            line_text = kept = logical.text
        if has_foreign_bytes and NOT_UTF8.search(line_text):
            where = logical or _LogicalLine(starts[i - 1] + indent, body)
            raise _not_utf8(start_line, i, where, text)
        try:
            parsed = split_command(line_text, escape)
        except SyntaxProblem as problem:
            raise ParseError(str(problem), start_line, i) from None
        heredocs: tuple[Heredoc, ...] = ()
        if "<<" in line_text and _can_contain_heredoc(parsed):
            heredocs, i = _read_heredocs(lines, i, n, line_text, start_line)
        # The next line's start when there is one: the same int object, not one more per instruction.
        end = starts[i] if i < len(starts) else starts[i - 1] + len(lines[i - 1])
        line_start = starts[start_line - 1]
        if logical is None and (parsed.pairs or parsed.words or parsed.sub is not None):
            logical = _LogicalLine(line_start + indent, body)
        instruction = _instruction(
            parsed,
            logical,
            heredocs,
            start_line,
            i,
            line_start,
            end,
            line_start + indent if indent else line_start,
            kept,
            tuple(comments) if comments else no_comments,
            text,
        )
        for observer in observers:
            observer.feed(instruction, escape)
        # (Instructions.append, inlined: once per instruction of a file of any size.)
        if compact and kept is None and not heredocs:
            if instruction.comments:
                instructions._comments[len(instructions)] = instruction.comments
            add_object(None)
        else:
            add_object(instruction)
        add_name(instruction.name)
        add_start(start_line)
        add_end(i)
        if comments:
            comments = []
    if long_line is not None:
        # (BuildKit says "file with no instructions" when no instruction came before it.)
        raise ParseError(
            f"dockerfile line greater than max allowed size of {MAX_LINE_BYTES}", long_line + 1
        )
    if not instructions:
        raise ParseError("file with no instructions", max(n, 1))
    instructions._escape = directives.escape
    return Dockerfile(
        has_bom=has_bom,
        text=text,
        line_starts=starts,
        escape=directives.escape,
        directives=dict(directives.seen),
        instructions=instructions,
        lines=lines if isinstance(lines, list) else None,
    )


def _continue_logical(
    lines: Sequence[str] | _LineAt,
    starts: Sequence[int],
    i: int,
    n: int,
    logical: _LogicalLine,
    directives: _Directives,
    escape: str,
) -> int:
    """Add the continuation lines of a logical line; returns the index of the line after it."""
    # (The body of the reader's hottest loop on real files, whose RUN lines continue for
    # dozens of lines: the common case inlined, with no call or regular expression.)
    while i < n:
        content = lines[i].rstrip("\r\n")
        if not directives.done:
            try:
                directives.feed(content)
            except SyntaxProblem as problem:
                raise ParseError(str(problem), i + 1) from None
        i += 1
        text = content.lstrip(" \t")
        if not text or text[0] in GO_SPACE:
            lead = leading_space_len(content)
            if lead == len(content):
                continue  # an empty continuation line (BuildKit warns, and goes on)
            text = content[lead:]
        if text[0] == "#":
            continue
        last = content[-1]
        if last == escape:
            end = content
        elif last == " " or last == "\t":
            end = content.rstrip(" \t")
        else:
            logical.add(starts[i - 1], content)
            break
        if end[-1:] == escape and (len(end) < 2 or end[-2] != escape):
            logical.add(starts[i - 1], end[:-1])
        else:
            logical.add(starts[i - 1], content)
            break
    return i


def _read_heredocs(
    lines: Sequence[str] | _LineAt, i: int, n: int, line_text: str, start_line: int
) -> tuple[tuple[Heredoc, ...], int]:
    """The bodies of the heredocs a logical line starts; returns them and the next line's index."""
    try:
        wanted = _heredocs_in(line_text)
    except SyntaxProblem as problem:
        raise ParseError(str(problem), start_line, i) from None
    heredocs: list[Heredoc] = []
    for doc in wanted:
        body_lines: list[str] = []
        terminated = False
        while i < n:
            raw = lines[i]
            i += 1
            candidate = trim_newline(raw)
            if doc.chomp:
                candidate = candidate.lstrip("\t")
            if candidate == doc.name:
                terminated = True
                break
            body_lines.append(raw)
        if not terminated:
            raise ParseError(f"unterminated heredoc {doc.name}", start_line, i)
        heredocs.append(Heredoc(doc.name, doc.fd, doc.expand, doc.chomp, "".join(body_lines)))
    return tuple(heredocs), i


def parse_lines(data: bytes, *, compact: bool | None = None) -> Dockerfile:
    """BuildKit's line parser only (what the `dockerfile` oracle binding exposes)."""
    return _parse(data, (), compact)


def _parse(data: bytes, observers: Sequence[Observer], compact: bool | None) -> Dockerfile:
    try:
        has_bom, text = decode(data)
    except DecodeError as error:
        raise ParseError(error.reason, error.line) from None
    return parse_text(has_bom, text, observers, compact=compact)


def parse(
    data: bytes, *, compact: bool | None = None, observers: Sequence[Observer] = ()
) -> Dockerfile:
    """Parse raw Dockerfile bytes the way BuildKit reads a file before it builds.

    Raises ParseError where BuildKit's line parser or its instruction parser
    refuses the file (decoding problems included). Both readings are made in one
    pass over the file; the line parser's errors come first, as in BuildKit.
    `observers` also see every instruction as it is read (see `parse_text`).
    """
    checker = InstructionChecker()
    dockerfile = _parse(data, (checker, *observers), compact)
    if checker.refusal is not None:
        raise checker.refusal
    return dockerfile
