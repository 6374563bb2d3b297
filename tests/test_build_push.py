"""dlink build-push: the commands it makes (tables) and real runs against dockerd + a registry."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from pathlib import Path

import pytest

from clirun import run_cli as _run
from dlink import build, publish
from dlink.build import BuildSpec, Command, Engine
from dlink.errors import DlinkError
from dlink.registry import Credentials, RegistryClient, parse_image_ref
from servers import (
    PASSWORD,
    USER,
    Dockerd,
    Registry,
    docker_login,
    raw_labels,
)

# The server fixtures, registered once so session scope means one server per run.

SOURCE = "org.opencontainers.image.source"
REVISION = "org.opencontainers.image.revision"
CREATED = "org.opencontainers.image.created"
TITLE = "org.opencontainers.image.title"
URL = "org.opencontainers.image.url"
VERSION = "org.opencontainers.image.version"
LICENSES = "org.opencontainers.image.licenses"
WIDGET = "https://github.com/acme/widget"
EPOCH = "1700000000"
EPOCH_RFC3339 = "2023-11-14T22:13:20Z"

DOCKER = Engine("docker", "docker")
BUILDX = Engine("docker", "docker", buildx=True)
PODMAN = Engine("podman", "podman")
BUILDAH = Engine("buildah", "buildah")
SPEC = BuildSpec(
    context=".",
    dockerfile="Dockerfile",
    tags=("ghcr.io/acme/widget:1", "ghcr.io/acme/widget:latest"),
    labels={SOURCE: WIDGET, REVISION: "abc"},
    annotations={SOURCE: WIDGET},
    build_args=("A=1", "B"),
    target="final",
    platform="linux/amd64",
)
COMMON = (
    "--file", "Dockerfile", "--tag", "ghcr.io/acme/widget:1", "--tag", "ghcr.io/acme/widget:latest",
    "--label", f"{SOURCE}={WIDGET}", "--label", f"{REVISION}=abc",
)  # fmt: skip
TAIL = ("--build-arg", "A=1", "--build-arg", "B", "--target", "final", "--platform", "linux/amd64")


# -- commands, as data ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("engine", "spec", "expected"),
    [
        pytest.param(DOCKER, SPEC, ("docker", "build", *COMMON, *TAIL, "."), id="docker-classic"),
        pytest.param(
            BUILDX,
            SPEC,
            (
                "docker",
                "buildx",
                "build",
                *COMMON,
                "--annotation",
                f"manifest:{SOURCE}={WIDGET}",
                *TAIL,
                "--push",
                ".",
            ),
            id="buildx-single-platform",
        ),
        pytest.param(
            BUILDX,
            BuildSpec(
                ".",
                "Dockerfile",
                ("t:1",),
                {},
                {SOURCE: WIDGET},
                (),
                None,
                "linux/amd64,linux/arm64",
            ),
            (
                "docker",
                "buildx",
                "build",
                "--file",
                "Dockerfile",
                "--tag",
                "t:1",
                "--annotation",
                f"index,manifest:{SOURCE}={WIDGET}",
                "--platform",
                "linux/amd64,linux/arm64",
                "--push",
                ".",
            ),
            id="buildx-multi-platform",
        ),
        pytest.param(
            PODMAN,
            SPEC,
            ("podman", "build", *COMMON, "--annotation", f"{SOURCE}={WIDGET}", *TAIL, "."),
            id="podman",
        ),
        pytest.param(
            BUILDAH,
            SPEC,
            ("buildah", "build", *COMMON, "--annotation", f"{SOURCE}={WIDGET}", *TAIL, "."),
            id="buildah",
        ),
    ],
)
def test_build_command(engine: Engine, spec: BuildSpec, expected: tuple[str, ...]) -> None:
    assert build.build_command(engine, spec).argv == expected


@pytest.mark.parametrize(
    ("engine", "tags", "expected"),
    [
        pytest.param(
            DOCKER,
            ("ghcr.io/a/b:1", "127.0.0.1:5000/a/b:1"),
            [("docker", "push", "ghcr.io/a/b:1"), ("docker", "push", "127.0.0.1:5000/a/b:1")],
            id="docker",
        ),
        pytest.param(BUILDX, ("ghcr.io/a/b:1",), [], id="buildx-pushes-while-building"),
        pytest.param(
            PODMAN,
            ("localhost:5000/a/b:1",),
            [("podman", "push", "--tls-verify=false", "localhost:5000/a/b:1")],
            id="podman-loopback-plain-http",
        ),
    ],
)
def test_push_commands(
    engine: Engine, tags: tuple[str, ...], expected: list[tuple[str, ...]]
) -> None:
    spec = BuildSpec(".", "Dockerfile", tags)
    assert [command.argv for command in build.push_commands(engine, spec)] == expected


def test_login_takes_the_token_on_stdin_only() -> None:
    command = build.login_command(DOCKER, "ghcr.io", "octocat")
    assert command.argv == (
        "docker", "login", "--username", "octocat", "--password-stdin", "ghcr.io",
    )  # fmt: skip
    assert command.secret_on_stdin
    assert command.display() == (
        "printf '%s\\n' '***' | docker login --username octocat --password-stdin ghcr.io"
    )


def test_plan_orders_logins_build_pushes() -> None:
    spec = BuildSpec(".", "Dockerfile", ("ghcr.io/a/b:1",))
    actions = [c.action for c in build.plan_commands(DOCKER, spec, [("ghcr.io", "a")])]
    assert actions == ["login", "build", "push"]


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        pytest.param(("docker", "build", "--label", "k=a b", "."), "docker build --label 'k=a b' .", id="space"),
        pytest.param(("docker", "push", "r/i:t"), "docker push r/i:t", id="plain"),
    ],
)  # fmt: skip
def test_display_is_shell_quoted(argv: tuple[str, ...], expected: str) -> None:
    assert Command(argv, "build", ".").display() == expected


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        pytest.param({"SOURCE_DATE_EPOCH": EPOCH}, EPOCH_RFC3339, id="source-date-epoch"),
        pytest.param({"SOURCE_DATE_EPOCH": " 0 "}, "1970-01-01T00:00:00Z", id="epoch-zero"),
        pytest.param({}, "2024-02-29T12:00:00Z", id="now"),
        pytest.param({"SOURCE_DATE_EPOCH": ""}, "2024-02-29T12:00:00Z", id="empty-means-now"),
    ],
)
def test_created_timestamp(environ: dict[str, str], expected: str) -> None:
    now = datetime(2024, 2, 29, 12, 0, 0, tzinfo=timezone.utc)
    assert build.created_timestamp(environ, now) == expected


@pytest.mark.parametrize("epoch", ["yesterday", "-5", "1.5"])
def test_created_timestamp_rejects(epoch: str) -> None:
    with pytest.raises(DlinkError, match="SOURCE_DATE_EPOCH"):
        build.created_timestamp({"SOURCE_DATE_EPOCH": epoch}, datetime.now(timezone.utc))


@pytest.mark.parametrize(
    ("repo_url", "expected"),
    [
        pytest.param(WIDGET, "ghcr.io/acme/widget:latest", id="plain"),
        pytest.param(
            "https://github.com/Acme/My-Widget", "ghcr.io/acme/my-widget:latest", id="lower"
        ),
    ],
)
def test_default_image(repo_url: str, expected: str) -> None:
    assert build.default_image(repo_url) == expected


def test_default_image_needs_github() -> None:
    with pytest.raises(DlinkError, match="not a GitHub repository"):
        build.default_image("https://gitlab.com/acme/widget")


@pytest.mark.parametrize(
    ("tag", "repo_url", "refused"),
    [
        pytest.param("ghcr.io/acme/widget:1", WIDGET, False, id="same-owner"),
        pytest.param("ghcr.io/acme/widget:1", "https://github.com/ACME/widget", False, id="case"),
        pytest.param("ghcr.io/acme/other-name:1", WIDGET, False, id="other-package-name"),
        pytest.param("ghcr.io/evil/widget:1", WIDGET, True, id="foreign-owner"),
        pytest.param("docker.io/evil/widget:1", WIDGET, False, id="not-ghcr"),
    ],
)
def test_foreign_owner(tag: str, repo_url: str, refused: bool) -> None:
    assert (build.foreign_owner(parse_image_ref(tag), repo_url) is not None) is refused


@pytest.mark.parametrize(
    "tag",
    [
        pytest.param("ghcr.io/Acme/Widget:1", id="upper-case"),
        pytest.param("ghcr.io/acme/widget@sha256:" + "a" * 64, id="digest"),
    ],
)
def test_parse_tag_rejects(tag: str) -> None:
    with pytest.raises(DlinkError):
        build.parse_tag(tag)


def test_has_buildx_finds_the_plugin(tmp_path: Path) -> None:
    environ = {"DOCKER_CONFIG": str(tmp_path), "HOME": str(tmp_path)}
    assert build.has_buildx(environ) is (
        Path("/usr/libexec/docker/cli-plugins/docker-buildx").exists()
    )
    plugins = tmp_path / "cli-plugins"
    plugins.mkdir()
    (plugins / "docker-buildx").write_text("#!/bin/sh\n")
    (plugins / "docker-buildx").chmod(0o755)
    assert build.has_buildx(environ)
    assert not build.has_buildx({**environ, "DOCKER_BUILDKIT": "0"})


def test_find_engine(tmp_path: Path) -> None:
    for name in ("podman", "buildah"):
        (tmp_path / name).write_text("#!/bin/sh\n")
        (tmp_path / name).chmod(0o755)
    environ = {"PATH": str(tmp_path), "HOME": str(tmp_path)}
    assert build.find_engine(None, environ).name == "podman"  # docker is not on this PATH
    assert build.find_engine("buildah", environ).name == "buildah"
    with pytest.raises(DlinkError, match="docker is not installed"):
        build.find_engine("docker", environ)
    with pytest.raises(DlinkError, match="unknown engine"):
        build.find_engine("kaniko", environ)
    with pytest.raises(DlinkError, match="no container engine found"):
        build.find_engine(None, {"PATH": str(tmp_path / "empty")})


@pytest.mark.parametrize(
    ("output", "fragment"),
    [
        pytest.param(
            "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. "
            "Is the docker daemon running?",
            "cannot connect to the Docker daemon at unix:///var/run/docker.sock: is it running?",
            id="not-running",
        ),
        pytest.param(
            "permission denied while trying to connect to the Docker daemon socket",
            "permission denied",
            id="permission",
        ),
        pytest.param(
            "error during connect: boom", "cannot reach its daemon: error during", id="other"
        ),
    ],
)
def test_daemon_problem(output: str, fragment: str) -> None:
    assert fragment in build.daemon_problem(DOCKER, output).message


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    ("config", "registry_host", "expected"),
    [
        pytest.param({"auths": {"r:5000": {"auth": _b64("u:p")}}}, "r:5000", Credentials("u", "p"), id="auth"),
        pytest.param(
            {"auths": {"https://r:5000": {"username": "u", "password": "p"}}},
            "r:5000",
            Credentials("u", "p"),
            id="username-password-https-key",
        ),
        pytest.param(
            {"auths": {"https://index.docker.io/v1/": {"auth": _b64("u:p:x")}}},
            "docker.io",
            Credentials("u", "p:x"),
            id="docker-hub",
        ),
        pytest.param({"auths": {"other": {"auth": _b64("u:p")}}}, "r:5000", None, id="other-registry"),
        pytest.param({"credHelpers": {"r:5000": "fake"}}, "r:5000", Credentials("helper", "fake@r:5000"), id="cred-helper"),
        pytest.param({"credsStore": "fake"}, "r:5000", Credentials("helper", "fake@r:5000"), id="creds-store"),
        pytest.param({}, "r:5000", None, id="nothing"),
    ],
)  # fmt: skip
def test_credentials_from_config(
    config: Mapping[str, object], registry_host: str, expected: Credentials | None
) -> None:
    def helper(name: str, server: str) -> Credentials | None:
        return Credentials("helper", f"{name}@{server}") if server == registry_host else None

    assert build.credentials_from_config(config, registry_host, helper) == expected


def test_redact() -> None:
    assert build.redact_text("token abc in abcabc", ["abc", ""]) == "token *** in ******"


def test_mentions_label() -> None:
    assert build.mentions_label(b"LABEL org.opencontainers.image.revision=$REV\n", REVISION)
    assert not build.mentions_label(b"LABEL org.opencontainers.image.source=x\n", REVISION)


# -- real runs: dockerd, the registry, a git repository ------------------------------------

DOCKERFILES = {
    "missing": b"FROM scratch\nCOPY hello.txt /\n",
    "wrong": b"FROM scratch\nCOPY hello.txt /\nLABEL org.opencontainers.image.source=https://github.com/other/thing\n",
    "right": b"FROM scratch\nCOPY hello.txt /\nLABEL org.opencontainers.image.source=https://github.com/acme/widget\n",
}  # fmt: skip


def _git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout.strip()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A git repository (origin on github.com) with a FROM-scratch Dockerfile, committed."""
    root = tmp_path / "widget"
    root.mkdir()
    (root / "hello.txt").write_text("hello\n")
    (root / "Dockerfile").write_bytes(DOCKERFILES["missing"])
    _git(root, "init", "-q", "-b", "main")
    _git(root, "remote", "add", "origin", "https://github.com/acme/widget.git")
    _git(root, "add", ".")
    _git(root, "commit", "-q", "-m", "widget")
    return root


@pytest.fixture
def recorder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A `docker` first on PATH that logs its argv (one argument a line) and runs the real one."""
    real = shutil.which("docker")
    if real is None:
        pytest.skip("docker is not installed")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "docker-argv.log"
    log.touch()
    wrapper = bin_dir / "docker"
    wrapper.write_text(
        "#!/bin/sh\n"
        f"{{ printf '%s\\n' \"$@\"; printf -- '----\\n'; }} >> '{log}'\n"
        f"exec '{real}' \"$@\"\n"
    )
    wrapper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{Path(real).parent}:/usr/bin:/bin:/usr/sbin:/sbin")
    return log


def invocations(log: Path) -> list[list[str]]:
    calls = log.read_text().split("----\n")
    return [call.splitlines() for call in calls if call.strip()]


def _name(request: pytest.FixtureRequest) -> str:
    return re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")


def _client() -> RegistryClient:
    return RegistryClient(Credentials(USER, PASSWORD))


def _pushed_labels(registry: Registry, repository: str, tag: str = "latest") -> dict[str, str]:
    image = _client().read_image(parse_image_ref(f"{registry.host}/{repository}:{tag}"))
    assert len(image.images) == 1
    return dict(image.images[0].labels)


@pytest.mark.parametrize("variant", ["missing", "wrong", "right"])
def test_default_passes_the_label_and_leaves_the_file(
    variant: str,
    project: Path,
    registry: Registry,
    docker_env: dict[str, str],
    recorder: Path,
    request: pytest.FixtureRequest,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dockerfile = project / "Dockerfile"
    dockerfile.write_bytes(DOCKERFILES[variant])
    repository = f"acme/{_name(request)}"
    tag = f"{registry.host}/{repository}:latest"
    docker_login(registry, docker_env)  # existing credentials: no token given
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    code, out, err = _run(
        ["build-push", str(project), "-f", str(dockerfile), "-t", tag], capsys, monkeypatch
    )
    assert code == 0, err
    assert dockerfile.read_bytes() == DOCKERFILES[variant]  # untouched
    expected = {
        SOURCE: WIDGET,
        REVISION: _git(project, "rev-parse", "HEAD"),
        CREATED: EPOCH_RFC3339,
    }
    assert _pushed_labels(registry, repository).items() >= expected.items()
    assert raw_labels(registry, repository, "latest").items() >= expected.items()
    build_call = next(call for call in invocations(recorder) if call[0] == "build")
    passed_source = f"{SOURCE}={WIDGET}" in build_call
    assert passed_source is (variant != "right")
    if variant != "right":
        assert "passing the right value at build time" in err
    assert re.fullmatch(rf"{re.escape(tag)}@sha256:[0-9a-f]{{64}}\n", out)


def test_fix_rewrites_the_file_then_builds(
    project: Path,
    registry: Registry,
    docker_env: dict[str, str],
    request: pytest.FixtureRequest,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dockerfile = project / "Dockerfile"
    dockerfile.write_bytes(DOCKERFILES["wrong"])
    repository = f"acme/{_name(request)}"
    docker_login(registry, docker_env)
    code, _, err = _run(
        ["build-push", str(project), "-t", f"{registry.host}/{repository}", "--fix"],
        capsys,
        monkeypatch,
    )
    assert code == 0, err
    assert dockerfile.read_bytes() == DOCKERFILES["right"]
    assert _pushed_labels(registry, repository)[SOURCE] == WIDGET


def test_strict_refuses_and_builds_nothing(
    project: Path,
    registry: Registry,
    docker_env: dict[str, str],
    recorder: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, _, err = _run(
        ["build-push", str(project), "-t", f"{registry.host}/acme/strict", "--strict"],
        capsys,
        monkeypatch,
    )
    assert code == 1
    assert "refusing to build (--strict)" in err
    assert invocations(recorder) == []
    assert (project / "Dockerfile").read_bytes() == DOCKERFILES["missing"]


def test_token_from_environment_logs_in_without_argv_or_output(
    project: Path,
    registry: Registry,
    docker_env: dict[str, str],
    recorder: Path,
    request: pytest.FixtureRequest,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    repository = f"acme/{_name(request)}"
    monkeypatch.setenv("CR_PAT", PASSWORD)
    monkeypatch.setenv("GITHUB_ACTOR", USER)
    code, out, err = _run(
        ["build-push", str(project), "-t", f"{registry.host}/{repository}"], capsys, monkeypatch
    )
    assert code == 0, err
    calls = invocations(recorder)
    assert [call[0] for call in calls] == ["version", "login", "build", "push"]
    assert calls[1] == ["login", "--username", USER, "--password-stdin", registry.host]
    assert PASSWORD not in recorder.read_text()
    assert PASSWORD not in out + err
    assert _pushed_labels(registry, repository)[SOURCE] == WIDGET


def test_token_on_stdin_with_username(
    project: Path,
    registry: Registry,
    docker_env: dict[str, str],
    request: pytest.FixtureRequest,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    repository = f"acme/{_name(request)}"
    argv = ["build-push", str(project), "-t", f"{registry.host}/{repository}:1"]
    argv += ["-t", f"{registry.host}/{repository}:2", "--username", USER, "--password-stdin"]
    code, out, err = _run(argv, capsys, monkeypatch, stdin=PASSWORD + "\n")
    assert code == 0, err
    assert PASSWORD not in out + err
    assert len(out.splitlines()) == 2  # both tags pushed and read back
    assert _pushed_labels(registry, repository, "2")[SOURCE] == WIDGET


def test_wrong_token_is_a_clear_error(
    project: Path,
    registry: Registry,
    docker_env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    wrong = "wrong-token-0123456789"
    argv = ["build-push", str(project), "-t", f"{registry.host}/acme/wrong-token"]
    code, out, err = _run(argv + ["-u", USER, "--password-stdin"], capsys, monkeypatch, wrong)
    assert code == 2
    assert f"dlink: error: login to {registry.host} failed" in err
    assert "Traceback" not in err
    assert wrong not in out + err


def test_no_credentials_at_all_fails_on_push(
    project: Path,
    registry: Registry,
    docker_env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, _, err = _run(
        ["build-push", str(project), "-t", f"{registry.host}/acme/anonymous"], capsys, monkeypatch
    )
    assert code == 2
    assert f"push of {registry.host}/acme/anonymous failed" in err
    assert "Traceback" not in err


def test_labels_missing_after_push_fail(
    project: Path,
    registry: Registry,
    docker_env: dict[str, str],
    tmp_path: Path,
    request: pytest.FixtureRequest,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An engine that drops --label (a stand-in for any builder that loses labels)."""
    real = shutil.which("docker")
    assert real is not None
    bin_dir = tmp_path / "lying-bin"
    bin_dir.mkdir()
    (bin_dir / "docker").write_text(
        "#!/bin/sh\n"
        'if [ "$1" = build ]; then skip=0\n'
        '  for a; do shift\n'
        '    if [ $skip = 1 ]; then skip=0; continue; fi\n'
        '    if [ "$a" = --label ]; then skip=1; continue; fi\n'
        '    set -- "$@" "$a"\n'
        "  done\n"
        "fi\n"
        f"exec '{real}' \"$@\"\n"
    )  # fmt: skip
    (bin_dir / "docker").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin")
    docker_login(registry, docker_env)
    repository = f"acme/{_name(request)}"
    code, _, err = _run(
        ["build-push", str(project), "-t", f"{registry.host}/{repository}"], capsys, monkeypatch
    )
    assert code == 1
    assert f"{SOURCE} is missing" in err
    assert "the pushed image does not carry the expected labels" in err


def test_foreign_ghcr_owner_is_refused_before_building(
    project: Path,
    recorder: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, _, err = _run(
        ["build-push", str(project), "-t", "ghcr.io/someone-else/widget:1"], capsys, monkeypatch
    )
    assert code == 2
    assert "GitHub links a package to a repository only when both have the same owner" in err
    assert invocations(recorder) == []


def test_dry_run_prints_commands_and_runs_nothing(
    project: Path,
    recorder: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_dry_run_secret_token")
    monkeypatch.setenv("GITHUB_ACTOR", "Octo-Cat")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    code, out, err = _run(
        ["build-push", str(project), "--dry-run", "--fix", "--build-arg", "X=1"],
        capsys,
        monkeypatch,
    )
    assert code == 0, err
    sha = _git(project, "rev-parse", "HEAD")
    dockerfile = project / "Dockerfile"
    assert out.splitlines() == [
        "printf '%s\\n' '***' | docker login --username Octo-Cat --password-stdin ghcr.io",
        (
            f"docker build --file {dockerfile} --tag ghcr.io/acme/widget:latest "
            f"--label {REVISION}={sha} --label {CREATED}={EPOCH_RFC3339} "
            f"--label {TITLE}=widget --label {URL}={WIDGET} --build-arg X=1 {project}"
        ),
        "docker push ghcr.io/acme/widget:latest",
    ]
    assert "would rewrite" in err
    assert "ghp_dry_run_secret_token" not in out + err
    assert invocations(recorder) == []
    assert dockerfile.read_bytes() == DOCKERFILES["missing"]


SETS_REVISION = b"FROM scratch\nARG REV\nLABEL org.opencontainers.image.revision=$REV\n"
UNFIXABLE = b"FROM scratch\nARG SRC\nLABEL org.opencontainers.image.source=$SRC\n"


@pytest.mark.parametrize(
    ("dockerfile", "options", "source_label", "revision_label", "note"),
    [
        pytest.param(DOCKERFILES["missing"], [], True, True, "passing the right value", id="missing"),
        pytest.param(DOCKERFILES["missing"], ["--fix"], False, True, "would rewrite", id="missing-fix"),
        pytest.param(DOCKERFILES["right"], ["--strict"], False, True, None, id="right-strict"),
        pytest.param(UNFIXABLE, ["--fix"], True, True, "cannot be fixed automatically", id="unfixable-fix"),
        pytest.param(
            UNFIXABLE, ["--build-arg", f"SRC={WIDGET}"], False, True, None, id="right-through-build-arg"
        ),
        pytest.param(SETS_REVISION, [], True, False, "passing", id="dockerfile-sets-revision"),
    ],
)  # fmt: skip
def test_dry_run_labels(
    dockerfile: bytes,
    options: list[str],
    source_label: bool,
    revision_label: bool,
    note: str | None,
    project: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (project / "Dockerfile").write_bytes(dockerfile)
    _git(project, "commit", "-q", "--allow-empty", "-am", "variant")  # a clean tree: no note
    argv = ["build-push", str(project), "-t", "127.0.0.1:5000/acme/widget", "--dry-run"]
    code, out, err = _run(argv + options, capsys, monkeypatch)
    assert code == 0, err
    build_line = out.splitlines()[0]
    assert (f"--label {SOURCE}={WIDGET}" in build_line) is source_label
    assert (f"--label {REVISION}=" in build_line) is revision_label
    assert f"--label {CREATED}=" in build_line
    if note is None:
        assert err == ""
    else:
        assert note in err
    assert (project / "Dockerfile").read_bytes() == dockerfile


def _only_git_on_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    bin_dir = tmp_path / "only-git"
    bin_dir.mkdir()
    git = shutil.which("git")
    assert git is not None
    (bin_dir / "git").symlink_to(git)
    monkeypatch.setenv("PATH", str(bin_dir))


@pytest.mark.parametrize(
    ("setup", "options", "fragment"),
    [
        pytest.param(
            lambda mp, _: mp.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock"),
            [],
            "dlink: error: cannot connect to the Docker daemon at unix:///nonexistent/docker.sock",
            id="daemon-not-running",
        ),
        pytest.param(
            _only_git_on_path,
            ["--engine", "podman"],
            "dlink: error: podman is not installed (not found on PATH)",
            id="engine-missing",
        ),
        pytest.param(
            _only_git_on_path,
            [],
            "dlink: error: no container engine found on PATH",
            id="no-engine-at-all",
        ),
    ],
)
def test_engine_problems_are_one_line_errors(
    setup: Callable[[pytest.MonkeyPatch, Path], None],
    options: list[str],
    fragment: str,
    project: Path,
    recorder: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    setup(monkeypatch, tmp_path)
    argv = ["build-push", str(project), "-t", "127.0.0.1:1/acme/widget", *options]
    code, _, err = _run(argv, capsys, monkeypatch)
    assert code == 2
    errors = [line for line in err.splitlines() if line.startswith("dlink: error:")]
    assert len(errors) == 1 and errors[0].startswith(fragment), err
    assert "Traceback" not in err
    assert invocations(recorder) == [] or invocations(recorder)[0][0] == "version"


@pytest.mark.parametrize("engine", ["podman", "buildah"])
def test_daemonless_engines(
    engine: str,
    project: Path,
    registry: Registry,
    containers_env: dict[str, str],
    request: pytest.FixtureRequest,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """podman and buildah, one platform: label and manifest annotation read back; a
    build secret passed through with --secret (from a file) reaches no part of the image."""
    monkeypatch.setenv("CR_PAT", PASSWORD)
    monkeypatch.setenv("GITHUB_ACTOR", USER)
    secret_file = project.parent / "npmrc"
    secret_file.write_text(SECRET)
    repository = f"acme/{_name(request)}"
    argv = ["build-push", str(project), "-t", f"{registry.host}/{repository}", "--engine", engine]
    code, out, err = _run(argv + ["--secret", f"id=npmrc,src={secret_file}"], capsys, monkeypatch)
    assert code == 0, err
    assert PASSWORD not in out + err and SECRET not in out + err
    image = _client().read_image(parse_image_ref(f"{registry.host}/{repository}:latest"))
    assert image.images[0].labels[SOURCE] == WIDGET
    assert image.images[0].annotations[SOURCE] == WIDGET  # manifest annotation, as GHCR reads
    assert SECRET.encode() not in _config_blob(registry, repository, "latest")


def test_dockerd_fixture_is_private(dockerd: Dockerd, docker_env: dict[str, str]) -> None:
    info = subprocess.run(
        ["docker", "info", "--format", "{{json .}}"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **docker_env},
    )
    document = json.loads(info.stdout)
    assert document["DockerRootDir"].startswith(str(dockerd.root))
    assert "127.0.0.0/8" in json.dumps(document["RegistryConfig"])


# -- multi-platform, pass-through and annotations: command lines as data -----------------
# buildx is not packaged for this machine's distribution, so its command lines are
# tested as data here; podman and buildah also run for real below.

BUILDX_CONTAINER = Engine("docker", "docker", buildx=True, buildx_driver="docker-container")
BUILDX_DOCKER_DRIVER = Engine("docker", "docker", buildx=True, buildx_driver="docker")
TWO = "linux/amd64,linux/arm64"


def _annotation(engine: Engine, environ: Mapping[str, str] | None = None, **spec: str) -> str:
    argv = build.build_command(
        engine, BuildSpec(".", "Dockerfile", ("r/i:1",), {}, {SOURCE: WIDGET}, **spec), environ
    ).argv
    return argv[argv.index("--annotation") + 1]


@pytest.mark.parametrize(
    ("engine", "spec", "environ", "level"),
    [
        pytest.param(BUILDX, {"platform": TWO}, {}, "index,manifest", id="two-platforms"),
        pytest.param(BUILDX_CONTAINER, {}, {}, "index,manifest", id="default-provenance-container-driver"),
        pytest.param(BUILDX_DOCKER_DRIVER, {}, {}, "manifest", id="docker-driver-no-default-attestations"),
        pytest.param(BUILDX_CONTAINER, {"provenance": "false"}, {}, "manifest", id="provenance-off"),
        pytest.param(BUILDX_DOCKER_DRIVER, {"provenance": "mode=max"}, {}, "index,manifest", id="provenance-on"),
        pytest.param(BUILDX_DOCKER_DRIVER, {"sbom": "true"}, {}, "index,manifest", id="sbom-on"),
        pytest.param(BUILDX_CONTAINER, {}, {"BUILDX_NO_DEFAULT_ATTESTATIONS": "1"}, "manifest", id="no-default-attestations"),
        pytest.param(BUILDX, {}, {}, "manifest", id="driver-unknown"),
    ],
)  # fmt: skip
def test_buildx_annotates_the_index_whenever_the_push_can_be_one(
    engine: Engine, spec: dict[str, str], environ: dict[str, str], level: str
) -> None:
    assert _annotation(engine, environ, **spec) == f"{level}:{SOURCE}={WIDGET}"


def test_buildx_passes_cache_attestations_secrets_and_ssh_through() -> None:
    spec = BuildSpec(
        ".", "Dockerfile", ("r/i:1",), platform=TWO,
        cache_from=("type=registry,ref=r/i:cache",), cache_to=("type=inline",),
        provenance="mode=max", sbom="true", secrets=("id=npm,env=NPM_TOKEN",), ssh=("default",),
    )  # fmt: skip
    argv = build.build_command(BUILDX, spec).argv
    assert argv == (
        "docker", "buildx", "build", "--file", "Dockerfile", "--tag", "r/i:1",
        "--platform", TWO, "--cache-from", "type=registry,ref=r/i:cache", "--cache-to", "type=inline",
        "--secret", "id=npm,env=NPM_TOKEN", "--ssh", "default", "--provenance=mode=max", "--sbom=true",
        "--push", ".",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("engine", "spec", "fragment"),
    [
        pytest.param(DOCKER, {"platform": TWO}, "docker without buildx cannot build several platforms", id="classic-multi"),
        pytest.param(DOCKER, {"sbom": "true"}, "docker without buildx does not support --sbom", id="classic-sbom"),
        pytest.param(DOCKER, {"secrets": ("id=a,src=f",)}, "does not support --secret", id="classic-secret"),
        pytest.param(PODMAN, {"provenance": "mode=max"}, "podman does not support --provenance", id="podman-provenance"),
        pytest.param(BUILDAH, {"sbom": "true"}, "buildah does not support --sbom", id="buildah-sbom"),
        pytest.param(BUILDAH, {"cache_to": ("a", "b")}, "one --cache-from and one --cache-to", id="buildah-two-caches"),
    ],
)  # fmt: skip
def test_unsupported_requests_are_refused_before_building(
    engine: Engine, spec: dict[str, object], fragment: str
) -> None:
    with pytest.raises(DlinkError, match=re.escape(fragment)):
        build.build_command(engine, BuildSpec(".", "Dockerfile", ("r/i:1",), **spec))  # type: ignore[arg-type]


def test_docker_classic_passes_cache_from() -> None:
    spec = BuildSpec(".", "Dockerfile", ("r/i:1",), cache_from=("r/i:cache",))
    assert build.build_command(DOCKER, spec).argv[-3:] == ("--cache-from", "r/i:cache", ".")


@pytest.mark.parametrize(
    "engine", [PODMAN, BUILDAH, Engine("buildah", "buildah", index_annotations=True)]
)
def test_daemonless_multi_platform_builds_and_pushes_a_manifest_list(engine: Engine) -> None:
    spec = BuildSpec(
        ".", "Dockerfile", ("127.0.0.1:5000/a/b:1", "ghcr.io/a/b:1"), {SOURCE: WIDGET},
        {SOURCE: WIDGET}, platform="linux/amd64, linux/arm64", manifest_list="localhost/l:list",
    )  # fmt: skip
    commands = build.plan_commands(engine, spec, [])
    name = engine.executable
    assert commands[0].argv == (
        name, "build", "--file", "Dockerfile", "--manifest", "localhost/l:list",
        *(["--layers=false"] if engine.name == "podman" else []),
        "--label", f"{SOURCE}={WIDGET}", "--annotation", f"{SOURCE}={WIDGET}",
        "--platform", TWO, ".",
    )  # fmt: skip
    annotate = [
        (
            name,
            "manifest",
            "annotate",
            "--index",
            "--annotation",
            f"{SOURCE}={WIDGET}",
            "localhost/l:list",
        )
    ]
    pushes = [
        (name, "manifest", "push", "--all", "--format", "oci", "--tls-verify=false", "localhost/l:list", "docker://127.0.0.1:5000/a/b:1"),
        (name, "manifest", "push", "--all", "--format", "oci", "localhost/l:list", "docker://ghcr.io/a/b:1"),
    ]  # fmt: skip
    assert [c.argv for c in commands[1:]] == (
        annotate if engine.index_annotations else []
    ) + pushes + [(name, "manifest", "rm", "localhost/l:list")]
    assert commands[-1].may_fail


@pytest.mark.parametrize(
    ("output", "driver"),
    [
        pytest.param("Name:   default\nDriver: docker\n\nNodes:\n", "docker", id="docker"),
        pytest.param(
            "Name: b\nDriver:        docker-container\n", "docker-container", id="container"
        ),
        pytest.param("", None, id="nothing"),
    ],
)
def test_parse_buildx_driver(output: str, driver: str | None) -> None:
    assert build.parse_buildx_driver(output) == driver


def test_probe_engine_reads_the_installed_engines() -> None:
    for name in ("buildah", "podman"):
        if shutil.which(name):
            probed = build.probe_engine(Engine(name, name))
            help_text = subprocess.run(
                [name, "manifest", "annotate", "--help"],
                capture_output=True,
                text=True,
                check=False,
            ).stdout
            assert probed.index_annotations is ("--index" in help_text)


@pytest.mark.parametrize(
    "epoch",
    [
        pytest.param("١٧٠٠٠٠٠٠٠٠", id="arabic-indic-digits"),
        pytest.param("²", id="superscript"),
        pytest.param("253402300800", id="after-9999"),
        pytest.param("9" * 400, id="huge"),
    ],
)
def test_created_timestamp_refuses_what_python_would_crash_on(epoch: str) -> None:
    with pytest.raises(DlinkError, match="SOURCE_DATE_EPOCH"):
        build.created_timestamp({"SOURCE_DATE_EPOCH": epoch}, datetime.now(timezone.utc))
    assert (
        build.created_timestamp({"SOURCE_DATE_EPOCH": "253402300799"}, datetime.now(timezone.utc))
        == "9999-12-31T23:59:59Z"
    )


# -- labels that are certain, tags from git (pure) ------------------------------------------


@pytest.mark.parametrize(
    ("tags_on_head", "branch", "expected"),
    [
        pytest.param(["v1.2.3"], "main", ["1.2.3", "1.2", "1", "latest", "main", "sha-0123456"], id="release"),
        pytest.param(["0.4.1"], None, ["0.4.1", "0.4", "latest", "sha-0123456"], id="zero-major-no-bare-0"),
        pytest.param(["v2.0.0-rc.1"], "main", ["2.0.0-rc.1", "main", "sha-0123456"], id="pre-release"),
        pytest.param(["nightly"], "feature/Login_2", ["feature-Login_2", "sha-0123456"], id="not-semver-branch-sanitised"),
        pytest.param(["v1.0.0", "v1.0.1"], "main", ["main", "sha-0123456"], id="two-versions-not-certain"),
    ],
)  # fmt: skip
def test_git_tags(tags_on_head: list[str], branch: str | None, expected: list[str]) -> None:
    got = publish.git_tags(["ghcr.io/acme/widget"], tags_on_head, branch, "0123456789abcdef")
    assert got == [f"ghcr.io/acme/widget:{suffix}" for suffix in expected]


MIT_TEXT = """MIT License

Copyright (c) 2024 Acme

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction.

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND.
"""


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        pytest.param({"pyproject.toml": '[project]\nname = "w"\nlicense = "Apache-2.0"\n'}, "Apache-2.0", id="pep639"),
        pytest.param({"pyproject.toml": '[project]\nlicense = {text = "MIT"}\n'}, "MIT", id="pep621-text"),
        pytest.param({"pyproject.toml": '[project]\nlicense = {text = "see LICENSE file"}\n'}, None, id="prose-is-not-spdx"),
        pytest.param({"package.json": '{"license": "MIT OR Apache-2.0"}'}, "MIT OR Apache-2.0", id="package-json-expression"),
        pytest.param({"package.json": '{"license": "UNLICENSED"}'}, None, id="unlicensed"),
        pytest.param({"Cargo.toml": '[package]\nlicense = "MPL-2.0"\n'}, "MPL-2.0", id="cargo"),
        pytest.param({"LICENSE": MIT_TEXT}, "MIT", id="license-file-mit"),
        pytest.param({"LICENSE": "GNU GENERAL PUBLIC LICENSE\nVersion 3, 29 June 2007\n"}, None, id="gpl-only-or-later-unknown"),
        pytest.param({"LICENSE": MIT_TEXT, "package.json": '{"license": "ISC"}'}, None, id="disagree"),
        pytest.param({"LICENSE": MIT_TEXT, "package.json": '{"license": "MIT"}'}, "MIT", id="agree"),
        pytest.param({"pyproject.toml": "[project\n"}, None, id="broken-toml"),
        pytest.param({}, None, id="nothing"),
    ],
)  # fmt: skip
def test_project_licenses(files: dict[str, str], expected: str | None, tmp_path: Path) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    assert publish.project_licenses(tmp_path)[0] == expected


def test_temporary_config_keeps_the_users_helpers_for_other_registries() -> None:
    user = {
        "credsStore": "desktop",
        "credHelpers": {"gcr.io": "gcloud", "ghcr.io": "gh"},
        "auths": {"ghcr.io": {"auth": "b2xkOm9sZA=="}, "quay.io": {"auth": "cTpx"}},
        "currentContext": "remote",
    }
    config = publish.temporary_config(user, ["ghcr.io"], "octo", "tok")
    assert config["credsStore"] == "desktop" and config["currentContext"] == "remote"
    assert config["credHelpers"] == {"gcr.io": "gcloud", "ghcr.io": ""}  # "" = this file
    assert config["auths"] == {
        "ghcr.io": {"auth": base64.b64encode(b"octo:tok").decode()},
        "quay.io": {"auth": "cTpx"},
    }
    podman = publish.temporary_config(user, ["ghcr.io"], "octo", "tok", docker=False)
    assert podman["credHelpers"] == {"gcr.io": "gcloud"}


@pytest.mark.parametrize(
    ("build_args", "labels", "refused"),
    [
        pytest.param(["GITHUB_TOKEN=ghp_abcdefghijklmnopqrstuvwxyz0123456789"], [], True, id="token-shape"),
        pytest.param(["NPM_TOKEN=abc"], [], True, id="secret-name"),
        pytest.param(["SRC=https://u:hunter2@github.com/acme/widget"], [], True, id="url-password"),
        pytest.param(["SRC=https://github.com/acme/widget", "VERSION=1.0"], [], False, id="clean"),
        pytest.param([], ["a=https://x-access-token:hunter2@github.com/o/r"], True, id="label-url"),
        pytest.param([], ["a=glpat-abcdefghijklmnopqrst"], True, id="label-gitlab-token"),
        pytest.param([], ["a=git@github.com:o/r.git"], False, id="ssh-user-is-no-secret"),
    ],
)  # fmt: skip
def test_argument_credentials(build_args: list[str], labels: list[str], refused: bool) -> None:
    found = publish.argument_credentials(build_args, labels)
    assert bool(found) is refused
    assert not any("hunter2" in line or "ghp_" in line or "glpat-" in line for line in found)


# -- real runs: podman and buildah build FROM scratch for two platforms --------------------


def _tag_release(project: Path) -> None:
    """Project metadata that declares a licence, committed and tagged v1.2.3 on HEAD."""
    (project / "pyproject.toml").write_text('[project]\nname = "widget"\nlicense = "MIT"\n')
    _git(project, "add", ".")
    _git(project, "commit", "-q", "-m", "release")
    _git(project, "tag", "v1.2.3")


@pytest.mark.parametrize("engine", ["buildah", "podman"])
def test_multi_platform_index_with_every_label_read_back(
    engine: str,
    project: Path,
    registry: Registry,
    containers_env: dict[str, str],
    tmp_path: Path,
    request: pytest.FixtureRequest,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _tag_release(project)
    monkeypatch.setenv("CR_PAT", PASSWORD)
    monkeypatch.setenv("GITHUB_ACTOR", USER)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    repository = f"acme/{_name(request)}"
    tag = f"{registry.host}/{repository}:1.2.3"
    metadata = tmp_path / "metadata.json"
    argv = ["build-push", str(project), "-t", tag, "--engine", engine, "--platform", TWO]
    code, out, err = _run(argv + ["--metadata-file", str(metadata)], capsys, monkeypatch)
    assert code == 0, err
    assert PASSWORD not in out + err

    image = _client().read_image(parse_image_ref(tag))
    assert image.is_index
    assert sorted(p.platform or "" for p in image.images) == ["linux/amd64", "linux/arm64"]
    expected = {
        SOURCE: WIDGET,
        REVISION: _git(project, "rev-parse", "HEAD"),
        CREATED: EPOCH_RFC3339,
        TITLE: "widget",
        URL: WIDGET,
        VERSION: "v1.2.3",
        LICENSES: "MIT",
    }
    for platform_image in image.images:
        assert platform_image.labels.items() >= expected.items(), platform_image.platform
        assert platform_image.annotations[SOURCE] == WIDGET  # each platform's manifest
    assert out == f"{tag}@{image.digest}\n"
    document = json.loads(metadata.read_text())
    assert document["tags"] == {tag: image.digest}
    assert document["containerimage.digest"] == image.digest
    leftovers = subprocess.run(
        [engine, "images", "--noheading"], capture_output=True, text=True, check=True
    ).stdout
    assert "dlink-build-" not in leftovers  # the local manifest list was removed

    # verify reads the same index: every platform, and says the index has no annotation
    # (buildah 1.28 / podman 4.3 cannot annotate an index; newer ones do, see the data tests)
    code, out, err = _run(
        ["verify", tag, "--repo-url", WIDGET, "-u", USER, "--password-stdin"],
        capsys,
        monkeypatch,
        PASSWORD,
    )
    assert code == 0, err
    assert f"{tag} [linux/amd64]: {SOURCE}={WIDGET} matches" in out
    assert f"{tag} [linux/arm64]: {SOURCE}={WIDGET} matches" in out
    index_line = out.splitlines()[0]
    assert index_line.startswith(f"{tag} [index]: ")


def test_single_platform_podman_with_tags_from_git(
    project: Path,
    registry: Registry,
    containers_env: dict[str, str],
    request: pytest.FixtureRequest,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _tag_release(project)
    monkeypatch.setenv("CR_PAT", PASSWORD)
    monkeypatch.setenv("GITHUB_ACTOR", USER)
    name = f"{registry.host}/acme/{_name(request)}"
    argv = ["build-push", str(project), "-t", name, "--engine", "podman", "--tags-from", "git"]
    code, out, err = _run(argv, capsys, monkeypatch)
    assert code == 0, err
    short = _git(project, "rev-parse", "--short=7", "HEAD")
    suffixes = ["1.2.3", "1.2", "1", "latest", "main", f"sha-{short}"]
    assert [line.split("@")[0] for line in out.splitlines()] == [f"{name}:{s}" for s in suffixes]
    digests = {line.split("@")[1] for line in out.splitlines()}
    assert len(digests) == 1  # one image under six tags
    labels = _pushed_labels(registry, name.split("/", 1)[1], "1.2")
    assert labels[VERSION] == "v1.2.3" and labels[SOURCE] == WIDGET


def test_label_option_overrides_and_dockerfile_wins(
    project: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (project / "Dockerfile").write_bytes(
        b"FROM scratch\nLABEL org.opencontainers.image.title=mine\n"
    )
    _git(project, "commit", "-q", "-am", "title")
    argv = ["build-push", str(project), "-t", "127.0.0.1:5000/acme/widget", "--dry-run"]
    argv += ["--engine", "docker", "--label", f"{URL}=https://widget.example", "--label", "x=y"]
    monkeypatch.setenv(
        "PATH", f"{Path(shutil.which('docker') or '/usr/bin/docker').parent}:/usr/bin:/bin"
    )
    code, out, err = _run(argv, capsys, monkeypatch)
    assert code == 0, err
    build_line = out.splitlines()[0]
    assert f"--label {TITLE}=" not in build_line  # the Dockerfile sets it
    assert f"--label {URL}=https://widget.example" in build_line
    assert "--label x=y" in build_line
    code, _, err = _run(
        argv + ["--label", f"{SOURCE}=https://github.com/other/repo"], capsys, monkeypatch
    )
    assert code == 2 and "is not the repository" in err


def test_docker_without_buildx_refuses_two_platforms_before_building(
    project: Path,
    recorder: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DOCKER_BUILDKIT", "0")  # the classic builder, even if buildx exists
    argv = ["build-push", str(project), "-t", "127.0.0.1:5000/acme/w", "--platform", TWO]
    code, _, err = _run(argv, capsys, monkeypatch)
    assert code == 2
    assert "docker without buildx cannot build several platforms" in err
    assert invocations(recorder) == []


# -- no credential left behind --------------------------------------------------------------


def _credential_helper(bin_dir: Path, log: Path, registry: Registry) -> None:
    """`docker-credential-dlinktest`: knows USER/PASSWORD for `registry`, logs each call."""
    bin_dir.mkdir(exist_ok=True)
    helper = bin_dir / "docker-credential-dlinktest"
    answer = json.dumps({"ServerURL": registry.host, "Username": USER, "Secret": PASSWORD})
    helper.write_text(
        "#!/bin/sh\n"
        'input=$(cat)\n'
        f'printf "%s %s\\n" "$1" "$(printf %s "$input" | head -c 80 | tr -d \'\\n\' | sed s/{PASSWORD}/PASSWORD/)" >> "{log}"\n'
        'case "$1" in\n'
        f'  get) case "$input" in *{registry.host}*) printf \'%s\' \'{answer}\';; '
        '*) echo "credentials not found in native keychain"; exit 1;; esac;;\n'
        "  list) echo '{}';;\n"
        "esac\n"
    )  # fmt: skip
    helper.chmod(0o755)


def _files_containing(root: Path, secret: bytes) -> list[Path]:
    found = []
    for path in root.rglob("*"):
        try:
            if path.is_file() and not path.is_symlink() and secret in path.read_bytes():
                found.append(path)
        except OSError:
            continue
    return found


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """TMPDIR for this test alone: whatever dlink leaves there is visible."""
    import tempfile

    directory = tmp_path / "tmpdir"
    directory.mkdir()
    monkeypatch.setenv("TMPDIR", str(directory))
    monkeypatch.setattr(tempfile, "tempdir", str(directory))
    return directory


def test_docker_token_leaves_no_trace_and_the_users_config_unchanged(
    project: Path,
    registry: Registry,
    docker_env: dict[str, str],
    private_tmp: Path,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The user's config names a credential store: a `docker login` would put the token
    there (a keychain outlives the run). dlink's temporary config must keep it out."""
    config = Path(docker_env["DOCKER_CONFIG"]) / "config.json"
    user_config = json.dumps(
        {"credsStore": "dlinktest", "auths": {"other.example:5000": {}}}, indent="\t"
    ).encode()
    config.write_bytes(user_config)
    log = tmp_path / "helper.log"
    log.touch()
    _credential_helper(tmp_path / "helpers", log, registry)
    monkeypatch.setenv("PATH", f"{tmp_path / 'helpers'}:{os.environ['PATH']}")
    monkeypatch.setenv("CR_PAT", PASSWORD)
    monkeypatch.setenv("GITHUB_ACTOR", USER)
    repository = f"acme/{_name(request)}"
    code, out, err = _run(
        ["build-push", str(project), "-t", f"{registry.host}/{repository}"], capsys, monkeypatch
    )
    assert code == 0, err
    assert config.read_bytes() == user_config
    assert sorted(Path(docker_env["DOCKER_CONFIG"]).iterdir()) == [config]
    assert list(private_tmp.iterdir()) == []  # the temporary config is gone
    assert not any(line.startswith("store") for line in log.read_text().splitlines())
    helper = tmp_path / "helpers" / "docker-credential-dlinktest"  # knows it, by design
    assert _files_containing(tmp_path, PASSWORD.encode()) == [helper]
    assert PASSWORD not in out + err
    assert _pushed_labels(registry, repository)[SOURCE] == WIDGET


def test_docker_without_token_uses_the_users_credential_helper(
    project: Path,
    registry: Registry,
    docker_env: dict[str, str],
    private_tmp: Path,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = Path(docker_env["DOCKER_CONFIG"]) / "config.json"
    user_config = json.dumps({"credHelpers": {registry.host: "dlinktest"}}).encode()
    config.write_bytes(user_config)
    log = tmp_path / "helper.log"
    log.touch()
    _credential_helper(tmp_path / "helpers", log, registry)
    monkeypatch.setenv("PATH", f"{tmp_path / 'helpers'}:{os.environ['PATH']}")
    repository = f"acme/{_name(request)}"
    code, _, err = _run(
        ["build-push", str(project), "-t", f"{registry.host}/{repository}"], capsys, monkeypatch
    )
    assert code == 0, err
    calls = log.read_text().splitlines()
    assert any(call.startswith(f"get {registry.host}") for call in calls), calls
    assert config.read_bytes() == user_config
    assert list(private_tmp.iterdir()) == []


def test_podman_token_leaves_no_trace_and_the_users_auth_file_unchanged(
    project: Path,
    registry: Registry,
    containers_env: dict[str, str],
    private_tmp: Path,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    auth_file = Path(containers_env["REGISTRY_AUTH_FILE"])
    user_auth = json.dumps({"auths": {"quay.example": {"auth": "dXNlcjpvdGhlcg=="}}}).encode()
    auth_file.write_bytes(user_auth)
    monkeypatch.setenv("CR_PAT", PASSWORD)
    monkeypatch.setenv("GITHUB_ACTOR", USER)
    repository = f"acme/{_name(request)}"
    argv = ["build-push", str(project), "-t", f"{registry.host}/{repository}", "--engine", "podman"]
    code, _, err = _run(argv, capsys, monkeypatch)
    assert code == 0, err
    assert auth_file.read_bytes() == user_auth
    assert list(private_tmp.iterdir()) == []
    assert _files_containing(tmp_path, PASSWORD.encode()) == []
    assert _pushed_labels(registry, repository)[SOURCE] == WIDGET


# -- a secret never goes into an image, a child's argv or the output ----------------------

SECRET = "hunter2-Sup3r-Secret-Value"
GH_TOKEN = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
WITH_TOKEN_LABEL = (
    b"FROM scratch\nCOPY hello.txt /\n"
    b'LABEL org.opencontainers.image.source="https://x-access-token:' + SECRET.encode()
    + b'@github.com/acme/widget"\n'
)  # fmt: skip


@pytest.mark.parametrize(
    ("dockerfile", "options", "where", "fix_hint"),
    [
        pytest.param(WITH_TOKEN_LABEL, [], "Dockerfile:3:", True, id="source-label-url"),
        pytest.param(
            b"FROM scratch\nENV TOKEN=" + GH_TOKEN.encode() + b"\n", [], "Dockerfile:2:", False, id="env-token-shape"
        ),
        pytest.param(
            b"FROM scratch\nENV TOKEN=" + GH_TOKEN.encode() + b"\n", ["--fix"], "Dockerfile:2:", False, id="env-token-fix-cannot-help"
        ),
        pytest.param(
            b"FROM scratch\nRUN git clone https://u:" + SECRET.encode() + b"@example.com/r.git\n", [], "Dockerfile:2:", False, id="run-url"
        ),
        pytest.param(
            UNFIXABLE, ["--build-arg", f"SRC=https://u:{SECRET}@github.com/acme/widget"], "--build-arg SRC", False, id="build-arg-url"
        ),
        pytest.param(DOCKERFILES["right"], ["--build-arg", f"GITHUB_TOKEN={GH_TOKEN}"], "--build-arg GITHUB_TOKEN=***", False, id="build-arg-token"),
        pytest.param(DOCKERFILES["right"], ["--build-arg", f"DB_PASSWORD={SECRET}"], "--build-arg DB_PASSWORD=***", False, id="build-arg-secret-name"),
        pytest.param(DOCKERFILES["right"], ["--label", f"x=https://u:{SECRET}@e.com"], "--label x=", False, id="label-option"),
    ],
)  # fmt: skip
def test_a_credential_stops_build_push(
    dockerfile: bytes,
    options: list[str],
    where: str,
    fix_hint: bool,
    project: Path,
    recorder: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (project / "Dockerfile").write_bytes(dockerfile)
    for dry_run in ([], ["--dry-run"]):
        argv = ["build-push", str(project), "-t", "127.0.0.1:5000/acme/widget", *options, *dry_run]
        code, out, err = _run(argv, capsys, monkeypatch)
        assert code == 2, err
        assert err.startswith("dlink: error: refusing to build, the image would carry a secret")
        assert where in err
        assert ("dlink fix" in err) is fix_hint or "--fix" in options
        assert SECRET not in out + err and GH_TOKEN not in out + err
        assert "Traceback" not in err
    assert invocations(recorder) == []  # no engine ran, so no argv ever held it
    assert (project / "Dockerfile").read_bytes() == dockerfile


def test_fix_removes_the_credential_first_and_the_image_never_holds_it(
    project: Path,
    registry: Registry,
    docker_env: dict[str, str],
    recorder: Path,
    request: pytest.FixtureRequest,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dockerfile = project / "Dockerfile"
    dockerfile.write_bytes(WITH_TOKEN_LABEL)
    docker_login(registry, docker_env)
    repository = f"acme/{_name(request)}"
    code, out, err = _run(
        ["build-push", str(project), "-t", f"{registry.host}/{repository}", "--fix"],
        capsys,
        monkeypatch,
    )
    assert code == 0, err
    assert SECRET.encode() not in dockerfile.read_bytes()
    assert SECRET not in out + err + recorder.read_text()
    assert _pushed_labels(registry, repository)[SOURCE] == WIDGET
    assert SECRET.encode() not in _config_blob(registry, repository, "latest")  # history too


def _config_blob(registry: Registry, repository: str, tag: str) -> bytes:
    """The whole image config (labels and history) as the registry serves it."""
    from servers import _OPENER, OCI_MANIFEST, _basic

    authorization = _basic(registry.username, registry.password)
    accept = f"application/vnd.docker.distribution.manifest.v2+json, {OCI_MANIFEST}"
    manifest_request = urllib.request.Request(
        registry.url(f"/v2/{repository}/manifests/{tag}"),
        headers={"Authorization": authorization, "Accept": accept},
    )
    with _OPENER.open(manifest_request, timeout=30) as reply:
        manifest = json.load(reply)
    blob_request = urllib.request.Request(
        registry.url(f"/v2/{repository}/blobs/{manifest['config']['digest']}"),
        headers={"Authorization": authorization},
    )
    with _OPENER.open(blob_request, timeout=30) as reply:
        return bytes(reply.read())


@pytest.mark.parametrize(
    "tag",
    [
        pytest.param(f"u:{SECRET}@ghcr.io/acme/widget:1", id="userinfo"),
        pytest.param(f"https://u:{SECRET}@ghcr.io/acme/widget:1", id="url"),
        pytest.param(f"{GH_TOKEN}@ghcr.io/acme/widget", id="token-as-user"),
    ],
)
def test_a_malformed_image_reference_is_never_echoed(
    tag: str, project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for dry_run in ([], ["--dry-run"]):
        code, out, err = _run(
            ["build-push", str(project), "-t", tag, *dry_run], capsys, monkeypatch
        )
        assert code == 2
        assert err.startswith("dlink: error: invalid tag")
        assert SECRET not in out + err and GH_TOKEN not in out + err


def test_dry_run_masks_the_token_and_shows_build_args(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", GH_TOKEN)
    monkeypatch.setenv("GITHUB_ACTOR", "octo")
    argv = ["build-push", str(project), "--dry-run", "--engine", "podman", "--build-arg", "V=1.0"]
    code, out, err = _run(argv + ["--secret", "id=npm,env=NPM_TOKEN"], capsys, monkeypatch)
    assert code == 0, err
    assert GH_TOKEN not in out + err
    assert "--build-arg V=1.0" in out
    assert out.splitlines()[0].startswith("printf '%s\\n' '***' | podman login")
    assert "--secret id=npm,env=NPM_TOKEN" in out


def test_display_redacts_whatever_looks_like_a_credential() -> None:
    command = Command(
        (
            "docker",
            "build",
            "--build-arg",
            f"T={GH_TOKEN}",
            "--label",
            f"s=https://u:{SECRET}@h/r",
            ".",
        ),
        "build",
        ".",
    )
    shown = command.display(["given-token"])
    assert GH_TOKEN not in shown and SECRET not in shown
    assert Command(("x", "given-token"), "push", "t").display(["given-token"]) == "x '***'"


@pytest.mark.parametrize("epoch", ["١٧٠٠٠٠٠٠٠٠", "99999999999999999999999", "12ab"])
def test_source_date_epoch_is_a_one_line_error(
    epoch: str, project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", epoch)
    argv = [
        "build-push",
        str(project),
        "-t",
        "127.0.0.1:5000/acme/w",
        "--dry-run",
        "--engine",
        "docker",
    ]
    code, _, err = _run(argv, capsys, monkeypatch)
    assert code == 2
    assert "\ndlink: error: SOURCE_DATE_EPOCH" in err
    assert len([line for line in err.splitlines() if line.startswith("dlink: error")]) == 1
    assert "Traceback" not in err


def test_temporary_auth_keeps_plugins_and_is_removed(tmp_path: Path) -> None:
    user_dir = tmp_path / "user-docker"
    (user_dir / "cli-plugins").mkdir(parents=True)
    plugin = user_dir / "cli-plugins" / "docker-buildx"
    plugin.write_text("#!/bin/sh\n")
    plugin.chmod(0o755)
    (user_dir / "config.json").write_text('{"currentContext": "remote"}')
    environ = {"DOCKER_CONFIG": str(user_dir), "HOME": str(tmp_path), "TMPDIR": str(tmp_path)}
    token = publish.Token("tok-xyz", "CR_PAT", "octo")
    with publish.temporary_auth(DOCKER, ["ghcr.io"], token, environ) as env:
        private = Path(env["DOCKER_CONFIG"])
        assert private != user_dir and oct(private.stat().st_mode & 0o777) == "0o700"
        assert oct((private / "config.json").stat().st_mode & 0o777) == "0o600"
        assert json.loads((private / "config.json").read_text())["currentContext"] == "remote"
        assert build.has_buildx(env)  # the user's plugins are still found
    assert not private.exists()
    assert (user_dir / "config.json").read_text() == '{"currentContext": "remote"}'


def test_temporary_auth_is_removed_on_sigterm(tmp_path: Path) -> None:
    """A cancelled CI job sends SIGTERM: the private configuration must still go."""
    script = (
        "import os, signal, sys\n"
        "from pathlib import Path\n"
        "from dlink import publish\n"
        "from dlink.build import Engine\n"
        "env = {'HOME': sys.argv[1], 'DOCKER_CONFIG': sys.argv[1]}\n"
        "with publish.temporary_auth(Engine('docker', 'docker'), ['ghcr.io'],\n"
        "        publish.Token('tok-xyz', 'CR_PAT', 'u'), env) as run_env:\n"
        "    print(run_env['DOCKER_CONFIG'], flush=True)\n"
        "    os.kill(os.getpid(), signal.SIGTERM)\n"
        "    signal.pause()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "TMPDIR": str(tmp_path)},
    )
    private = Path(done.stdout.strip())
    assert done.returncode == 128 + 15, done.stderr
    assert private.parent == tmp_path and not private.exists()


def test_explain_ghcr(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, _ = _run(["explain", "ghcr"], capsys, monkeypatch)
    assert code == 0
    for fragment in ("same owner", "first created", "packages: write", "Connect"):
        assert fragment.lower() in out.lower()


def test_podman_without_token_uses_the_users_login(
    project: Path,
    registry: Registry,
    containers_env: dict[str, str],
    private_tmp: Path,
    request: pytest.FixtureRequest,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An earlier `podman login` (the user's auth file) is what podman and the read-back use."""
    auth_file = Path(containers_env["REGISTRY_AUTH_FILE"])
    subprocess.run(
        ["podman", "login", "--tls-verify=false", "--username", USER, "--password-stdin", registry.host],
        input=PASSWORD + "\n", capture_output=True, text=True, check=True,
    )  # fmt: skip
    before = auth_file.read_bytes()
    repository = f"acme/{_name(request)}"
    argv = ["build-push", str(project), "-t", f"{registry.host}/{repository}", "--engine", "podman"]
    code, _, err = _run(argv, capsys, monkeypatch)
    assert code == 0, err
    assert "logging in" not in err
    assert auth_file.read_bytes() == before
    assert list(private_tmp.iterdir()) == []
    assert _pushed_labels(registry, repository)[SOURCE] == WIDGET


def test_read_back_catches_a_platform_the_engine_dropped(registry: Registry) -> None:
    """What podman 4.3 did with a cached FROM-scratch layer: one platform pushed of two."""
    from servers import push_image

    push_image(registry, "acme/dropped", "v1", {SOURCE: WIDGET}, platforms=("linux/amd64",))
    push_image(registry, "acme/single", "v1", {SOURCE: WIDGET})
    for repository, expected in (
        ("acme/dropped", "platform(s) linux/arm64 missing"),
        ("acme/single", "platform(s) linux/amd64, linux/arm64 missing"),
    ):
        tag = f"{registry.host}/{repository}:v1"
        image = _client().read_image(parse_image_ref(tag))
        problems = publish.check_image(
            image, tag, WIDGET, {}, index_annotations={}, manifest_annotations={},
            platforms=("linux/amd64", "linux/arm64"),
        )  # fmt: skip
        assert problems == [f"{tag}: {expected} from what was pushed"]
