"""Differential fuzzing: generated Dockerfiles read by dlink and by BuildKit's own parser.

The strategy lives in dockerfile_strategy.py. Properties:
- every file dlink reads gives back its exact bytes (lossless);
- dlink's line reader (`parse_text`) sees the same instructions, and refuses the
  same files, as the official parser (the `dockerfile` binding of BuildKit
  v0.12.5); `parse` refuses a file only where the line reader does, or where one
  of BuildKit's instruction-level checks does (dlink.syntax.instructions);
- `dlink.engine.fix` never raises and a second run changes nothing.

The suite runs a bounded, derandomized number of files; `DLINK_FUZZ=long` runs
the long one (20,000 files for the reader, 3,000 for fix; add
`--hypothesis-show-statistics` for the counts, which are in the README). What a
run found is kept as explicit rows in tests/test_fuzz_regressions.py.
"""

from __future__ import annotations

import os
import re

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from conftest import corpus_or_skip
from dlink.engine import fix
from dlink.rules import Context
from dlink.syntax import ParseError, parse
from dlink.syntax.reader import parse_text
from dlink.syntax.text import DecodeError, decode
from dockerfile_strategy import dockerfiles, mutations
from oracle import as_oracle, oracle, oracle_view

LONG = os.environ.get("DLINK_FUZZ") == "long"
_COMMON = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=not LONG,  # the suite is reproducible; the long run explores
)
# Bounded in the suite (seconds); `DLINK_FUZZ=long` for the long run (minutes).
READER_RUN = settings(_COMMON, max_examples=20_000 if LONG else 300)
FIX_RUN = settings(_COMMON, max_examples=3_000 if LONG else 100)
URL = "https://github.com/acme/widget"


def _line_reader(data: bytes) -> list[dict[str, object]] | ParseError:
    try:
        has_bom, text = decode(data)
    except DecodeError as error:
        return ParseError(error.reason, error.line)
    try:
        return [as_oracle(i) for i in parse_text(has_bom, text).instructions]
    except ParseError as error:
        return error


# BuildKit v0.12.5 (the binding) predates `${V%p}`, `${V#p}` and `${V/p/r}`: its
# lexer fails on them, so it finds no heredoc on such a line where today's
# BuildKit, and dlink, do (tests/test_fuzz_regressions.py has the row).
_NEWER_MODIFIER = re.compile(r"\$\{(?:(?:\w+|[@*#?!$-]):?[%#/]|[%/])")
# It also predates the `# check=` directive: to it, the line is a comment that
# ends the directive block, so a repeated `check` or an `escape` after it differ.
_CHECK_DIRECTIVE = re.compile(rb"^[ \t]*#[ \t]*check[ \t]*=", re.IGNORECASE | re.MULTILINE)


def _newer_modifier_heredoc(
    data: bytes, got: list[dict[str, object]] | ParseError, expected: list[dict[str, object]]
) -> bool:
    """Is the first difference a heredoc dlink sees on lines that use a newer modifier?"""
    lines = data.decode("utf-8").splitlines()
    if isinstance(got, ParseError):  # the heredoc dlink sees never ends
        used = "\n".join(lines[got.line - 1 : got.end_line])
        return got.reason.startswith("unterminated heredoc") and bool(_NEWER_MODIFIER.search(used))
    for mine, theirs in zip(got, expected):
        if mine == theirs:
            continue
        differing = {key for key in mine if mine[key] != theirs[key]}
        last = max(int(str(mine["end_line"])), int(str(theirs["end_line"])))
        used = "\n".join(lines[int(str(mine["start_line"])) - 1 : last])
        return (
            differing <= {"end_line", "heredocs"}
            and bool(mine["heredocs"])
            and not theirs["heredocs"]
            and bool(_NEWER_MODIFIER.search(used))
        )
    return False


def _agrees_with_buildkit(data: bytes) -> None:
    buildkit = oracle()
    try:
        expected: list[dict[str, object]] | None = [
            oracle_view(c) for c in buildkit.parse_string(data.decode("utf-8"))
        ]
    except buildkit.GoParseError:
        expected = None
    got = _line_reader(data)
    if got != expected and _CHECK_DIRECTIVE.search(data):
        event("newer than the oracle: the check directive")
        return
    if expected is None:
        event("BuildKit's line parser refuses")
        assert isinstance(got, ParseError)
        assert got.line >= 1 and "\n" not in got.reason
        return
    if got != expected and _newer_modifier_heredoc(data, got, expected):
        event("newer than the oracle: heredoc after ${V%p}, ${V#p} or ${V/p/r}")
        return
    assert got == expected
    try:
        model = parse(data)
    except ParseError as error:
        # Only an instruction-level refusal may add to what the line parser refuses.
        assert error.instruction_level, error
        event("BuildKit's instruction parser refuses")
        return
    event("BuildKit reads")
    assert model.to_bytes() == data
    # A large file is read compactly (one-line instructions read again when asked for):
    # the same instructions, whatever the file holds.
    assert list(parse(data, compact=True).instructions) == list(model.instructions)


@pytest.mark.oracle
@READER_RUN
@given(data=dockerfiles())
def test_reader_agrees_with_buildkit(data: bytes) -> None:
    _agrees_with_buildkit(data)


def _corpus_files() -> list[bytes]:
    root = corpus_or_skip()
    names = sorted(p for p in root.rglob("*") if p.is_file() and p.name != "MANIFEST.tsv")
    return [p.read_bytes() for p in names]


@pytest.mark.oracle
@pytest.mark.corpus
def test_reader_agrees_with_buildkit_on_mutated_corpus_files() -> None:
    originals = _corpus_files()

    @READER_RUN
    @given(data=st.sampled_from(originals).flatmap(mutations))
    def check(data: bytes) -> None:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return  # the binding takes text only; bytes that are not UTF-8 are tested elsewhere
        if b"\x00" in data or b"\\u0000" in data:
            # The binding takes and gives C strings: it cuts at a NUL, raw or from a JSON
            # escape (test_syntax_limits.py, BINDING_ARTIFACTS in test_syntax_corpus.py).
            return
        _agrees_with_buildkit(data)

    check()


def _fix_is_stable(data: bytes) -> None:
    context = Context("Dockerfile", URL)
    first = fix(data, context)
    event("fixed" if first.changed else "unchanged")
    second = fix(first.data, context)
    assert second.data == first.data
    assert not second.changed


@FIX_RUN
@given(data=dockerfiles())
def test_fix_never_raises_and_is_idempotent(data: bytes) -> None:
    _fix_is_stable(data)


@pytest.mark.corpus
def test_fix_never_raises_and_is_idempotent_on_mutated_corpus_files() -> None:
    originals = _corpus_files()

    @FIX_RUN
    @given(data=st.sampled_from(originals).flatmap(mutations))
    def check(data: bytes) -> None:
        _fix_is_stable(data)

    check()
