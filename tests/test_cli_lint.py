"""`dlink check` and `dlink fix` end to end, in real git repositories."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dlink.cli import main
from gitrepo import git, make_repo

REPO = "https://github.com/acme/widget"
SRC = "org.opencontainers.image.source"
GOOD = f'FROM alpine\nLABEL {SRC}="{REPO}"\n'


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = make_repo(
        tmp_path / "widget", remotes={"origin": "git@github.com:acme/widget.git"}, commit=False
    )
    return root


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode())
    return path


def test_check_finds_then_fix_repairs_then_clean(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    dockerfile = write(repo / "svc" / "api" / "Dockerfile", "FROM alpine\r\nRUN true\r\n")
    monkeypatch.chdir(tmp_path)  # checked from outside the repository
    code, out, _ = run(capsys, "check", str(dockerfile))
    assert code == 1
    assert "DLK101" in out and "Dockerfile:1:1" in out

    code, _, err = run(capsys, "fix", str(dockerfile))
    assert code == 0
    assert "fixed" in err
    assert (
        dockerfile.read_bytes() == f'FROM alpine\r\nLABEL {SRC}="{REPO}"\r\nRUN true\r\n'.encode()
    )

    stat = dockerfile.stat()
    code, _, err = run(capsys, "fix", str(dockerfile))
    assert (code, err) == (0, "")
    assert (
        dockerfile.stat().st_mtime_ns == stat.st_mtime_ns
        and dockerfile.stat().st_ino == stat.st_ino
    )
    assert run(capsys, "check", str(dockerfile))[0] == 0


def test_diff_writes_nothing(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dockerfile = write(repo / "Dockerfile", f"FROM alpine\nLABEL {SRC}={REPO}.git\n")
    before = dockerfile.read_bytes()
    code, out, _ = run(capsys, "fix", "--diff", str(dockerfile))
    assert code == 1
    assert f"-LABEL {SRC}={REPO}.git" in out and f"+LABEL {SRC}={REPO}" in out
    assert dockerfile.read_bytes() == before
    write(dockerfile, GOOD)
    assert run(capsys, "fix", "--diff", str(dockerfile)) == (0, "", "")


def test_directory_discovery_respects_gitignore(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in (
        "Dockerfile",
        "api.Dockerfile",
        "Dockerfile.prod",
        "Containerfile",
        "sub/web.dockerfile",
        "ignored/Dockerfile",
    ):
        write(repo / name, "FROM alpine\n")
    write(repo / "README.md", "FROM alpine\n")
    write(repo / ".gitignore", "ignored/\n")
    monkeypatch.chdir(repo)
    code, out, _ = run(capsys, "check", "--format", "json")
    assert code == 1
    paths = sorted({f["path"] for f in json.loads(out)["findings"]})
    assert paths == [
        "Containerfile",
        "Dockerfile",
        "Dockerfile.prod",
        "api.Dockerfile",
        "sub/web.dockerfile",
    ]


def test_formats(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write(repo / "Dockerfile", "FROM alpine\n")
    monkeypatch.chdir(repo)
    code, out, _ = run(capsys, "check", "--format", "json")
    finding = json.loads(out)["findings"][0]
    assert code == 1
    assert {
        k: finding[k] for k in ("path", "line", "column", "code", "name", "severity", "fixable")
    } == {
        "path": "Dockerfile",
        "line": 1,
        "column": 1,
        "code": "DLK101",
        "name": "missing-source-label",
        "severity": "error",
        "fixable": True,
    }
    sarif = json.loads(run(capsys, "check", "--format", "sarif")[1])
    assert sarif["version"] == "2.1.0"
    assert sarif["runs"][0]["results"][0]["ruleId"] == "DLK101"
    gitlab = json.loads(run(capsys, "check", "--format", "gitlab")[1])
    assert gitlab[0]["check_name"] == "DLK101" and gitlab[0]["location"]["lines"]["begin"] == 1
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    out = run(capsys, "check")[1]
    assert out.startswith("::error file=Dockerfile,line=1,col=1")
    assert run(capsys, "check", "--format", "nope")[0] == 2


def test_fail_on(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dockerfile = write(repo / "Dockerfile", f"FROM alpine\nLABEL {SRC}={REPO}/\n")
    assert run(capsys, "check", str(dockerfile))[0] == 1  # a warning fails by default
    assert run(capsys, "check", "--fail-on", "error", str(dockerfile))[0] == 0
    assert run(capsys, "check", "--fail-on", "bogus", str(dockerfile))[0] == 2


def test_config_and_suppressions(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(repo / "pyproject.toml", '[tool.dlink]\nignore = ["DLK106"]\n')
    legacy = write(
        repo / "a" / "Dockerfile", f'FROM alpine\nLABEL {SRC}="{REPO}"\nLABEL maintainer Jane\n'
    )
    assert run(capsys, "check", str(legacy))[0] == 0
    suppressed = write(repo / "b" / "Dockerfile", "# dlink: ignore=DLK101\nFROM alpine\n")
    assert run(capsys, "check", str(suppressed))[0] == 0
    write(repo / ".dlink.toml", 'colour = "red"\n')
    code, _, err = run(capsys, "check", str(suppressed))
    assert code == 2 and "colour" in err


def test_repo_url_from_config_overrides_remote(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(repo / ".dlink.toml", 'repo-url = "https://github.com/other/name"\n')
    dockerfile = write(repo / "Dockerfile", GOOD)
    code, out, _ = run(capsys, "check", str(dockerfile))
    assert code == 1 and "DLK102" in out and "https://github.com/other/name" in out
    assert run(capsys, "check", "--repo-url", REPO, str(dockerfile))[0] == 0


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        pytest.param(b"", "no instructions", id="empty"),
        pytest.param(b"RUN true\n", "FROM", id="no-from"),
        pytest.param(b"\x00\x01binary", "binary", id="binary"),
        pytest.param(b"FROM a\nRUN <<EOF\n", "unterminated heredoc", id="heredoc"),
    ],
)
def test_unreadable_files_exit_2(
    repo: Path, capsys: pytest.CaptureFixture[str], content: bytes, reason: str
) -> None:
    dockerfile = repo / "Dockerfile"
    dockerfile.write_bytes(content)
    code, out, _ = run(capsys, "check", str(dockerfile))
    assert code == 2 and "DLK000" in out and reason in out
    code, _, _ = run(capsys, "fix", str(dockerfile))
    assert code == 2 and dockerfile.read_bytes() == content


def test_no_repository_still_checks_what_needs_none(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Outside git: not an error; the rules that need no repository run, DLK102 is
    # skipped with one notice (tests/test_repo_workflows.py covers the workflows).
    dockerfile = write(tmp_path / "lonely" / "Dockerfile", "FROM alpine\n")
    code, out, err = run(capsys, "check", str(dockerfile))
    assert code == 1 and "DLK101" in out
    assert err.count("dlink: note: no repository for 1 file") == 1 and "Traceback" not in err


def test_secrets_never_printed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    token = "ghp_Zx9Secret0123456789abcdefABCDEF0123"
    root = make_repo(
        tmp_path / "r",
        remotes={"origin": f"https://x-access-token:{token}@github.com/acme/widget.git"},
        commit=False,
    )
    dockerfile = write(
        root / "Dockerfile",
        f'FROM alpine\nLABEL {SRC}="https://bob:{token}@github.com/acme/widget"\n',
    )
    outputs = []
    for args in (
        ["check"],
        ["check", "--format", "json"],
        ["check", "--format", "sarif"],
        ["check", "--format", "github"],
        ["check", "--format", "gitlab"],
        ["fix", "--diff"],
        ["fix"],
    ):
        outputs.append(run(capsys, *args, str(dockerfile)))
    assert all(token not in out + err for _, out, err in outputs)
    assert token not in dockerfile.read_text()
    assert f'LABEL {SRC}="{REPO}"' in dockerfile.read_text()


def test_symlink_is_kept_and_target_fixed(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = write(repo / "real" / "Dockerfile", "FROM alpine\n")
    target.chmod(0o640)
    link = repo / "Dockerfile"
    link.symlink_to(Path("real") / "Dockerfile")
    assert run(capsys, "fix", str(link))[0] == 0
    assert link.is_symlink()
    assert SRC in target.read_text()
    assert target.stat().st_mode & 0o777 == 0o640


def test_console_script_has_no_traceback(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_bytes(b"\xff\xfe\x00garbage")
    completed = subprocess.run(
        [sys.executable, "-m", "dlink", "check", "--repo-url", REPO, str(dockerfile)],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
        check=False,
    )
    assert completed.returncode == 2
    assert "Traceback" not in completed.stderr + completed.stdout
    assert "UTF-16" in completed.stdout


def test_rules_and_explain(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "rules")
    assert code == 0 and [line.split()[0] for line in out.splitlines()] == [
        "DLK000",
        "DLK101",
        "DLK102",
        "DLK103",
        "DLK104",
        "DLK105",
        "DLK106",
        "DLK107",
        "DLK108",
        "DLK109",
        "DLK110",
        "DLK111",
        "DLK112",
        "DLK113",
    ]
    code, out, _ = run(capsys, "explain", "dlk103")
    assert code == 0 and "Bad:" in out and ".git" in out
    assert run(capsys, "explain", "DLK999")[0] == 2


def test_build_arg(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dockerfile = write(repo / "Dockerfile", f"FROM alpine\nARG SRC_URL\nLABEL {SRC}=$SRC_URL\n")
    code, out, _ = run(capsys, "check", str(dockerfile))
    assert code == 1 and "DLK105" in out
    assert run(capsys, "check", "--build-arg", f"SRC_URL={REPO}", str(dockerfile))[0] == 0


def test_git_worktree_checkout_gets_the_same_answer(
    repo: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    write(repo / "Dockerfile", GOOD)
    git(repo, "add", "Dockerfile")
    git(repo, "commit", "-q", "-m", "x")
    git(repo, "worktree", "add", "-q", str(tmp_path / "wt"))
    assert run(capsys, "check", str(tmp_path / "wt" / "Dockerfile"))[0] == 0


def test_bare_build_arg_comes_from_the_environment(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    dockerfile = write(
        repo / "Dockerfile",
        f"FROM alpine\nARG SRC_URL=https://github.com/x/y\nLABEL {SRC}=$SRC_URL\n",
    )
    monkeypatch.setenv("SRC_URL", REPO)
    assert run(capsys, "check", "--build-arg", "SRC_URL", str(dockerfile))[0] == 0
    monkeypatch.delenv("SRC_URL")
    # Unset in the environment: dropped, as docker does, so the default applies.
    code, out, _ = run(capsys, "check", "--build-arg", "SRC_URL", str(dockerfile))
    assert code == 1 and "DLK102" in out


def test_config_exclude_is_relative_to_the_config_file(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write(repo / "svc" / ".dlink.toml", 'exclude = ["vendor/*"]\n')
    write(repo / "svc" / "vendor" / "lib" / "Dockerfile", "FROM alpine\n")
    write(repo / "svc" / "Dockerfile", GOOD)
    monkeypatch.chdir(repo)
    assert run(capsys, "check", ".")[0] == 0
    # Named explicitly, an excluded file is still checked.
    assert run(capsys, "check", "svc/vendor/lib/Dockerfile")[0] == 1
