"""Each reader on small build definitions laid out as real repositories lay them out."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dlink.builds import BuildSite, scan, sites_for
from dlink.builds.names import kind_of

SRC = "org.opencontainers.image.source"


def layout(root: Path, files: dict[str, str]) -> Path:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def only(sites: list[BuildSite]) -> BuildSite:
    assert len(sites) == 1, sites
    return sites[0]


METADATA_WORKFLOW = """\
name: release
on: {push: {tags: ["v*"]}, pull_request: {}}
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
          context: .
          file: deploy/Dockerfile
          push: ${{ github.event_name != 'pull_request' }}
          tags: ${{ steps.meta.outputs.tags }}
          labels: ${{ steps.meta.outputs.labels }}
"""


def test_metadata_action_feeds_build_push_action(tmp_path: Path) -> None:
    root = layout(tmp_path, {".github/workflows/release.yml": METADATA_WORKFLOW,
                             "deploy/Dockerfile": "FROM alpine\n"})  # fmt: skip
    site = only(scan(root).sites)
    assert (site.kind, site.description, site.dockerfile) == (
        "github-actions",
        "docker/build-push-action",
        "deploy/Dockerfile",
    )
    assert site.publishes and site.tags == ("ghcr.io/acme/widget",)
    assert str(site.origin) == ".github/workflows/release.yml:12"
    [label] = site.source_labels()
    assert label.via == "docker/metadata-action" and label.origin.line == 9
    assert label.raw == "${{ github.event.repository.html_url }}"


def test_metadata_action_labels_input_overrides_the_source(tmp_path: Path) -> None:
    workflow = METADATA_WORKFLOW.replace(
        "          images: ghcr.io/acme/widget\n",
        f"          images: ghcr.io/acme/widget\n          labels: |\n            {SRC}=https://github.com/up/stream\n",
    )
    root = layout(tmp_path, {".github/workflows/release.yml": workflow, "deploy/Dockerfile": ""})
    [label] = only(scan(root).sites).source_labels()
    assert (label.raw, label.origin.line) == ("https://github.com/up/stream", 13)


def test_build_push_without_push_does_not_publish(tmp_path: Path) -> None:
    workflow = """\
on: pull_request
jobs:
  test:
    runs-on: ubuntu-latest
    strategy:
      matrix:
        variant: [alpine, debian]
    steps:
      - uses: docker/build-push-action@v6
        with:
          file: images/${{ matrix.variant }}/Dockerfile
          load: true
          labels: |
            org.opencontainers.image.title=widget
"""
    root = layout(tmp_path, {".github/workflows/test.yml": workflow,
                             "images/alpine/Dockerfile": "", "images/debian/Dockerfile": ""})  # fmt: skip
    sites = scan(root).sites
    assert sorted(s.dockerfile or "" for s in sites) == [
        "images/alpine/Dockerfile",
        "images/debian/Dockerfile",
    ]
    assert not any(s.publishes for s in sites)
    assert all(s.labels[0].key == "org.opencontainers.image.title" for s in sites)


BAKE = """\
variable "OWNER" {
  default = "acme"
}
group "default" {
  targets = ["api", "worker"]
}
target "_labels" {
  labels = {
    "org.opencontainers.image.source" = "https://github.com/${OWNER}/widget"
  }
}
target "api" {
  inherits = ["_labels"]
  context = "services"
  dockerfile = "api.Dockerfile"
  target = "runtime"
  tags = ["ghcr.io/acme/api"]
}
target "worker" {
  inherits = ["api"]
  target = "worker"
  tags = ["ghcr.io/acme/worker"]
}
target "test" {
  dockerfile = "test.Dockerfile"
}
"""


def test_bake_inheritance_labels_and_the_pushing_call(tmp_path: Path) -> None:
    root = layout(tmp_path, {"docker-bake.hcl": BAKE, "services/api.Dockerfile": "",
                             "test.Dockerfile": "",
                             "Makefile": "release:\n\tdocker buildx bake --push\n"})  # fmt: skip
    result = scan(root)
    assert result.notices == []
    published = [s for s in result.sites if s.publishes]
    assert [(s.description, s.dockerfile, s.targets) for s in published] == [
        ("docker buildx bake (target 'api')", "services/api.Dockerfile", ("runtime",)),
        ("docker buildx bake (target 'worker')", "services/api.Dockerfile", ("worker",)),
    ]
    for site in published:
        [label] = site.source_labels()
        assert label.raw == "https://github.com/acme/widget"
        assert str(label.origin) == "docker-bake.hcl:9" and label.via == "bake target '_labels'"
        assert str(site.origin) == "Makefile:2"
    # `test` is in no group and the call does not build it: only its own, unpublished site.
    [test] = sites_for(result, "test.Dockerfile")
    assert not test.publishes and str(test.origin) == "docker-bake.hcl:24"


def test_bake_parse_leaves_nothing_on_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A variable default can be a secret: the parsed document is never written anywhere.
    home, cache = tmp_path / "home", tmp_path / "cache"
    home.mkdir()
    cache.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    bake = 'variable "TOKEN" { default = "s3cr3t-default" }\n' + BAKE
    root = layout(tmp_path / "repo", {"docker-bake.hcl": bake, "services/api.Dockerfile": "",
                                      "test.Dockerfile": ""})  # fmt: skip
    assert scan(root).sites
    assert list(home.rglob("*")) == [] and list(cache.rglob("*")) == []


@pytest.mark.parametrize("with_hcl", [False, True])
def test_hcl_parser_is_imported_only_for_a_bake_hcl_file(tmp_path: Path, with_hcl: bool) -> None:
    # In a fresh interpreter: this test process has imported the reader already. Its
    # HCL reader is dlink's own (dlink.builds.hcl); python-hcl2 is never imported.
    files = {"Dockerfile": "", "docker-bake.json": '{"target": {"app": {}}}'}
    if with_hcl:
        files["docker-bake.hcl"] = 'target "app" {}\n'
    root = layout(tmp_path, files)
    probe = (
        "import sys; from pathlib import Path; from dlink.builds import scan; "
        f"scan(Path({str(root)!r})); "
        "print('dlink.builds.hcl' in sys.modules, 'hcl2' in sys.modules or 'lark' in sys.modules)"
    )
    completed = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == f"{with_hcl} False"


def test_bake_output_registry_publishes_without_a_call(tmp_path: Path) -> None:
    bake = '{"target": {"app": {"dockerfile": "Dockerfile", "output": ["type=registry"]}}}'
    root = layout(tmp_path, {"docker-bake.json": bake, "Dockerfile": ""})
    site = only(scan(root).sites)
    assert site.publishes and site.dockerfile == "Dockerfile" and site.kind == "bake"


def test_bake_action_with_the_metadata_bake_file(tmp_path: Path) -> None:
    workflow = """\
on: push
jobs:
  image:
    runs-on: ubuntu-latest
    steps:
      - id: meta
        uses: docker/metadata-action@v5
        with:
          images: ghcr.io/acme/widget
      - uses: docker/bake-action@v6
        with:
          source: .
          files: |
            ./docker-bake.hcl
            cwd://${{ steps.meta.outputs.bake-file }}
          targets: image
          push: true
"""
    bake = 'target "docker-metadata-action" {}\ntarget "image" {\n  inherits = ["docker-metadata-action"]\n}\n'
    root = layout(tmp_path, {".github/workflows/image.yml": workflow, "docker-bake.hcl": bake,
                             "Dockerfile": ""})  # fmt: skip
    [site] = [s for s in scan(root).sites if s.publishes]
    assert site.dockerfile == "Dockerfile"
    [label] = site.source_labels()
    assert label.via == "docker/metadata-action"


GORELEASER = """\
version: 2
dockers:
  - image_templates: ["ghcr.io/acme/widget:{{ .Version }}-amd64"]
    dockerfile: build/Dockerfile
    use: buildx
    build_flag_templates:
      - "--platform=linux/amd64"
      - "--label=org.opencontainers.image.source={{.GitURL}}"
      - "--target=release"
  - image_templates: ["acme/widget:{{ .Version }}-dev"]
    dockerfile: build/Dockerfile.dev
    skip_push: true
dockers_v2:
  - images: ["ghcr.io/acme/tool"]
    dockerfile: tool.Dockerfile
    labels:
      "org.opencontainers.image.source": "https://github.com/acme/widget"
"""


def test_goreleaser_dockers_and_dockers_v2(tmp_path: Path) -> None:
    root = layout(tmp_path, {".goreleaser.yaml": GORELEASER, "build/Dockerfile": "",
                             "build/Dockerfile.dev": "", "tool.Dockerfile": ""})  # fmt: skip
    first, dev, tool = scan(root).sites
    assert (first.dockerfile, first.targets, first.publishes) == (
        "build/Dockerfile",
        ("release",),
        True,
    )
    [label] = first.source_labels()
    assert (label.raw, label.origin.line) == ("{{.GitURL}}", 8)
    assert dev.dockerfile == "build/Dockerfile.dev" and not dev.publishes
    assert tool.publishes and tool.source_labels()[0].raw == "https://github.com/acme/widget"


def test_compose_builds_for_development(tmp_path: Path) -> None:
    compose = """\
services:
  app:
    build:
      context: ./app
      dockerfile: dev.Dockerfile
      target: dev
      labels:
        - org.opencontainers.image.title=app
  db:
    image: postgres:16
  tool:
    build: ./tool
"""
    root = layout(tmp_path, {"deploy/compose.yaml": compose, "deploy/app/dev.Dockerfile": "",
                             "deploy/tool/Dockerfile": ""})  # fmt: skip
    app, tool = scan(root).sites
    assert (app.dockerfile, app.targets, app.publishes) == (
        "deploy/app/dev.Dockerfile",
        ("dev",),
        False,
    )
    assert app.labels[0].key == "org.opencontainers.image.title"
    assert (tool.dockerfile, tool.description) == (
        "deploy/tool/Dockerfile",
        "compose service 'tool'",
    )


def test_gitlab_ci_kaniko_and_docker(tmp_path: Path) -> None:
    gitlab = """\
variables:
  DOCKERFILE: ci/Dockerfile
build:
  image: gcr.io/kaniko-project/executor:debug
  script:
    - /kaniko/executor --context $CI_PROJECT_DIR --dockerfile $CI_PROJECT_DIR/$DOCKERFILE --destination $CI_REGISTRY_IMAGE:latest
test:
  script:
    - docker build -f test/Dockerfile -t widget-test .
"""
    root = layout(tmp_path, {".gitlab-ci.yml": gitlab, "ci/Dockerfile": "", "test/Dockerfile": ""})
    kaniko, test = scan(root).sites
    assert kaniko.publishes and kaniko.dockerfile == "ci/Dockerfile"
    assert (test.dockerfile, test.publishes) == ("test/Dockerfile", False)


def test_jenkinsfile_and_package_json(tmp_path: Path) -> None:
    jenkinsfile = """\
pipeline {
  stages {
    stage('image') {
      steps {
        sh 'docker build -f docker/Dockerfile -t registry.example.com/acme/widget:${BUILD_NUMBER} .'
        sh "docker push registry.example.com/acme/widget:${BUILD_NUMBER}"
      }
    }
  }
}
"""
    package = (
        '{"scripts": {"docker": "docker buildx build -f web.Dockerfile -t acme/web . --push"}}'
    )
    root = layout(tmp_path, {"Jenkinsfile": jenkinsfile, "package.json": package,
                             "docker/Dockerfile": "", "web.Dockerfile": ""})  # fmt: skip
    jenkins, npm = scan(root).sites
    assert (jenkins.kind, jenkins.dockerfile, jenkins.publishes, jenkins.origin.line) == (
        "jenkins",
        "docker/Dockerfile",
        True,
        5,
    )
    assert (npm.kind, npm.dockerfile, npm.publishes) == ("npm", "web.Dockerfile", True)


def test_shell_script_with_an_options_array(tmp_path: Path) -> None:
    script = """\
#!/bin/sh
opts=("--pull")
if [ "$CI" = true ]; then
  opts+=("--push")
fi
docker buildx build "${opts[@]}" -t acme/app -f Dockerfile .
"""
    root = layout(tmp_path, {"scripts/release.sh": script, "Dockerfile": ""})
    site = only(scan(root).sites)
    assert site.publishes and site.dockerfile == "Dockerfile" and site.kind == "script"


@pytest.mark.parametrize(
    ("relative", "text", "line", "reason"),
    [
        pytest.param(".github/workflows/x.yml", "jobs: [\n", 2, "not valid YAML", id="yaml"),
        pytest.param("docker-bake.hcl", 'target "a" {\n  tags = [\n', 3, "not valid HCL", id="hcl"),
        pytest.param("docker-bake.json", "{\n  oops\n}", 2, "not valid JSON", id="json"),
        pytest.param(
            "compose.yaml", "services:\n  a:\n    build: [\n", 4, "not valid YAML", id="compose"
        ),
    ],
)
def test_unreadable_definitions_are_notices(
    tmp_path: Path, relative: str, text: str, line: int, reason: str
) -> None:
    root = layout(tmp_path, {relative: text, "Dockerfile": ""})
    result = scan(root)
    [notice] = result.notices
    assert notice.origin.path == relative and reason in notice.message
    assert notice.origin.line >= 1


@pytest.mark.parametrize(
    ("relative", "kind"),
    [
        (".github/workflows/ci.yaml", "github-actions"),
        ("ci/.github/workflows/ci.yaml", None),
        ("docker-bake.hcl", "bake"),
        ("deploy/app.bake.hcl", "bake"),
        (".goreleaser.yml", "goreleaser"),
        ("goreleaser.yaml", "goreleaser"),
        ("docker-compose.dev.yml", "compose"),
        ("compose.yaml", "compose"),
        (".gitlab-ci.yml", "gitlab-ci"),
        ("Jenkinsfile", "jenkins"),
        ("ci/Jenkinsfile.release", "jenkins"),
        ("Makefile", "make"),
        ("Makefile.common", "make"),
        ("build/docker.mk", "make"),
        ("scripts/build.sh", "script"),
        ("build.ps1", "script"),
        ("web/package.json", "npm"),
        ("README.md", None),
    ],
)
def test_kinds_by_name(relative: str, kind: str | None) -> None:
    assert kind_of(relative) == kind


# Any shape of YAML or JSON a user may write: the readers take what they understand and
# never fail (hypothesis found several shapes that used to raise).
_KEYS = st.sampled_from(
    ["jobs", "steps", "uses", "with", "run", "file", "context", "labels", "push", "tags",
     "target", "services", "build", "dockerfile", "dockers", "dockers_v2", "strategy", "matrix",
     "include", "script", "variables", "files", "targets", "set", "id", "images", "env",
     "inherits", "output", "group", "variable", "default", "build_flag_templates"]
)  # fmt: skip
_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.text(max_size=12),
    st.sampled_from(
        [
            "docker build -f Dockerfile .",
            "${{ matrix.x }}",
            "${{ steps.meta.outputs.labels }}",
            "docker/build-push-action@v6",
            "docker/metadata-action@v5",
            "docker/bake-action@v5",
            "--label=org.opencontainers.image.source={{.GitURL}}",
            "k=v",
        ]
    ),
)
_DATA = st.recursive(
    _LEAVES,
    lambda c: st.one_of(st.lists(c, max_size=4), st.dictionaries(_KEYS, c, max_size=5)),
    max_leaves=25,
)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    _DATA,
    st.sampled_from(
        [
            ".github/workflows/a.yml",
            "compose.yaml",
            ".goreleaser.yaml",
            ".gitlab-ci.yml",
            "docker-bake.json",
            "package.json",
        ]
    ),
)
def test_readers_never_fail_on_any_shape(document: object, name: str) -> None:
    import json
    import tempfile

    import yaml

    with tempfile.TemporaryDirectory() as temporary:
        text = json.dumps(document) if name.endswith(".json") else yaml.safe_dump(document)
        root = layout(Path(temporary), {name: text, "Dockerfile": "FROM scratch\n"})
        result = scan(root, [name, "Dockerfile"])
        assert all(site.origin.line >= 1 for site in result.sites)


def test_a_push_publishes_only_the_build_of_that_image(tmp_path: Path) -> None:
    makefile = (
        "test:\n\tdocker build -t widget-test -f test/Dockerfile .\n"
        "release:\n\tdocker build -t acme/widget:$(VERSION) .\n\tdocker push acme/widget:$(VERSION)\n"
    )
    root = layout(tmp_path, {"Makefile": makefile, "Dockerfile": "", "test/Dockerfile": ""})
    test, release = scan(root).sites
    assert (test.dockerfile, test.publishes) == ("test/Dockerfile", False)
    assert (release.dockerfile, release.publishes) == ("Dockerfile", True)


def test_list_inputs_split_as_the_docker_actions_do(tmp_path: Path) -> None:
    # bake-action `targets` from a matrix value written as a block scalar (one per line),
    # a remote bake `source` (another repository's definition: nothing of ours), and
    # build-push-action `tags` (newline or comma) beside `labels` (one a line, commas kept).
    workflow = """\
on: push
jobs:
  bake:
    runs-on: ubuntu-latest
    strategy:
      matrix:
        include:
          - targets: |
              image
              test
          - source: "https://github.com/acme/other.git#v1"
            targets: |
              remote-only
    steps:
      - uses: docker/bake-action@v6
        with:
          source: ${{ matrix.source }}
          targets: ${{ matrix.targets }}
  image:
    runs-on: ubuntu-latest
    steps:
      - uses: docker/build-push-action@v6
        with:
          file: app.Dockerfile
          push: true
          tags: |
            ghcr.io/acme/a:1, ghcr.io/acme/a:latest
            ghcr.io/acme/b
          labels: |
            org.opencontainers.image.description=one, two
            org.opencontainers.image.source=https://github.com/acme/widget
"""
    bake = 'target "image" {\n  dockerfile = "image.Dockerfile"\n}\n'
    bake += 'target "test" {\n  dockerfile = "test.Dockerfile"\n}\n'
    bake += 'group "default" {\n  targets = ["image"]\n}\n'
    root = layout(tmp_path, {".github/workflows/ci.yml": workflow, "docker-bake.hcl": bake,
                             "image.Dockerfile": "", "test.Dockerfile": "",
                             "app.Dockerfile": ""})  # fmt: skip
    result = scan(root)
    assert result.notices == []
    from_workflow = [s for s in result.sites if s.origin.path == ".github/workflows/ci.yml"]
    assert sorted((s.dockerfile, s.description) for s in from_workflow) == [
        ("app.Dockerfile", "docker/build-push-action"),
        ("image.Dockerfile", "docker/bake-action (target 'image')"),
        ("test.Dockerfile", "docker/bake-action (target 'test')"),
    ]
    [app] = [s for s in from_workflow if s.dockerfile == "app.Dockerfile"]
    assert app.tags == ("ghcr.io/acme/a:1", "ghcr.io/acme/a:latest", "ghcr.io/acme/b")
    labels = {label.key: label.raw for label in app.labels}
    assert labels["org.opencontainers.image.description"] == "one, two"
    assert [label.raw for label in app.source_labels()] == ["https://github.com/acme/widget"]
