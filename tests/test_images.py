"""Scope, build-time labels and `dlink images`, end to end in real git repositories laid
out like the public projects they were learnt from."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dlink.cli import main
from gitrepo import make_repo

REPO = "https://github.com/acme/widget"
SRC = "org.opencontainers.image.source"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = make_repo(
        tmp_path / "widget", remotes={"origin": "git@github.com:acme/widget.git"}, commit=False
    )
    monkeypatch.chdir(root)
    return root


def write(root: Path, files: dict[str, str]) -> None:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode())


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def findings(
    capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, list[tuple[str, int, str]]]:
    code, out, _ = run(capsys, "check", "--format", "json", *args)
    return code, [(f["path"], f["line"], f["code"]) for f in json.loads(out)["findings"]]


def _readme_images_example() -> str:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    after = readme.split("```sh\ndlink images\n```\n", 1)[1]
    return after.split("```text\n", 1)[1].split("```", 1)[0]


WORKFLOW = """\
name: release
on: push
jobs:
  image:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - id: meta
        uses: docker/metadata-action@v5
        with:
          images: ghcr.io/acme/widget
      - uses: docker/build-push-action@v6
        with:
          push: true
          tags: ${{ steps.meta.outputs.tags }}
          labels: ${{ steps.meta.outputs.labels }}
      - run: docker build -f test/Dockerfile -t widget-test .
"""
UNLABELLED = "FROM alpine\nRUN true\n"


def test_metadata_action_satisfies_the_published_image_and_unpublished_files_are_out_of_scope(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(repo, {".github/workflows/release.yml": WORKFLOW, "Dockerfile": UNLABELLED,
                 "test/Dockerfile": UNLABELLED, "examples/demo/Dockerfile": UNLABELLED})  # fmt: skip
    code, out, err = run(capsys, "check")
    assert (code, out) == (0, "No findings.\n")
    assert "2 Dockerfiles not published" in err
    # A file named on the command line follows the same scope (pre-commit agrees with CI).
    code, out, err = run(capsys, "check", "test/Dockerfile")
    assert (code, out) == (0, "No findings.\n")
    assert err == (
        "dlink: test/Dockerfile: not checked: not published: built only by "
        ".github/workflows/release.yml:17 (--scope all checks it)\n"
    )
    # --scope all: the unpublished ones are checked; the published one keeps its label.
    assert findings(capsys, "--scope", "all") == (
        1,
        [("examples/demo/Dockerfile", 1, "DLK101"), ("test/Dockerfile", 1, "DLK101")],
    )


def test_images_lists_every_dockerfile_with_sites_sources_and_verdicts(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(repo, {".github/workflows/release.yml": WORKFLOW, "Dockerfile": UNLABELLED,
                 "test/Dockerfile": UNLABELLED, "docs/Dockerfile": UNLABELLED})  # fmt: skip
    code, out, _ = run(capsys, "images")
    assert code == 0
    # The README shows this very layout's output.
    assert out == _readme_images_example()
    code, out, _ = run(capsys, "images", "--format", "json")
    document = json.loads(out)
    assert code == 0 and document["notices"] == []
    by_path = {entry["path"]: entry for entry in document["dockerfiles"]}
    assert by_path["Dockerfile"]["checked"] and by_path["Dockerfile"]["verdict"] == "ok"
    assert by_path["Dockerfile"]["source_labels"] == [
        {
            "target": None,
            "from": "build",
            "via": "docker/metadata-action",
            "where": ".github/workflows/release.yml:9",
            "value": "${{ github.event.repository.html_url }}",
        }
    ]
    assert by_path["Dockerfile"]["sites"][0]["publishes"] is True
    assert not by_path["test/Dockerfile"]["checked"]
    assert by_path["test/Dockerfile"]["sites"][0]["publishes"] is False


def test_a_dockerfile_label_that_the_build_overrides_is_a_conflict_naming_both_places(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dockerfile = f'FROM alpine\nLABEL {SRC}="https://github.com/upstream/widget"\n'
    write(repo, {".github/workflows/release.yml": WORKFLOW, "Dockerfile": dockerfile})
    code, out, _ = run(capsys, "check", "--format", "json")
    result = {(f["code"], f["line"]): f["message"] for f in json.loads(out)["findings"]}
    assert code == 1 and set(result) == {("DLK102", 2), ("DLK113", 2)}
    assert ".github/workflows/release.yml:9" in result[("DLK113", 2)]
    assert "upstream/widget" in result[("DLK113", 2)] and REPO in result[("DLK113", 2)]


BAKE = """\
variable "OWNER" {
  default = "acme"
}
group "default" {
  targets = ["server", "cli"]
}
target "_common" {
  dockerfile = "build/Dockerfile"
  labels = {
    "org.opencontainers.image.source" = "https://github.com/${OWNER}/widget"
  }
}
target "server" {
  inherits = ["_common"]
  target = "server"
  tags = ["ghcr.io/acme/widget-server"]
}
target "cli" {
  inherits = ["_common"]
  target = "cli"
  tags = ["ghcr.io/acme/widget-cli"]
}
"""
MULTI_STAGE = (
    "FROM golang:1.23 AS build\nRUN go build ./...\n"
    "FROM alpine AS runtime\nRUN apk add ca-certificates\n"
    "FROM runtime AS server\nCOPY --from=build /server /server\n"
    "FROM runtime AS cli\nCOPY --from=build /cli /cli\n"
    "FROM scratch AS artifacts\nCOPY --from=build /server /cli /\n"
)


def test_bake_inheritance_labels_every_published_target(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    workflow = "on: push\njobs:\n  b:\n    runs-on: x\n    steps:\n      - uses: docker/bake-action@v6\n        with:\n          push: true\n"
    write(repo, {"docker-bake.hcl": BAKE, "build/Dockerfile": MULTI_STAGE,
                 ".github/workflows/bake.yml": workflow})  # fmt: skip
    assert findings(capsys) == (0, [])
    # A target the Dockerfile lacks is reported with the build site that names it.
    write(repo, {"build/Dockerfile": MULTI_STAGE.replace("AS cli", "AS client")})
    code, out, _ = run(capsys, "check")
    assert code == 2
    assert (
        "target stage 'cli' not found" in out
        and ".github/workflows/bake.yml:6 builds this target" in out
    )
    _code, out, _ = run(capsys, "images")
    assert "targets: server, cli" in out
    assert "source label [server]: bake target '_common' at docker-bake.hcl:10" in out


def test_fix_inserts_one_label_in_the_lowest_common_base_of_the_published_targets(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    makefile = (
        "IMAGE ?= ghcr.io/acme/widget\n\n"
        "release:\n"
        "\tdocker buildx build --push --target server -t $(IMAGE)-server -f build/Dockerfile .\n"
        "\tdocker buildx build --push --target cli -t $(IMAGE)-cli -f build/Dockerfile .\n"
    )
    write(repo, {"Makefile": makefile, "build/Dockerfile": MULTI_STAGE})
    code, out, _ = run(capsys, "check")
    assert code == 1
    assert "stage 'server'" in out and "stage 'cli'" in out and "published by Makefile:4" in out
    code, _, err = run(capsys, "fix")
    assert code == 0 and "fixed build/Dockerfile (1 edit)" in err
    fixed = (repo / "build/Dockerfile").read_text()
    assert fixed == MULTI_STAGE.replace(
        "FROM alpine AS runtime\n", f'FROM alpine AS runtime\nLABEL {SRC}="{REPO}"\n'
    )
    assert findings(capsys) == (0, [])
    code, _, err = run(capsys, "fix")  # idempotent: nothing left to do, nothing written
    assert (code, err) == (0, "")
    assert (repo / "build/Dockerfile").read_text() == fixed


def test_fix_inserts_into_the_published_target_when_targets_share_no_stage(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    makefile = "push:\n\tdocker build --push --target artifacts -f build/Dockerfile .\n"
    write(repo, {"Makefile": makefile, "build/Dockerfile": MULTI_STAGE})
    assert run(capsys, "fix")[0] == 0
    text = (repo / "build/Dockerfile").read_text()
    assert text.endswith(
        f'FROM scratch AS artifacts\nLABEL {SRC}="{REPO}"\nCOPY --from=build /server /cli /\n'
    )


GORELEASER = """\
version: 2
dockers:
  - image_templates: ["ghcr.io/acme/widget:{{ .Version }}"]
    dockerfile: Dockerfile
    build_flag_templates:
      - "--platform=linux/amd64"
      - "--label=org.opencontainers.image.source={{.GitURL}}"
"""


def test_goreleaser_git_url_with_a_dot_git_remote_is_reported_on_its_line(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(repo, {".goreleaser.yaml": GORELEASER, "Dockerfile": UNLABELLED})
    code, out, _ = run(capsys, "check")
    assert code == 1
    assert out.startswith(".goreleaser.yaml:7:1: DLK112 [error] source label set by goreleaser")
    assert "'git@github.com:acme/widget.git'" in out and "GitURL" in out
    # The same GitURL with a canonical remote is fine.
    from gitrepo import git

    git(repo, "remote", "set-url", "origin", REPO)
    assert findings(capsys) == (0, [])


def test_goreleaser_git_url_under_github_actions_is_the_checkout_url(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # actions/checkout writes https://github.com/OWNER/REPO as the remote: GitURL is canonical
    # there, though this clone's own remote ends in .git.
    for name, value in {"GITHUB_ACTIONS": "true", "GITHUB_SERVER_URL": "https://github.com",
                        "GITHUB_REPOSITORY": "acme/widget"}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    write(repo, {".goreleaser.yaml": GORELEASER, "Dockerfile": UNLABELLED})
    assert findings(capsys) == (0, [])


def test_an_unknowable_build_label_is_unresolved_not_wrong(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = f"#!/bin/sh\ndocker build --push --label {SRC}=$SOURCE_URL -t ghcr.io/acme/widget .\n"
    write(repo, {"scripts/release.sh": script, "Dockerfile": UNLABELLED})
    code, out, _ = run(capsys, "check")
    assert code == 1
    assert out.startswith("scripts/release.sh:2:1: DLK105 [warning] source label set by --label")
    assert "$SOURCE_URL" in out


def test_compose_for_development_publishes_nothing_so_everything_is_checked(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    compose = "services:\n  app:\n    build:\n      context: .\n      target: dev\n"
    write(repo, {"compose.yaml": compose, "Dockerfile": "FROM alpine AS dev\nFROM alpine\n",
                 "tools/Dockerfile": UNLABELLED})  # fmt: skip
    assert findings(capsys) == (1, [("Dockerfile", 2, "DLK101"), ("tools/Dockerfile", 1, "DLK101")])
    _code, out, _ = run(capsys, "images")
    assert "built by compose.yaml:3 (compose service 'app')" in out
    assert "checked: the repository has no publishing build site" not in out  # text shows verdicts


def test_jenkinsfile_publishing_sets_the_scope(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    jenkinsfile = (
        "pipeline {\n  agent any\n  stages {\n    stage('image') {\n      steps {\n"
        "        sh 'docker build -f docker/Dockerfile -t registry.example.com/acme/widget .'\n"
        "        sh 'docker push registry.example.com/acme/widget'\n"
        "      }\n    }\n  }\n}\n"
    )
    write(repo, {"Jenkinsfile": jenkinsfile, "docker/Dockerfile": UNLABELLED,
                 "ci/agent/Dockerfile": UNLABELLED})  # fmt: skip
    code, out, _ = run(capsys, "check")
    assert code == 1 and out.startswith("docker/Dockerfile:1:1: DLK101")
    assert "published by Jenkinsfile:6" in out and "ci/agent" not in out


def test_no_build_definitions_checks_every_dockerfile_as_before(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(repo, {"Dockerfile": UNLABELLED, "sub/Dockerfile": UNLABELLED})
    code, _out, err = run(capsys, "check")
    assert code == 1 and err == ""
    assert findings(capsys) == (1, [("Dockerfile", 1, "DLK101"), ("sub/Dockerfile", 1, "DLK101")])


def test_scope_all_in_config(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(repo, {".github/workflows/release.yml": WORKFLOW, "Dockerfile": UNLABELLED,
                 "test/Dockerfile": UNLABELLED, ".dlink.toml": 'scope = "all"\n'})  # fmt: skip
    assert findings(capsys) == (1, [("test/Dockerfile", 1, "DLK101")])
    write(repo, {".dlink.toml": 'scope = "some"\n'})
    code, _, err = run(capsys, "check")
    assert code == 2 and "'scope' must be 'published' or 'all'" in err


def test_bad_scope_option(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "check", "--scope", "everything")
    assert code == 2 and "--scope 'everything' is not one of published, all" in err
    code, _, err = run(capsys, "images", "--format", "xml")
    assert code == 2 and "--format 'xml'" in err
    code, out, _ = run(capsys, "explain", "files")
    assert code == 0 and "--scope all" in out and "dlink images" in out


def test_an_unreadable_workflow_is_a_notice_and_the_rest_is_checked(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(repo, {".github/workflows/broken.yml": "jobs: [\n  - x\n", "Dockerfile": UNLABELLED,
                 ".github/workflows/release.yml": WORKFLOW})  # fmt: skip
    code, _out, err = run(capsys, "check")
    assert code == 0 and "Traceback" not in err
    assert "dlink: note: .github/workflows/broken.yml:" in err and "not valid YAML" in err


# Layouts learnt from public repositories (reproduced, not copied): what `check` reports
# before and after `fix`.


def test_goreleaser_images_plus_a_publishing_action_plus_compose_for_development(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    goreleaser = "".join(
        f"  - dockerfile: dockerfiles/Dockerfile\n"
        f'    image_templates: ["ghcr.io/acme/widget:{arch}-{{{{ .Version }}}}"]\n'
        f'    build_flag_templates: ["--platform=linux/{arch}"]\n'
        for arch in ("amd64", "arm64")
    )
    workflow = (
        "on: {push: {branches: [main]}}\njobs:\n  publish:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - uses: actions/checkout@v4\n"
        "      - uses: someone/publish-docker-action@v1\n        with:\n"
        "          file: dockerfiles/Dockerfile.self-contained\n          registry: ghcr.io\n"
        "          repository: acme/widget\n          password: ${{ secrets.TOKEN }}\n"
    )
    compose = "services:\n  widget:\n    build:\n      context: .\n      dockerfile: dockerfiles/Dockerfile.dev\n"
    write(repo, {"goreleaser.yml": "dockers:\n" + goreleaser, "docker-compose.yml": compose,
                 ".github/workflows/release-dev.yml": workflow,
                 "dockerfiles/Dockerfile": "FROM scratch\nCOPY widget /\n",
                 "dockerfiles/Dockerfile.self-contained": "FROM golang AS build\nFROM scratch\n",
                 "dockerfiles/Dockerfile.dev": "FROM golang\n"})  # fmt: skip
    assert findings(capsys) == (
        1,
        [
            ("dockerfiles/Dockerfile", 1, "DLK101"),
            ("dockerfiles/Dockerfile.self-contained", 2, "DLK101"),
        ],
    )
    assert run(capsys, "fix")[0] == 0
    assert findings(capsys) == (0, [])
    assert (repo / "dockerfiles/Dockerfile.dev").read_text() == "FROM golang\n"  # not an image


def test_package_json_scripts_pushing_two_targets_with_external_bases(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scripts = {
        "build-base": "docker buildx build -f docker/base.dockerfile -t acme/widget:base --target base . --push",
        "build-base-slim": "docker buildx build -f docker/base.dockerfile -t acme/widget:base-slim --target base-slim . --push",
        "build-local": "docker build -f docker/base.dockerfile -t widget:local --target base .",
    }
    base = (
        "FROM node:22-slim AS base-slim\nRUN true\nFROM acme/widget:base-slim AS base\nRUN true\n"
    )
    write(repo, {"package.json": json.dumps({"scripts": scripts}, indent=2),
                 "docker/base.dockerfile": base, "test/radius.dockerfile": "FROM alpine\n"})  # fmt: skip
    assert findings(capsys) == (
        1,
        [("docker/base.dockerfile", 1, "DLK101"), ("docker/base.dockerfile", 3, "DLK101")],
    )
    assert run(capsys, "fix")[0] == 0
    # The two targets share no stage (base starts from the published image): one line each.
    label = f'LABEL {SRC}="{REPO}"\n'
    assert (repo / "docker/base.dockerfile").read_text() == base.replace(
        "AS base-slim\n", "AS base-slim\n" + label
    ).replace("AS base\n", "AS base\n" + label)
    assert findings(capsys) == (0, [])


def test_publish_script_with_an_options_array_driving_bake(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bake = (
        'group "linux" {\n  targets = ["alpine", "debian"]\n}\n'
        'function "tags" {\n  params = [name]\n  result = ["docker.io/acme/widget:${name}"]\n}\n'
        'target "alpine" {\n  dockerfile = "alpine/Dockerfile"\n  tags = tags("alpine")\n}\n'
        'target "debian" {\n  dockerfile = "debian/Dockerfile"\n  tags = tags("debian")\n}\n'
    )
    script = (
        "#!/usr/bin/env bash\nset -euo pipefail\n"
        'build_opts=("--pull")\nif [ "${DRY_RUN:-true}" = false ]; then\n  build_opts+=("--push")\nfi\n'
        'echo "docker buildx bake ${BAKE_TARGET}"\n'
        'docker buildx bake -f docker-bake.hcl "${build_opts[@]}" "${BAKE_TARGET}"\n'
    )
    labelled = f'FROM alpine\nLABEL {SRC}="{REPO}"\n'
    write(repo, {"docker-bake.hcl": bake, ".ci/publish.sh": script, "alpine/Dockerfile": labelled,
                 "debian/Dockerfile": labelled.replace("alpine", "debian"),
                 "tests/plugins/Dockerfile": "FROM acme/widget\n"})  # fmt: skip
    code, out, err = run(capsys, "check")
    assert (code, out) == (0, "No findings.\n") and "1 Dockerfile not published" in err
    code, out, _ = run(capsys, "images")
    assert "published by .ci/publish.sh:8 (docker buildx bake (target 'alpine'))" in out
    assert "source label: LABEL at alpine/Dockerfile:2" in out


def test_targets_in_config_override_the_build_sites(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    makefile = "push:\n\tdocker build --push --target server -f build/Dockerfile .\n"
    config = '[tool.dlink.per-file."build/Dockerfile"]\ntargets = ["cli", "artifacts"]\n'
    write(repo, {"Makefile": makefile, "build/Dockerfile": MULTI_STAGE, "pyproject.toml": config})
    code, out, _ = run(capsys, "check")
    assert code == 1 and "stage 'cli'" in out and "stage 'artifacts'" in out
    assert "stage 'server'" not in out
    # The command line wins over both.
    code, out, _ = run(capsys, "check", "--target", "server")
    assert code == 1 and "stage 'server'" in out and "published by Makefile:2" in out


def test_without_a_repository_the_workflow_repository_label_still_counts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = tmp_path / "tarball"  # a source tarball: no git, no --repo-url
    write(plain, {".github/workflows/release.yml": WORKFLOW, "Dockerfile": UNLABELLED,
                  "test/Dockerfile": UNLABELLED})  # fmt: skip
    monkeypatch.chdir(plain)
    code, out, _ = run(capsys, "check", "--format", "json")
    assert code == 0 and json.loads(out)["findings"] == []


BUILDER_WORKFLOW = """\
on: {push: {branches: [main]}, pull_request: {}}
jobs:
  binaries:
    uses: docker/github-builder/.github/workflows/bake.yml@0123456789abcdef0123456789abcdef01234567
    with:
      target: release
      output: local
  bin-image:
    uses: docker/github-builder/.github/workflows/bake.yml@0123456789abcdef0123456789abcdef01234567
    with:
      target: image-cross
      output: image
      push: ${{ github.event_name != 'pull_request' }}
      set-meta-labels: true
      meta-images: |
        acme/widget-bin
      meta-bake-target: meta-helper
  tool:
    uses: docker/github-builder/.github/workflows/build.yml@0123456789abcdef0123456789abcdef01234567
    with:
      context: tool
      file: build/tool.Dockerfile
      output: image
      push: true
      set-meta-labels: true
      meta-images: ghcr.io/acme/tool
  validate:
    runs-on: ubuntu-latest
    steps:
      - uses: docker/bake-action@v6
        with:
          targets: validate
"""
BUILDER_BAKE = """\
target "meta-helper" {
  tags = ["acme/widget-bin:local"]
}
target "binaries" {
  target = "binaries"
}
target "release" {
  inherits = ["binaries"]
  output = ["./bin"]
}
target "image-cross" {
  inherits = ["meta-helper", "binaries"]
  output = ["type=image"]
}
target "validate" {
  dockerfile = "hack/dockerfiles/validate.Dockerfile"
}
"""


def test_docker_github_builder_reusable_workflows_publish_with_their_meta_labels(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Laid out like docker/buildx: the image is published by a job-level `uses:` of
    # docker/github-builder's bake.yml; validation helpers are built, never published.
    stages = "FROM alpine AS binaries\nRUN true\nFROM binaries AS release\n"
    write(repo, {".github/workflows/build.yml": BUILDER_WORKFLOW, "docker-bake.hcl": BUILDER_BAKE,
                 "Dockerfile": stages, "hack/dockerfiles/validate.Dockerfile": UNLABELLED,
                 "tool/build/tool.Dockerfile": UNLABELLED})  # fmt: skip
    code, out, err = run(capsys, "check")
    assert (code, out) == (0, "No findings.\n")
    assert "1 Dockerfile not published" in err
    code, out, _ = run(capsys, "images", "--format", "json")
    document = json.loads(out)
    assert code == 0 and document["notices"] == []
    by_path = {entry["path"]: entry for entry in document["dockerfiles"]}
    assert not by_path["hack/dockerfiles/validate.Dockerfile"]["checked"]
    image = by_path["Dockerfile"]
    assert image["checked"] and image["verdict"] == "ok" and image["targets"] == ["binaries"]
    published = [(s["line"], s["targets"], s["tags"]) for s in image["sites"] if s["publishes"]]
    # bake.yml names the image after meta-images, not after the target's own tags.
    assert published == [(9, ["binaries"], ["acme/widget-bin"])]
    [source] = image["source_labels"]
    assert source["where"] == ".github/workflows/build.yml:9"
    assert "docker/github-builder bake.yml" in source["via"]
    tool = by_path["tool/build/tool.Dockerfile"]
    assert tool["checked"] and tool["verdict"] == "ok"
    assert [(s["line"], s["tags"]) for s in tool["sites"]] == [(19, ["ghcr.io/acme/tool"])]
