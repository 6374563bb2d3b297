"""The reader on 502 real Dockerfiles: lossless, and in agreement with BuildKit."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from conftest import CORPUS
from dlink.syntax import Dockerfile, Instruction, ParseError, parse, parse_lines
from oracle import as_oracle, oracle, oracle_view


def _manifest() -> list[dict[str, str]]:
    path = CORPUS / "MANIFEST.tsv"
    if not path.is_file():
        return []
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


ROWS = _manifest()
FILES = [pytest.param(row["file"], id=row["file"]) for row in ROWS]
RESULTS = [
    pytest.param(row["file"], row["expected_result"], id=row["file"])
    for row in ROWS
    if row["expected_result"]
]

# Where the oracle binding itself is not BuildKit: it hands strings to Python as C
# strings, so a JSON "\u0000" comes back cut short. BuildKit keeps the NUL.
BINDING_ARTIFACTS = {
    "moby__buildkit/frontend__dockerfile__parser__testfiles__json__Dockerfile": "NUL in a JSON string",
}


def _read(name: str) -> bytes:
    from conftest import corpus_or_skip

    return (corpus_or_skip() / name).read_bytes()


def _parse_or_none(data: bytes) -> Dockerfile | None:
    try:
        return parse_lines(data)
    except ParseError:
        return None


def test_the_corpus_is_all_there() -> None:
    from conftest import corpus_or_skip

    corpus_or_skip()
    assert len(ROWS) == 502
    assert len(RESULTS) == 33


@pytest.mark.parametrize("name", FILES)
def test_lossless(name: str) -> None:
    data = _read(name)
    model = _parse_or_none(data)
    if model is None:
        pytest.skip("not a readable Dockerfile (covered by the rejection tests)")
    assert model.to_bytes() == data
    # Every instruction owns whole lines, in order, without overlap; the lines
    # between them are only comments, blank lines and parser directives.
    cursor = 0
    for instruction in model.instructions:
        assert instruction.start >= cursor
        assert instruction.start in model.line_starts
        assert instruction.end == len(model.text) or instruction.end in model.line_starts
        for line in model.text[cursor : instruction.start].splitlines():
            assert line.strip() == "" or line.lstrip().startswith("#"), line
        cursor = instruction.end


@pytest.mark.oracle
@pytest.mark.parametrize("name", FILES)
def test_agrees_with_buildkit(name: str) -> None:
    buildkit = oracle()
    data = _read(name)
    try:
        expected = [oracle_view(c) for c in buildkit.parse_string(data.decode("utf-8"))]
    except (UnicodeDecodeError, buildkit.GoParseError):
        with pytest.raises(ParseError) as refused:
            parse_lines(data)
        assert refused.value.line >= 1 and "\n" not in refused.value.reason
        return
    model = parse_lines(data)
    got = [as_oracle(i) for i in model.instructions]
    if name in BINDING_ARTIFACTS:
        assert [g["start_line"] for g in got] == [e["start_line"] for e in expected]
        assert got != expected, (
            f"{BINDING_ARTIFACTS[name]}: the binding was fixed, drop the exception"
        )
        return
    assert got == expected


def _go_quote(value: str) -> str:
    out = ['"']
    for ch in value:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch in "\a\b\f\n\r\t\v":
            out.append("\\" + "abfnrtv"["\a\b\f\n\r\t\v".index(ch)])
        elif ch.isprintable():
            out.append(ch)
        elif ord(ch) < 0x80:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) < 0x10000:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    return "".join(out) + '"'


def _dump(instruction: Instruction) -> str:
    """BuildKit's Node.Dump() of one instruction, from dlink's model."""
    text = instruction.keyword.lower()
    if instruction.flags:
        text += " [" + " ".join(_go_quote(f) for f in instruction.flags) + "]"
    if instruction.sub is not None:
        return (text + " (" + _dump(instruction.sub) + ")").strip()
    for arg in instruction.args:
        text += " " + _go_quote(arg)
    return text.strip()


@pytest.mark.parametrize(("name", "result"), RESULTS)
def test_matches_buildkits_expected_results(name: str, result: str) -> None:
    model = parse_lines(_read(name))
    expected = _read(result).decode("utf-8")
    assert "".join(f"({_dump(i)})\n" for i in model.instructions) == expected


def test_escape_directive_files_use_the_backtick() -> None:
    with_escape = [row["file"] for row in ROWS if row["has_escape_directive"] == "true"]
    if not with_escape:
        pytest.skip("the shared corpus is not present")
    for name in with_escape:
        model = parse_lines(_read(name))
        assert model.directives.get("escape") == model.escape
        assert re.fullmatch(r"[`\\]", model.escape)


def test_manifest_features_match_the_model() -> None:
    """MANIFEST's feature columns, read independently, agree with what dlink sees."""
    if not ROWS:
        pytest.skip("the shared corpus is not present")
    checked = 0
    for row in ROWS:
        model = _parse_or_none(_read(row["file"]))
        if model is None:
            continue
        names = [i.name for i in model.instructions]
        assert names.count("from") == int(row["stages"]), row["file"]
        has_heredoc = any(i.heredocs or (i.sub and "<<" in i.logical) for i in model.instructions)
        assert has_heredoc == (row["has_heredoc"] == "true"), row["file"]
        checked += 1
    assert checked >= 490


def test_corpus_path_helper_points_at_shared() -> None:
    assert CORPUS.name == "corpus" and CORPUS.parent.name == "shared"
    assert isinstance(CORPUS, Path)


# Corpus files BuildKit's line parser reads but its instruction parser refuses
# (checked with the Docker daemon's classic builder, see tests/test_instructions.py).
INSTRUCTION_REFUSALS = {
    "moby__buildkit/frontend__dockerfile__parser__testfiles__flags__Dockerfile": (
        "Unknown flag: user"
    ),
    "moby__buildkit/frontend__dockerfile__parser__testfiles__health__Dockerfile": (
        "HEALTHCHECK requires at least one argument"
    ),
    # `ARG nginx_version=...` inside a stage is not a global ARG: FROM sees it empty.
    "renovatebot__renovate/lib__modules__manager__dockerfile____fixtures____3.Dockerfile": (
        "base name ($nginx_version) should not be blank"
    ),
    "renovatebot__renovate/lib__modules__manager__dockerfile____fixtures____4.Dockerfile": (
        "base name ($nginx_version) should not be blank"
    ),
}


def test_instruction_level_refusals_in_the_corpus() -> None:
    if not ROWS:
        pytest.skip("the shared corpus is not present")
    refused: dict[str, str] = {}
    for row in ROWS:
        data = _read(row["file"])
        if _parse_or_none(data) is None:
            continue
        try:
            parse(data)
        except ParseError as error:
            assert error.instruction_level
            refused[row["file"]] = error.reason
    assert refused == INSTRUCTION_REFUSALS
