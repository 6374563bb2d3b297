"""BuildKit's instruction-level refusals (dlink.syntax.instructions), one row each.

The `dockerfile` oracle binding exposes only BuildKit's line parser, so it
cannot judge these. The rows follow the behaviour BuildKit's
frontend/dockerfile/instructions/parse_test.go and bflag_test.go describe, and
each row is also run through a real builder where one is available: the Docker
daemon's classic builder (dockerd, `DOCKER_BUILDKIT=0`) turns lines into
instructions with BuildKit's own instructions package, so it must refuse the
same files with the same words (`same`), or at least refuse them (`refuses`:
its older BuildKit words it differently). Rows marked `newer` use what that
daemon's BuildKit predates (heredocs, `COPY --link`, `RUN --mount`); they are
checked against dlink only, as are BuildKit's automatic platform ARGs, which the
classic builder does not define. Accepted rows must build with the daemon.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from dlink.syntax import ParseError, parse, parse_lines
from servers import Dockerd

SAME, REFUSES, NEWER = "same", "refuses", "newer"

# (source, refused at line (None: accepted), BuildKit's message, what the daemon does)
REFUSED = [
    pytest.param(b"FROM scratch\nFOO bar\n", 2, "unknown instruction: FOO", SAME, id="unknown"),
    pytest.param(
        b"FROM scratch\n{% if x %}\nLABEL a=b\n{% endif %}\n",
        2,
        "unknown instruction: {%",
        SAME,
        id="jinja-template",
    ),
    pytest.param(
        b"FROM scratch x\n", 1, "FROM requires either one or three arguments", SAME, id="from-two"
    ),
    pytest.param(
        b"FROM scratch TO x\n",
        1,
        "FROM requires either one or three arguments",
        SAME,
        id="from-second-word-not-as",
    ),
    pytest.param(
        b"FROM --platform=linux/amd64\n",
        1,
        "FROM requires either one or three arguments",
        SAME,
        id="from-only-flags",
    ),
    pytest.param(
        b"FROM scratch AS 1st\n",
        1,
        'invalid name for build stage: "1st", name can\'t start with a number or contain symbols',
        SAME,
        id="stage-name-digit",
    ),
    pytest.param(
        b"FROM scratch AS a!\n",
        1,
        'invalid name for build stage: "a!", name can\'t start with a number or contain symbols',
        SAME,
        id="stage-name-symbol",
    ),
    pytest.param(
        b"FROM scratch AS a\nFROM scratch AS A\n",
        2,
        'duplicate stage name "a"',
        REFUSES,
        id="stage-name-twice",
    ),
    pytest.param(
        b"FROM $NOT_DECLARED\n",
        1,
        "base name ($NOT_DECLARED) should not be blank",
        SAME,
        id="base-name-blank",
    ),
    pytest.param(
        b"ARG V=1\nFROM scratch AS one\nARG TAG=3\nFROM ${TAG}\n",
        4,
        "base name (${TAG}) should not be blank",
        SAME,
        id="stage-arg-is-not-global",
    ),
    pytest.param(
        b"FROM scratch\nLABEL\n", 2, "LABEL requires at least one argument", SAME, id="label-empty"
    ),
    pytest.param(
        b"FROM scratch\nLABEL =x\n", 2, "LABEL names can not be blank", SAME, id="label-blank-key"
    ),
    pytest.param(
        b"FROM scratch\nENV A=1 =2\n", 2, "ENV names can not be blank", SAME, id="env-blank-key"
    ),
    pytest.param(
        b"FROM scratch\nARG\n", 2, "ARG requires at least one argument", SAME, id="arg-empty"
    ),
    pytest.param(
        b"FROM scratch\nARG =x\n", 2, "ARG names can not be blank", SAME, id="arg-blank-name"
    ),
    pytest.param(
        b"FROM scratch\nCOPY only-one\n",
        2,
        "COPY requires at least two arguments, but only one was provided. Destination could not be determined",
        SAME,
        id="copy-no-destination",
    ),
    pytest.param(
        b"FROM scratch\nADD \\\n  x\n",
        2,
        "ADD requires at least two arguments, but only one was provided. Destination could not be determined",
        SAME,
        id="add-no-destination",
    ),
    pytest.param(
        b"FROM scratch\nCOPY a <<EOF\nx\nEOF\n",
        2,
        "COPY cannot accept a heredoc as a destination",
        NEWER,
        id="copy-heredoc-destination",
    ),
    pytest.param(b"FROM scratch\nLABEL --foo a=b\n", 2, "Unknown flag: foo", SAME, id="label-flag"),
    pytest.param(b"FROM --foo=x scratch\n", 1, "Unknown flag: foo", SAME, id="from-unknown-flag"),
    pytest.param(
        b"FROM --platform scratch\n",
        1,
        "Missing a value on flag: platform",
        SAME,
        id="flag-no-value",
    ),
    pytest.param(
        b"FROM scratch\nCOPY --chown=1 --chown=2 a b\n",
        2,
        "Duplicate flag specified: chown",
        SAME,
        id="flag-twice",
    ),
    pytest.param(
        b"FROM scratch\nCOPY --link=maybe a /b\n",
        2,
        "Expecting boolean value for flag link, not: maybe",
        NEWER,
        id="bool-flag-value",
    ),
    pytest.param(b"FROM scratch\nRUN --foo=1 x\n", 2, "Unknown flag: foo", SAME, id="run-flag"),
    pytest.param(b"FROM scratch\nCMD --x=1 a\n", 2, "Unknown flag: x", SAME, id="cmd-flag"),
    pytest.param(
        b"FROM scratch\nWORKDIR\n", 2, "WORKDIR requires exactly one argument", SAME, id="workdir"
    ),
    pytest.param(b"FROM scratch\nUSER\n", 2, "USER requires exactly one argument", SAME, id="user"),
    pytest.param(
        b"FROM scratch\nMAINTAINER\n",
        2,
        "MAINTAINER requires exactly one argument",
        SAME,
        id="maintainer",
    ),
    pytest.param(
        b"FROM scratch\nSTOPSIGNAL\n",
        2,
        "STOPSIGNAL requires exactly one argument",
        SAME,
        id="stopsignal",
    ),
    pytest.param(
        b"FROM scratch\nEXPOSE\n", 2, "EXPOSE requires at least one argument", SAME, id="expose"
    ),
    pytest.param(
        b"FROM scratch\nVOLUME\n", 2, "VOLUME requires at least one argument", SAME, id="volume"
    ),
    pytest.param(
        b'FROM scratch\nVOLUME [""]\n',
        2,
        "VOLUME specified can not be an empty string",
        SAME,
        id="volume-empty-string",
    ),
    pytest.param(
        b"FROM scratch\nSHELL sh -c\n",
        2,
        "SHELL requires the arguments to be in JSON form",
        SAME,
        id="shell-not-json",
    ),
    pytest.param(
        b"FROM scratch\nSHELL []\n",
        2,
        "SHELL requires at least one argument",
        SAME,
        id="shell-empty",
    ),
    pytest.param(
        b"FROM scratch\nONBUILD\n", 2, "ONBUILD requires at least one argument", SAME, id="onbuild"
    ),
    pytest.param(
        b"FROM scratch\nONBUILD ONBUILD RUN x\n",
        2,
        "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed",
        SAME,
        id="onbuild-onbuild",
    ),
    pytest.param(
        b"FROM scratch\nonbuild from x\n",
        2,
        "FROM isn't allowed as an ONBUILD trigger",
        SAME,
        id="onbuild-from",
    ),
    pytest.param(
        b"FROM scratch\nHEALTHCHECK\n",
        2,
        "HEALTHCHECK requires at least one argument",
        SAME,
        id="hc",
    ),
    pytest.param(
        b"FROM scratch\nHEALTHCHECK NONE x\n",
        2,
        "HEALTHCHECK NONE takes no arguments",
        SAME,
        id="hc-none",
    ),
    pytest.param(
        b"FROM scratch\nHEALTHCHECK CMD\n",
        2,
        "Missing command after HEALTHCHECK CMD",
        SAME,
        id="hc-cmd",
    ),
    pytest.param(
        b"FROM scratch\nHEALTHCHECK FOO x\n",
        2,
        'Unknown type "FOO" in HEALTHCHECK (try CMD)',
        SAME,
        id="hc-type",
    ),
    pytest.param(
        b"FROM scratch\nHEALTHCHECK --interval=x CMD x\n",
        2,
        'time: invalid duration "x"',
        SAME,
        id="hc-duration",
    ),
    pytest.param(
        b"FROM scratch\nHEALTHCHECK --retries=-1 CMD x\n",
        2,
        "--retries cannot be negative (-1)",
        REFUSES,
        id="hc-retries",
    ),
]

ACCEPTED = [
    pytest.param(b"FROM scratch\nLABEL a=b\n", SAME, id="label"),
    pytest.param(b"from scratch as Build\nLABEL a=b\n", SAME, id="stage-name-any-case"),
    pytest.param(b"ARG B=scratch\nFROM $B\nLABEL a=b\n", SAME, id="base-from-global-arg"),
    pytest.param(b"ARG B\nFROM ${B:-scratch}\nLABEL a=b\n", SAME, id="base-fallback"),
    pytest.param(b"FROM scratch\nWORKDIR a b\nUSER a b\n", SAME, id="one-string-arguments"),
    pytest.param(b"FROM scratch\nSTOPSIGNAL --x=1 9\nARG --x=1 A\n", SAME, id="flags-never-read"),
    pytest.param(b"FROM scratch\nCMD\nENTRYPOINT\n", SAME, id="empty-cmd"),
    pytest.param(b"FROM scratch\nCOPY --chown=1 -- a /b\n", SAME, id="double-dash-ends-flags"),
    pytest.param(
        b"FROM scratch\nHEALTHCHECK --interval=1m30s --retries=3 CMD x\n", SAME, id="hc-ok"
    ),
    pytest.param(b'FROM scratch\nSHELL ["/bin/sh", "-c"]\nVOLUME /v\nEXPOSE 80\n', SAME, id="json"),
    pytest.param(b"FROM scratch\nONBUILD LABEL x=y\n", SAME, id="onbuild-label"),
    pytest.param(b"FROM scratch\nCOPY --link --exclude=*.md a /b\n", NEWER, id="newer-copy-flags"),
    pytest.param(
        b"FROM scratch\nRUN --mount=type=cache,target=/c --network=none make\n",
        NEWER,
        id="run-mount",
    ),
    pytest.param(b"FROM --platform=$BUILDPLATFORM scratch\n", NEWER, id="platform-flag"),
    pytest.param(b"FROM binaries-$TARGETOS\n", NEWER, id="platform-arg-base"),
    pytest.param(b"FROM scratch\nCOPY <<EOF /x\nhi\nEOF\n", NEWER, id="copy-heredoc-source"),
]


@pytest.mark.parametrize(("source", "line", "message", "daemon"), REFUSED)
def test_refused(source: bytes, line: int, message: str, daemon: str) -> None:
    parse_lines(source)  # BuildKit's line parser reads it: the refusal is the instruction's
    with pytest.raises(ParseError) as refused:
        parse(source)
    assert refused.value.instruction_level
    assert refused.value.reason == message
    assert refused.value.line == line


@pytest.mark.parametrize(("source", "daemon"), ACCEPTED)
def test_accepted(source: bytes, daemon: str) -> None:
    assert parse(source).to_bytes() == source


def _classic_build(
    dockerd_host: str, source: bytes, tmp_path: Path
) -> subprocess.CompletedProcess[str]:
    context = tmp_path / "context"
    context.mkdir()
    (context / "Dockerfile").write_bytes(source)
    (context / "a").write_text("a\n")
    env = {
        **os.environ,
        "DOCKER_HOST": dockerd_host,
        "DOCKER_BUILDKIT": "0",  # the classic builder: BuildKit's instructions package, no buildx
        "DOCKER_CONFIG": str(tmp_path / "docker-config"),
    }
    return subprocess.run(
        ["docker", "build", "-q", str(context)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(("source", "line", "message", "daemon"), REFUSED)
def test_the_docker_daemon_refuses_too(
    source: bytes, line: int, message: str, daemon: str, dockerd: Dockerd, tmp_path: Path
) -> None:
    if daemon == NEWER:
        pytest.skip("the daemon's BuildKit predates this syntax; checked against dlink only")
    result = _classic_build(dockerd.host, source, tmp_path)
    assert result.returncode != 0, result.stdout
    if daemon == SAME:
        assert message in result.stderr, result.stderr


@pytest.mark.parametrize(("source", "daemon"), ACCEPTED)
def test_the_docker_daemon_builds_too(
    source: bytes, daemon: str, dockerd: Dockerd, tmp_path: Path
) -> None:
    if daemon == NEWER:
        pytest.skip("the daemon's BuildKit predates this syntax; checked against dlink only")
    result = _classic_build(dockerd.host, source, tmp_path)
    assert result.returncode == 0, result.stderr
