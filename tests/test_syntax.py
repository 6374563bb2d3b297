"""The reader on small hand-written cases: each tricky form BuildKit handles, one row each.

Every row states what dlink must see; where the BuildKit oracle is installed it
must see the same.
"""

from __future__ import annotations

import pytest

from dlink.syntax import ParseError, parse, parse_lines
from oracle import _oracle, as_oracle, oracle_view

# (source, [(keyword, args, start_line, end_line), ...])
CASES = [
    pytest.param(b"FROM alpine\n", [("FROM", ("alpine",), 1, 1)], id="plain"),
    pytest.param(
        b"from alpine AS build\n",
        [("from", ("alpine", "AS", "build"), 1, 1)],
        id="lowercase-and-stage-name",
    ),
    pytest.param(
        b"FROM a\nLABEL x=1",
        [("FROM", ("a",), 1, 1), ("LABEL", ("x", "1", "="), 2, 2)],
        id="no-newline-at-eof",
    ),
    pytest.param(b"\xef\xbb\xbfFROM a\n", [("FROM", ("a",), 1, 1)], id="utf8-bom"),
    pytest.param(
        b"FROM a\r\nRUN x \\\r\n  y\r\n",
        [("FROM", ("a",), 1, 1), ("RUN", ("x   y",), 2, 3)],
        id="crlf",
    ),
    pytest.param(
        b"FROM a\r\nRUN x\nRUN y\r\n",
        [("FROM", ("a",), 1, 1), ("RUN", ("x",), 2, 2), ("RUN", ("y",), 3, 3)],
        id="mixed-endings",
    ),
    pytest.param(
        b"FROM a\nRUN one \\\n# a comment inside\n\n   \n  two\n",
        [("FROM", ("a",), 1, 1), ("RUN", ("one   two",), 2, 6)],
        id="comment-and-empty-lines-inside-continuation",
    ),
    pytest.param(
        b"FROM a\nRUN x \\",
        [("FROM", ("a",), 1, 1), ("RUN", ("x",), 2, 2)],
        id="ends-inside-continuation",
    ),
    pytest.param(
        b"# escape=`\nFROM a\nRUN dir C:\\ `\n  /b\n",
        [("FROM", ("a",), 2, 2), ("RUN", ("dir C:\\   /b",), 3, 4)],
        id="escape-backtick",
    ),
    pytest.param(
        b"# escape=`\nFROM a\nLABEL p=C:\\x\\\nRUN y\n",
        [("FROM", ("a",), 2, 2), ("LABEL", ("p", "C:\\x\\", "="), 3, 3), ("RUN", ("y",), 4, 4)],
        id="backslash-is-plain-with-backtick-escape",
    ),
    pytest.param(
        b"# comment\n# escape=`\nFROM a\nRUN x \\\nRUN y\n",
        [("FROM", ("a",), 3, 3), ("RUN", ("x RUN y",), 4, 5)],
        id="escape-after-comment-is-not-a-directive",
    ),
    pytest.param(
        b"# syntax=docker/dockerfile:1\n# escape=`\nFROM a\n",
        [("FROM", ("a",), 3, 3)],
        id="syntax-then-escape",
    ),
    pytest.param(
        b"FROM a\nRUN <<EOF\nFROM evil:latest\nLABEL org.opencontainers.image.source=x\nEOF\n",
        [("FROM", ("a",), 1, 1), ("RUN", ("<<EOF",), 2, 5)],
        id="heredoc-body-is-data",
    ),
    pytest.param(
        b"FROM a\nRUN <<-\"EOT\" cat <<'B'\n\tone\n\tEOT\ntwo\nB\n",
        [("FROM", ("a",), 1, 1), ("RUN", ("<<-\"EOT\" cat <<'B'",), 2, 6)],
        id="two-heredocs-quoted-and-chomped",
    ),
    pytest.param(
        b"FROM a\nCOPY <<EOF /x\nhello\nEOF\n",
        [("FROM", ("a",), 1, 1), ("COPY", ("<<EOF", "/x"), 2, 4)],
        id="copy-heredoc",
    ),
    pytest.param(
        b'FROM a\nRUN ["echo", "<<EOF"]\nEOF\n',
        [("FROM", ("a",), 1, 1), ("RUN", ("echo", "<<EOF"), 2, 2), ("EOF", ("",), 3, 3)],
        id="json-form-has-no-heredoc",
    ),
    pytest.param(
        b"FROM a\nONBUILD RUN <<EOF\nx\nEOF\n",
        [("FROM", ("a",), 1, 1), ("ONBUILD", ("<<EOF",), 2, 4)],
        id="onbuild-heredoc",
    ),
    pytest.param(
        b'FROM a\nCMD ["a", "b c"]\nENTRYPOINT [ "x" ]\n',
        [("FROM", ("a",), 1, 1), ("CMD", ("a", "b c"), 2, 2), ("ENTRYPOINT", ("x",), 3, 3)],
        id="json-form",
    ),
    pytest.param(
        b"FROM --platform=$BUILDPLATFORM a\nCOPY --from=build --chmod=755 /x /y\nRUN --mount=type=cache,target=/c make\n",
        [
            ("FROM", ("a",), 1, 1),
            ("COPY", ("/x", "/y"), 2, 2),
            ("RUN", ("make",), 3, 3),
        ],
        id="flags",
    ),
    pytest.param(
        b'FROM a\nLABEL a=b "c d"="e f" g=h\\ i\n',
        [
            ("FROM", ("a",), 1, 1),
            ("LABEL", ("a", "b", "=", '"c d"', '"e f"', "=", "g", "h\\ i", "="), 2, 2),
        ],
        id="label-pairs-quoted-key-escaped-space",
    ),
    pytest.param(
        b"FROM a\nLABEL maintainer Jane Doe <j@x>\n",
        [("FROM", ("a",), 1, 1), ("LABEL", ("maintainer", "Jane Doe <j@x>", ""), 2, 2)],
        id="legacy-label",
    ),
    pytest.param(
        b'ARG V=1\nFROM a:${V}\nARG V\nARG W="x y"\n',
        [
            ("ARG", ("V=1",), 1, 1),
            ("FROM", ("a:${V}",), 2, 2),
            ("ARG", ("V",), 3, 3),
            ("ARG", ('W="x y"',), 4, 4),
        ],
        id="args",
    ),
    pytest.param(
        b"FROM a\nHEALTHCHECK --interval=5s CMD curl -f x\nHEALTHCHECK NONE\n",
        [
            ("FROM", ("a",), 1, 1),
            ("HEALTHCHECK", ("CMD", "curl -f x"), 2, 2),
            ("HEALTHCHECK", ("NONE",), 3, 3),
        ],
        id="healthcheck",
    ),
]


@pytest.mark.parametrize(("source", "expected"), CASES)
def test_instructions(source: bytes, expected: list[tuple[str, tuple[str, ...], int, int]]) -> None:
    model = parse_lines(source)
    got = [(i.keyword, i.args, i.start_line, i.end_line) for i in model.instructions]
    assert got == expected
    assert model.to_bytes() == source
    if _oracle is not None:
        assert [as_oracle(i) for i in model.instructions] == [
            oracle_view(c) for c in _oracle.parse_string(source.decode("utf-8-sig"))
        ]


def test_flags_are_kept() -> None:
    model = parse(b"FROM --platform=linux/amd64 a\nCOPY --from=b --chmod=755 x y\n")
    assert model.instructions[0].flags == ("--platform=linux/amd64",)
    assert model.instructions[1].flags == ("--from=b", "--chmod=755")


def test_heredoc_bodies() -> None:
    model = parse(b"FROM a\nRUN <<-\"EOT\" cat <<'B'\n\tone\r\n\tEOT\ntwo\nB\n")
    run = model.instructions[1]
    assert [(h.name, h.chomp, h.expand, h.content) for h in run.heredocs] == [
        ("EOT", True, False, "\tone\r\n"),
        ("B", False, False, "two\n"),
    ]


def test_onbuild_inner_instruction() -> None:
    model = parse(b"FROM a\nonbuild LABEL x=y\n")
    inner = model.instructions[1].sub
    assert inner is not None and inner.keyword == "LABEL"
    assert [(p.key.text, p.value.text) for p in inner.pairs] == [("x", "y")]


@pytest.mark.parametrize(
    ("source", "key", "value"),
    [
        pytest.param(b'FROM a\nLABEL k="v"\n', "k", '"v"', id="double-quoted"),
        pytest.param(b"FROM a\nLABEL k='v' j=w\n", "k", "'v'", id="single-quoted"),
        pytest.param(b"FROM a\nLABEL \\\n  k=v\n", "k", "v", id="after-continuation"),
        pytest.param(b'FROM a\nLABEL "k"=v\n', '"k"', "v", id="quoted-key"),
        pytest.param(b"FROM a\nLABEL k v w\n", "k", "v w", id="legacy"),
        pytest.param(b"\xef\xbb\xbfFROM a\r\n  LABEL  k=v\r\n", "k", "v", id="bom-crlf-indent"),
    ],
)
def test_label_token_spans(source: bytes, key: str, value: str) -> None:
    model = parse(source)
    label = next(i for i in model.instructions if i.name == "label")
    pair = label.pairs[0]
    assert (pair.key.text, pair.value.text) == (key, value)
    assert model.text[pair.key.start : pair.key.end] == key
    assert model.text[pair.value.start : pair.value.end] == value


def test_value_spanning_a_continuation_maps_to_the_whole_source_range() -> None:
    model = parse(b'FROM a\nLABEL k="one \\\n  two"\n')
    pair = model.instructions[1].pairs[0]
    assert pair.value.text == '"one   two"'
    assert model.text[pair.value.start : pair.value.end] == '"one \\\n  two"'


@pytest.mark.parametrize(
    ("source", "line", "reason"),
    [
        pytest.param(b"", 1, "file with no instructions", id="empty"),
        pytest.param(b"# just a comment\n\n", 2, "file with no instructions", id="comments-only"),
        pytest.param(b"FROM a\nLABEL x=\xff\n", 2, "byte 15 is not UTF-8", id="invalid-utf8"),
        pytest.param(b"\xff\xfeF\x00", 1, "UTF-16LE", id="utf16-bom"),
        pytest.param(
            b"FROM a\nRUN <<EOF\nnever ends\n", 2, "unterminated heredoc", id="unterminated-heredoc"
        ),
        pytest.param(b"FROM a\nENV X\n", 2, "ENV must have two arguments", id="env-one-word"),
        pytest.param(b"FROM a\nLABEL a=b c\n", 2, "can't find =", id="label-missing-equals"),
        pytest.param(b'FROM a\nCMD ["a", 1]\n', 2, "strings only", id="json-not-strings"),
        pytest.param(b"# escape=x\nFROM a\n", 1, "invalid escape token", id="bad-escape"),
        pytest.param(
            b"# escape=`\n# escape=\\\nFROM a\n", 2, "only one escape", id="repeated-directive"
        ),
    ],
)
def test_refused(source: bytes, line: int, reason: str) -> None:
    with pytest.raises(ParseError) as refused:
        parse(source)
    assert refused.value.line == line
    assert reason in refused.value.reason
    assert "\n" not in str(refused.value)
