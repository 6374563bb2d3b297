"""Build command lines as scripts write them: options, continuations, variables, pushes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dlink.builds.commands import read_commands

SRC = "org.opencontainers.image.source"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "docker build -f build/Dockerfile -t ghcr.io/acme/app:1 --target final ctx",
            ("docker build", "build/Dockerfile", "ctx", ["final"], ["ghcr.io/acme/app:1"], False),
            id="docker-build",
        ),
        pytest.param(
            "docker buildx build --push --file=Dockerfile.prod --tag acme/app .",
            ("docker buildx build", "Dockerfile.prod", ".", [], ["acme/app"], True),
            id="buildx-push-equals",
        ),
        pytest.param(
            "docker buildx build -o type=registry -t r.example/app .",
            ("docker buildx build", None, ".", [], ["r.example/app"], True),
            id="output-registry",
        ),
        pytest.param(
            "docker --context remote image build --pull -q .",
            ("docker image build", None, ".", [], [], False),
            id="global-options-and-flags",
        ),
        pytest.param(
            "podman build --layers -f Containerfile -t quay.io/acme/app sub",
            ("podman build", "Containerfile", "sub", [], ["quay.io/acme/app"], False),
            id="podman",
        ),
        pytest.param(
            "buildah bud -f Containerfile -t app .",
            ("buildah bud", "Containerfile", ".", [], ["app"], False),
            id="buildah-bud",
        ),
        pytest.param(
            "/kaniko/executor --context dir://sub --dockerfile sub/Dockerfile --destination r.example/a",
            ("kaniko", "sub/Dockerfile", "sub", [], ["r.example/a"], True),
            id="kaniko",
        ),
        pytest.param(
            "sudo $(DOCKER) build -t x .",
            ("docker build", None, ".", [], ["x"], False),
            id="engine-variable",
        ),
        pytest.param(
            "cd app && docker build -t app . && docker run app",
            ("docker build", None, ".", [], ["app"], False),
            id="chained",
        ),
    ],
)
def test_build_options(
    text: str, expected: tuple[str, str | None, str, list[str], list[str], bool]
) -> None:
    [build] = read_commands(text).builds
    assert (
        build.tool,
        build.file,
        build.context,
        build.targets,
        build.tags,
        build.push,
    ) == expected


@pytest.mark.parametrize(
    "text",
    [
        pytest.param('echo "docker build -t x ."', id="echo"),
        pytest.param("# docker build -t x .", id="comment"),
        pytest.param('Write-Host "docker build ."', id="powershell-print"),
        pytest.param("docker run --rm alpine true", id="run-not-build"),
        pytest.param("dockerd --debug", id="daemon"),
    ],
)
def test_not_builds(text: str) -> None:
    assert read_commands(text).builds == []


def test_labels_continuations_and_lines() -> None:
    text = (
        "set -e\n"
        "docker buildx build \\\n"
        f'  --label "{SRC}=https://github.com/acme/app" \\\n'
        "  --label=org.opencontainers.image.title=app \\\n"
        "  -t ghcr.io/acme/app .\n"
        "docker push ghcr.io/acme/app\n"
    )
    found = read_commands(text)
    [build] = found.builds
    assert build.line == 2
    assert build.labels == [
        (SRC, "https://github.com/acme/app"),
        ("org.opencontainers.image.title", "app"),
    ]
    assert found.pushes == ["ghcr.io/acme/app"]


def test_powershell_backtick_continuation() -> None:
    text = "docker build `\n  -f windows/Dockerfile `\n  -t acme/app:win .\n"
    [build] = read_commands(text).builds
    assert (build.file, build.tags, build.line) == ("windows/Dockerfile", ["acme/app:win"], 1)


def test_command_inside_a_loop_reports_its_own_line() -> None:
    text = "for v in a b; do \\\n  echo $v; \\\n  docker build -f $v.Dockerfile . ; \\\ndone\n"
    [build] = read_commands(text).builds
    assert build.line == 3 and build.file == "$v.Dockerfile"


def test_variables_are_substituted() -> None:
    found = read_commands(
        "docker build --label org.opencontainers.image.source=$(URL) -t $(IMAGE):${TAG:-dev} .",
        {"URL": "https://github.com/acme/app", "IMAGE": "ghcr.io/acme/app"},
    )
    [build] = found.builds
    assert build.labels == [(SRC, "https://github.com/acme/app")]
    assert build.tags == ["ghcr.io/acme/app:dev"]


def test_github_expressions_stay_single_words() -> None:
    text = f"docker build --label {SRC}=${{{{ github.server_url }}}}/${{{{ github.repository }}}} ."
    [build] = read_commands(text).builds
    assert build.labels == [(SRC, "${{ github.server_url }}/${{ github.repository }}")]
    assert build.context == "."


@pytest.mark.parametrize(
    ("text", "files", "targets", "push"),
    [
        pytest.param("docker buildx bake", [], [], False, id="default"),
        pytest.param(
            "docker buildx bake -f ci/bake.hcl --push app worker",
            ["ci/bake.hcl"],
            ["app", "worker"],
            True,
            id="files-targets-push",
        ),
        pytest.param(
            "docker buildx bake --set '*.output=type=registry' release",
            [],
            ["release"],
            True,
            id="set-output",
        ),
    ],
)
def test_bake_commands(text: str, files: list[str], targets: list[str], push: bool) -> None:
    [bake] = read_commands(text).bakes
    assert (bake.files, bake.targets, bake.push) == (files, targets, push)


def test_bake_print_builds_nothing() -> None:
    [bake] = read_commands("docker buildx bake --print app").bakes
    assert bake.prints


@given(st.text(alphabet="ab $'\"\\\t-=", max_size=30))
def test_words_split_as_shlex_does(line: str) -> None:
    """The fast splitter agrees with the standard library's POSIX shell lexer."""
    import shlex

    from dlink.builds.commands import _split

    try:
        expected = shlex.split(line, posix=True)
    except ValueError:  # an open quote: dlink splits such a fragment at whitespace
        expected = line.split()
    assert _split(line) == expected
