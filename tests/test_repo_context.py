"""What the rules do with the repository facts dlink.repo gives them (engine, no git).

A table: the file, what is known about its repository (no repository, a remote's
guess, the user's word, other remotes of the checkout), the findings, and what a
default `fix` and an unsafe `fix` make of the file. Every fix is run twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pytest

from dlink.engine import analyse, fix
from dlink.findings import Severity
from dlink.rules import Context

PROJECT = "https://github.com/acme/widget"
FORK = "https://github.com/contributor/widget"
OLD = "https://github.com/old-owner/widget"
SRC = "org.opencontainers.image.source"


@dataclass(frozen=True)
class Known:
    """What dlink knows about the file's repository."""

    repo_url: str | None = None
    authoritative: bool = False
    remotes: Mapping[str, str] = field(default_factory=dict)

    def context(self) -> Context:
        return Context(
            "Dockerfile",
            self.repo_url,
            repo_authoritative=self.authoritative,
            repo_source="remote 'upstream'" if self.remotes else None,
            remotes=self.remotes,
        )


NOTHING = Known()
FORK_CLONE = Known(PROJECT, remotes={"upstream": PROJECT, "origin": FORK})
STALE = Known(OLD, remotes={"origin": OLD})
GIVEN = Known(PROJECT, authoritative=True)


def label(value: str, extra: str = "") -> str:
    return f'FROM alpine\n{extra}LABEL {SRC}="{value}"\n'


CASES = [
    # no repository: what needs none still works, nothing is invented
    pytest.param("FROM alpine\n", NOTHING, ["DLK101"], "FROM alpine\n", "FROM alpine\n", id="none-missing-not-inserted"),
    pytest.param(label(PROJECT + ".git"), NOTHING, ["DLK103"], label(PROJECT), label(PROJECT), id="none-canonical-form"),
    pytest.param(label("https://github.com/acme/widget/tree/main"), NOTHING, ["DLK103"], label(PROJECT), label(PROJECT), id="none-tree-suffix"),
    pytest.param(label("https://bob:hunter2@github.com/acme/widget"), NOTHING, ["DLK104"], label(PROJECT), label(PROJECT), id="none-credentials"),
    pytest.param(f"FROM alpine\nLABEL {SRC} {PROJECT}\n", NOTHING, ["DLK106"], label(PROJECT), label(PROJECT), id="none-legacy"),
    pytest.param(label(FORK), NOTHING, [], label(FORK), label(FORK), id="none-any-repository-passes"),
    # a fork clone: the project is upstream; the fork is a remote too
    pytest.param(label(PROJECT), FORK_CLONE, [], label(PROJECT), label(PROJECT), id="fork-project-label"),
    pytest.param("FROM alpine\n", FORK_CLONE, ["DLK101"], label(PROJECT), label(PROJECT), id="fork-inserts-project"),
    pytest.param(label(FORK), FORK_CLONE, ["DLK102"], label(FORK), label(FORK), id="fork-label-names-origin-info"),
    pytest.param(label("git@github.com:contributor/widget.git"), FORK_CLONE, ["DLK102", "DLK103"], label(FORK), label(FORK), id="fork-origin-canonicalised-to-itself"),
    pytest.param(label("https://x:ghp_tok@github.com/contributor/widget"), FORK_CLONE, ["DLK102", "DLK104"], label(FORK), label(FORK), id="fork-credentials-stripped-not-repointed"),
    # a stale remote: the label has the new name; repointing is unsafe
    pytest.param(label(PROJECT), STALE, ["DLK102"], label(PROJECT), label(OLD), id="stale-not-repointed"),
    pytest.param(label("https://github.com/someone/else"), STALE, ["DLK102"], label("https://github.com/someone/else"), label(OLD), id="remote-guess-unsafe"),
    pytest.param(label(PROJECT + ".git"), STALE, ["DLK102"], label(PROJECT + ".git"), label(OLD), id="stale-and-not-canonical"),
    # the user's word: repointing is safe
    pytest.param(label(OLD), GIVEN, ["DLK102"], label(PROJECT), label(PROJECT), id="given-repoints"),
    pytest.param(label(FORK), GIVEN, ["DLK102"], label(PROJECT), label(PROJECT), id="given-beats-fork"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "known", "codes", "fixed", "unsafe_fixed"), CASES)
def test_rules_with_repository_facts(
    text: str, known: Known, codes: list[str], fixed: str, unsafe_fixed: str
) -> None:
    context = known.context()
    assert sorted({f.code for f in analyse(text.encode(), context).findings}) == codes
    for unsafe, expected in ((False, fixed), (True, unsafe_fixed)):
        once = fix(text.encode(), context, unsafe_fixes=unsafe)
        assert once.data.decode() == expected
        twice = fix(once.data, context, unsafe_fixes=unsafe)
        assert twice.data == once.data  # idempotent


def test_other_remote_is_information_with_how_to_pin() -> None:
    (finding,) = analyse(label(FORK).encode(), FORK_CLONE.context()).findings
    assert (finding.code, finding.severity, finding.fixable) == ("DLK102", Severity.INFO, False)
    assert "remote 'origin'" in finding.message and 'remote = "origin"' in finding.message


@pytest.mark.parametrize(
    ("text", "stale"),
    [
        pytest.param(label(PROJECT), True, id="label-differs-by-owner"),
        pytest.param(label("https://github.com/old-owner/gadget"), True, id="label-differs-by-name"),
        pytest.param(label("https://github.com/someone/else"), False, id="unrelated"),
        pytest.param(
            label("https://github.com/someone/else", f'LABEL org.opencontainers.image.url="{PROJECT}"\n'),
            True,
            id="url-label-differs-by-owner",
        ),
    ],
)  # fmt: skip
def test_stale_remote_is_named(text: str, stale: bool) -> None:
    (finding,) = analyse(text.encode(), STALE.context()).findings
    assert ("the remote may be stale" in finding.message) is stale
    assert not finding.fix_safe
    assert finding.fix_title is not None and finding.fix_title.endswith(f"to {OLD}")


def test_authoritative_repository_never_says_stale() -> None:
    (finding,) = analyse(label(OLD).encode(), GIVEN.context()).findings
    assert finding.fix_safe and "stale" not in finding.message


def test_value_from_a_variable_is_never_replaced() -> None:
    text = f"FROM alpine\nARG SRC_URL={OLD}\nLABEL {SRC}=$SRC_URL\n"
    (finding,) = analyse(text.encode(), GIVEN.context()).findings
    assert finding.code == "DLK102" and not finding.fixable
    assert fix(text.encode(), GIVEN.context(), unsafe_fixes=True).data.decode() == text
