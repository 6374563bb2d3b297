"""The compact representation of a parsed file gives what the full copies gave.

A large file keeps no copy of its physical lines (Dockerfile.lines slices the
text), an instruction on one line keeps no copy of its logical line, and a stage
makes its label list and unknown-ENV set only when it has some. Each must read
the same as what it replaced, for small files and large ones alike.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import accumulate

import pytest

from dlink.model import Model, ModelBuilder, build
from dlink.syntax import parse
from dlink.syntax.reader import _KEEP_LINES_UP_TO, Lines
from dlink.syntax.text import split_lines

TEXTS = [
    pytest.param("", id="empty"),
    pytest.param("FROM a\n", id="one-line"),
    pytest.param("FROM a", id="no-final-newline"),
    pytest.param("FROM a\r\nRUN b\r\n\r\n", id="crlf"),
    pytest.param("\n\n# c\r\n  x\n\r", id="blank-and-lone-cr"),
]


@pytest.mark.parametrize("text", TEXTS)
def test_lines_view_reads_like_the_list_of_lines(text: str) -> None:
    lines = split_lines(text)
    starts = list(accumulate(map(len, lines), initial=0))[:-1]
    view = Lines(text, starts)
    assert len(view) == len(lines)
    assert list(view) == lines
    assert [view[i] for i in range(len(lines))] == lines
    assert [view[-i] for i in range(1, len(lines) + 1)] == [
        lines[-i] for i in range(1, len(lines) + 1)
    ]
    assert view[1:3] == lines[1:3]
    for outside in (len(lines), -len(lines) - 1):
        with pytest.raises(IndexError):
            view[outside]


def test_a_large_file_gets_the_view_and_the_same_lines() -> None:
    unit = b"FROM alpine\r\nRUN true \\\n  && echo\n# note\n\n"
    dockerfile = parse(unit * (_KEEP_LINES_UP_TO // len(unit) + 1))
    assert isinstance(dockerfile.lines, Lines)
    assert list(dockerfile.lines) == split_lines(dockerfile.text)
    assert dockerfile.lines[-1] == "\n"
    assert dockerfile.newline == "\n"  # 3 LF endings for each CRLF
    small = parse(unit)
    assert isinstance(small.lines, list)
    assert (
        dockerfile.instructions[1].logical == small.instructions[1].logical == "RUN true   && echo"
    )


LOGICAL = [
    pytest.param(b"FROM a\n  RUN  b c  \n", 1, "RUN  b c  ", id="indented-trailing-blanks"),
    pytest.param(b"FROM a\nRUN b\r\r\n", 1, "RUN b", id="carriage-returns"),
    pytest.param(b"FROM a\nRUN b", 1, "RUN b", id="end-of-file"),
    pytest.param(b"FROM a\nRUN a \\\n # c\n  b\n", 1, "RUN a   b", id="continued"),
    pytest.param(b"FROM a\nRUN x \\", 1, "RUN x ", id="continued-at-end-of-file"),
    pytest.param(b"FROM a\nRUN <<EOF\nbody\nEOF\n", 1, "RUN <<EOF", id="heredoc-first-line"),
    pytest.param(b"FROM a\nONBUILD LABEL k=v\n", 1, "ONBUILD LABEL k=v", id="onbuild"),
]


@pytest.mark.parametrize(("data", "index", "logical"), LOGICAL)
def test_logical_line_is_what_buildkit_joins(data: bytes, index: int, logical: str) -> None:
    instruction = parse(data).instructions[index]
    assert instruction.logical == logical
    if instruction.sub is not None:
        assert instruction.sub.logical == logical


def test_stages_without_labels_or_unknown_env_share_nothing_mutable() -> None:
    data = b"FROM alpine AS a\nENV X=$UNSET\nFROM a AS b\nLABEL k=v\nENV X=1\nFROM a\n"
    model = build(parse(data))
    first, second, third = model.stages
    assert first.labels == [] and first.env_unknown == {"X"}
    assert [s.key for s in second.labels] == ["k"] and second.env_unknown == set()
    assert third.env_unknown == {"X"} and third.labels == []
    first.labels.append(second.labels[0])  # the list of a stage without labels is a fresh one
    assert model.stages[0].labels == [] and third.labels == []
    assert model.image_labels() == [] and [s.key for s in model.image_labels("b")] == ["k"]


def test_stages_without_env_share_one_empty_mapping_that_stays_empty() -> None:
    from dlink.model import _NO_ENV

    data = b"FROM alpine AS a\nFROM a AS b\nENV K=1\nRUN true\nFROM a AS c\nFROM b\n"
    model = build(parse(data))
    a, b, c, d = model.stages
    assert a.env is _NO_ENV and c.env is _NO_ENV
    assert b.env == {"K": "1"} and d.env == {"K": "1"} and b.env is not d.env
    assert _NO_ENV == {}


TOKENS = [
    pytest.param(b"FROM a\nLABEL k=v\n", id="plain"),
    pytest.param(b'FROM a\nLABEL "k"="a b"\n', id="quoted"),
    pytest.param(b"FROM a\nLABEL k=ab\\\ncd\n", id="across-a-continuation"),
    pytest.param(b"FROM a\nLABEL k=v\\", id="continuation-at-end-of-file"),
    pytest.param(b"FROM a\nLABEL k v w\n", id="legacy"),
]


@pytest.mark.parametrize("data", TOKENS)
def test_token_spans_are_the_words_in_the_file(data: bytes) -> None:
    pair = parse(data).instructions[1].pairs[0]
    for token in (pair.key, pair.value):
        assert token.end >= token.start
        assert token == token.replace() and hash(token) == hash(token.replace())
        assert token.replace(end=token.end + 1).end == token.end + 1
        assert repr(token).startswith(f"Token(text={token.text!r}")
    text = data.decode()
    key, value = pair.key, pair.value
    assert text[key.start : key.end] == key.text
    if b"\\\n" not in data:
        assert text[value.start : value.end] == value.text
    else:
        assert value.end - value.start != len(value.text)


def test_instructions_with_rare_fields_read_the_same_as_plain_ones() -> None:
    from dlink.syntax import Instruction

    data = b"# note\nFROM a\nRUN b\nLABEL k=v\nARG X\nONBUILD RUN c\nRUN <<EOF\nx\nEOF\nRUN d \\\n  e\n"
    instructions = parse(data).instructions
    assert all(isinstance(i, Instruction) for i in instructions)
    first, plain = instructions[0], instructions[1]
    assert first.comments == ("note",) and plain.comments == ()
    assert plain.pairs == () and plain.words == () and plain.heredocs == () and plain.sub is None
    assert [p.key.text for p in instructions[2].pairs] == ["k"]
    assert [w.text for w in instructions[3].words] == ["X"]
    assert instructions[4].sub is not None and instructions[4].sub.args == ("c",)
    assert instructions[5].heredocs[0].content == "x\n"
    assert instructions[6].logical == "RUN d   e"
    again = parse(data).instructions
    assert again == instructions and plain != first
    with pytest.raises(AttributeError):
        plain.pairs = ()  # type: ignore[misc]  # no slot: the empty default is shared


def _reading(data: bytes, compact: bool) -> object:
    """Everything a reading of `data` gives that the rest of dlink uses, or its error."""
    from dlink.directives import scan
    from dlink.rules import RULES_BY_CODE
    from dlink.syntax import ParseError

    try:
        dockerfile = parse(data, compact=compact)
    except ParseError as error:
        return ("refused", error.reason, error.line)
    instructions = dockerfile.instructions
    spans = [instructions.span(i) for i in range(len(instructions))]
    assert spans == [(i.start, i.end) for i in instructions]
    assert list(instructions.names()) == [i.name for i in instructions]
    assert list(instructions.start_lines()) == [i.start_line for i in instructions]
    assert list(instructions.end_lines()) == [i.end_line for i in instructions]
    assert dockerfile.to_bytes() == data
    # What a fix keeps of the file it started from: names and spans, the text read again
    # when an instruction is asked for.
    slim = dockerfile.slim().instructions
    assert list(slim.names()) == list(instructions.names())
    assert [slim.span(i) for i in range(len(slim))] == spans
    assert list(slim) == list(instructions)
    directives = scan(dockerfile, RULES_BY_CODE)
    return (
        list(instructions), list(dockerfile.line_starts), list(dockerfile.lines),
        dockerfile.directives, dockerfile.escape, directives.items, directives.ignored,
        _stages(lambda: build(dockerfile)),
    )  # fmt: skip


def _stages(make: Callable[[], Model]) -> object:
    """What the rules see of a model: its stages and labels, or its error."""
    from dlink.model import ModelError

    try:
        model = make()
        # Each stage's instructions are those from its FROM to the next, worked out here
        # without the model.
        instructions = list(model.dockerfile.instructions)
        froms = [i for i, instruction in enumerate(instructions) if instruction.name == "from"]
        for stage, first, stop in zip(model.stages, froms, [*froms[1:], len(instructions)]):
            assert stage.from_instruction == instructions[first]
            assert stage.instructions == instructions[first + 1 : stop]
        return [
            (s.name, s.base, s.parent, s.start_line, s.from_instruction, s.instructions)
            + tuple([(x.key, x.value, x.unresolved, x.instruction, x.token) for x in s.labels])
            + (s.env, s.env_unknown)
            for s in model.stages
        ]
    except ModelError as error:
        return ("model error", error.reason, error.line)


def test_compact_reading_of_every_corpus_file_is_the_full_reading() -> None:
    """A large file is read compactly (one-line instructions read again from their line
    when asked for); every corpus file read that way must give exactly what it gives when
    read in full: instructions, spans, lines, directives, stages and labels, or the same
    refusal."""
    from conftest import corpus_or_skip

    corpus = corpus_or_skip()
    names = sorted(p for p in corpus.rglob("*") if p.is_file() and p.suffix not in (".tsv", ".md"))
    assert len(names) >= 502
    differing = [
        str(path.relative_to(corpus))
        for path in names
        if _reading(path.read_bytes(), True) != _reading(path.read_bytes(), False)
    ]
    assert differing == []


PREAMBLE = b"# syntax=docker/dockerfile:1\nARG BASE=alpine\n"
SMALL = PREAMBLE + (
    b"FROM ${BASE} AS build\n"
    b"ARG V=1\n"
    b"ENV A=$V B=2\n"
    b"LABEL org.opencontainers.image.source=git@github.com:acme/widget.git\n"
    b"RUN --mount=type=cache,target=/c make \\\n    && make install\n"
    b"RUN <<EOF\necho hi\nEOF\n"
    b"FROM scratch\n"
    b"COPY --from=build /x /x\n"
    b"# dlink: ignore=DLK106\n"
    b"LABEL a b\n"
    b"LABEL c d\n"
    b"ONBUILD LABEL e=f\n"
)


def test_a_large_file_is_checked_and_fixed_as_its_small_part() -> None:
    """The same Dockerfile with a stage of padding after its global ARGs, enough to be
    read compactly: the same findings (lines moved by the padding) and the same fix (the
    padding left alone)."""
    from dlink.engine import analyse, fix
    from dlink.rules import Context

    head = b"FROM alpine AS pad\n"
    padding = b"".join(b"RUN echo %d\n" % i for i in range(_KEEP_LINES_UP_TO // 12))
    big = PREAMBLE + head + padding + SMALL[len(PREAMBLE) :]
    assert len(big) > _KEEP_LINES_UP_TO
    assert None in parse(big).instructions._objects  # read compactly
    assert None not in parse(SMALL).instructions._objects
    moved = (head + padding).count(b"\n")
    context = Context("Dockerfile", "https://github.com/acme/widget", None, {})
    small_findings = analyse(SMALL, context).findings
    big_findings = analyse(big, context).findings
    assert small_findings, "the small part has findings to compare"
    assert [(f.code, f.line + moved, f.message) for f in small_findings] == [
        (f.code, f.line, f.message) for f in big_findings
    ]
    small_fix, big_fix = fix(SMALL, context), fix(big, context)
    assert small_fix.changed and small_fix.withheld is None
    assert small_fix.data.startswith(PREAMBLE)
    assert big_fix.data == PREAMBLE + head + padding + small_fix.data[len(PREAMBLE) :]
    assert (big_fix.fixed, big_fix.withheld) == (small_fix.fixed, small_fix.withheld)


@pytest.mark.parametrize("compact", [False, True], ids=["full", "compact"])
def test_a_line_error_anywhere_comes_before_an_instruction_refusal(compact: bool) -> None:
    """BuildKit reads every line before it parses instructions: an unterminated heredoc
    at the end is what it says, even with an unknown instruction above it."""
    from dlink.syntax import ParseError

    with pytest.raises(ParseError) as caught:
        parse(b"FROM a\nFOO bar\nRUN <<EOF\nx\n", compact=compact)
    assert caught.value.reason == "unterminated heredoc EOF"
    with pytest.raises(ParseError) as caught:
        parse(b"FROM a\nFOO bar\nRUN x\n", compact=compact)
    assert (caught.value.reason, caught.value.line) == ("unknown instruction: FOO", 2)


@pytest.mark.parametrize("compact", [False, True], ids=["full", "compact"])
def test_the_model_fed_while_reading_is_the_model_built_after(compact: bool) -> None:
    """The engine builds its models as the file is read (ModelBuilder as an observer of
    the reader); on every corpus file, and for another platform, they must be what
    `build` makes from the file once read, errors included."""
    from conftest import corpus_or_skip
    from dlink.syntax import ParseError

    corpus = corpus_or_skip()
    names = sorted(p for p in corpus.rglob("*") if p.is_file() and p.suffix not in (".tsv", ".md"))
    compared = 0
    differing = []
    for path in names:
        data = path.read_bytes()
        for platform in ("linux/amd64", "linux/arm64/v8"):
            builder = ModelBuilder({"VERSION": "1"}, platform)
            try:
                dockerfile = parse(data, compact=compact, observers=[builder])
            except ParseError:
                continue
            fed = _stages(lambda b=builder, d=dockerfile: b.finish(d))  # type: ignore[misc]
            after = _stages(lambda d=dockerfile, p=platform: build(d, {"VERSION": "1"}, p))  # type: ignore[misc]
            compared += 1
            if fed != after:
                differing.append(f"{path.relative_to(corpus)} {platform}")
    assert compared > 900
    assert differing == []


LINE_TEXTS = [
    "",
    "\n",
    "\n\n",
    "a",
    "a\n",
    "ab\r\ncd",
    "\r\n\r\n",
    "x\ny\n\nz",
    "é\n" * 5 + "end",
]


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 1 << 20])
@pytest.mark.parametrize("text", LINE_TEXTS)
def test_line_starts_found_a_chunk_at_a_time_are_those_of_the_lines(
    text: str, chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A large file's line starts are found a megabyte at a time; a line may cross a
    chunk's end (small chunks here make every line do so)."""
    from dlink.syntax import reader

    monkeypatch.setattr(reader, "_CHUNK", chunk)
    expected = list(accumulate(map(len, split_lines(text)), initial=0))[:-1]
    assert list(reader._line_starts(text)) == expected


LONG = 65_535
LONG_TEXTS = [
    pytest.param("FROM a\n" + "x" * LONG + "\n", False, id="ascii-at-the-limit"),
    pytest.param("FROM a\n" + "x" * (LONG + 1) + "\n", False, id="ascii-over"),
    pytest.param("x" * (LONG - 2) + "\nFROM a\n", True, id="bom-makes-the-first-line-too-long"),
    pytest.param("FROM a\n" + "é" * (LONG // 2) + "\n", False, id="two-byte-at-the-limit"),
    pytest.param("FROM a\n" + "é" * (LONG // 2 + 1), False, id="two-byte-over-no-newline"),
    pytest.param("FROM a\n" + "x" * LONG + "\r\n", False, id="carriage-return-counts"),
    pytest.param("a\n" * 1000, False, id="short-lines"),
]


@pytest.mark.parametrize(("text", "has_bom"), LONG_TEXTS)
def test_long_lines_found_from_line_starts_are_those_found_from_lines(
    text: str, has_bom: bool
) -> None:
    from dlink.syntax import reader

    starts = reader._line_starts(text)
    assert reader._first_long_line_at(text, starts, has_bom) == reader._first_long_line(
        split_lines(text), has_bom
    )


def test_a_slim_copy_of_a_file_made_from_a_list_finds_its_spans_in_the_text() -> None:
    """`Dockerfile.slim` works from the file's own text and line starts, whoever made it."""
    from dlink.syntax import Dockerfile

    data = b"# escape=`\nFROM a\nRUN b `\n  c\nLABEL k=v\nRUN <<EOF\nx\nEOF\n"
    read = parse(data)
    made = Dockerfile(
        read.has_bom, read.text, read.line_starts, read.escape, read.directives,
        list(read.instructions),
    )  # fmt: skip
    slim = made.slim().instructions
    assert [slim.span(i) for i in range(len(slim))] == [(i.start, i.end) for i in read.instructions]
    assert list(slim) == list(read.instructions)
