"""Real git repositories in temporary directories, made with the `git` command.

conftest.py isolates git from the machine's config; everything a test needs is
written into the repository's own config here or passed with `-c`.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

DOCKERFILE = "FROM scratch\n"


def git(cwd: Path, *args: str) -> str:
    """Run git in `cwd`; its stdout without the trailing newline. Fails the test on error."""
    completed = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed in {cwd}:\n{completed.stderr}")
    return completed.stdout.rstrip("\n")


def make_repo(
    path: Path,
    *,
    remotes: dict[str, str] | None = None,
    commit: bool = True,
    branch: str = "main",
) -> Path:
    """A fresh repository at `path` with `remotes` and, if `commit`, a committed Dockerfile."""
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "--quiet", f"--initial-branch={branch}")
    for name, url in (remotes or {}).items():
        git(path, "remote", "add", name, url)
    if commit:
        add_file(path, "Dockerfile")
        git(path, "commit", "--quiet", "-m", "initial")
    return path


def add_file(repo: Path, relative: str, content: str = DOCKERFILE) -> Path:
    """Write `relative` inside `repo` and stage it."""
    file = repo / relative
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(content)
    git(repo, "add", relative)
    return file


def commit_file(repo: Path, relative: str, content: str = DOCKERFILE) -> Path:
    """Write, stage and commit `relative` inside `repo`."""
    file = add_file(repo, relative, content)
    git(repo, "commit", "--quiet", "-m", f"add {relative}")
    return file


def set_config(repo: Path, key: str, *values: str) -> None:
    """Replace every value of `key` in the repository's own config with `values`, in order."""
    subprocess.run(
        ["git", "config", "--local", "--unset-all", key], cwd=repo, capture_output=True, check=False
    )
    for value in values:
        git(repo, "config", "--local", "--add", key, value)


def remote_get_url(repo: Path, name: str) -> str:
    """What `git remote get-url NAME` says: the oracle for the URL git would fetch from."""
    return git(repo, "remote", "get-url", name)
