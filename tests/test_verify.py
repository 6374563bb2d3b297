"""dlink verify: read an image's labels from a real registry and compare the source label."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from clirun import run_cli as _run
from servers import (
    PASSWORD,
    USER,
    Registry,
    TokenRegistry,
    free_port,
    push_image,
)

# The server fixtures, registered once so session scope means one server per run.

SOURCE = "org.opencontainers.image.source"
WIDGET = "https://github.com/acme/widget"
OTHER = "https://github.com/other/thing"
LOGIN = ["--username", USER, "--password-stdin"]


@pytest.fixture(scope="module")
def images(registry: Registry) -> dict[str, str]:
    """Images in the basic-auth registry, by what their labels say."""
    push_image(registry, "verify/right", "v1", {SOURCE: WIDGET, "other": "x"})
    push_image(registry, "verify/wrong", "v1", {SOURCE: OTHER})
    push_image(registry, "verify/git-suffix", "v1", {SOURCE: WIDGET + ".git"})
    push_image(registry, "verify/missing", "v1", {"other": "x"})
    push_image(registry, "verify/no-labels", "v1", None)
    push_image(
        registry, "verify/multi", "v1", {SOURCE: WIDGET}, platforms=("linux/amd64", "linux/arm64")
    )
    # One platform built from another repository: the image as a whole is wrong.
    push_image(
        registry,
        "verify/mixed",
        "v1",
        {SOURCE: WIDGET},
        platforms=("linux/amd64", "linux/arm64"),
        platform_labels={"linux/arm64": {SOURCE: OTHER}},
    )
    return {"host": registry.host}


@pytest.mark.parametrize(
    ("repository", "code", "source", "fragment"),
    [
        pytest.param("verify/right", 0, WIDGET, "matches the repository", id="right"),
        pytest.param("verify/git-suffix", 0, WIDGET + ".git", "matches", id="same-repo-spelled-.git"),
        pytest.param("verify/wrong", 1, OTHER, f"is '{OTHER}', expected '{WIDGET}'", id="wrong"),
        pytest.param("verify/missing", 1, None, f"{SOURCE} is missing (expected {WIDGET})", id="missing"),
        pytest.param("verify/no-labels", 1, None, "is missing", id="no-labels-at-all"),
        pytest.param("verify/multi", 0, WIDGET, "[linux/arm64]", id="index"),
        pytest.param("verify/mixed", 1, OTHER, f"[linux/arm64]: {SOURCE} is '{OTHER}'", id="index-one-platform-wrong"),
    ],
)  # fmt: skip
def test_verify_text(
    images: dict[str, str],
    repository: str,
    code: int,
    source: str | None,
    fragment: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    image = f"{images['host']}/{repository}:v1"
    result, out, err = _run(
        ["verify", image, "--repo-url", WIDGET, *LOGIN], capsys, monkeypatch, PASSWORD + "\n"
    )
    assert (result, err) == (code, "")
    assert fragment in out
    assert source is None or source in out
    assert PASSWORD not in out


@pytest.mark.parametrize(
    ("repository", "ok", "source", "labels"),
    [
        pytest.param("verify/right", True, WIDGET, {SOURCE: WIDGET, "other": "x"}, id="right"),
        pytest.param("verify/wrong", False, OTHER, {SOURCE: OTHER}, id="wrong"),
        pytest.param("verify/missing", False, None, {"other": "x"}, id="missing"),
    ],
)
def test_verify_json(
    images: dict[str, str],
    repository: str,
    ok: bool,
    source: str | None,
    labels: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    image = f"{images['host']}/{repository}:v1"
    argv = ["verify", image, "--repo-url", WIDGET, "--format", "json", *LOGIN]
    code, out, _ = _run(argv, capsys, monkeypatch, PASSWORD)
    assert code == (0 if ok else 1)
    assert json.loads(out) == {
        "image": image,
        "source": source,
        "expected": WIDGET,
        "ok": ok,
        "labels": labels,
        "index_annotations": None,
        "platforms": [{"platform": None, "source": source, "ok": ok}],
    }


def test_verify_credentials_from_environment(
    images: dict[str, str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    image = f"{images['host']}/verify/right:v1"
    for variable in ("DLINK_REGISTRY_PASSWORD", "CR_PAT", "GITHUB_TOKEN"):
        monkeypatch.setenv(variable, PASSWORD)
        monkeypatch.setenv("GITHUB_ACTOR", USER)
        code, _out, err = _run(["verify", image, "--repo-url", WIDGET], capsys, monkeypatch)
        assert code == 0, err
        monkeypatch.delenv(variable)


def test_verify_resolves_the_repository_from_git(
    images: dict[str, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(
        ["git", "-C", str(tmp_path), "remote", "add", "origin", "git@github.com:acme/widget.git"],
        check=True,
    )
    image = f"{images['host']}/verify/right:v1"
    code, out, err = _run(
        ["verify", image, "--path", str(tmp_path), *LOGIN], capsys, monkeypatch, PASSWORD
    )
    assert code == 0, err
    assert "matches the repository" in out


@pytest.mark.parametrize(
    ("image", "login", "stdin", "fragment"),
    [
        pytest.param("verify/absent:v1", True, PASSWORD, "image not found", id="not-found"),
        pytest.param("verify/right:v1", False, "", "not authorised to read", id="anonymous"),
        pytest.param(
            "verify/right:v1",
            True,
            "wrong-password-xyz",
            "not authorised to read",
            id="wrong-token",
        ),
        pytest.param("Verify/Right:v1", False, "", "invalid repository name", id="bad-reference"),
    ],
)
def test_verify_cannot_read(
    images: dict[str, str],
    image: str,
    login: bool,
    stdin: str,
    fragment: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    argv = ["verify", f"{images['host']}/{image}", "--repo-url", WIDGET]
    code, out, err = _run(argv + (LOGIN if login else []), capsys, monkeypatch, stdin)
    assert code == 2
    assert out == ""
    assert err.startswith(f"dlink: error: {fragment}") or fragment in err.splitlines()[0]
    assert "Traceback" not in err
    assert "wrong-password-xyz" not in err and PASSWORD not in err


def test_verify_unreachable(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    image = f"127.0.0.1:{free_port()}/acme/widget:v1"
    code, _, err = _run(["verify", image, "--repo-url", WIDGET], capsys, monkeypatch)
    assert code == 2
    assert err.splitlines()[0].startswith("dlink: error: cannot reach registry 127.0.0.1:")


@pytest.mark.parametrize(
    ("argv", "environment", "fragment"),
    [
        pytest.param(["--password-stdin"], {}, "--password-stdin needs a user name", id="stdin-no-user"),
        pytest.param([], {"CR_PAT": PASSWORD}, "CR_PAT is set but no user name", id="env-no-user"),
    ],
)  # fmt: skip
def test_verify_token_without_user(
    images: dict[str, str],
    argv: list[str],
    environment: dict[str, str],
    fragment: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    image = f"{images['host']}/verify/right:v1"
    code, _, err = _run(
        ["verify", image, "--repo-url", WIDGET, *argv], capsys, monkeypatch, PASSWORD
    )
    assert code == 2  # either refused up front, or read anonymously and refused by the registry
    assert fragment in err
    assert PASSWORD not in err


# -- the bearer flow (ghcr.io, Docker Hub): a registry behind a token service ---------------


@pytest.fixture(scope="module")
def bearer_images(token_registry: TokenRegistry) -> str:
    for repository in ("acme/public", "acme/private"):
        push_image(
            token_registry.registry,
            repository,
            "v1",
            {SOURCE: WIDGET},
            authorization="Bearer " + token_registry.push_token(repository),
        )
    return token_registry.host


@pytest.mark.parametrize(
    ("repository", "login", "stdin", "code", "fragment"),
    [
        pytest.param("acme/private", True, PASSWORD, 0, "matches the repository", id="private-with-token"),
        pytest.param("acme/public", False, "", 0, "matches the repository", id="public-anonymous"),
        pytest.param("acme/private", False, "", 2, "not authorised to read", id="private-anonymous"),
        pytest.param("acme/private", True, "wrong-password-xyz", 2, "refused the credentials", id="wrong"),
    ],
)  # fmt: skip
def test_verify_bearer_flow(
    bearer_images: str,
    token_registry: TokenRegistry,
    repository: str,
    login: bool,
    stdin: str,
    code: int,
    fragment: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = len(token_registry.service.requests)
    argv = ["verify", f"{bearer_images}/{repository}:v1", "--repo-url", WIDGET]
    result, out, err = _run(argv + (LOGIN if login else []), capsys, monkeypatch, stdin)
    assert result == code, err
    assert fragment in out + err
    assert stdin.strip() == "" or stdin.strip() not in out + err
    asked = token_registry.service.requests[before:]
    assert asked, "the token service was not asked"
    assert all(request["basic"] is login for request in asked)


def test_verify_as_a_process(images: dict[str, str]) -> None:
    """The console entry point with a real stdin: one line on stderr, no traceback."""
    argv = [sys.executable, "-m", "dlink", "verify", f"{images['host']}/verify/absent:v1"]
    done = subprocess.run(
        argv + ["--repo-url", WIDGET, *LOGIN],
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.splitlines()[0].startswith("dlink: error: image not found: ")
    assert "Traceback" not in done.stderr and PASSWORD not in done.stderr


# -- index annotations: verify reads the index itself too ---------------------------------


@pytest.fixture(scope="module")
def annotated(registry: Registry) -> str:
    both = ("linux/amd64", "linux/arm64")
    push_image(registry, "verify/index-right", "v1", {SOURCE: WIDGET}, platforms=both,
               index_annotations={SOURCE: WIDGET})  # fmt: skip
    push_image(registry, "verify/index-wrong", "v1", {SOURCE: WIDGET}, platforms=both,
               index_annotations={SOURCE: OTHER})  # fmt: skip
    push_image(registry, "verify/index-bare", "v1", {SOURCE: WIDGET}, platforms=both)
    push_image(registry, "verify/one-platform-unlabelled", "v1", {SOURCE: WIDGET}, platforms=both,
               platform_labels={"linux/arm64": {SOURCE: ""}}, index_annotations={SOURCE: WIDGET})  # fmt: skip
    return registry.host


@pytest.mark.parametrize(
    ("repository", "code", "index_line"),
    [
        pytest.param("verify/index-right", 0, f"[index]: annotation {SOURCE}={WIDGET} matches", id="annotated"),
        pytest.param("verify/index-wrong", 1, f"[index]: annotation {SOURCE} is '{OTHER}', expected '{WIDGET}'", id="wrong-annotation"),
        pytest.param("verify/index-bare", 0, f"[index]: no {SOURCE} annotation on the index", id="no-annotation-is-a-note"),
    ],
)  # fmt: skip
def test_verify_reads_index_annotations(
    annotated: str,
    repository: str,
    code: int,
    index_line: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    image = f"{annotated}/{repository}:v1"
    result, out, err = _run(
        ["verify", image, "--repo-url", WIDGET, *LOGIN], capsys, monkeypatch, PASSWORD
    )
    assert result == code, out + err
    assert out.splitlines()[0] == f"{image} {index_line}" or out.splitlines()[0].startswith(
        f"{image} {index_line}"
    )
    assert len(out.splitlines()) == 3  # the index, then each platform


def test_verify_names_the_platform_missing_the_label(
    annotated: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    image = f"{annotated}/verify/one-platform-unlabelled:v1"
    argv = ["verify", image, "--repo-url", WIDGET, "--format", "json", *LOGIN]
    code, out, _ = _run(argv, capsys, monkeypatch, PASSWORD)
    assert code == 1
    document = json.loads(out)
    assert document["index_annotations"] == {SOURCE: WIDGET}
    assert document["platforms"] == [
        {"platform": "linux/amd64", "source": WIDGET, "ok": True},
        {"platform": "linux/arm64", "source": "", "ok": False},
    ]


# -- a hostile registry: answers no real registry sends, each a one-line error ------------


@pytest.fixture
def hostile_registry() -> Iterator[str]:
    """An http.server speaking the distribution API with hostile answers, by repository:
    `deep` serves a manifest nested 100,000 levels, `header` a 70 KiB header line,
    `headers` 200 headers. The distribution registry cannot be made to send these."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.startswith("/v2/acme/deep/"):
                self._answer(b"[" * 100_000 + b"]" * 100_000)
            elif self.path.startswith("/v2/acme/header/"):
                self._answer(b"{}", [("X-Padding", "a" * 70 * 1024)])
            elif self.path.startswith("/v2/acme/headers/"):
                self._answer(b"{}", [(f"X-H{i}", "x") for i in range(200)])
            else:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()

        def _answer(self, body: bytes, headers: list[tuple[str, str]] = ()) -> None:  # type: ignore[assignment]
            self.send_response(200)
            self.send_header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("repository", "fragment"),
    [
        pytest.param("deep", "its manifest is not JSON (nested deeper than 64 levels)", id="nested-json"),
        pytest.param("header", "sent an invalid HTTP answer", id="header-over-64k"),
        pytest.param("headers", "sent an invalid HTTP answer", id="too-many-headers"),
    ],
)  # fmt: skip
def test_verify_hostile_answers_are_one_line_errors(
    hostile_registry: str,
    repository: str,
    fragment: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    image = f"{hostile_registry}/acme/{repository}:v1"
    code, out, err = _run(["verify", image, "--repo-url", WIDGET], capsys, monkeypatch)
    assert code == 2
    assert out == ""
    assert err.startswith("dlink: error: ") and fragment in err.splitlines()[0], err
    assert "Traceback" not in err and len(err.splitlines()[0]) < 300
