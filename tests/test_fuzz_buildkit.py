"""Differential fuzzing: generated Dockerfiles read by dlink and by BuildKit's own parser.

The strategy lives in dockerfile_strategy.py. Properties:
- every file dlink reads gives back its exact bytes (lossless);
- dlink's line reader (`parse_text`) sees the same instructions, and refuses the
  same files, as the official parser (the `dockerfile` binding of BuildKit
  v0.12.5); `parse` refuses a file only where the line reader does, or where one
  of BuildKit's instruction-level checks does (dlink.syntax.instructions);
- `dlink.engine.fix` never raises and a second run changes nothing.

The suite runs the bounded "dlink" profile. `DLINK_FUZZ=long` runs the long one
(thousands of files); the counts are in the README.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings

from dlink.engine import fix
from dlink.rules import Context
from dlink.syntax import ParseError, parse
from dlink.syntax.reader import parse_text
from dlink.syntax.text import DecodeError, decode
from dockerfile_strategy import dockerfiles
from oracle import as_oracle, oracle, oracle_view

settings.register_profile(
    "dlink",
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "dlink-long",
    max_examples=20_000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
PROFILE = "dlink-long" if os.environ.get("DLINK_FUZZ") == "long" else "dlink"
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


@pytest.mark.oracle
@settings(settings.get_profile(PROFILE))
@given(data=dockerfiles())
def test_reader_agrees_with_buildkit(data: bytes) -> None:
    buildkit = oracle()
    try:
        expected: list[dict[str, object]] | None = [
            oracle_view(c) for c in buildkit.parse_string(data.decode("utf-8"))
        ]
    except buildkit.GoParseError:
        expected = None
    got = _line_reader(data)
    if expected is None:
        assert isinstance(got, ParseError)
        assert got.line >= 1 and "\n" not in got.reason
        return
    assert got == expected
    try:
        model = parse(data)
    except ParseError as error:
        # Only an instruction-level refusal may add to what the line parser refuses.
        assert error.instruction_level, error
        return
    assert model.to_bytes() == data


@settings(settings.get_profile(PROFILE))
@given(data=dockerfiles())
def test_fix_never_raises_and_is_idempotent(data: bytes) -> None:
    context = Context("Dockerfile", URL)
    first = fix(data, context)
    second = fix(first.data, context)
    assert second.data == first.data
    assert not second.changed
