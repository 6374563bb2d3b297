"""BuildKit's limits and odd bytes: long lines, NUL, bytes that are not UTF-8, deep nesting.

Where the `dockerfile` oracle binding can judge (line length), it does. It
cannot carry NUL or bytes that are not UTF-8 (it takes C strings), so for those
the evidence is the Docker daemon, recorded in the README: a NUL in a LABEL
value reaches the image as is, a comment that is not UTF-8 builds, and a LABEL
value that is not UTF-8 reaches the image with U+FFFD in its place.
"""

from __future__ import annotations

import pytest

from dlink.engine import analyse, fix
from dlink.rules import Context
from dlink.syntax import ParseError, parse, parse_lines
from dlink.syntax.lexer import MAX_NESTING, LexError, ShellLex
from oracle import _oracle

URL = "https://github.com/acme/widget"
LIMIT = "dockerfile line greater than max allowed size of 65535"


def _run_line(size: int, ending: bytes) -> bytes:
    """FROM, then a RUN line of `size` bytes before its line ending."""
    return b"FROM a\n" + b"RUN " + b"x" * (size - 4) + ending


@pytest.mark.parametrize(
    ("data", "refused"),
    [
        pytest.param(_run_line(65535, b"\n"), False, id="65535-lf"),
        pytest.param(_run_line(65535, b""), False, id="65535-eof"),
        pytest.param(_run_line(65534, b"\r\n"), False, id="65534-crlf"),
        pytest.param(_run_line(65536, b"\n"), True, id="65536-lf"),
        pytest.param(_run_line(65536, b""), True, id="65536-eof"),
        pytest.param(_run_line(65535, b"\r\n"), True, id="65535-crlf-counts-the-cr"),
        pytest.param(b"FROM a\n#" + b"x" * 65535 + b"\n", True, id="comment-counts-too"),
        pytest.param(
            b"FROM a\nRUN " + "é".encode() * 32766 + b"\n", True, id="bytes-not-characters"
        ),
        pytest.param(b"FROM a\nRUN " + "é".encode() * 32765 + b"\n", False, id="multibyte-fits"),
        pytest.param(
            b"FROM a\nRUN <<EOF\n" + b"y" * 70000 + b"\nEOF\n",
            "unterminated heredoc",
            id="heredoc-body-line",
        ),
    ],
)
def test_line_length_limit(data: bytes, refused: bool | str) -> None:
    """`refused`: False, True (BuildKit's line-length message), or the message."""
    message = LIMIT if refused is True else refused
    if message:
        with pytest.raises(ParseError) as error:
            parse(data)
        assert error.value.reason.startswith(message)
    else:
        assert parse(data).to_bytes() == data
    if _oracle is not None:
        try:
            _oracle.parse_string(data.decode("utf-8"))
            assert not message
        except _oracle.GoParseError as error:
            assert message and message in str(error)


def test_a_10_mb_line_is_refused_and_never_fixed() -> None:
    data = b"FROM alpine\nLABEL a=" + b"x" * 10_000_000 + b"\n"
    context = Context("Dockerfile", URL)
    findings = analyse(data, context).findings
    assert [(f.code, f.line, f.message) for f in findings] == [("DLK000", 2, LIMIT)]
    assert not fix(data, context).changed


def test_nul_in_a_value_is_read_and_kept() -> None:
    data = b'FROM a\nLABEL k="a\x00b"\n'
    model = parse(data)
    assert model.instructions[1].pairs[0].value.text == '"a\x00b"'
    context = Context("Dockerfile", URL)
    result = fix(data, context)
    assert result.changed and b'k="a\x00b"' in result.data
    assert not fix(result.data, context).changed


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"FROM a\n# caf\xe9 \xff\xfe\nLABEL k=v\n", id="comment"),
        pytest.param(b"# caf\xe9\nFROM a\n", id="comment-before-from"),
        pytest.param(b"FROM a\nRUN x \\\n# \xff inside a continuation\n  y\n", id="continuation"),
        pytest.param(b"FROM a\nRUN <<EOF\necho \xff\xfe\nEOF\n", id="heredoc-body"),
        pytest.param(b"FROM a\r\n#\x80\r\n", id="crlf"),
    ],
)
def test_bytes_that_are_not_utf8_outside_instructions_survive_a_fix(data: bytes) -> None:
    assert parse(data).to_bytes() == data
    context = Context("Dockerfile", URL)
    result = fix(data, context)
    assert result.changed
    assert not fix(result.data, context).changed
    # Every original line is still there, byte for byte.
    fixed_lines = result.data.splitlines(keepends=True)
    assert all(line in fixed_lines for line in data.splitlines(keepends=True) if line.strip())


@pytest.mark.parametrize(
    ("data", "line"),
    [
        pytest.param(b"FROM a\nLABEL k=caf\xe9\n", 2, id="label-value"),
        pytest.param(b"FROM a\xff\n", 1, id="from"),
        pytest.param(b"FROM a\nRUN x \\\n  \xff\n", 2, id="continued"),
    ],
)
def test_bytes_that_are_not_utf8_inside_an_instruction_are_refused(data: bytes, line: int) -> None:
    with pytest.raises(ParseError) as refused:
        parse(data)
    assert refused.value.line == line
    assert "is not UTF-8" in refused.value.reason
    assert refused.value.reason.isprintable()
    refused.value.reason.encode("utf-8")  # printable by any UTF-8 writer


def test_directive_value_that_is_not_utf8_gives_a_printable_message() -> None:
    with pytest.raises(ParseError) as refused:
        parse(b"# escape=\xff\nFROM a\n")
    refused.value.reason.encode("utf-8")
    assert "invalid escape token" in refused.value.reason


def _nested(depth: int) -> str:
    return "${a:-" * depth + "x" + "}" * depth


def test_expansion_nesting_is_bounded() -> None:
    lex = ShellLex()
    assert lex.process_word(_nested(MAX_NESTING - 1), {}).value == "x"
    with pytest.raises(LexError, match="nested more than"):
        lex.process_word(_nested(MAX_NESTING + 1), {})


@pytest.mark.parametrize(
    "line",
    [
        pytest.param("LABEL k=" + _nested(6000), id="label"),
        pytest.param('LABEL k="' + '${a:-"' * 4000 + "x" + '"}' * 4000 + '"', id="in-quotes"),
    ],
)
def test_a_30_kb_nested_expansion_is_a_clear_error(line: str) -> None:
    data = ("FROM a\n" + line + "\n").encode()
    assert len(data) > 30_000
    context = Context("Dockerfile", URL)
    findings = analyse(data, context).findings
    assert [f.code for f in findings] == ["DLK000"]
    assert "nested more than" in findings[0].message and len(findings[0].message) < 300
    assert not fix(data, context).changed


def test_a_30_kb_nested_base_name_is_a_clear_error() -> None:
    data = ("FROM " + _nested(6000) + "\n").encode()
    findings = analyse(data, Context("Dockerfile", URL)).findings
    assert [f.code for f in findings] == ["DLK000"]


@pytest.mark.parametrize(
    ("data", "json_form"),
    [
        pytest.param(b"FROM a\nRUN " + b"[" * 60_000 + b"\n", False, id="unclosed"),
        pytest.param(
            b"FROM a\nRUN " + b"[" * 20_000 + b"]" * 20_000 + b"\n", False, id="deeper-than-go"
        ),
    ],
)
def test_deep_json_is_read_like_buildkit(data: bytes, json_form: bool) -> None:
    assert parse_lines(data).instructions[1].json == json_form
    if _oracle is not None:
        assert _oracle.parse_string(data.decode())[1].json == json_form


def test_deep_json_that_python_cannot_read_is_a_clear_error() -> None:
    with pytest.raises(ParseError, match="JSON nested too deeply"):
        parse(b"FROM a\nRUN " + b"[" * 5_000 + b"]" * 5_000 + b"\n")
