"""`dlink repo` end to end: exit codes, stdout, stderr, JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dlink.cli import app, main
from gitrepo import commit_file, make_repo

GH = "https://github.com/monalisa/my_repo"
DLINK = Path(sys.executable).parent / "dlink"
runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["repo", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = make_repo(tmp_path / "r", remotes={"origin": "git@github.com:monalisa/my_repo.git"})
    commit_file(repo, "svc/api/Dockerfile")
    return repo


def test_prints_the_url(repo: Path) -> None:
    assert run(str(repo / "svc" / "api" / "Dockerfile")) == (0, GH + "\n", "")


def test_default_path_is_the_current_directory(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo / "svc")
    assert run() == (0, GH + "\n", "")


REMOTES = {"origin": GH, "fork": "https://github.com/o/fork"}


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(
            [],
            {"url": GH, "source": "remote:origin", "remote": "origin",
             "reason": "named 'origin' (dlink prefers upstream, github, origin)",
             "remote_url": "git@github.com:monalisa/my_repo.git", "remotes": REMOTES},
            id="from-remote",
        ),
        pytest.param(
            ["--repo-url", "git@gitlab.com:group/sub/project.git"],
            {"url": "https://gitlab.com/group/sub/project", "source": "flag", "remote": None,
             "reason": "--repo-url", "remote_url": None, "remotes": {}},
            id="from-flag",
        ),
        pytest.param(
            ["--remote", "fork"],
            {"url": "https://github.com/o/fork", "source": "remote:fork", "remote": "fork",
             "reason": "chosen with --remote", "remote_url": "https://***@github.com/o/fork.git",
             "remotes": REMOTES},
            id="from-named-remote-redacted",
        ),
    ],
)  # fmt: skip
def test_json(repo: Path, args: list[str], expected: dict[str, str | None]) -> None:
    token_url = "https://ghp_0123456789abcdefghijklmnopqrstuvwxyz@github.com/o/fork.git"
    subprocess.run(["git", "remote", "add", "fork", token_url], cwd=repo, check=True)
    code, stdout, stderr = run("--json", *args, str(repo / "Dockerfile"))
    assert (code, stderr) == (0, "")
    assert json.loads(stdout) == expected


def test_config_repo_url(repo: Path) -> None:
    (repo / ".dlink.toml").write_text('repo-url = "https://github.com/config/repo.git"\n')
    code, stdout, _ = run("--json", str(repo / "svc" / "api" / "Dockerfile"))
    assert (code, json.loads(stdout)["source"]) == (0, "config")
    assert run("--repo-url", GH, str(repo))[1] == GH + "\n"


def test_github_actions(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.com")
    monkeypatch.setenv("GITHUB_REPOSITORY", "ci/built")
    code, stdout, _ = run("--json", str(repo))
    assert (code, json.loads(stdout)["source"], json.loads(stdout)["url"]) == (
        0,
        "ci:github",
        "https://github.com/ci/built",
    )


@pytest.mark.parametrize(
    ("setup", "args", "message", "hint"),
    [
        pytest.param("plain", ["{tmp}"], "{tmp} is not inside a git repository", "--repo-url", id="not-a-repository"),
        pytest.param("plain", ["{tmp}/missing/Dockerfile"], "{tmp}/missing/Dockerfile: no such file or directory", "directory", id="missing-path"),
        pytest.param("no-remote", ["{tmp}/r"], "the repository at {tmp}/r has no git remote", "git remote add", id="no-remote"),
        pytest.param("two-remotes", ["{tmp}/r"], "names the repository: a, b", "--remote NAME", id="ambiguous"),
        pytest.param("two-remotes", ["--remote", "c", "{tmp}/r"], "has no remote named 'c'", "--remote NAME", id="unknown-remote"),
        pytest.param("local-remote", ["{tmp}/r"], "remote 'origin': cannot use '/srv/git/r.git'", "--repo-url", id="local-remote"),
        pytest.param("plain", ["--repo-url", "github.com", "{tmp}"], "--repo-url: cannot use 'github.com'", "--repo-url", id="bad-flag"),
    ],
)  # fmt: skip
def test_errors(tmp_path: Path, setup: str, args: list[str], message: str, hint: str) -> None:
    remotes = {
        "plain": None,
        "no-remote": {},
        "two-remotes": {"a": "https://github.com/o/a", "b": "https://github.com/o/b"},
        "local-remote": {"origin": "/srv/git/r.git"},
    }[setup]
    if remotes is not None:
        make_repo(tmp_path / "r", remotes=remotes)
    code, stdout, stderr = run(*(arg.format(tmp=tmp_path) for arg in args))
    assert (code, stdout) == (2, "")
    error_line, hint_line = stderr.splitlines()
    assert error_line.startswith("dlink: error: ")
    assert message.format(tmp=tmp_path) in error_line
    assert hint_line.startswith("hint: ") and hint in hint_line


def test_help_has_an_example() -> None:
    result = runner.invoke(app, ["repo", "--help"])
    assert result.exit_code == 0
    assert "dlink repo services/api/Dockerfile" in result.stdout
    for option in ("--json", "--repo-url", "--remote"):
        assert option in result.stdout


def test_main_returns_the_exit_code(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["repo", str(repo)]) == 0
    assert capsys.readouterr().out == GH + "\n"
    assert main(["repo", str(repo / "missing")]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("dlink: error: ")


@pytest.mark.parametrize(
    ("target", "code", "stdout"),
    [
        pytest.param("Dockerfile", 0, GH + "\n", id="success"),
        pytest.param("missing", 2, "", id="error"),
    ],
)
def test_console_script(repo: Path, target: str, code: int, stdout: str) -> None:
    completed = subprocess.run(
        [str(DLINK), "repo", str(repo / target)], capture_output=True, text=True, check=False
    )
    assert (completed.returncode, completed.stdout) == (code, stdout)
    assert "Traceback" not in completed.stderr
    assert len(completed.stderr.splitlines()) == (0 if code == 0 else 2)
