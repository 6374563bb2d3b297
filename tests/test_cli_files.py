"""Which files `dlink check` / `dlink fix` take, end to end: --show-files, --force-exclude,
symlinks, repeatable --target and the per-file table, in real git repositories."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from clirun import run_cli
from gitrepo import make_repo

REPO = "https://github.com/acme/widget"
SRC = "org.opencontainers.image.source"
LABEL = f'LABEL {SRC}="{REPO}"\n'
BARE = "FROM alpine\nRUN true\n"
TWO_IMAGES = "FROM alpine AS api\nRUN true\n\nFROM alpine AS worker\nRUN true\n"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = make_repo(tmp_path / "widget", remotes={"origin": f"{REPO}.git"}, commit=False)
    monkeypatch.chdir(root)
    return root


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


Run = tuple[pytest.CaptureFixture[str], pytest.MonkeyPatch]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Run:
    return capsys, monkeypatch


def dlink(cli: Run, *args: str) -> tuple[int, str, str]:
    return run_cli(list(args), *cli)


def test_show_files_lists_what_is_checked_and_why_the_rest_is_not(repo: Path, cli: Run) -> None:
    for name in (
        "Dockerfile",
        "deploy/Dockerfile-kraken",
        "vendor/github.com/x/y/Dockerfile",
        ".devcontainer/Dockerfile",
        "docker/nova/Dockerfile.j2",
        "frontend/dockerfile/dockerfile.go",
    ):
        write(repo / name, BARE)
    write(repo / "vendor" / "modules.txt", "# github.com/x/y v1.0.0\n")
    code, out, err = dlink(cli, "check", "--show-files")
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "check Dockerfile",
        "check deploy/Dockerfile-kraken",
        (
            "skip  .devcontainer/Dockerfile: excluded by default (.devcontainer/: a dev container: "
            "a local editor image, never published)"
        ),
        "skip  docker/nova/Dockerfile.j2: a template (.j2), not a Dockerfile",
        "skip  frontend/dockerfile/dockerfile.go: a .go file, not a Dockerfile",
        (
            "skip  vendor/github.com/x/y/Dockerfile: excluded by default "
            "(vendor/: a Go vendor tree with modules.txt)"
        ),
    ]
    # Nothing was checked: every file is as it was, and fix --show-files writes nothing.
    assert dlink(cli, "fix", "--show-files")[0] == 0
    assert (repo / "vendor/github.com/x/y/Dockerfile").read_text() == BARE
    assert (repo / "Dockerfile").read_text() == BARE


def test_a_run_neither_checks_nor_fixes_excluded_files(repo: Path, cli: Run) -> None:
    write(repo / "Dockerfile", BARE)
    write(repo / "vendor" / "lib" / "Dockerfile", BARE)
    write(repo / "Dockerfile.j2", "FROM {{ base }}\n")
    code, _, err = dlink(cli, "fix")
    assert (code, err) == (0, "fixed Dockerfile (1 edit)\n")
    assert (repo / "vendor" / "lib" / "Dockerfile").read_text() == BARE
    assert (repo / "Dockerfile.j2").read_text() == "FROM {{ base }}\n"


@pytest.mark.parametrize(
    ("config", "name"),
    [
        pytest.param("", "vendor/lib/Dockerfile", id="default-set"),
        pytest.param('extend-exclude = ["legacy/"]\n', "legacy/Dockerfile", id="config-pattern"),
        pytest.param("", "tests/fixtures/example/Dockerfile", id="fixture"),
    ],
)
def test_force_exclude_for_files_named_on_the_command_line(
    repo: Path, cli: Run, config: str, name: str
) -> None:
    write(repo / ".dlink.toml", config)
    write(repo / name, BARE)
    # Named: checked (the README's quick start names a fixture this way).
    code, out, _ = dlink(cli, "check", name)
    assert code == 1 and "DLK101" in out
    # --force-exclude, as the pre-commit hooks pass it: neither checked nor fixed.
    assert dlink(cli, "check", "--force-exclude", name) == (0, "No findings.\n", "")
    assert dlink(cli, "fix", "--force-exclude", name) == (0, "", "")
    assert (repo / name).read_text() == BARE


@pytest.mark.skipif(os.name != "posix", reason="needs symlinks")
def test_a_symlinked_dockerfile_is_fixed_once_and_reported_under_the_name_given(
    repo: Path, cli: Run
) -> None:
    target = write(repo / "docker" / "Dockerfile", BARE)
    (repo / "Dockerfile").symlink_to("docker/Dockerfile")
    code, out, _ = dlink(cli, "check")
    assert code == 1
    assert out.startswith("Dockerfile:1:1: DLK101") and "docker/Dockerfile" not in out
    assert out.count("DLK101") == 1
    code, _, err = dlink(cli, "fix", "docker/Dockerfile", ".")
    assert (code, err) == (0, "fixed docker/Dockerfile (1 edit)\n")
    assert target.read_text() == f"FROM alpine\n{LABEL}RUN true\n"
    assert (repo / "Dockerfile").is_symlink()


def test_every_target_named_is_checked_and_fixed(repo: Path, cli: Run) -> None:
    dockerfile = write(repo / "Dockerfile", TWO_IMAGES)
    code, out, _ = dlink(cli, "check", "--target", "api", "--target", "worker")
    assert code == 1
    assert "stage 'api'" in out and "stage 'worker'" in out
    # One target: only that one (the last named used to win silently).
    code, out, _ = dlink(cli, "check", "--target", "worker")
    assert "stage 'worker'" in out and "stage 'api'" not in out
    code, _, err = dlink(cli, "fix", "--target", "api", "--target", "worker")
    assert (code, err) == (0, "fixed Dockerfile (2 edits)\n")
    assert dockerfile.read_text() == (
        f"FROM alpine AS api\n{LABEL}RUN true\n\nFROM alpine AS worker\n{LABEL}RUN true\n"
    )
    assert dlink(cli, "fix", "--target", "api", "--target", "worker") == (0, "", "")


PER_FILE = """\
[per-file."services/*/Dockerfile"]
targets = ["api", "worker"]

[per-file."services/web/Dockerfile"]
build-args = { SRC = "https://github.com/acme/widget" }

[per-file."tools/"]
ignore = ["DLK101"]
"""


def test_per_file_settings(repo: Path, cli: Run) -> None:
    write(repo / ".dlink.toml", PER_FILE)
    write(repo / "services" / "api" / "Dockerfile", TWO_IMAGES)
    write(
        repo / "services" / "web" / "Dockerfile",
        f"FROM alpine AS api\nARG SRC\nLABEL {SRC}=$SRC\nFROM alpine AS worker\nARG SRC\n"
        f"LABEL {SRC}=$SRC\n",
    )
    write(repo / "tools" / "Dockerfile", BARE)
    code, out, _ = dlink(cli, "check")
    assert code == 1
    lines = [line.split(" [")[0] for line in out.splitlines() if ": DLK" in line]
    # Both targets of the api Dockerfile; the web one's label is right once SRC is known;
    # the tools Dockerfile ignores DLK101.
    assert lines == [
        "services/api/Dockerfile:1:1: DLK101",
        "services/api/Dockerfile:4:1: DLK101",
    ]
    # The command line wins over the table.
    code, out, _ = dlink(cli, "check", "--target", "worker", "services/api/Dockerfile")
    assert "stage 'worker'" in out and "stage 'api'" not in out


def test_explain_files_shows_the_default_set(cli: Run) -> None:
    code, out, _ = dlink(cli, "explain", "files")
    assert code == 0
    for pattern in ("vendor/", "node_modules/", ".devcontainer/", "testdata/", "fixtures/"):
        assert f"  {pattern}" in out
    assert "linguist-vendored" in out and "devcontainer.json" in out
    assert ".j2" in out and ".go" in out


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            "a = " + "[" * 5000 + "]" * 5000, "invalid TOML: nested too deeply", id="deep"
        ),
        pytest.param("x = [", "invalid TOML: Invalid value", id="invalid"),
    ],
)
def test_bad_config_is_one_line_and_exit_2(repo: Path, cli: Run, text: str, message: str) -> None:
    write(repo / "Dockerfile", BARE)
    write(repo / ".dlink.toml", text)
    code, out, err = dlink(cli, "check")
    assert (code, out) == (2, "")
    assert err.startswith("dlink: error: ") and message in err and "Traceback" not in err
    assert err.count("\n") == 1


def test_show_files_names_patterns_that_match_nothing(repo: Path, cli: Run) -> None:
    write(repo / "Dockerfile", BARE)
    write(repo / "legacy" / "Dockerfile", BARE)
    write(repo / ".dlink.toml", 'extend-exclude = ["legacy/", "vendr/", "!Dockerfile"]\n')
    code, out, _ = dlink(cli, "check", "--show-files")
    assert code == 0
    config = repo / ".dlink.toml"
    # `vendr/` (a typo) matches nothing; `!Dockerfile` matches (and takes back) both files.
    assert out.splitlines() == [
        "check Dockerfile",
        "check legacy/Dockerfile",
        f"unused pattern 'vendr/' (extend-exclude in {config}): matches no Dockerfile here",
    ]


def test_a_run_whose_files_are_all_excluded_says_so(repo: Path, cli: Run) -> None:
    """docker-library's layout: every Dockerfile is marked linguist-generated. "No findings"
    alone would read as a clean tree; the run says how many files it left out, and where to
    see why."""
    write(repo / ".gitattributes", "/*/**/Dockerfile linguist-generated\n")
    for version in ("3.12", "3.13"):
        write(repo / version / "bookworm" / "Dockerfile", BARE)
    code, out, err = dlink(cli, "check")
    assert (code, out.strip()) == (0, "No findings.")
    assert err.strip() == (
        "dlink: 2 Dockerfiles excluded (default excludes or config), not checked "
        "(--show-files lists them and why)"
    )
    code, out, err = dlink(cli, "check", "--quiet")
    assert "excluded" not in err
    # Something checked: the exclusions are the configuration at work, not worth a line.
    write(repo / "Dockerfile", BARE)
    code, out, err = dlink(cli, "check")
    assert code == 1 and "excluded" not in err
