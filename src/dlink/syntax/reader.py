"""The lossless reader: bytes in, instructions with exact spans out.

It follows BuildKit's parser loop line for line (parser directives, comments,
continuations, empty continuation lines, heredoc bodies), and also remembers
where every piece of each logical line came from, so that a fix can change a
single token and leave every other byte alone.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from functools import cached_property

from dlink.syntax.errors import ParseError
from dlink.syntax.instructions import check_instructions
from dlink.syntax.lexer import LexError, ShellLex
from dlink.syntax.text import (
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
_HEREDOC_WORD = re.compile(r"(\d*)<<(-?)[\t\n\f\r ]*([^<]*)\Z")
_HEREDOC_INSTRUCTIONS = frozenset({"run", "copy", "add"})
_CONTINUATION = {
    esc: re.compile(
        "([^"
        + re.escape(esc)
        + "])"
        + re.escape(esc)
        + r"[ \t]*\Z|\A"
        + re.escape(esc)
        + r"[ \t]*\Z"
    )
    for esc in ("\\", "`")
}


@dataclass(frozen=True, slots=True)
class Heredoc:
    name: str
    fd: int
    expand: bool
    chomp: bool
    content: str  # the body lines exactly as written, line endings included


@dataclass(frozen=True, slots=True)
class Token:
    """A word of the file: BuildKit's text of it, and the span [start, end) it covers in the text."""

    text: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class LabelToken:
    """One key/value of a LABEL (or ENV) instruction."""

    key: Token
    value: Token
    legacy: bool  # `LABEL key value` without `=`


@dataclass(slots=True)
class Instruction:
    keyword: str  # as written, e.g. "FROM" or "label"
    flags: tuple[str, ...]
    args: tuple[str, ...]
    json: bool
    heredocs: tuple[Heredoc, ...]
    start_line: int  # 1-based, inclusive, heredoc bodies included
    end_line: int
    start: int  # span of the instruction's whole lines in the text, last line ending included
    end: int
    content_start: int  # where the keyword starts (after indentation)
    logical: str  # the logical line as BuildKit joins it
    sub: Instruction | None = None  # ONBUILD's instruction
    pairs: tuple[LabelToken, ...] = ()  # LABEL / ENV
    words: tuple[Token, ...] = ()  # ARG
    comments: tuple[str, ...] = ()  # the comment lines directly above, text after '#'

    @property
    def name(self) -> str:
        return self.keyword.lower()


@dataclass
class Dockerfile:
    has_bom: bool
    text: str
    lines: list[str]
    line_starts: list[int]
    escape: str
    directives: dict[str, str]
    instructions: list[Instruction]
    # Line ranges [start_line, end_line] owned by instructions; every other line is trivia.
    spans: list[tuple[int, int]] = field(default_factory=list)

    def to_bytes(self) -> bytes:
        """Rebuild the file from its lines: trivia and instruction spans, in order."""
        pieces: list[str] = []
        cursor = 0
        for instruction in self.instructions:
            pieces.append(self.text[cursor : instruction.start])
            pieces.append(self.text[instruction.start : instruction.end])
            cursor = instruction.end
        pieces.append(self.text[cursor:])
        return encode(self.has_bom, "".join(pieces))

    @cached_property
    def newline(self) -> str:
        """The file's own line ending: the most common one, LF when there is none."""
        crlf = sum(1 for line in self.lines if line.endswith("\r\n"))
        lf = sum(1 for line in self.lines if line.endswith("\n")) - crlf
        return "\r\n" if crlf > lf else "\n"

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

    def __init__(self) -> None:
        self.sources: list[int] = []
        self.logical_starts: list[int] = []
        # Pieces joined once: growing one string piece by piece is quadratic.
        self._parts: list[str] = []
        self._length = 0
        self._text: str | None = None

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
        return self._text

    def source_of(self, logical: int) -> int:
        index = bisect_right(self.logical_starts, logical) - 1
        return self.sources[index] + logical - self.logical_starts[index]

    def token(self, word: Word) -> Token:
        if word.end <= word.start:
            start = (
                self.source_of(word.start) if word.start < len(self.text) else self._end_source()
            )
            return Token(word.text, start, start)
        return Token(word.text, self.source_of(word.start), self.source_of(word.end - 1) + 1)

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
        match = _HEREDOC_WORD.match(candidate)
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


def _instruction(parsed: Parsed, line: _LogicalLine, **where: object) -> Instruction:
    sub = None
    if parsed.sub is not None:
        sub = _instruction(parsed.sub, line, **where)
    return Instruction(
        keyword=parsed.keyword,
        flags=parsed.flags,
        args=parsed.args,
        json=parsed.json,
        sub=sub,
        pairs=tuple(_label_token(pair, line) for pair in parsed.pairs),
        words=tuple(line.token(word) for word in parsed.words),
        **where,  # type: ignore[arg-type]
    )


def _label_token(pair: NameValue, logical: _LogicalLine) -> LabelToken:
    return LabelToken(logical.token(pair.key), logical.token(pair.value), pair.legacy)


def _first_long_line(lines: list[str], has_bom: bool) -> int | None:
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


def parse_text(has_bom: bool, text: str) -> Dockerfile:
    """Parse decoded text. Raises ParseError where BuildKit's parser would fail."""
    lines = split_lines(text)
    starts = [0] * len(lines)
    offset = 0
    for index, line in enumerate(lines):
        starts[index] = offset
        offset += len(line)
    directives = _Directives()
    instructions: list[Instruction] = []
    comments: list[str] = []
    has_foreign_bytes = NOT_UTF8.search(text) is not None
    long_line = _first_long_line(lines, has_bom)
    # The scanner stops at a long line: BuildKit reads what came before, then fails.
    n = len(lines) if long_line is None else long_line
    i = 0
    while i < n:
        raw = lines[i]
        content = trim_newline(raw)
        indent = leading_space_len(content)
        stripped = content[indent:]
        is_comment = stripped.startswith("#")
        try:
            is_directive = directives.feed(stripped) if not directives.done else False
        except SyntaxProblem as problem:
            raise ParseError(str(problem), i + 1) from None
        if is_comment and not is_directive:
            note = stripped[1:].strip()
            if note:
                comments.append(note)  # appended in place: a copy per line is quadratic
            else:
                comments = []
        i += 1
        start_line = i
        escape = directives.escape
        continuation = _CONTINUATION[escape]
        body = "" if is_comment else stripped
        match = continuation.search(body)
        if match is None:
            if not body:
                if not is_comment:
                    comments = []
                continue
            ends = True
        else:
            body = body[: match.start()] + (match.group(1) or "")
            ends = False
        logical = _LogicalLine()
        logical.add(starts[i - 1] + indent, body)
        while not ends and i < n:
            raw = lines[i]
            content = trim_newline(raw)
            try:
                if not directives.done:
                    directives.feed(content)
            except SyntaxProblem as problem:
                raise ParseError(str(problem), i + 1) from None
            i += 1
            lead = leading_space_len(content)
            if content[lead:].startswith("#"):
                continue
            if lead == len(content):
                continue  # an empty continuation line (BuildKit warns, and goes on)
            match = continuation.search(content)
            if match is not None:
                content = content[: match.start()] + (match.group(1) or "")
            else:
                ends = True
            logical.add(starts[i - 1], content)
        if has_foreign_bytes and NOT_UTF8.search(logical.text):
            raise _not_utf8(start_line, i, logical, text)
        try:
            parsed = split_command(logical.text, escape)
        except SyntaxProblem as problem:
            raise ParseError(str(problem), start_line, i) from None
        heredocs: list[Heredoc] = []
        if "<<" in logical.text and _can_contain_heredoc(parsed):
            try:
                wanted = _heredocs_in(logical.text)
            except SyntaxProblem as problem:
                raise ParseError(str(problem), start_line, i) from None
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
                heredocs.append(
                    Heredoc(doc.name, doc.fd, doc.expand, doc.chomp, "".join(body_lines))
                )
        # The next line's start when there is one: the same int object, not one more per instruction.
        end = starts[i] if i < len(starts) else starts[i - 1] + len(lines[i - 1])
        instructions.append(
            _instruction(
                parsed,
                logical,
                heredocs=tuple(heredocs),
                start_line=start_line,
                end_line=i,
                start=starts[start_line - 1],
                end=end,
                content_start=starts[start_line - 1] + indent if indent else starts[start_line - 1],
                logical=logical.text,
                comments=tuple(comments),
            )
        )
        comments = []
    if long_line is not None:
        # (BuildKit says "file with no instructions" when no instruction came before it.)
        raise ParseError(
            f"dockerfile line greater than max allowed size of {MAX_LINE_BYTES}", long_line + 1
        )
    if not instructions:
        raise ParseError("file with no instructions", max(n, 1))
    return Dockerfile(
        has_bom=has_bom,
        text=text,
        lines=lines,
        line_starts=starts,
        escape=directives.escape,
        directives=dict(directives.seen),
        instructions=instructions,
    )


def parse_lines(data: bytes) -> Dockerfile:
    """BuildKit's line parser only (what the `dockerfile` oracle binding exposes)."""
    try:
        has_bom, text = decode(data)
    except DecodeError as error:
        raise ParseError(error.reason, error.line) from None
    return parse_text(has_bom, text)


def parse(data: bytes) -> Dockerfile:
    """Parse raw Dockerfile bytes the way BuildKit reads a file before it builds.

    Raises ParseError where BuildKit's line parser or its instruction parser
    refuses the file (decoding problems included).
    """
    dockerfile = parse_lines(data)
    check_instructions(dockerfile)
    return dockerfile
