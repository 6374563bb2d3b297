"""files.py: which files are Dockerfiles, discovery with and without git, reading, atomic writes.

Discovery is tried on layouts copied in shape (not in content) from real repositories:
Go vendor trees, .gitattributes, dev containers, fixtures, templates, Go sources named
`dockerfile.go`, symlinks.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from dlink.config import Config, clear_cache
from dlink.errors import DlinkError
from dlink.files import (
    DEFAULT_EXCLUDE,
    Discovery,
    discover,
    is_dockerfile_name,
    name_refusal,
    read_dockerfile,
    write_atomic,
)

POSIX_ONLY = pytest.mark.skipif(os.name != "posix", reason="needs POSIX modes, owners or rlimits")
# The default exclude set switched off, so a test sees the name rules alone.
NO_EXCLUDES = Config(exclude=())


@pytest.fixture(autouse=True)
def _fresh_config_cache() -> None:
    clear_cache()


def make_tree(root: Path, files: list[str]) -> None:
    for relative in files:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"FROM scratch\n")


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def relative(found: Discovery | list[Path], root: Path) -> list[str]:
    paths = found.files if isinstance(found, Discovery) else found
    return [path.relative_to(root).as_posix() for path in paths]


def skipped(found: Discovery, root: Path) -> dict[str, str]:
    return {item.path.relative_to(root).as_posix(): item.reason for item in found.skipped}


def outside_git(tmp_path: Path) -> Path:
    if any((parent / ".git").exists() for parent in (tmp_path, *tmp_path.parents)):
        pytest.skip(f"{tmp_path} is inside a git repository, so the plain walk cannot be tested")
    return tmp_path


def leftovers(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir() if "dlink-tmp" in path.name)


# Names met in real repositories (moby/moby, moby/buildkit, docker/cli, docker/buildx,
# containerd, kaniko, openstack/kolla, docker-library/python, jupyter/docker-stacks,
# traefik, prometheus, microsoft/vscode-dev-containers) and what discovery says of them.
@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param("Dockerfile", True, id="Dockerfile"),
        pytest.param("dockerfile", True, id="lowercase-dockerfile"),
        pytest.param("DOCKERFILE", True, id="all-caps"),
        pytest.param("DockerFile", True, id="camel-case"),
        pytest.param("Containerfile", True, id="Containerfile"),
        pytest.param("containerfile", True, id="lowercase-containerfile"),
        pytest.param("api.Dockerfile", True, id="star-dot-Dockerfile"),
        pytest.param("custom_environment.dockerfile", True, id="star-dot-dockerfile"),
        pytest.param("api.Containerfile", True, id="star-dot-Containerfile"),
        pytest.param("Dockerfile.windows", True, id="Dockerfile-dot-variant"),
        pytest.param("Dockerfile.golang", True, id="variant-that-is-no-extension"),
        pytest.param("Dockerfile.TestBuildMultiStageCopy", True, id="test-variant"),
        pytest.param("dockerfile.dev", True, id="lowercase-dockerfile-dot-suffix"),
        pytest.param("Containerfile.prod", True, id="Containerfile-dot-suffix"),
        pytest.param("Dockerfile-kraken", True, id="dash-variant"),
        pytest.param("Dockerfile_uhd", True, id="underscore-variant"),
        pytest.param("Dockerfile_windows", True, id="underscore-variant-containerd"),
        pytest.param("Containerfile-arm64", True, id="containerfile-dash-variant"),
        pytest.param("dockerfile.go", False, id="go-source"),
        pytest.param("dockerfile_test.go", False, id="go-test-source"),
        pytest.param("Dockerfile.5.md", False, id="man-page-markdown"),
        pytest.param("Dockerfile.md", False, id="markdown"),
        pytest.param("dockerfile.json", False, id="json"),
        pytest.param("dockerfile.json.golden", False, id="golden"),
        pytest.param("Dockerfile.yaml", False, id="yaml"),
        pytest.param("Dockerfile.sh", False, id="shell"),
        pytest.param("Dockerfile.py", False, id="python"),
        pytest.param("Dockerfile.j2", False, id="jinja"),
        pytest.param("Dockerfile.jinja", False, id="jinja-long"),
        pytest.param("Dockerfile.tpl", False, id="tpl"),
        pytest.param("Dockerfile.tmpl", False, id="tmpl"),
        pytest.param("Dockerfile-linux.template", False, id="template-docker-library"),
        pytest.param("Dockerfile.in", False, id="autoconf-in"),
        pytest.param("Dockerfile.erb", False, id="erb"),
        pytest.param("Dockerfile.mustache", False, id="mustache"),
        pytest.param("Dockerfile.hbs", False, id="handlebars"),
        pytest.param("Dockerfile.dockerignore", False, id="per-dockerfile-ignore-file"),
        pytest.param("api.Dockerfile.dockerignore", False, id="named-dockerfile-ignore-file"),
        pytest.param("Dockerfile_dockerignore_relative.dockerignore", False, id="kaniko-ignore"),
        pytest.param("Dockerfile-notes.md", False, id="dash-then-markdown"),
        pytest.param("boilerplate.Dockerfile.txt", False, id="name-in-the-middle"),
        pytest.param("Dockerfiles", False, id="plural"),
        pytest.param("notDockerfile", False, id="no-dot-before-Dockerfile"),
        pytest.param("docker-compose.yml", False, id="compose"),
        pytest.param(".dockerignore", False, id="dockerignore"),
        pytest.param("validate-all-dockerfiles.sh", False, id="script-about-dockerfiles"),
    ],
)
def test_is_dockerfile_name(name: str, expected: bool) -> None:
    assert is_dockerfile_name(name) is expected


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        pytest.param("dockerfile.go", "a .go file, not a Dockerfile", id="source"),
        pytest.param("Dockerfile.j2", "a template (.j2), not a Dockerfile", id="template"),
        pytest.param(
            "Dockerfile.dockerignore", "a .dockerignore file, not a Dockerfile", id="companion"
        ),
        pytest.param("Dockerfile.prod", None, id="a-dockerfile"),
    ],
)
def test_name_refusal_says_why(name: str, reason: str | None) -> None:
    assert name_refusal(name) == reason


TREE = [
    "Dockerfile",
    "Containerfile",
    "api.Dockerfile",
    "web.dockerfile",
    "Dockerfile.dev",
    "Containerfile.prod",
    "lower/dockerfile",
    "lower/containerfile",
    "app/Dockerfile",
    "app/deep/er/Dockerfile.test",
    "lib/vendor/Dockerfile",
    "Dockerfile-notes.md",
    "Dockerfile.dockerignore",
    "README.md",
    ".git/Dockerfile",
    "app/.git/Dockerfile",
]
ALL_DOCKERFILES = [
    "Containerfile",
    "Containerfile.prod",
    "Dockerfile",
    "Dockerfile.dev",
    "api.Dockerfile",
    "app/Dockerfile",
    "app/deep/er/Dockerfile.test",
    "lib/vendor/Dockerfile",
    "lower/containerfile",
    "lower/dockerfile",
    "web.dockerfile",
]


# `exclude` patterns have gitignore semantics (through pathspec), relative to the
# directory searched when no config file anchors them.
@pytest.mark.parametrize(
    ("exclude", "expected"),
    [
        pytest.param((), ALL_DOCKERFILES, id="no-exclude"),
        pytest.param(
            ("vendor/",), [p for p in ALL_DOCKERFILES if "vendor" not in p], id="dir-any-depth"
        ),
        pytest.param(("vendor",), [p for p in ALL_DOCKERFILES if "vendor" not in p], id="name"),
        pytest.param(("/vendor",), ALL_DOCKERFILES, id="anchored-misses-deeper-dir"),
        pytest.param(
            ("/lib/vendor",), [p for p in ALL_DOCKERFILES if "vendor" not in p], id="anchored"
        ),
        pytest.param(
            ("**/deep/**",), [p for p in ALL_DOCKERFILES if "/deep/" not in p], id="double-star"
        ),
        pytest.param(
            ("*.Dockerfile", "*.dockerfile"),
            [p for p in ALL_DOCKERFILES if p not in {"api.Dockerfile", "web.dockerfile"}],
            id="file-name-glob",
        ),
        pytest.param(
            ("*.Dockerfile", "!api.Dockerfile"), ALL_DOCKERFILES, id="negation-takes-back"
        ),
        pytest.param(
            ("lower/dockerfile",),
            [p for p in ALL_DOCKERFILES if p != "lower/dockerfile"],
            id="exact-relative-path",
        ),
        pytest.param(
            ("Dockerfile",),
            [p for p in ALL_DOCKERFILES if not p.endswith("/Dockerfile") and p != "Dockerfile"],
            id="name-at-any-depth",
        ),
        pytest.param(("nothing-matches",), ALL_DOCKERFILES, id="unmatched-pattern"),
    ],
)
def test_discover_outside_git(
    tmp_path: Path, exclude: tuple[str, ...], expected: list[str]
) -> None:
    root = outside_git(tmp_path)
    make_tree(root, TREE)
    assert relative(discover([root], config=Config(exclude=exclude)), root) == expected


def test_discover_keeps_relative_spelling_and_deduplicates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_tree(outside_git(tmp_path), ["Dockerfile", "app/Dockerfile", "app/api.Dockerfile"])
    monkeypatch.chdir(tmp_path)
    found = discover([Path("app"), Path("."), Path("app/Dockerfile"), tmp_path / "app"])
    assert found.files == [Path("Dockerfile"), Path("app/Dockerfile"), Path("app/api.Dockerfile")]
    assert found.skipped == []


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("notes.txt", id="any-name"),
        pytest.param("Dockerfile-notes.md", id="non-dockerfile-name"),
        pytest.param("ignored/Dockerfile", id="gitignored"),
        pytest.param("vendor/Dockerfile", id="excluded-by-default"),
        pytest.param("tests/fixtures/example/Dockerfile", id="fixture-as-in-the-quick-start"),
        pytest.param("mine/Dockerfile", id="excluded-by-config"),
    ],
)
def test_discover_takes_explicit_files_whatever_they_are(tmp_path: Path, name: str) -> None:
    git(tmp_path, "init", "-q")
    (tmp_path / ".gitignore").write_text("ignored/\n")
    (tmp_path / ".dlink.toml").write_text('extend-exclude = ["mine/", "*.txt"]\n')
    make_tree(tmp_path, [name])
    assert discover([tmp_path / name]).files == [tmp_path / name]


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        pytest.param("vendor/Dockerfile", "excluded by default (vendor/:", id="default"),
        pytest.param(
            "tests/fixtures/example/Dockerfile", "(fixtures/: test fixtures)", id="fixture"
        ),
        pytest.param("mine/Dockerfile", "excluded by 'mine/' (extend-exclude in", id="config"),
    ],
)
def test_force_exclude_applies_to_explicit_files(tmp_path: Path, name: str, reason: str) -> None:
    git(tmp_path, "init", "-q")
    (tmp_path / ".dlink.toml").write_text('extend-exclude = ["mine/"]\n')
    make_tree(tmp_path, [name, "Dockerfile"])
    found = discover([tmp_path / name, tmp_path / "Dockerfile"], force_exclude=True)
    assert relative(found, tmp_path) == ["Dockerfile"]
    assert reason in skipped(found, tmp_path)[name]


def test_discover_missing_path_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "Dockerfile"
    with pytest.raises(DlinkError, match="no such file or directory") as raised:
        discover([tmp_path, missing])
    assert str(missing) in raised.value.message


# -- the default exclude set, on layouts seen in real repositories -------------------------


def test_default_excludes_other_peoples_files_and_dev_images(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    make_tree(
        tmp_path,
        [
            "Dockerfile",
            "cmd/api/Dockerfile",
            # A Go module vendor tree (moby, buildx, docker/cli, containerd ship one).
            "vendor/github.com/creack/pty/Dockerfile.golang",
            "vendor/go.opentelemetry.io/otel/dependencies.Dockerfile",
            # Other copies of other people's code.
            "third_party/grpc/Dockerfile",
            "web/third-party/lib/Dockerfile",
            "web/node_modules/pkg/Dockerfile",
            # A dev container: a local editor image.
            ".devcontainer/Dockerfile",
            # Test inputs.
            "cli/command/image/testdata/Dockerfile.test",
            "src/__fixtures__/Dockerfile",
            "tests/fixtures/broken/Dockerfile",
            "src/__snapshots__/Dockerfile",
        ],
    )
    (tmp_path / "vendor" / "modules.txt").write_text("# github.com/creack/pty v1.1.21\n")
    found = discover([tmp_path])
    assert relative(found, tmp_path) == ["Dockerfile", "cmd/api/Dockerfile"]
    reasons = skipped(found, tmp_path)
    assert reasons == {
        ".devcontainer/Dockerfile": "excluded by default (.devcontainer/: a dev container: "
        "a local editor image, never published)",
        "cli/command/image/testdata/Dockerfile.test": "excluded by default (testdata/: test data)",
        "src/__fixtures__/Dockerfile": "excluded by default (__fixtures__/: test fixtures)",
        "src/__snapshots__/Dockerfile": "excluded by default (__snapshots__/: test snapshots)",
        "tests/fixtures/broken/Dockerfile": "excluded by default (fixtures/: test fixtures)",
        "third_party/grpc/Dockerfile": "excluded by default (third_party/: third-party code)",
        "vendor/github.com/creack/pty/Dockerfile.golang": "excluded by default "
        "(vendor/: a Go vendor tree with modules.txt)",
        "vendor/go.opentelemetry.io/otel/dependencies.Dockerfile": "excluded by default "
        "(vendor/: a Go vendor tree with modules.txt)",
        "web/node_modules/pkg/Dockerfile": "excluded by default (node_modules/: npm packages)",
        "web/third-party/lib/Dockerfile": "excluded by default (third-party/: third-party code)",
    }


def test_vendor_without_modules_txt_is_still_vendored(tmp_path: Path) -> None:
    make_tree(outside_git(tmp_path), ["Dockerfile", "vendor/bundle/gem/Dockerfile"])
    found = discover([tmp_path])
    assert relative(found, tmp_path) == ["Dockerfile"]
    assert skipped(found, tmp_path) == {
        "vendor/bundle/gem/Dockerfile": "excluded by default (vendor/: vendored dependencies)"
    }


def test_default_patterns_are_relative_to_the_repository(tmp_path: Path) -> None:
    # A checkout that itself lives below a directory called `vendor` or `fixtures` is
    # not excluded: patterns see paths inside the repository only.
    repository = tmp_path / "fixtures" / "vendor" / "widget"
    repository.mkdir(parents=True)
    git(repository, "init", "-q")
    make_tree(repository, ["Dockerfile", "vendor/Dockerfile"])
    assert relative(discover([repository]), repository) == ["Dockerfile"]


GITATTRIBUTES = """\
# GitHub's linguist reads these; so does dlink.
generated/** linguist-generated
docs/examples/*.Dockerfile linguist-vendored=true
lib/copied/** linguist-vendored
lib/copied/ours/** -linguist-vendored
"""


def test_gitattributes_linguist_marks_are_excluded(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    (tmp_path / ".gitattributes").write_text(GITATTRIBUTES)
    (tmp_path / "nested").mkdir()
    (tmp_path / "nested" / ".gitattributes").write_text("Dockerfile.gen linguist-generated\n")
    make_tree(
        tmp_path,
        [
            "Dockerfile",
            "generated/Dockerfile",
            "docs/examples/api.Dockerfile",
            "docs/Dockerfile",
            "lib/copied/Dockerfile",
            "lib/copied/ours/Dockerfile",
            "nested/Dockerfile.gen",
            "nested/Dockerfile",
        ],
    )
    found = discover([tmp_path])
    assert relative(found, tmp_path) == [
        "Dockerfile",
        "docs/Dockerfile",
        "lib/copied/ours/Dockerfile",
        "nested/Dockerfile",
    ]
    assert skipped(found, tmp_path) == {
        "docs/examples/api.Dockerfile": "excluded by default "
        "(marked linguist-vendored in .gitattributes)",
        "generated/Dockerfile": "excluded by default (marked linguist-generated in .gitattributes)",
        "lib/copied/Dockerfile": "excluded by default (marked linguist-vendored in .gitattributes)",
        "nested/Dockerfile.gen": "excluded by default (marked linguist-generated in .gitattributes)",
    }


def _attributes_in(repository: Path, where: str, home: Path) -> None:
    """Mark app/Dockerfile linguist-generated in one of the places git reads attributes."""
    line = "app/Dockerfile linguist-generated\n"
    if where == "root":
        (repository / ".gitattributes").write_text(line)
    elif where == "directory":
        (repository / "app" / ".gitattributes").write_text("Dockerfile linguist-generated\n")
    elif where == "info":
        (repository / ".git" / "info").mkdir(exist_ok=True)
        (repository / ".git" / "info" / "attributes").write_text(line)
    elif where == "global":
        (home / ".config" / "git").mkdir(parents=True)
        (home / ".config" / "git" / "attributes").write_text(line)
    elif where == "attributes-file":
        (home / "marks").write_text(line)
        git(repository, "config", "core.attributesFile", str(home / "marks"))
    elif where == "include":
        (home / "marks").write_text(line)
        (home / "more.gitconfig").write_text(f"[core]\n\tattributesFile = {home / 'marks'}\n")
        git(repository, "config", "include.path", str(home / "more.gitconfig"))
    elif where != "nowhere":
        raise AssertionError(where)


@pytest.mark.parametrize(
    "where",
    ["root", "directory", "info", "global", "attributes-file", "include", "nowhere"],
)
def test_a_named_file_obeys_linguist_marks_wherever_git_reads_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    # --force-exclude (pre-commit's entry) on one file: git is asked about attributes
    # only when some place it reads them from exists; each place must still count.
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    repository = tmp_path / "repository"
    repository.mkdir()
    git(repository, "init", "-q")
    make_tree(repository, ["app/Dockerfile"])
    _attributes_in(repository, where, home)
    found = discover([repository / "app" / "Dockerfile"], force_exclude=True)
    if where == "nowhere":
        assert relative(found, repository) == ["app/Dockerfile"]
    else:
        assert relative(found, repository) == []
        assert skipped(found, repository) == {
            "app/Dockerfile": "excluded by default (marked linguist-generated in .gitattributes)"
        }


# devcontainer.json is JSON with comments and trailing commas; `build.dockerfile` is
# relative to the file itself; `dockerFile` is the older spelling.
DEVCONTAINER_JSON = """\
// Made by the dev containers extension.
{
  "name": "widget",
  /* the image for the editor */
  "build": { "dockerfile": "../docker/dev.Dockerfile", "context": "..", },
  "customizations": { "vscode": { "extensions": ["ms-python.python"] } },
}
"""


@pytest.mark.parametrize(
    ("json_path", "text", "named"),
    [
        pytest.param(
            ".devcontainer/devcontainer.json",
            DEVCONTAINER_JSON,
            "docker/dev.Dockerfile",
            id="jsonc",
        ),
        pytest.param(
            ".devcontainer.json",
            json.dumps({"dockerFile": "tools/Dockerfile.dev"}),
            "tools/Dockerfile.dev",
            id="root-file-old-key",
        ),
        pytest.param(
            ".devcontainer/python/devcontainer.json",
            json.dumps({"build": {"dockerfile": "../../images/python.Dockerfile"}}),
            "images/python.Dockerfile",
            id="one-of-several",
        ),
        pytest.param(
            "services/api/.devcontainer/devcontainer.json",
            json.dumps({"build": {"dockerfile": "../Dockerfile.dev"}}),
            "services/api/Dockerfile.dev",
            id="in-a-subproject",
        ),
    ],
)
def test_dockerfiles_named_by_devcontainer_json_are_excluded(
    tmp_path: Path, json_path: str, text: str, named: str
) -> None:
    git(tmp_path, "init", "-q")
    make_tree(tmp_path, ["Dockerfile", named])
    (tmp_path / json_path).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / json_path).write_text(text)
    found = discover([tmp_path])
    assert relative(found, tmp_path) == ["Dockerfile"]
    shown = json_path
    assert skipped(found, tmp_path) == {
        named: f"excluded by default (the dev container image of {shown})"
    }


def test_unreadable_devcontainer_json_names_nothing(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    make_tree(tmp_path, ["Dockerfile", "docker/Dockerfile"])
    (tmp_path / ".devcontainer.json").write_text('{"build": {"dockerfile": ')
    assert relative(discover([tmp_path]), tmp_path) == ["Dockerfile", "docker/Dockerfile"]


def test_templates_and_sources_are_skipped_with_the_reason(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    make_tree(
        tmp_path,
        [
            "Dockerfile",
            "docker/nova/Dockerfile.j2",
            "Dockerfile-linux.template",
            "frontend/dockerfile/dockerfile.go",
            "frontend/dockerfile/dockerfile_test.go",
            "man/Dockerfile.5.md",
            "Dockerfile.dockerignore",
            "deploy/Dockerfile-kraken",
            "deploy/Dockerfile_uhd",
            "DOCKERFILE.prod",
        ],
    )
    found = discover([tmp_path])
    assert relative(found, tmp_path) == [
        "DOCKERFILE.prod",
        "Dockerfile",
        "deploy/Dockerfile-kraken",
        "deploy/Dockerfile_uhd",
    ]
    assert skipped(found, tmp_path) == {
        "Dockerfile-linux.template": "a template (.template), not a Dockerfile",
        "Dockerfile.dockerignore": "a .dockerignore file, not a Dockerfile",
        "docker/nova/Dockerfile.j2": "a template (.j2), not a Dockerfile",
        "frontend/dockerfile/dockerfile.go": "a .go file, not a Dockerfile",
        "frontend/dockerfile/dockerfile_test.go": "a .go file, not a Dockerfile",
        "man/Dockerfile.5.md": "a .md file, not a Dockerfile",
    }


# -- exclude, extend-exclude, relative to the config file ----------------------------------


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        pytest.param("", ["Dockerfile", "app/Dockerfile"], id="defaults"),
        pytest.param(
            "exclude = []",
            ["Dockerfile", "app/Dockerfile", "fixtures/Dockerfile", "vendor/Dockerfile"],
            id="exclude-replaces-the-defaults",
        ),
        pytest.param(
            'exclude = ["app/"]',
            ["Dockerfile", "fixtures/Dockerfile", "vendor/Dockerfile"],
            id="exclude-replaces-with-own",
        ),
        pytest.param('extend-exclude = ["app/"]', ["Dockerfile"], id="extend-exclude-adds"),
        pytest.param(
            'extend-exclude = ["!fixtures/"]',
            ["Dockerfile", "app/Dockerfile", "fixtures/Dockerfile"],
            id="negation-takes-back-a-default",
        ),
        pytest.param(
            'exclude = ["/Dockerfile"]',
            ["app/Dockerfile", "fixtures/Dockerfile", "vendor/Dockerfile"],
            id="anchored-at-the-config-directory",
        ),
    ],
)
def test_exclude_and_extend_exclude(tmp_path: Path, config: str, expected: list[str]) -> None:
    git(tmp_path, "init", "-q")
    project = tmp_path / "project"
    make_tree(project, ["Dockerfile", "app/Dockerfile", "fixtures/Dockerfile", "vendor/Dockerfile"])
    (project / ".dlink.toml").write_text(config + "\n")
    assert relative(discover([tmp_path]), project) == expected


def test_negation_takes_back_a_file_the_default_set_leaves_out(tmp_path: Path) -> None:
    # docker-library style: published Dockerfiles marked linguist-generated; and a dev
    # container that reuses the root Dockerfile.
    git(tmp_path, "init", "-q")
    (tmp_path / ".gitattributes").write_text("/*/**/Dockerfile linguist-generated\n")
    (tmp_path / ".devcontainer").mkdir()
    (tmp_path / ".devcontainer" / "devcontainer.json").write_text(
        json.dumps({"build": {"dockerfile": "../Dockerfile"}})
    )
    make_tree(tmp_path, ["Dockerfile", "3.12/alpine/Dockerfile"])
    assert relative(discover([tmp_path]), tmp_path) == []
    clear_cache()
    (tmp_path / ".dlink.toml").write_text('extend-exclude = ["!/Dockerfile", "!*/**/Dockerfile"]\n')
    assert relative(discover([tmp_path]), tmp_path) == ["3.12/alpine/Dockerfile", "Dockerfile"]


def test_patterns_are_relative_to_their_config_file(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    make_tree(tmp_path, ["build/Dockerfile", "svc/build/Dockerfile", "svc/Dockerfile"])
    # `/build` in svc/.dlink.toml means svc/build, not the root's build/.
    (tmp_path / "svc" / ".dlink.toml").write_text('extend-exclude = ["/build"]\n')
    found = discover([tmp_path])
    assert relative(found, tmp_path) == ["build/Dockerfile", "svc/Dockerfile"]
    assert skipped(found, tmp_path) == {
        "svc/build/Dockerfile": f"excluded by '/build' (extend-exclude in "
        f"{tmp_path / 'svc' / '.dlink.toml'})"
    }


def test_a_named_directory_is_checked_even_when_excluded(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    make_tree(tmp_path, ["Dockerfile", "vendor/x/Dockerfile", "app/testdata/Dockerfile"])
    assert relative(discover([tmp_path / "vendor"]), tmp_path) == ["vendor/x/Dockerfile"]
    # Below a named directory that is not excluded, the excludes still apply.
    assert relative(discover([tmp_path / "app"]), tmp_path) == []
    # --force-exclude: a named directory obeys too.
    assert relative(discover([tmp_path / "vendor"], force_exclude=True), tmp_path) == []


def test_many_patterns_are_compiled_once(tmp_path: Path) -> None:
    """10,000 patterns over a few hundred files (issue 16 measured 14 s with fnmatch);
    the time is the benchmark's business, the answer is this test's."""
    git(tmp_path, "init", "-q")
    files = [f"svc{i}/Dockerfile" for i in range(300)]
    make_tree(tmp_path, files)
    patterns = [f"svc{i}/" for i in range(0, 10_000, 2)] + [f"other{i}/" for i in range(5_000)]
    (tmp_path / ".dlink.toml").write_text(f"exclude = {json.dumps(patterns)}\n")
    found = discover([tmp_path])
    assert relative(found, tmp_path) == sorted(f for f in files if int(f[3:].split("/")[0]) % 2)


def test_pattern_list_answers_as_pathspec_does_for_the_whole_list() -> None:
    """PatternList tries only the patterns that can match; its answer (excluded or taken
    back, and which pattern decided) must be pathspec's for the whole list, always."""
    import random

    from pathspec import GitIgnoreSpec

    from dlink.files import PatternList

    rng = random.Random(11)
    parts = ["vendor", "Vendor", "svc1", "svc12", "a", "b.c", "x-1", "Dockerfile", "dockerfile"]
    wild = ["*", "?", "**", "[ab]", "[!a]*", "*.Dockerfile", "svc*", "*1", "x-?", "."]

    def pattern() -> str:
        segments = [rng.choice(parts + wild) for _ in range(rng.randint(1, 3))]
        text = "/".join(segments)
        text = rng.choice(["", "/", "!", "!/"]) + text + rng.choice(["", "", "/", "/**"])
        return rng.choice([text, text, " " + text, text.replace("a", "\\a"), "# " + text])

    def path() -> str:
        names = [rng.choice(parts + ["svc123", "ab", "b", "x-12"]) for _ in range(4)]
        return "/".join(names[: rng.randint(1, 4)]) + rng.choice(["", "/"])

    compared = 0
    for _ in range(300):
        patterns = [pattern() for _ in range(rng.randint(1, 12))]
        whole = GitIgnoreSpec.from_lines(patterns)
        ours = PatternList(patterns)
        for _ in range(30):
            relative = path()
            expected = whole.check_file(relative)
            assert ours.check(relative) == (expected.include, expected.index), (patterns, relative)
            compared += expected.include is not None
    assert compared > 1000  # the table exercises matches, not only misses


# -- once per file -------------------------------------------------------------------------


@POSIX_ONLY
def test_a_symlinked_dockerfile_is_checked_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    git(tmp_path, "init", "-q")
    make_tree(tmp_path, ["docker/Dockerfile"])
    (tmp_path / "Dockerfile").symlink_to("docker/Dockerfile")
    (tmp_path / "broken.Dockerfile").symlink_to("nowhere/Dockerfile")
    monkeypatch.chdir(tmp_path)
    # Found by walking: the first in sorted order stands for both.
    found = discover([Path(".")])
    assert found.files == [Path("Dockerfile")]
    assert skipped(found, Path(".")) == {
        "docker/Dockerfile": "same file as Dockerfile",
        "broken.Dockerfile": "a broken symlink",
    }
    # Named by the user: reported under the name given.
    found = discover([Path("docker/Dockerfile"), Path(".")])
    assert found.files == [Path("docker/Dockerfile")]
    assert skipped(found, Path("."))["Dockerfile"] == "same file as docker/Dockerfile"


# -- git repositories ----------------------------------------------------------------------


def make_repository(root: Path) -> None:
    """A repository with tracked, untracked, ignored, deleted and nested-repository files."""
    git(root, "init", "-q")
    (root / ".gitignore").write_text("build/\n*.local.Dockerfile\n")
    (root / "app" / ".gitignore").parent.mkdir()
    (root / "app" / ".gitignore").write_text("generated.Dockerfile\n")
    make_tree(
        root,
        [
            "Dockerfile",
            "gone/Dockerfile",
            "app/Dockerfile",
            "app/deep/Dockerfile.prod",
            "app/generated.Dockerfile",
            "build/Dockerfile",
            "dev.local.Dockerfile",
            "vendor/Dockerfile",
        ],
    )
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "tracked")
    # Tracked but deleted from the work tree: listed by git, absent from disk.
    (root / "gone" / "Dockerfile").unlink()
    # Untracked and not ignored: found.
    make_tree(root, ["new.Dockerfile", "app/untracked/Containerfile"])
    # An ignored file that is also tracked stays tracked, as git sees it.
    make_tree(root, ["build/tracked-anyway/Dockerfile"])
    git(root, "add", "-f", "build/tracked-anyway/Dockerfile")
    # A nested repository, untracked by the outer one: searched on its own terms.
    nested = root / "nested"
    nested.mkdir()
    git(nested, "init", "-q")
    (nested / ".gitignore").write_text("secret/\n")
    make_tree(nested, ["Dockerfile", "secret/Dockerfile"])


REPOSITORY_DOCKERFILES = [
    "Dockerfile",
    "app/Dockerfile",
    "app/deep/Dockerfile.prod",
    "app/untracked/Containerfile",
    "build/tracked-anyway/Dockerfile",
    "nested/Dockerfile",
    "new.Dockerfile",
    "vendor/Dockerfile",
]


@pytest.mark.parametrize(
    ("searched", "exclude", "expected"),
    [
        pytest.param(["."], (), REPOSITORY_DOCKERFILES, id="whole-repository"),
        pytest.param(
            ["app"],
            (),
            ["app/Dockerfile", "app/deep/Dockerfile.prod", "app/untracked/Containerfile"],
            id="subdirectory-with-its-own-gitignore",
        ),
        pytest.param(
            ["app/deep", "nested"],
            (),
            ["app/deep/Dockerfile.prod", "nested/Dockerfile"],
            id="two-directories",
        ),
        pytest.param(
            ["."],
            ("vendor", "app/*"),
            [p for p in REPOSITORY_DOCKERFILES if not p.startswith(("vendor/", "app/"))],
            id="exclude-in-a-repository",
        ),
        pytest.param(["build"], (), ["build/tracked-anyway/Dockerfile"], id="ignored-directory"),
    ],
)
def test_discover_in_git_repository(
    tmp_path: Path, searched: list[str], exclude: tuple[str, ...], expected: list[str]
) -> None:
    make_repository(tmp_path)
    found = discover([tmp_path / name for name in searched], config=Config(exclude=exclude))
    assert relative(found, tmp_path) == expected


def test_discover_searches_submodules(tmp_path: Path) -> None:
    library = tmp_path / "library"
    library.mkdir()
    git(library, "init", "-q")
    make_tree(library, ["Dockerfile", "tools/api.Dockerfile"])
    git(library, "add", "-A")
    git(library, "commit", "-q", "-m", "library")
    outer = tmp_path / "outer"
    outer.mkdir()
    git(outer, "init", "-q")
    make_tree(outer, ["Dockerfile"])
    # Cloning from a local path is refused by default since git 2.38.1.
    git(outer, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(library), "lib")
    git(outer, "commit", "-q", "-m", "outer")
    expected = ["Dockerfile", "lib/Dockerfile", "lib/tools/api.Dockerfile"]
    assert relative(discover([outer]), outer) == expected


@POSIX_ONLY
def test_discover_runs_git_once_per_repository(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A real git behind a logging shim on PATH, so the count is of real processes.
    real_git = subprocess.run(
        ["sh", "-c", "command -v git"], capture_output=True, text=True, check=True
    ).stdout.strip()
    log = tmp_path / "git.log"
    shim = tmp_path / "bin" / "git"
    shim.parent.mkdir()
    shim.write_text(f'#!/bin/sh\necho "$*" >> "{log}"\nexec "{real_git}" "$@"\n')
    shim.chmod(0o755)
    repository = tmp_path / "repository"
    repository.mkdir()
    make_repository(repository)
    monkeypatch.setenv("PATH", f"{shim.parent}{os.pathsep}{os.environ['PATH']}")
    found = discover([repository / "app", repository / "vendor", repository], config=NO_EXCLUDES)
    assert relative(found, repository) == REPOSITORY_DOCKERFILES
    calls = log.read_text().splitlines()
    # One listing for the repository, one for the nested repository inside it.
    assert len(calls) == 2, calls
    # With the default excludes and no attributes anywhere, git is not asked about them.
    log.unlink()
    discover([repository])
    calls = log.read_text().splitlines()
    assert len(calls) == 2, calls
    # A .gitattributes makes it one `git check-attr` more, for its repository alone (the
    # nested repository has none, and the outer one's does not reach into it).
    (repository / ".gitattributes").write_text("*.txt text\n")
    log.unlink()
    discover([repository])
    calls = log.read_text().splitlines()
    assert len(calls) == 3, calls
    assert calls[2].startswith("check-attr "), calls


@POSIX_ONLY
def test_discover_without_git_falls_back_to_walking(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_repository(tmp_path)
    empty = tmp_path / "no-git-here"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    found = relative(discover([tmp_path]), tmp_path)
    # .gitignore is git's to apply: without git, ignored files are found too.
    assert "build/Dockerfile" in found
    assert "nested/secret/Dockerfile" in found
    assert not any(part == ".git" for path in found for part in path.split("/"))


def test_default_exclude_patterns_are_documented_in_the_readme() -> None:
    from conftest import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for default in DEFAULT_EXCLUDE:
        assert f"`{default.pattern}`" in readme, default.pattern


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"FROM scratch\n", id="plain"),
        pytest.param(b"\xef\xbb\xbfFROM scratch\r\nLABEL a=b\r\n", id="bom-and-crlf"),
        pytest.param(b"FROM scratch\nLABEL x=\xff\n", id="not-utf8"),
        pytest.param(b"", id="empty"),
    ],
)
def test_read_dockerfile_returns_raw_bytes(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "Dockerfile"
    path.write_bytes(content)
    assert read_dockerfile(path) == content


def permissions_enforced(tmp_path: Path) -> bool:
    """False for root (or CAP_DAC_OVERRIDE), where chmod stops no one."""
    probe = tmp_path / "probe"
    probe.mkdir()
    probe.chmod(0o555)
    try:
        (probe / "file").write_bytes(b"")
    except PermissionError:
        return True
    finally:
        probe.chmod(0o755)
    return False


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        pytest.param(lambda path: None, "no such file or directory", id="missing"),
        pytest.param(lambda path: path.mkdir(), "is a directory", id="directory"),
    ],
)
def test_read_dockerfile_errors(
    tmp_path: Path, make: Callable[[Path], object], reason: str
) -> None:
    path = tmp_path / "Dockerfile"
    make(path)
    with pytest.raises(DlinkError) as raised:
        read_dockerfile(path)
    assert raised.value.message == f"cannot read {path}: {reason}"


@POSIX_ONLY
def test_read_dockerfile_permission_denied(tmp_path: Path) -> None:
    if not permissions_enforced(tmp_path):
        pytest.skip("running as root: file modes do not stop reads")
    path = tmp_path / "Dockerfile"
    path.write_bytes(b"FROM scratch\n")
    path.chmod(0)
    with pytest.raises(DlinkError) as raised:
        read_dockerfile(path)
    assert raised.value.message == f"cannot read {path}: permission denied"


def test_write_atomic_leaves_equal_file_untouched(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_bytes(b"FROM scratch\n")
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))
    before = path.stat()
    assert write_atomic(path, b"FROM scratch\n") is False
    after = path.stat()
    assert (after.st_ino, after.st_mtime_ns, after.st_size) == (
        before.st_ino,
        before.st_mtime_ns,
        before.st_size,
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Dockerfile"]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        pytest.param(b"FROM scratch\n", b"FROM scratch\nLABEL a=b\n", id="grow"),
        pytest.param(b"FROM scratch\nLABEL a=b\n", b"FROM scratch\n", id="shrink"),
        pytest.param(b"FROM a\r\n", b"FROM b\r\n", id="same-size-crlf"),
        pytest.param(b"FROM a\n", b"", id="to-empty"),
    ],
)
def test_write_atomic_replaces_content(tmp_path: Path, old: bytes, new: bytes) -> None:
    path = tmp_path / "Dockerfile"
    path.write_bytes(old)
    assert write_atomic(path, new) is True
    assert path.read_bytes() == new
    assert write_atomic(path, new) is False
    assert leftovers(tmp_path) == []


@POSIX_ONLY
@pytest.mark.parametrize(
    "mode",
    [
        pytest.param(0o755, id="0755"),
        pytest.param(0o600, id="0600"),
        pytest.param(0o640, id="0640"),
        pytest.param(0o4755, id="setuid-bit"),
    ],
)
def test_write_atomic_keeps_mode(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "Dockerfile"
    path.write_bytes(b"FROM a\n")
    path.chmod(mode)
    assert write_atomic(path, b"FROM b\n") is True
    assert stat.S_IMODE(path.stat().st_mode) == mode
    assert path.read_bytes() == b"FROM b\n"


@POSIX_ONLY
def test_write_atomic_keeps_owner(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("only root can give a file to another owner to start with")
    path = tmp_path / "Dockerfile"
    path.write_bytes(b"FROM a\n")
    # Writable by all, so that a root without CAP_DAC_OVERRIDE may still update it.
    path.chmod(0o666)
    os.chown(path, 12345, 23456)
    assert write_atomic(path, b"FROM b\n") is True
    assert (path.stat().st_uid, path.stat().st_gid) == (12345, 23456)


@POSIX_ONLY
@pytest.mark.parametrize(
    "link_to",
    [
        pytest.param("real/Dockerfile", id="relative"),
        pytest.param("ABSOLUTE", id="absolute"),
        pytest.param("chain", id="link-to-link"),
    ],
)
def test_write_atomic_updates_symlink_target(tmp_path: Path, link_to: str) -> None:
    target = tmp_path / "real" / "Dockerfile"
    target.parent.mkdir()
    target.write_bytes(b"FROM a\n")
    if link_to == "ABSOLUTE":
        link_to = str(target)
    elif link_to == "chain":
        (tmp_path / "chain").symlink_to("real/Dockerfile")
    link = tmp_path / "Dockerfile"
    link.symlink_to(link_to)
    assert write_atomic(link, b"FROM b\n") is True
    assert link.is_symlink() and os.readlink(link) == link_to
    assert target.read_bytes() == b"FROM b\n"
    assert leftovers(tmp_path) == [] and leftovers(target.parent) == []


def test_write_atomic_missing_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    with pytest.raises(DlinkError) as raised:
        write_atomic(path, b"FROM a\n")
    assert raised.value.message == f"cannot write {path}: no such file or directory"
    assert not path.exists()


@POSIX_ONLY
def test_write_atomic_read_only_directory(tmp_path: Path) -> None:
    if not permissions_enforced(tmp_path):
        pytest.skip(
            "running as root: a read-only directory does not stop writes; "
            "test_write_atomic_file_too_large covers the failure path with a real fault"
        )
    directory = tmp_path / "locked"
    directory.mkdir()
    path = directory / "Dockerfile"
    path.write_bytes(b"FROM a\n")
    directory.chmod(0o555)
    try:
        with pytest.raises(DlinkError) as raised:
            write_atomic(path, b"FROM b\n")
    finally:
        directory.chmod(0o755)
    assert raised.value.message == f"cannot write {path}: permission denied"
    assert path.read_bytes() == b"FROM a\n"
    assert leftovers(directory) == []


@POSIX_ONLY
def test_write_atomic_refuses_read_only_file(tmp_path: Path) -> None:
    if not permissions_enforced(tmp_path):
        pytest.skip("running as root: every file is writable")
    path = tmp_path / "Dockerfile"
    path.write_bytes(b"FROM a\n")
    path.chmod(0o444)
    with pytest.raises(DlinkError, match="permission denied"):
        write_atomic(path, b"FROM b\n")
    assert path.read_bytes() == b"FROM a\n"


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_FSIZE behaviour is checked on Linux")
def test_write_atomic_file_too_large(tmp_path: Path) -> None:
    # A real write failure that even root gets: the file-size limit makes write(2) fail
    # with EFBIG part-way through the temporary file. Python ignores SIGXFSZ, so the
    # child sees an OSError instead of dying. A child process keeps the limit away
    # from pytest's own files.
    path = tmp_path / "Dockerfile"
    original = b"FROM a\n"
    path.write_bytes(original)
    script = textwrap.dedent(
        """
        import resource, sys
        from pathlib import Path
        from dlink.errors import DlinkError
        from dlink.files import write_atomic

        hard = resource.getrlimit(resource.RLIMIT_FSIZE)[1]
        resource.setrlimit(resource.RLIMIT_FSIZE, (1024, hard))
        try:
            write_atomic(Path(sys.argv[1]), b"#" * 100_000)
        except DlinkError as error:
            print(error.message)
            sys.exit(3)
        """
    )
    child = subprocess.run(
        [sys.executable, "-c", script, str(path)], capture_output=True, text=True, check=False
    )
    assert child.returncode == 3, child.stderr
    assert child.stdout.strip() == f"cannot write {path}: file too large"
    assert path.read_bytes() == original
    assert leftovers(tmp_path) == []
