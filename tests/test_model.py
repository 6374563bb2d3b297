"""Stages and labels as the built image sees them."""

from __future__ import annotations

import pytest

from dlink.model import ModelError, build
from dlink.syntax import parse


def labels(source: str, target: str | None = None, **build_args: str) -> list[tuple[str, str, frozenset[str]]]:
    model = build(parse(source.encode()), build_args)
    return [(s.key, s.value, s.unresolved) for s in model.image_labels(target)]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param("FROM a\nLABEL k=v\n", [("k", "v", frozenset())], id="plain"),
        pytest.param('FROM a\nLABEL "k"="a b" j=\'$x\'\n', [("k", "a b", frozenset()), ("j", "$x", frozenset())], id="quotes"),
        pytest.param("FROM a AS b\nLABEL k=1\nFROM c\nLABEL j=2\n", [("j", "2", frozenset())], id="builder-stage-does-not-count"),
        pytest.param("FROM a AS base\nLABEL k=1\nFROM BASE\nLABEL j=2\n", [("k", "1", frozenset()), ("j", "2", frozenset())], id="from-stage-inherits-case-insensitive"),
        pytest.param("ARG U=x\nFROM a\nLABEL k=$U\n", [("k", "", frozenset())], id="global-arg-not-visible-without-redeclare"),
        pytest.param("ARG U=x\nFROM scratch\nLABEL k=$U\n", [("k", "", frozenset())], id="from-scratch-unset-is-empty"),
        pytest.param("ARG U=x\nFROM a\nARG U\nLABEL k=$U\n", [("k", "x", frozenset())], id="redeclared-global-arg"),
        pytest.param("FROM a\nARG U=d\nLABEL k=$U\n", [("k", "d", frozenset())], id="stage-arg-default"),
        pytest.param("FROM a\nARG U\nLABEL k=$U\n", [("k", "", frozenset({"U"}))], id="arg-without-value-is-unknown"),
        pytest.param("FROM a\nARG U\nLABEL k=${U:-d}\n", [("k", "d", frozenset())], id="arg-without-value-gives-the-fallback"),
        pytest.param("FROM a\nARG U\nLABEL k=${U-d}/$U\n", [("k", "d/", frozenset({"U"}))], id="fallback-and-plain-use-is-unknown"),
        pytest.param("FROM a\nLABEL k=${U:-d}\n", [("k", "d", frozenset({"U"}))], id="fallback-of-undeclared-may-come-from-base"),
        pytest.param("FROM a\nENV E=e\nLABEL k=${E}x\n", [("k", "ex", frozenset())], id="env"),
        pytest.param("FROM a AS b\nENV E=e\nFROM b\nLABEL k=$E\n", [("k", "e", frozenset())], id="env-inherited-from-stage"),
        pytest.param("FROM a AS b\nARG A=1\nFROM b\nLABEL k=$A\n", [("k", "", frozenset({"A"}))], id="arg-not-inherited"),
        pytest.param("ARG IMG=base\nFROM a AS base\nLABEL k=1\nFROM ${IMG}\n", [("k", "1", frozenset())], id="from-stage-through-arg"),
        pytest.param("FROM a\nONBUILD LABEL k=1\n", [], id="onbuild-not-a-label"),
        pytest.param("FROM a\nRUN <<EOF\nLABEL k=1\nEOF\n", [], id="heredoc-not-a-label"),
    ],
)
def test_image_labels(source: str, expected: list[tuple[str, str, frozenset[str]]]) -> None:
    assert labels(source) == expected


def test_build_args_override_defaults() -> None:
    source = "ARG G=g\nFROM a\nARG G\nARG S=s\nLABEL g=$G s=$S\n"
    assert labels(source) == [("g", "g", frozenset()), ("s", "s", frozenset())]
    assert labels(source, G="G", S="S") == [("g", "G", frozenset()), ("s", "S", frozenset())]


def test_target() -> None:
    source = "FROM a AS web\nLABEL k=web\nFROM a AS worker\nLABEL k=worker\n"
    assert labels(source) == [("k", "worker", frozenset())]
    assert labels(source, target="WEB") == [("k", "web", frozenset())]
    with pytest.raises(ModelError, match="'nope' not found"):
        labels(source, target="nope")


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        pytest.param("LABEL k=v\n", "no FROM", id="no-from"),
        pytest.param("RUN x\nFROM a\n", "before the first FROM", id="instruction-before-from"),
        pytest.param('FROM a\nLABEL k="open\n', "double-quote", id="unterminated-quote"),
    ],
)
def test_refused(source: str, reason: str) -> None:
    with pytest.raises(ModelError) as refused:
        build(parse(source.encode()))
    assert reason in refused.value.reason


@pytest.mark.parametrize(
    ("source", "out_of_scope"),
    [
        pytest.param("ARG U=x\nFROM a\nLABEL k=$U\n", {"U"}, id="global-arg-used-in-stage"),
        pytest.param("ARG U\nFROM a\nLABEL k=${U:-d}\n", {"U"}, id="global-arg-without-value"),
        pytest.param("FROM a\nLABEL k=$TARGETOS\n", {"TARGETOS"}, id="platform-arg-undeclared-in-stage"),
        pytest.param("ARG U=x\nFROM a\nARG U\nLABEL k=$U\n", set(), id="redeclared"),
        pytest.param("FROM a\nLABEL k=$OTHER\n", set(), id="not-a-global-arg"),
    ],
)
def test_out_of_scope_global_args(source: str, out_of_scope: set[str]) -> None:
    model = build(parse(source.encode()), {"U": "passed"})
    assert [set(s.out_of_scope) for s in model.image_labels()] == [out_of_scope]


@pytest.mark.parametrize(
    ("platform", "expected"),
    [
        pytest.param("linux/amd64", "linux-amd64-", id="amd64"),
        pytest.param("linux/arm/v7", "linux-arm-v7", id="arm-variant"),
    ],
)
def test_platform_args_in_global_scope(platform: str, expected: str) -> None:
    source = (
        "FROM a AS bin-linux-amd64-\nLABEL k=amd\nFROM a AS bin-linux-arm-v7\nLABEL k=arm\n"
        "FROM bin-$TARGETOS-$TARGETARCH-$TARGETVARIANT AS bin\n"
        "ARG TARGETPLATFORM\nARG BUILDPLATFORM\nLABEL p=$TARGETPLATFORM b=$BUILDPLATFORM\n"
    )
    model = build(parse(source.encode()), platform=platform)
    assert model.target().base == "bin-" + expected
    labels = {s.key: s.value for s in model.image_labels()}
    assert labels == {"k": "amd" if "amd" in platform else "arm", "p": platform, "b": "linux/amd64"}


def test_env_wins_over_arg_of_the_same_name() -> None:
    # BuildKit: "Environment variables defined using ENV always override an ARG of the same name."
    assert labels("FROM a\nENV V=env\nARG V=arg\nLABEL k=$V\n") == [("k", "env", frozenset())]


def test_parse_platforms() -> None:
    from dlink.model import parse_platforms

    assert parse_platforms([]) == ("linux/amd64",)
    assert parse_platforms(["linux/arm64,linux/arm/v7", "LINUX/ARM64", "windows/amd64"]) == (
        "linux/arm64",
        "linux/arm/v7",
        "windows/amd64",
    )
    for bad in ("linux", "linux/", "/amd64", "linux/arm/v7/x", "linux amd64"):
        with pytest.raises(ValueError, match="os/arch"):
            parse_platforms([bad])
