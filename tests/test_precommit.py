"""The hooks of .pre-commit-hooks.yaml, installed and run by pre-commit itself.

pre-commit clones this checkout at its HEAD commit (uncommitted changes are not seen)
and pip-installs it into a hook environment; that happens once per session, in a
PRE_COMMIT_HOME the tests share.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml

from conftest import ROOT, UNDER_CI
from dlink.files import is_dockerfile_name
from gitrepo import git, make_repo

HOOKS_FILE = ROOT / ".pre-commit-hooks.yaml"
REMOTE = "https://github.com/acme/widget.git"
LABEL = 'org.opencontainers.image.source="https://github.com/acme/widget"'
ORIGINAL = "FROM alpine\nRUN true\n"
# The name forms a project uses; each is written without the label.
DOCKERFILES = (
    "Dockerfile",
    "Containerfile",
    "api.Dockerfile",
    "web.dockerfile",
    "Dockerfile.prod",
    "Containerfile.dev",
    "sub/Dockerfile",
)
# Markdown that is also a valid Dockerfile (`#` starts a comment): were it passed to
# the fix hook, it would come back with a LABEL line.
NOTES = "notes.md"
NOTES_TEXT = "# Notes\n\nFROM scratch\n"
# Dockerfiles pre-commit passes to the hooks by name, which dlink's excludes leave out:
# a vendored copy (the default set) and one the project's config excludes. Without
# --force-exclude they would be fixed in every commit.
EXCLUDED = ("vendor/github.com/acme/lib/Dockerfile", "legacy/Dockerfile")
DLINK_TOML = 'extend-exclude = ["legacy/"]\n'
# The hooks run in this order: fix first, then check what the fix left.
HOOK_IDS = ("dlink-fix", "dlink")


def hooks() -> dict[str, dict[str, Any]]:
    """The hooks of .pre-commit-hooks.yaml by id."""
    loaded = yaml.safe_load(HOOKS_FILE.read_text(encoding="utf-8"))
    return {hook["id"]: hook for hook in loaded}


def _environment(home: Path) -> dict[str, str]:
    """The test process's environment without CI or pre-commit settings of the host."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("GITHUB_", "GITLAB_", "CI_", "PRE_COMMIT"))
        and name not in {"CI", "SKIP"}
    }
    env["PRE_COMMIT_HOME"] = str(home)
    return env


def pre_commit(repo: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`pre-commit ARGS` in `repo`, output merged as a user sees it."""
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", *args, "--color", "never"],
        cwd=repo,
        env=_environment(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
    )


def write_config(repo: Path, rev: str) -> None:
    """A .pre-commit-config.yaml using this checkout's hooks at `rev`."""
    config = {
        "repos": [
            {"repo": str(ROOT), "rev": rev, "hooks": [{"id": hook_id} for hook_id in HOOK_IDS]}
        ]
    }
    (repo / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")


@pytest.fixture(scope="session")
def hook_home(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """(PRE_COMMIT_HOME with the hooks installed, the commit they come from)."""
    if importlib.util.find_spec("pre_commit") is None:
        if UNDER_CI:
            pytest.fail("pre-commit is required under CI (pip install -e '.[test]')")
        pytest.skip("pre-commit is not installed (pip install -e '.[test]')")
    if not (ROOT / ".git").exists():
        if UNDER_CI:
            pytest.fail(f"{ROOT} is not a git checkout: pre-commit needs a commit to install")
        pytest.skip(f"{ROOT} is not a git checkout: pre-commit needs a commit to install")
    rev = git(ROOT, "rev-parse", "HEAD")
    home = tmp_path_factory.mktemp("pre-commit-home")
    probe = make_repo(tmp_path_factory.mktemp("install") / "probe", commit=False)
    write_config(probe, rev)
    git(probe, "add", ".pre-commit-config.yaml")
    installed = pre_commit(probe, home, "install-hooks")
    if installed.returncode != 0:
        reason = f"pre-commit cannot install the hook environment:\n{installed.stdout[-2000:]}"
        if UNDER_CI:
            pytest.fail(reason)
        pytest.skip(reason)
    return home, rev


def _hook_status(output: str, hook_id: str) -> str:
    """`Passed`, `Failed`, ... of a hook in pre-commit's report."""
    name = re.escape(hooks()[hook_id]["name"])
    found = re.search(rf"^{name}\.+(\w+)$", output, re.MULTILINE)
    assert found, f"no report of {hook_id} in:\n{output}"
    return found.group(1)


def test_hooks_fix_every_dockerfile_then_pass(hook_home: tuple[Path, str], tmp_path: Path) -> None:
    home, rev = hook_home
    repo = make_repo(tmp_path / "widget", remotes={"origin": REMOTE}, commit=False)
    for name in DOCKERFILES:
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(ORIGINAL, encoding="utf-8")
    (repo / NOTES).write_text(NOTES_TEXT, encoding="utf-8")
    for name in EXCLUDED:
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(ORIGINAL, encoding="utf-8")
    (repo / "vendor" / "modules.txt").write_text("# github.com/acme/lib v1.0.0\n")
    (repo / ".dlink.toml").write_text(DLINK_TOML, encoding="utf-8")
    write_config(repo, rev)
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", "initial")

    first = pre_commit(repo, home, "run", "--all-files")
    if "ModuleNotFoundError" in first.stdout:
        pytest.fail(
            f"HEAD ({rev}) holds a dlink that cannot be imported: commit its modules first, "
            f"pre-commit installs the commit, not the work tree\n{first.stdout}"
        )
    assert first.returncode == 1, first.stdout
    assert _hook_status(first.stdout, "dlink-fix") == "Failed", first.stdout
    assert "files were modified by this hook" in first.stdout
    assert _hook_status(first.stdout, "dlink") == "Passed", first.stdout
    # Each Dockerfile was handed to the fix hook, notes.md was not.
    fixed = set(re.findall(r"^fixed (\S+) \(", first.stdout, re.MULTILINE))
    assert fixed == set(DOCKERFILES), first.stdout
    assert git(repo, "diff", "--name-only").splitlines() == sorted(DOCKERFILES)

    second = pre_commit(repo, home, "run", "--all-files")
    assert second.returncode == 0, second.stdout
    for hook_id in HOOK_IDS:
        assert _hook_status(second.stdout, hook_id) == "Passed", second.stdout

    for name in DOCKERFILES:
        lines = (repo / name).read_text(encoding="utf-8").splitlines(keepends=True)
        added = [line for line in lines if line not in ORIGINAL.splitlines(keepends=True)]
        assert added == [f"LABEL {LABEL}\n"], name
        assert "".join(line for line in lines if line not in added) == ORIGINAL, name
    assert (repo / NOTES).read_text(encoding="utf-8") == NOTES_TEXT
    for name in EXCLUDED:
        assert (repo / name).read_text(encoding="utf-8") == ORIGINAL, name


# -- which files the hooks are given ------------------------------------------------------

# The names the hooks must pass, and must not: the same set dlink's discovery takes.

NAME_TABLE = [
    pytest.param("Dockerfile", True, id="Dockerfile"),
    pytest.param("dockerfile", True, id="dockerfile"),
    pytest.param("DOCKERFILE", True, id="upper-case"),
    pytest.param("Containerfile", True, id="Containerfile"),
    pytest.param("containerfile", True, id="containerfile"),
    pytest.param("sub/Dockerfile", True, id="sub/Dockerfile"),
    pytest.param("a/b/Containerfile", True, id="a/b/Containerfile"),
    pytest.param("Dockerfile.prod", True, id="Dockerfile.prod"),
    pytest.param("dockerfile.dev", True, id="dockerfile.dev"),
    pytest.param("Containerfile.dev", True, id="Containerfile.dev"),
    pytest.param("sub/Dockerfile.prod", True, id="sub/Dockerfile.prod"),
    pytest.param("Dockerfile.golang", True, id="Dockerfile.golang"),
    pytest.param("Dockerfile-dev", True, id="Dockerfile-dev"),
    pytest.param("deploy/Dockerfile-kraken", True, id="Dockerfile-kraken"),
    pytest.param("Dockerfile_uhd", True, id="Dockerfile_uhd"),
    pytest.param("api.Dockerfile", True, id="api.Dockerfile"),
    pytest.param("web.dockerfile", True, id="web.dockerfile"),
    pytest.param("sub/api.Dockerfile", True, id="sub/api.Dockerfile"),
    pytest.param("api.Containerfile", True, id="api.Containerfile"),
    pytest.param("web.containerfile", True, id="web.containerfile"),
    pytest.param("Dockerfile.md", False, id="Dockerfile.md"),
    pytest.param("man/Dockerfile.5.md", False, id="man-page"),
    pytest.param("frontend/dockerfile/dockerfile.go", False, id="dockerfile.go"),
    pytest.param("frontend/dockerfile/dockerfile_test.go", False, id="dockerfile_test.go"),
    pytest.param("testdata/dockerfile.json.golden", False, id="golden"),
    pytest.param("docker/nova/Dockerfile.j2", False, id="jinja-template"),
    pytest.param("Dockerfile-linux.template", False, id="template"),
    pytest.param("Dockerfile.TPL", False, id="template-any-case"),
    pytest.param("notes.md", False, id="notes.md"),
    pytest.param("README", False, id="README"),
    pytest.param("Dockerfiles", False, id="Dockerfiles"),
    pytest.param("MyDockerfile", False, id="MyDockerfile"),
    pytest.param("Dockerfile/README", False, id="file-in-a-Dockerfile-directory"),
    pytest.param("notes.Dockerfile.md", False, id="notes.Dockerfile.md"),
    pytest.param("docker-compose.yml", False, id="docker-compose.yml"),
    pytest.param(".dockerignore", False, id=".dockerignore"),
    pytest.param("api.Dockerfile.dockerignore", False, id="api.Dockerfile.dockerignore"),
    pytest.param("Dockerfile.dockerignore", False, id="Dockerfile.dockerignore"),
    pytest.param("sub/Dockerfile.prod.dockerignore", False, id="Dockerfile.prod.dockerignore"),
]


def selected(hook: dict[str, Any], path: str) -> bool:
    """Whether pre-commit hands `path` to `hook` by name: `files` and not `exclude`."""
    return bool(re.search(hook["files"], path)) and not re.search(hook.get("exclude", "^$"), path)


def test_the_name_table_is_what_dlink_discovers() -> None:
    """The table's intent is dlink's own: `dlink check DIR` finds exactly these names."""
    for row in NAME_TABLE:
        path, wanted = row.values
        assert is_dockerfile_name(PurePosixPath(str(path)).name) is wanted, row.id


@pytest.mark.parametrize(("path", "wanted"), NAME_TABLE)
@pytest.mark.parametrize("hook_id", HOOK_IDS)
def test_hook_is_given_exactly_the_dockerfiles(hook_id: str, path: str, wanted: bool) -> None:
    assert selected(hooks()[hook_id], path) is wanted


def test_the_hooks_refuse_every_extension_dlink_refuses() -> None:
    """Both ways: each extension files.py refuses is excluded by the hooks, and an
    extension it accepts (a variant name) is not."""
    from dlink import files

    refused = (
        files.SOURCE_EXTENSIONS
        | files.DATA_EXTENSIONS
        | files.DOC_EXTENSIONS
        | files.MEDIA_EXTENSIONS
        | files.COMPANION_EXTENSIONS
        | files.TEMPLATE_EXTENSIONS
    )
    for hook in hooks().values():
        for extension in sorted(refused):
            assert not selected(hook, f"sub/Dockerfile.{extension}"), (hook["id"], extension)
            assert not selected(hook, f"Dockerfile-x.{extension.upper()}"), extension
        for variant in ("dev", "prod", "windows", "golang", "test", "alpine", "arm64"):
            assert selected(hook, f"sub/Dockerfile.{variant}"), (hook["id"], variant)


def test_the_hooks_obey_the_excludes() -> None:
    for hook in hooks().values():
        assert hook["entry"].split()[-1] == "--force-exclude", hook["id"]


def test_both_hooks_select_the_same_files() -> None:
    check, fix = hooks()["dlink"], hooks()["dlink-fix"]
    for key in ("files", "exclude", "types", "types_or", "exclude_types"):
        assert check.get(key) == fix.get(key), key
    assert (check["entry"], fix["entry"]) == (
        "dlink check --force-exclude",
        "dlink fix --force-exclude",
    )
    assert check["language"] == fix["language"] == "python"


def test_identify_types_alone_would_miss_dockerfiles(tmp_path: Path) -> None:
    """Why the hooks select with `files:`: identify (pre-commit's `types:`) tags a name
    `dockerfile` only when the name or a dot-separated part of it is exactly `Dockerfile`
    or `Containerfile`, so the lower-case forms dlink reads are not tagged. (It also tags
    `Dockerfile.dockerignore`, so `types:` would not keep companions out either.)"""
    from identify.identify import tags_from_path

    intended = [str(row.values[0]) for row in NAME_TABLE if row.values[1]]
    tagged: dict[str, bool] = {}
    for name in [*intended, "Dockerfile.dockerignore"]:
        file = tmp_path / name
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(ORIGINAL, encoding="utf-8")
        tagged[name] = "dockerfile" in tags_from_path(str(file))

    untagged = {name for name in intended if not tagged[name]}
    assert {"dockerfile", "web.dockerfile", "dockerfile.dev"} <= untagged, tagged
    assert {"Dockerfile", "Containerfile", "sub/Dockerfile"} <= set(intended) - untagged, tagged
    assert tagged["Dockerfile.dockerignore"], tagged
    for hook in hooks().values():
        assert hook["files"], hook["id"]
        assert "dockerfile" not in hook.get("types", []), hook["id"]


def test_fix_hook_never_applies_unsafe_fixes(hook_home: tuple[Path, str], tmp_path: Path) -> None:
    """A clone made before a transfer: the hook must not revert the label to the old name."""
    home, rev = hook_home
    assert "--unsafe-fixes" not in " ".join(
        str(hook.get("entry", "")) + " " + " ".join(hook.get("args", []))
        for hook in hooks().values()
    )
    repo = make_repo(
        tmp_path / "widget",
        remotes={"origin": "https://github.com/old-owner/widget.git"},
        commit=False,
    )
    original = f"FROM alpine\nLABEL {LABEL}\n"
    (repo / "Dockerfile").write_text(original, encoding="utf-8")
    write_config(repo, rev)
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", "initial")

    result = pre_commit(repo, home, "run", "--all-files")
    assert result.returncode == 1, result.stdout
    assert _hook_status(result.stdout, "dlink-fix") == "Failed", result.stdout
    assert "files were modified by this hook" not in result.stdout
    assert (
        "not fixed: would repoint the label from https://github.com/acme/widget to "
        "https://github.com/old-owner/widget" in result.stdout
    )
    assert (repo / "Dockerfile").read_text(encoding="utf-8") == original
