"""The build-definition scan costs a plain check nothing when nothing can define a build.

Every `dlink check` lists the repository's files and asks `dlink.builds.names` which of
them could define a build. With none, the readers, the value resolver and the parsers
they load stay unimported, and the run's result is what the full scan would have given.
These tests never time anything (speed lives in benchmarks/); they pin down what loads
and that the short cut and the scan agree.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dlink.builds import scan
from dlink.builds.names import build_definitions, kind_of, repository_files
from dlink.builds.plan import Planner
from freshrun import run_fresh
from gitrepo import git, make_repo

# What the scan needs only when a file could define a build.
BUILD_READERS = frozenset(
    {
        "dlink.builds.values",
        "dlink.builds.scanner",
        "dlink.builds.commands",
        "dlink.builds.workflows",
        "dlink.builds.yamlread",
        "dlink.builds.bake",
        "dlink.builds.bakesites",
        "dlink.builds.compose",
        "dlink.builds.gitlab",
        "dlink.builds.goreleaser",
        "yaml",
    }
)

WORKFLOW = """\
on: push
jobs:
  image:
    runs-on: ubuntu-latest
    steps:
      - id: meta
        uses: docker/metadata-action@v5
        with:
          images: ghcr.io/acme/widget
      - uses: docker/build-push-action@v6
        with:
          push: true
          tags: ${{ steps.meta.outputs.tags }}
          labels: ${{ steps.meta.outputs.labels }}
"""
UNLABELLED = "FROM alpine\nRUN true\n"


def run_dlink(cwd: Path, *argv: str) -> tuple[int, str, set[str]]:
    """`dlink ARGV` in a fresh interpreter: exit code, output, every module it imported."""
    return run_fresh(list(argv), cwd)


def write(root: Path, files: dict[str, str]) -> None:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = make_repo(
        tmp_path / "widget", remotes={"origin": "git@github.com:acme/widget.git"}, commit=False
    )
    write(root, {"Dockerfile": UNLABELLED, "README.md": "# widget\n"})
    git(root, "add", "-A")
    return root


def test_a_repository_with_only_a_dockerfile_loads_no_build_reader(repo: Path) -> None:
    code, out, loaded = run_dlink(repo, "check", "--format", "json", "Dockerfile")
    assert "dlink.builds.names" in loaded  # the filter ran ...
    assert sorted(loaded & BUILD_READERS) == []  # ... and found nothing to read
    # The result is the one of a repository without publishing sites: the file is checked.
    assert code == 1
    assert [f["code"] for f in json.loads(out)["findings"]] == ["DLK101"]


def test_a_workflow_loads_the_readers_and_its_build_site_counts(repo: Path) -> None:
    write(repo, {".github/workflows/release.yml": WORKFLOW})
    git(repo, "add", "-A")
    code, out, loaded = run_dlink(repo, "check", "--format", "json", "Dockerfile")
    assert {"dlink.builds.scanner", "dlink.builds.workflows", "yaml"} <= loaded
    # metadata-action's labels carry the source label: the finding of the test above goes.
    assert (code, json.loads(out)["findings"]) == (0, [])
    code, out, _ = run_dlink(repo, "images", "--format", "json")
    (image,) = json.loads(out)["dockerfiles"]
    assert (image["path"], image["reason"]) == ("Dockerfile", "published")
    assert [(s["file"], s["line"]) for s in image["sites"]] == [
        (".github/workflows/release.yml", 10)
    ]


# Layouts whose files are near misses, definitions in skipped directories, a definition
# that builds nothing and one that cannot be read: the planner's short cut must give
# exactly what the scan gives, whichever way the filter decides.
LAYOUTS = [
    pytest.param({}, False, id="nothing-but-the-dockerfile"),
    pytest.param(
        {
            "docs/compose.md": "x\n",
            "Makefile-notes": "x\n",
            "ci/goreleaser.txt": "x\n",
            "package-lock.json": "{}\n",
            "src/app.py": "import os\n",
            ".github/dependabot.yml": "x\n",
            "workflows/release.yml": WORKFLOW,
        },
        False,
        id="near-misses",
    ),
    pytest.param(
        {
            "node_modules/x/build.sh": "docker build -t ghcr.io/a/b --push .\n",
            "vendor/y/Makefile": "all:\n\tdocker push ghcr.io/a/b\n",
            ".venv/lib/docker-compose.yml": "services: {}\n",
        },
        False,
        id="definitions-in-skipped-directories",
    ),
    pytest.param(
        {"scripts/test.sh": "pytest -q\n", "Makefile": "all:\n\tmake -C src\n"},
        True,
        id="definitions-that-build-nothing",
    ),
    pytest.param({".github/workflows/broken.yml": "jobs: [\n"}, True, id="unreadable-definition"),
    pytest.param({".github/workflows/release.yml": WORKFLOW}, True, id="publishing-workflow"),
]


@pytest.mark.parametrize(("files", "definitions"), LAYOUTS)
@pytest.mark.parametrize("under_git", [True, False], ids=["git", "no-git"])
def test_the_planner_short_cut_and_the_scan_agree(
    tmp_path: Path, files: dict[str, str], definitions: bool, under_git: bool
) -> None:
    root = tmp_path / "widget"
    root.mkdir()
    write(root, {"Dockerfile": UNLABELLED, **files})
    if under_git:
        make_repo(root, commit=False)
        git(root, "add", "-A")
    planned = Planner([root]).scan(root)
    scanned = scan(root)
    assert (planned.sites, planned.notices, planned.read) == (
        scanned.sites,
        scanned.notices,
        scanned.read,
    )
    assert bool(build_definitions(repository_files(root))) is definitions
    if not definitions:  # the short cut was taken: the scan had nothing to read either
        assert (scanned.sites, scanned.notices, scanned.read) == ([], [], [])


def test_the_filter_skips_what_the_scanner_would_skip() -> None:
    listed = [
        "Dockerfile",
        "Makefile",
        "node_modules/pkg/Makefile",
        "a/vendor/build.sh",
        "third_party/x/.gitlab-ci.yml",
        ".github/workflows/ci.yml",
        "deploy/docker-compose.prod.yml",
    ]
    assert build_definitions(listed) == [
        ("Makefile", "make"),
        (".github/workflows/ci.yml", "github-actions"),
        ("deploy/docker-compose.prod.yml", "compose"),
    ]
    assert kind_of("a/vendor/build.sh") == "script"  # by name it is one; by place it is skipped
