"""`dlink fix` on every corpus file BuildKit accepts: the label is right and nothing else moved."""

from __future__ import annotations

import difflib

import pytest

from conftest import corpus_or_skip
from dlink.engine import analyse, fix
from dlink.model import build
from dlink.rules import SOURCE_KEY, Context
from dlink.syntax import Dockerfile, ParseError, parse
from oracle import oracle, oracle_view
from test_syntax_corpus import FILES

URL = "https://github.com/acme/widget"


def _label_lines(model: Dockerfile) -> set[int]:
    """0-based indexes of the lines that belong to LABEL instructions."""
    lines: set[int] = set()
    for instruction in model.instructions:
        if instruction.name == "label":
            lines.update(range(instruction.start_line - 1, instruction.end_line))
    return lines


def _without_lines(view: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in view.items() if k not in ("start_line", "end_line")}


@pytest.mark.oracle
@pytest.mark.parametrize("name", FILES)
def test_fix_corpus_file(name: str) -> None:
    buildkit = oracle()
    data = (corpus_or_skip() / name).read_bytes()
    try:
        before = buildkit.parse_string(data.decode("utf-8"))
    except (UnicodeDecodeError, buildkit.GoParseError):
        pytest.skip("BuildKit rejects this file; the reader tests cover the refusal")
    context = Context(name, URL)
    result = fix(data, context)
    try:
        parse(data)
    except ParseError as refused:
        # BuildKit's instruction parser refuses it (tests/test_instructions.py): never "fixed".
        assert refused.instruction_level
        assert not result.changed
        assert [f.message for f in result.remaining] == [refused.reason]
        return
    if not any(c.cmd.lower() == "from" for c in before):
        # BuildKit parses it, but there is no stage to build: nothing to label.
        assert not result.changed
        assert [f.code for f in result.remaining] == ["DLK000"]
        assert "FROM" in result.remaining[0].message
        return

    # BuildKit still reads the fixed file, and every non-LABEL instruction is the same.
    after = buildkit.parse_string(result.data.decode("utf-8"))
    keep = [_without_lines(oracle_view(c)) for c in before if c.cmd.lower() != "label"]
    assert [_without_lines(oracle_view(c)) for c in after if c.cmd.lower() != "label"] == keep

    # Only LABEL lines changed, plus at most one inserted line.
    old_model, new_model = parse(data), parse(result.data)
    old_lines = old_model.text.splitlines(keepends=True)
    new_lines = new_model.text.splitlines(keepends=True)
    old_labels, new_labels = _label_lines(old_model), _label_lines(new_model)
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    last = len(old_lines) - 1
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        touched_old = set(range(i1, i2)) - old_labels
        # The file's last line may gain the line ending that the insertion after it needs.
        if touched_old == {last} and not old_lines[last].endswith("\n"):
            assert any(
                new_lines[j].rstrip("\r\n") == old_lines[last].rstrip(" \\`")
                or new_lines[j].rstrip("\r\n") == old_lines[last]
                for j in range(j1, j2)
            )
            touched_old = set()
        assert not touched_old, (tag, old_lines[i1:i2])
        # A line cut where BuildKit would have continued (file ending in a
        # continuation) is the one non-LABEL line a fix may touch.
        touched = set(range(j1, j2)) - new_labels
        assert all(
            not new_lines[j].rstrip("\r\n").endswith((" ", "\\", "`")) or j in new_labels
            for j in touched
        )
        assert len(touched) <= 1, (tag, new_lines[j1:j2])
    assert len(new_lines) - len(old_lines) <= 1
    assert old_model.has_bom == new_model.has_bom

    # The image's source label is the URL, or a variable reported as DLK105.
    again = analyse(result.data, context).findings
    settings = [s for s in build(new_model).image_labels() if s.key == SOURCE_KEY]
    assert settings, "the fixed image has no source label"
    if settings[-1].unresolved:
        assert [f.code for f in again] == ["DLK105"]
    else:
        assert settings[-1].value == URL
        assert [f.code for f in again if f.code.startswith("DLK1")] == []

    # Idempotent.
    assert not fix(result.data, context).changed
