"""What the differential fuzzer (test_fuzz_buildkit.py) found, kept as fixed rows.

Each row is the smallest input that showed the problem, the fuzzer run that
found it, and what dlink does now.
"""

from __future__ import annotations

import pytest

from dlink.engine import analyse
from dlink.rules import Context
from dlink.syntax import ParseError, parse, parse_lines
from dlink.syntax.lexer import ShellLex
from oracle import _oracle


@pytest.mark.parametrize(
    ("line", "heredoc", "oracle_heredoc"),
    [
        # Mutated corpus file (docker-library php, a `RUN <<EOF` line inserted into a
        # long RUN continuation), shrunk to this: BuildKit v0.12.5 (the oracle) fails
        # on `${%}` and so finds no heredoc; today's BuildKit reads `${x%a}` as a
        # suffix trim and finds it, and so does dlink.
        pytest.param('RUN "${x%a}" <<EOF', True, False, id="trim-suffix-before-heredoc"),
        pytest.param("RUN ${x/a/b} <<EOF", True, False, id="replace-before-heredoc"),
        pytest.param("RUN ${x:%a} <<EOF", True, True, id="colon-percent-before-heredoc"),
        pytest.param("RUN ${x!a} <<EOF", False, False, id="unknown-modifier-no-heredoc"),
    ],
)
def test_heredoc_after_newer_modifiers(line: str, heredoc: bool, oracle_heredoc: bool) -> None:
    data = f"FROM a\n{line}\necho\nEOF\n".encode()
    model = parse_lines(data)
    assert bool(model.instructions[1].heredocs) == heredoc
    if _oracle is not None:
        # Where the oracle's older lexer disagrees, that is the reason for the row.
        assert bool(_oracle.parse_string(data.decode())[1].heredocs) == oracle_heredoc


@pytest.mark.parametrize(
    ("word", "value"),
    [
        # Found while checking the row above against today's BuildKit: after ':' any
        # modifier falls through, so `${V:%p}` trims like `${V%p}` (dlink refused it).
        pytest.param("${V:%.gz}", "c.tar", id="colon-percent"),
        pytest.param("${V:##*.}", "gz", id="colon-hash-hash"),
        pytest.param("${U:%x}", "${U:%x}", id="unset-kept-when-skipping"),
    ],
)
def test_colon_before_trim_modifiers(word: str, value: str) -> None:
    lex = ShellLex(skip_unset_env=True)
    assert lex.process_word(word, {"V": "c.tar.gz"}).value == value


def test_colon_percent_in_a_label_is_read() -> None:
    data = b"FROM a\nARG V=https://github.com/acme/widget.git\nLABEL org.opencontainers.image.source=${V:%.git}\n"
    findings = analyse(data, Context("Dockerfile", "https://github.com/acme/widget")).findings
    assert [f.code for f in findings if f.code == "DLK000"] == []
    assert parse(data).to_bytes() == data


@pytest.mark.parametrize(
    ("source", "refused", "escape"),
    [
        # Mutated corpus file (vaultwarden, its `# check=` line repeated): today's
        # BuildKit knows the `check` directive and refuses it twice; the oracle
        # (v0.12.5) predates it and reads the line as a comment.
        pytest.param(b"# check=skip=all\n# check=skip=all\nFROM a\n", True, "\\", id="check-twice"),
        pytest.param(
            b"# check=skip=all\n# escape=`\nFROM a\n", False, "`", id="escape-after-check"
        ),
    ],
)
def test_check_directive(source: bytes, refused: bool, escape: str) -> None:
    if refused:
        with pytest.raises(ParseError, match="only one check parser directive"):
            parse_lines(source)
    else:
        assert parse_lines(source).escape == escape
    if _oracle is not None:
        # The oracle's older parser: a comment, which ends the directives.
        assert [c.cmd for c in _oracle.parse_string(source.decode())] == ["FROM"]


@pytest.mark.parametrize(
    ("line", "json_form", "args"),
    [
        # Mutated corpus file (a Windows consul image under `# escape=\``, with
        # `\` appended to its ENTRYPOINT): Go's json.Decoder reads the first value
        # and ignores the rest, so BuildKit takes the JSON form; dlink took it as
        # shell form. Checking Go's decoder further gave the next rows.
        pytest.param(
            'ENTRYPOINT [ "C:\\\\consul.exe" ] \\', True, ("C:\\consul.exe",), id="trailing"
        ),
        pytest.param('RUN ["a"] && rm -rf /', True, ("a",), id="trailing-words"),
        pytest.param("RUN [NaN]", False, ("[NaN]",), id="nan-is-not-json"),
        pytest.param('RUN ["a", -Infinity]', False, ('["a", -Infinity]',), id="infinity"),
        pytest.param('RUN ["\\ud800x"]', True, ("\ufffdx",), id="lone-surrogate"),
    ],
)
def test_json_form_as_go_decodes_it(line: str, json_form: bool, args: tuple[str, ...]) -> None:
    data = f"# escape=`\nFROM a\n{line}\n".encode()
    instruction = parse_lines(data).instructions[1]
    assert (instruction.json, instruction.args) == (json_form, args)
    if _oracle is not None:
        command = _oracle.parse_string(data.decode())[1]
        assert (command.json, tuple(command.value)) == (json_form, args)


def test_a_lone_escape_on_the_last_line_is_an_empty_instruction() -> None:
    """Mutated corpus file (node-windows) ending in ` \\`: an instruction with an empty
    name, which BuildKit's instruction parser refuses (the daemon says the same)."""
    data = b"FROM a\n \\"
    assert [(i.keyword, i.args) for i in parse_lines(data).instructions] == [
        ("FROM", ("a",)),
        ("", ("",)),
    ]
    with pytest.raises(ParseError) as refused:
        parse(data)
    assert (refused.value.reason, refused.value.line) == ("unknown instruction: ", 2)


def test_utf16_without_a_byte_order_mark_is_refused_in_printable_words() -> None:
    """Mutated corpus file (UTF-16 without its BOM): BuildKit reads the NULs as part of
    the words (the binding cannot: it cuts at the first NUL) and refuses the unknown
    instruction; dlink says so with the NULs escaped."""
    data = "USER root\nRUN foo bar".encode("utf-16-be")
    assert len(parse_lines(data).instructions) == 2
    with pytest.raises(ParseError) as refused:
        parse(data)
    assert refused.value.reason == "unknown instruction: \\x00U\\x00S\\x00E\\x00R\\x00"
    assert refused.value.reason.isprintable()
