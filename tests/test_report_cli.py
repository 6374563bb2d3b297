"""Reports as CI reads them, end to end in real git repositories: paths from the root,
failed runs, stable fingerprints, --output-file, the step summary, colour, rule codes."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from clirun import run_cli
from gitrepo import git, make_repo
from test_report import assert_valid_sarif

REPO = "https://github.com/acme/widget"
SRC = "org.opencontainers.image.source"
WRONG = (
    f'FROM alpine AS build\nRUN true\n\nFROM alpine\nLABEL {SRC}="git@github.com:acme/widget.git"\n'
)
ANSI = "\033["

Run = tuple[int, str, str]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = make_repo(
        tmp_path / "widget", remotes={"origin": "git@github.com:acme/widget.git"}, commit=False
    )
    (root / "svc" / "a").mkdir(parents=True)
    (root / "svc" / "a" / "Dockerfile").write_text(WRONG)
    return root


@pytest.fixture
def dlink(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Any:
    def call(*argv: str) -> Run:
        return run_cli(list(argv), capsys, monkeypatch)

    return call


def results(sarif_text: str) -> list[dict[str, Any]]:
    document = json.loads(sarif_text)
    assert_valid_sarif(document)
    found: list[dict[str, Any]] = document["runs"][0]["results"]
    return found


def uri(result: dict[str, Any]) -> str:
    location: str = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    return location


@pytest.mark.parametrize("where", ["root", "subdirectory", "above"])
def test_sarif_paths_are_relative_to_the_repository_root(
    repo: Path, where: str, dlink: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    cwd = {"root": repo, "subdirectory": repo / "svc" / "a", "above": repo.parent}[where]
    monkeypatch.chdir(cwd)
    target = str((repo / "svc" / "a" / "Dockerfile").relative_to(cwd))
    code, out, _ = dlink("check", "--format", "sarif", target)
    assert code == 1
    document = json.loads(out)
    run = document["runs"][0]
    assert run["originalUriBaseIds"] == {"SRCROOT": {"uri": repo.resolve().as_uri() + "/"}}
    assert {uri(r) for r in results(out)} == {"svc/a/Dockerfile"}
    assert {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uriBaseId"]
        for r in run["results"]
    } == {"SRCROOT"}
    # Text keeps the path as the user gave it.
    _, text, _ = dlink("check", "--format", "text", target)
    assert text.startswith(f"{target}:")


def test_gitlab_paths_follow_ci_project_dir(
    repo: Path, dlink: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo.parent)
    _, out, _ = dlink("check", "--format", "gitlab", "widget")
    assert {i["location"]["path"] for i in json.loads(out)} == {"svc/a/Dockerfile"}
    monkeypatch.setenv("CI_PROJECT_DIR", str(repo / "svc"))
    _, out, _ = dlink("check", "--format", "gitlab", "widget")
    assert {i["location"]["path"] for i in json.loads(out)} == {"a/Dockerfile"}


def test_fingerprints_survive_an_inserted_line(repo: Path, dlink: Any) -> None:
    dockerfile = repo / "svc" / "a" / "Dockerfile"
    before = {
        fmt: dlink("check", "--format", fmt, str(dockerfile))[1] for fmt in ("sarif", "gitlab")
    }
    dockerfile.write_text("# a comment added above everything\n\n" + WRONG)
    after = {
        fmt: dlink("check", "--format", fmt, str(dockerfile))[1] for fmt in ("sarif", "gitlab")
    }
    old, new = results(before["sarif"]), results(after["sarif"])
    assert [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in new] != [
        r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in old
    ]
    assert [r["partialFingerprints"] for r in new] == [r["partialFingerprints"] for r in old]
    gitlab_old = [i["fingerprint"] for i in json.loads(before["gitlab"])]
    assert [i["fingerprint"] for i in json.loads(after["gitlab"])] == gitlab_old
    assert len(set(gitlab_old)) == len(gitlab_old) >= 1


def test_sarif_fix_objects_apply_to_the_file(repo: Path, dlink: Any) -> None:
    """The SARIF fix, applied as a code-scanning client would, gives what `dlink fix` writes."""
    dockerfile = repo / "svc" / "a" / "Dockerfile"
    text = dockerfile.read_text()
    fixable = [
        r for r in results(dlink("check", "--format", "sarif", str(dockerfile))[1]) if "fixes" in r
    ]
    assert fixable
    [change] = fixable[0]["fixes"][0]["artifactChanges"]
    for replacement in sorted(
        change["replacements"], key=lambda r: r["deletedRegion"]["charOffset"], reverse=True
    ):
        start = replacement["deletedRegion"]["charOffset"]
        end = start + replacement["deletedRegion"]["charLength"]
        text = text[:start] + replacement["insertedContent"]["text"] + text[end:]
    assert f'LABEL {SRC}="{REPO}"' in text or f"LABEL {SRC}={REPO}" in text


def test_a_failed_run_never_looks_clean(
    repo: Path, dlink: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file whose repository cannot be used (here: the remote is a local path) fails the
    run (exit 2); every machine format says so, naming the file from the repository root."""
    git(repo, "remote", "set-url", "origin", "/srv/git/widget.git")
    monkeypatch.chdir(repo / "svc")
    code, out, err = dlink("check", "--format", "sarif", ".")
    assert code == 2 and "dlink: error:" in err
    [invocation] = json.loads(out)["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is False
    [note] = invocation["toolExecutionNotifications"]
    assert note["level"] == "error"
    location = note["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location == {"uri": "svc/a/Dockerfile", "uriBaseId": "SRCROOT"}
    assert_valid_sarif(json.loads(out))
    for fmt in ("json", "gitlab"):
        code, out, _ = dlink("check", "--format", fmt, ".")
        assert code == 2
        document = json.loads(out)
        if fmt == "json":
            assert document["findings"] == [] and document["errors"]
        else:
            assert [i["check_name"] for i in document] == ["dlink-run-failed"]
            assert document[0]["severity"] == "blocker"


def test_a_config_error_still_writes_a_failed_report(
    repo: Path, dlink: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo)
    (repo / ".dlink.toml").write_text("fail-on = 3\n")
    code, _out, err = dlink("check", "--format", "sarif", "--output-file", "out.sarif")
    assert code == 2 and "fail-on" in err
    document = json.loads((repo / "out.sarif").read_text())
    assert document["runs"][0]["invocations"][0]["executionSuccessful"] is False
    assert_valid_sarif(document)


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github", "gitlab"])
def test_output_file_for_every_format_and_text_still_on_the_terminal(
    repo: Path, fmt: str, dlink: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo)
    report = repo / "reports" / f"dlink.{fmt}"
    report.parent.mkdir()
    code, out, _ = dlink("check", "--format", fmt, "--output-file", str(report))
    assert code == 1
    assert out.startswith("svc/a/Dockerfile:") and "finding" in out  # text, for people
    written = report.read_text()
    expected = dlink("check", "--format", fmt)[1]
    assert written == expected
    assert not list(report.parent.glob(".*dlink-tmp"))


def test_step_summary_under_github_actions(
    repo: Path, tmp_path: Path, dlink: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo)
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    code, out, _ = dlink("check")
    assert code == 1
    assert out.startswith(("::error file=svc/a/Dockerfile,", "::warning file=svc/a/Dockerfile,"))
    text = summary.read_text()
    assert text.startswith("earlier step\n### dlink\n")
    assert "| `svc/a/Dockerfile` |" in text


@pytest.mark.parametrize(
    ("argv", "message", "hint"),
    [
        pytest.param(
            ["--select", "DLK999"],
            "--select: unknown rule code 'DLK999'",
            "dlink rules",
            id="select",
        ),
        pytest.param(
            ["--ignore", "DLK1O1"],
            "--ignore: unknown rule code 'DLK1O1'",
            "did you mean DLK101?",
            id="letter-o",
        ),
        pytest.param(
            ["--select", "DLK1", "--ignore", "dlk13"],
            "unknown rule code 'dlk13'",
            "did you mean",
            id="lower",
        ),
    ],
)
def test_unknown_codes_are_usage_errors(
    repo: Path,
    argv: list[str],
    message: str,
    hint: str,
    dlink: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(repo)
    code, _out, err = dlink("check", *argv)
    assert code == 2
    assert message in err and hint in err


@pytest.mark.parametrize(
    ("toml", "hint"),
    [
        pytest.param('select = ["DLK999"]\n', "dlink rules", id="unknown"),
        pytest.param('ignore = ["DLK1O1"]\n', "did you mean DLK101?", id="letter-o"),
    ],
)
def test_config_refuses_unknown_codes_alike(
    repo: Path, toml: str, hint: str, dlink: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo)
    (repo / ".dlink.toml").write_text(toml)
    code, _, err = dlink("check")
    assert code == 2 and hint in err


@pytest.mark.parametrize(
    ("env", "argv", "coloured"),
    [
        pytest.param({}, [], False, id="not-a-terminal"),
        pytest.param({"FORCE_COLOR": "1"}, [], True, id="force-color"),
        pytest.param({"FORCE_COLOR": "1", "NO_COLOR": "1"}, [], False, id="no-color-wins"),
        pytest.param({"FORCE_COLOR": "1", "NO_COLOR": ""}, [], True, id="empty-no-color-ignored"),
        pytest.param({}, ["--color", "always"], True, id="always"),
        pytest.param({"FORCE_COLOR": "1"}, ["--color", "never"], False, id="never"),
    ],
)
def test_colour_follows_the_conventions(
    repo: Path,
    env: dict[str, str],
    argv: list[str],
    coloured: bool,
    dlink: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(repo)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    _, out, _ = dlink("check", *argv)
    assert (ANSI in out) is coloured
    _, diff, _ = dlink("fix", "--diff", *argv)
    assert diff.startswith(("--- a/", f"{ANSI}1m--- a/"))
    assert (ANSI in diff) is coloured


def test_term_dumb_is_plain_on_a_terminal() -> None:
    import io

    from dlink.cli.output import use_color

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert use_color("auto", Terminal(), {}) is True
    assert use_color("auto", Terminal(), {"TERM": "dumb"}) is False
    assert use_color("auto", Terminal(), {"NO_COLOR": ""}) is True
    assert use_color("auto", Terminal(), {"TERM": "dumb", "FORCE_COLOR": "1"}) is True


def test_colour_shows_code_frames(repo: Path, dlink: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo)
    _, out, _ = dlink("check", "--color", "always")
    plain_frame = re.sub(r"\033\[[0-9;]*m", "", out)
    assert f'5 | LABEL {SRC}="git@github.com:acme/widget.git"' in plain_frame
    assert "  | " + " " * 38 + "^" in plain_frame
    _, plain, _ = dlink("check")
    assert " | " not in plain  # not a terminal: one line per finding


def test_quiet(repo: Path, dlink: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo)
    code, out, _ = dlink("check", "--quiet")
    assert code == 1
    assert out and all(line.startswith("svc/a/Dockerfile:") for line in out.splitlines())
    code, _, err = dlink("fix", "--quiet")
    assert code == 0 and "fixed" not in err


@pytest.mark.parametrize(
    ("comment", "message"),
    [
        pytest.param("# dlink: ignore=DLK1O3", "unknown rule code DLK1O3 in dlink directive (did you mean DLK103?)", id="letter-o"),
        pytest.param("# dlink: ignore=XYZ9", "unknown rule code XYZ9 in dlink directive (see `dlink rules`)", id="far"),
    ],
)  # fmt: skip
def test_unknown_codes_in_directives_are_findings_with_the_same_suggestion(
    repo: Path, comment: str, message: str, dlink: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In a Dockerfile an unknown code is a finding (DLK110, with a location), not a usage
    error; it gets the suggestion --select and config give."""
    monkeypatch.chdir(repo)
    dockerfile = repo / "svc" / "a" / "Dockerfile"
    dockerfile.write_text(WRONG.replace("FROM alpine\nLABEL", f"FROM alpine\n{comment}\nLABEL", 1))
    code, out, _ = dlink("check", "--select", "DLK110")
    assert code == 1
    assert f"svc/a/Dockerfile:5:1: DLK110 [warning] {message}" in out
    reasoned = "# dlink: ignore=DLK103 -- a reason after the code\nLABEL"
    dockerfile.write_text(WRONG.replace("LABEL", reasoned, 1))
    assert dlink("check") == (0, "No findings.\n", "")  # a real code suppresses, as before
