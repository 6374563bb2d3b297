"""What build-time label values resolve to, given the repository's facts."""

from __future__ import annotations

import pytest

from dlink.builds.values import RepoFacts, as_glob, glob_match, resolve, substitute

FACTS = RepoFacts("https://github.com/acme/widget", "git@github.com:acme/widget.git")


@pytest.mark.parametrize(
    ("raw", "value", "unresolved"),
    [
        pytest.param(
            "${{ github.server_url }}/${{ github.repository }}",
            "https://github.com/acme/widget",
            set(),
            id="github-server-and-repository",
        ),
        pytest.param(
            "https://github.com/${{github.repository}}",
            "https://github.com/acme/widget",
            set(),
            id="github-repository-no-spaces",
        ),
        pytest.param(
            "${{ github.event.repository.html_url }}",
            "https://github.com/acme/widget",
            set(),
            id="metadata-action-source",
        ),
        pytest.param(
            "${{ github.repositoryUrl }}",
            "git://github.com/acme/widget.git",
            set(),
            id="repository-url-is-git-protocol",
        ),
        pytest.param(
            "{{.GitURL}}", "git@github.com:acme/widget.git", set(), id="goreleaser-git-url"
        ),
        pytest.param(
            "{{ .Env.SOURCE }}", "{{ .Env.SOURCE }}", {"{{ .Env.SOURCE }}"}, id="goreleaser-env"
        ),
        pytest.param("$REPO_URL", "$REPO_URL", {"$REPO_URL"}, id="shell-variable"),
        pytest.param("$CI_PROJECT_URL", "https://github.com/acme/widget", set(), id="gitlab-project-url"),
        pytest.param("${CI_PROJECT_URLS}", "${CI_PROJECT_URLS}", {"${CI_PROJECT_URLS}"}, id="not-ci-variable"),
        pytest.param(
            "$GITHUB_SERVER_URL/$GITHUB_REPOSITORY",
            "https://github.com/acme/widget",
            set(),
            id="github-environment",
        ),
        pytest.param(
            "${{ secrets.SOURCE }}", "${{ secrets.SOURCE }}", {"${{ secrets.SOURCE }}"}, id="secret"
        ),
        pytest.param(
            "https://github.com/acme/widget", "https://github.com/acme/widget", set(), id="literal"
        ),
    ],
)
def test_resolve(raw: str, value: str, unresolved: set[str]) -> None:
    resolved = resolve(raw, FACTS)
    assert (resolved.value, set(resolved.unresolved)) == (value, unresolved)


def test_git_url_unknown_without_a_remote() -> None:
    resolved = resolve("{{ .GitURL }}", RepoFacts("https://github.com/acme/widget"))
    assert resolved.unresolved == {"{{ .GitURL }}"}
    assert resolved.note and "GitURL" in resolved.note


@pytest.mark.parametrize(
    ("text", "variables", "expected"),
    [
        pytest.param("$(A)/$(B)", {"A": "x", "B": "y"}, "x/y", id="make"),
        pytest.param("${A:-def}", {}, "def", id="default"),
        pytest.param("${A:-def}", {"A": "set"}, "set", id="default-overridden"),
        pytest.param("${A:-$B}", {}, "${A:-$B}", id="default-unknown"),
        pytest.param("$A$B", {"A": "1"}, "1$B", id="partial"),
        pytest.param(
            'x "${opts[@]}" y', {"opts[@]": "--pull --push"}, "x --pull --push y", id="array"
        ),
        pytest.param("$(A)", {"A": "$(B)", "B": "deep"}, "deep", id="nested"),
    ],
)
def test_substitute(text: str, variables: dict[str, str], expected: str) -> None:
    assert substitute(text, variables) == expected


def test_globs_stay_in_one_directory() -> None:
    pattern = as_glob("docker/$(NAME).Dockerfile")
    assert pattern == "docker/*.Dockerfile"
    assert glob_match("docker/api.Dockerfile", pattern)
    assert not glob_match("docker/sub/api.Dockerfile", pattern)
