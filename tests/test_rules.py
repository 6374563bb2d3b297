"""Each rule as data: what it finds, and what `fix` makes of the file (run twice)."""

from __future__ import annotations

import pytest

import oracle as oracle_module
from dlink.engine import Selection, analyse, fix
from dlink.rules import ALL_RULES, Context

REPO = "https://github.com/monalisa/my_repo"
SRC = "org.opencontainers.image.source"


def _context(**overrides: object) -> Context:
    values: dict[str, object] = {"path": "Dockerfile", "repo_url": REPO}
    values.update(overrides)
    return Context(**values)  # type: ignore[arg-type]


# (input, codes found, fixed output or None when fix must leave the file alone)
CASES = [
    # -- nothing to do --------------------------------------------------------------
    pytest.param(f'FROM a\nLABEL {SRC}="{REPO}"\n', [], None, id="ok"),
    pytest.param(f"FROM a\nLABEL {SRC}={REPO}\n", [], None, id="ok-unquoted"),
    pytest.param(
        f"FROM a\nLABEL {SRC}='https://github.com/MonaLisa/My_Repo'\n",
        [],
        None,
        id="ok-github-case",
    ),
    pytest.param(
        f"ARG R={REPO}\nFROM a\nARG R\nLABEL {SRC}=$R\n", [], None, id="ok-from-global-arg"
    ),
    pytest.param(
        f'FROM a AS base\nLABEL {SRC}="{REPO}"\nFROM base\n', [], None, id="ok-inherited-stage"
    ),
    pytest.param(
        f'FROM a\nLABEL {SRC}="{REPO}"\nRUN <<EOF\nLABEL {SRC}=x\nEOF\n',
        [],
        None,
        id="heredoc-label-is-data",
    ),
    # -- DLK101 -----------------------------------------------------------------------
    pytest.param(
        "FROM a\nRUN x\n", ["DLK101"], f'FROM a\nLABEL {SRC}="{REPO}"\nRUN x\n', id="101-after-from"
    ),
    pytest.param(
        "FROM a\r\nLABEL x=1 \\\r\n  y=2\r\nCMD z\r\n",
        ["DLK101"],
        f'FROM a\r\nLABEL x=1 \\\r\n  y=2\r\nLABEL {SRC}="{REPO}"\r\nCMD z\r\n',
        id="101-after-last-label-crlf",
    ),
    pytest.param("FROM a", ["DLK101"], f'FROM a\nLABEL {SRC}="{REPO}"', id="101-no-newline-at-eof"),
    pytest.param(
        "FROM a \\", ["DLK101"], f'FROM a \nLABEL {SRC}="{REPO}"', id="101-eof-inside-continuation"
    ),
    pytest.param(
        f'FROM b AS build\nLABEL {SRC}="{REPO}"\nFROM a\nCOPY --from=build /x /x\n',
        ["DLK101"],
        f'FROM b AS build\nLABEL {SRC}="{REPO}"\nFROM a\nLABEL {SRC}="{REPO}"\nCOPY --from=build /x /x\n',
        id="101-label-only-in-builder",
    ),
    pytest.param(
        f"FROM a\nONBUILD LABEL {SRC}={REPO}\n",
        ["DLK101"],
        f'FROM a\nLABEL {SRC}="{REPO}"\nONBUILD LABEL {SRC}={REPO}\n',
        id="101-onbuild-does-not-count",
    ),
    pytest.param(
        "\ufeffFROM a\nRUN <<EOF\necho\nEOF\n",
        ["DLK101"],
        f'\ufeffFROM a\nLABEL {SRC}="{REPO}"\nRUN <<EOF\necho\nEOF\n',
        id="101-bom-kept",
    ),
    pytest.param("# dlink: ignore=DLK101\nFROM a\n", [], None, id="101-suppressed"),
    pytest.param("# dlink: skip-file\nFROM a\n", [], None, id="skip-file"),
    # -- DLK102 -----------------------------------------------------------------------
    pytest.param(
        f'FROM a\nLABEL {SRC}="https://github.com/fork/my_repo" x=1\n',
        ["DLK102"],
        f'FROM a\nLABEL {SRC}="{REPO}" x=1\n',
        id="102-fork",
    ),
    pytest.param(
        f"FROM a\nLABEL {SRC}='https://gitlab.com/a/b'\n",
        ["DLK102"],
        f"FROM a\nLABEL {SRC}='{REPO}'\n",
        id="102-keeps-single-quotes",
    ),
    pytest.param(
        f"ARG R=https://github.com/fork/x\nFROM a\nARG R\nLABEL {SRC}=$R\n",
        ["DLK102"],
        None,
        id="102-from-variable-not-fixed",
    ),
    # -- DLK103 -----------------------------------------------------------------------
    pytest.param(
        f"FROM a\nLABEL {SRC}={REPO}.git\n",
        ["DLK103"],
        f"FROM a\nLABEL {SRC}={REPO}\n",
        id="103-dot-git",
    ),
    pytest.param(
        f'FROM a\nLABEL {SRC}="git@github.com:monalisa/my_repo.git"\n',
        ["DLK103"],
        f'FROM a\nLABEL {SRC}="{REPO}"\n',
        id="103-scp",
    ),
    pytest.param(
        f"FROM a\nLABEL {SRC}={REPO}/\n",
        ["DLK103"],
        f"FROM a\nLABEL {SRC}={REPO}\n",
        id="103-trailing-slash",
    ),
    # -- DLK104 -----------------------------------------------------------------------
    pytest.param(
        f'FROM a\nLABEL {SRC}="https://x-access-token:ghs_s3cret@github.com/monalisa/my_repo"\n',
        ["DLK104"],
        f'FROM a\nLABEL {SRC}="{REPO}"\n',
        id="104-token",
    ),
    # -- DLK105 -----------------------------------------------------------------------
    pytest.param(f"FROM a\nARG R\nLABEL {SRC}=$R\n", ["DLK105"], None, id="105-arg-without-value"),
    pytest.param(
        f"FROM a\nLABEL {SRC}=${{UNSET}}\n", ["DLK105"], None, id="105-maybe-from-base-image"
    ),
    # -- DLK106 -----------------------------------------------------------------------
    pytest.param(
        f"FROM a\nLABEL {SRC} {REPO}\n",
        ["DLK106"],
        f'FROM a\nLABEL {SRC}="{REPO}"\n',
        id="106-legacy",
    ),
    pytest.param(
        f'FROM a\nLABEL {SRC}="{REPO}"\nLABEL maintainer Jane Doe\n',
        ["DLK106"],
        f'FROM a\nLABEL {SRC}="{REPO}"\nLABEL maintainer="Jane Doe"\n',
        id="106-legacy-with-spaces",
    ),
    pytest.param(
        'FROM a\nLABEL maintainer "Perry Skountrianos"\n',
        ["DLK101", "DLK106"],
        f'FROM a\nLABEL maintainer="Perry Skountrianos"\nLABEL {SRC}="{REPO}"\n',
        id="106-legacy-one-quoted-word",
    ),
    pytest.param(
        'FROM a\nLABEL maintainer James "j@x" \\\\y\n',
        ["DLK101", "DLK106"],
        f'FROM a\nLABEL maintainer="James j@x \\\\y"\nLABEL {SRC}="{REPO}"\n',
        id="106-legacy-requoted-same-value",
    ),
    pytest.param(
        f'FROM a\nLABEL {SRC}="{REPO}"\nLABEL version $V "x"\n',
        ["DLK106"],
        None,
        id="106-legacy-with-variable-left-alone",
    ),
    # -- DLK107 -----------------------------------------------------------------------
    pytest.param(
        f'FROM a\nLABEL {SRC}="https://github.com/old/name" a=1\nLABEL {SRC}="{REPO}"\n',
        ["DLK107"],
        f'FROM a\nLABEL a=1\nLABEL {SRC}="{REPO}"\n',
        id="107-duplicate-in-multi-pair",
    ),
    pytest.param(
        f'FROM a\nLABEL {SRC}="https://github.com/old/name"\n# keep me\nLABEL {SRC}="{REPO}"\n',
        ["DLK107"],
        f'FROM a\n# keep me\nLABEL {SRC}="{REPO}"\n',
        id="107-whole-instruction",
    ),
    pytest.param(
        f'FROM a AS base\nLABEL {SRC}="https://github.com/old/name"\nFROM base\nLABEL {SRC}="{REPO}"\n',
        ["DLK107"],
        None,
        id="107-other-stage-reported-only",
    ),
]


@pytest.mark.parametrize(("source", "codes", "fixed"), CASES)
def test_rule(source: str, codes: list[str], fixed: str | None) -> None:
    data = source.encode("utf-8")
    analysis = analyse(data, _context())
    assert [f.code for f in analysis.findings] == codes
    result = fix(data, _context())
    expected = (fixed if fixed is not None else source).encode("utf-8")
    assert result.data == expected
    assert result.changed == (fixed is not None)
    again = fix(result.data, _context())
    assert not again.changed, "fix must be idempotent"
    assert not [f for f in again.remaining if f.fixable]
    assert result.withheld is None and again.withheld is None
    if oracle_module._oracle is not None and fixed is not None:
        # BuildKit reads every instruction but LABEL exactly as before (where the oracle
        # has a wheel; test_fix_safety covers the same with the oracle made mandatory).
        def others(text: str) -> list[dict[str, object]]:
            views = [oracle_module.oracle_view(c) for c in oracle_module.oracle().parse_string(text)]
            return [
                {k: v for k, v in view.items() if k not in ("start_line", "end_line")}
                for view in views
                if str(view["cmd"]).lower() != "label"
            ]

        assert others(result.data.decode("utf-8-sig")) == others(source.lstrip("\ufeff"))


def test_build_arg_resolves_an_unresolved_label() -> None:
    data = f"FROM a\nARG R\nLABEL {SRC}=$R\n".encode()
    assert [f.code for f in analyse(data, _context(build_args={"R": REPO})).findings] == []
    found = analyse(data, _context(build_args={"R": "https://github.com/x/y"})).findings
    assert [f.code for f in found] == ["DLK102"]


def test_target_picks_the_stage() -> None:
    data = f'FROM a AS web\nLABEL {SRC}="{REPO}"\nFROM b AS worker\n'.encode()
    assert [f.code for f in analyse(data, _context()).findings] == ["DLK101"]
    assert analyse(data, _context(target="web")).findings == []
    unknown = analyse(data, _context(target="nope")).findings
    assert [f.code for f in unknown] == ["DLK000"] and "nope" in unknown[0].message


def test_secret_never_in_messages() -> None:
    data = f'FROM a\nLABEL {SRC}="https://bob:hunter2@github.com/fork/x"\n'.encode()
    messages = " ".join(f.message for f in analyse(data, _context()).findings)
    assert "hunter2" not in messages and messages


def test_selection() -> None:
    data = b"FROM a\nLABEL maintainer Jane\n"
    assert [f.code for f in analyse(data, _context(), Selection(ignore=("DLK101",))).findings] == [
        "DLK106"
    ]
    assert [f.code for f in analyse(data, _context(), Selection(select=("DLK101",))).findings] == [
        "DLK101"
    ]


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        pytest.param(b"", "no instructions", id="empty"),
        pytest.param(b"RUN x\n", "FROM", id="no-from"),
        pytest.param(
            f'FROM a\nLABEL {SRC}="unterminated\n'.encode(), "double-quote", id="unterminated-quote"
        ),
    ],
)
def test_unreadable(source: bytes, reason: str) -> None:
    findings = analyse(source, _context()).findings
    assert [f.code for f in findings] == ["DLK000"]
    assert reason in findings[0].message


def test_every_rule_documents_a_bad_and_a_good_example() -> None:
    codes = [rule.info.code for rule in ALL_RULES]
    assert codes == sorted(set(codes))
    for rule in ALL_RULES:
        assert rule.info.doc.startswith(f"{rule.info.code} {rule.info.name}:")
        assert "Bad:" in rule.info.doc and "Good:" in rule.info.doc


@pytest.mark.parametrize(
    "body",
    [
        pytest.param('LABEL note="x"\nRUN echo "#"\n', id="plain"),
        pytest.param('LABEL note="x"\nRUN a && \\\n    # comment\n    b\n', id="continuation"),
        pytest.param('# a comment\n\nLABEL note="x"\nRUN <<EOF\n# data\nEOF\n', id="heredoc"),
    ],
)
def test_a_file_without_directives_scans_as_the_full_pass_would(body: str) -> None:
    # scan() answers a file with no `dlink:` anywhere without its per-line passes. The
    # same lines with `dlink:` where it is no directive (a LABEL value) take the full
    # passes: both must give the same value, instruction spans included.
    from dlink.directives import scan
    from dlink.rules import RULES_BY_CODE
    from dlink.syntax import parse

    quick = parse(("FROM a\n" + body).encode())
    full = parse(("FROM a\n" + body.replace('note="x"', 'note="dlink:"')).encode())
    assert "dlink:" not in quick.text and "dlink:" in full.text
    assert len(quick.lines) == len(full.lines)
    assert scan(quick, RULES_BY_CODE) == scan(full, RULES_BY_CODE)
    assert scan(quick, RULES_BY_CODE).items == ()
