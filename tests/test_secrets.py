"""No secret ever leaves dlink: a table of secret shapes, planted where they turn up in real
life, run through every command and format; no stream and no file dlink writes may show one.

Each secret is built from two distinctive halves around the shape's special character
(`/`, `"`, `'`, a blank, `@`, percent-encoding...), and the test looks for each half on
its own, so a redaction that stops at the special character is caught too.
"""

from __future__ import annotations

import shlex
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest

from clirun import run_cli
from dlink.cli import output
from dlink.redact import clear_registered_secrets, redact, register_secret
from gitrepo import git, make_repo

SRC = "org.opencontainers.image.source"
REPO = "https://github.com/acme/widget"


@dataclass(frozen=True)
class Shape:
    """How a secret looks in a URL: `url` has {s} where the secret goes."""

    name: str
    url: str  # the repository's URL carrying the secret ({s})
    glue: str  # the special character between the two halves


# Halves: upper case, digits and lower case together, which no message, path or
# host in these tests contains by chance.
def halves(shape: Shape) -> tuple[str, str]:
    tag = "".join(c for c in shape.name.title() if c.isalnum())[:10]
    return f"Qz7{tag}Hx4", f"Wv9{tag}Kp2"


def secret(shape: Shape) -> str:
    first, second = halves(shape)
    return first + shape.glue + second


SHAPES = [
    Shape("https password", "https://x-access-token:{s}@github.com/acme/widget", ""),
    Shape("password slash", "https://x-access-token:{s}@github.com/acme/widget", "/"),
    Shape("password double quote", "https://x-access-token:{s}@github.com/acme/widget", '"'),
    Shape("password single quote", "https://x-access-token:{s}@github.com/acme/widget", "'"),
    Shape("password blank", "https://x-access-token:{s}@github.com/acme/widget", " "),
    Shape("password at", "https://x-access-token:{s}@github.com/acme/widget", "@"),
    Shape("password hash", "https://x-access-token:{s}@github.com/acme/widget", "#"),
    Shape("percent encoded", "https://oauth2:{s}@github.com/acme/widget", "%2F%40"),
    Shape("token user", "https://ghp_{s}@github.com/acme/widget", ""),
    Shape("github pat user", "https://github_pat_{s}@github.com/acme/widget", "_"),
    Shape("gitlab token user", "https://glpat-{s}@github.com/acme/widget", "-"),
    Shape("scp token user", "ghp_{s}@github.com:acme/widget.git", ""),
    Shape("scp password", "deploy:{s}@github.com:acme/widget.git", ""),
    Shape("query access_token", "https://github.com/acme/widget?access_token={s}", ""),
    Shape("query token", "https://github.com/acme/widget?ref=main&token={s}", ""),
    Shape("query pat", "https://github.com/acme/widget?pat={s}", ""),
    Shape("query private_token", "https://github.com/acme/widget?private_token={s}", ""),
    Shape("query password", "https://github.com/acme/widget?password={s}", ""),
    Shape("query sig", "https://github.com/acme/widget?sv=1&sig={s}", ""),
]


def planted(shape: Shape) -> str:
    return shape.url.replace("{s}", secret(shape))


def label_literal(value: str) -> str:
    """`value` as a double-quoted Dockerfile word."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


# -- where secrets are planted ------------------------------------------------------------


@dataclass
class Planted:
    repo: Path
    dockerfile: Path
    extra_args: list[str]  # check/fix options the placement needs (build args, --repo-url)


def _repo(tmp_path: Path, remote: str) -> Path:
    return make_repo(tmp_path / "widget", remotes={"origin": remote}, commit=False)


def _write(repo: Path, text: str) -> Path:
    dockerfile = repo / "Dockerfile"
    dockerfile.write_text(text)
    return dockerfile


def in_remote(tmp_path: Path, shape: Shape) -> Planted:
    repo = _repo(tmp_path, planted(shape))
    return Planted(repo, _write(repo, "FROM alpine\nRUN true\n"), [])


def in_instead_of(tmp_path: Path, shape: Shape) -> Planted:
    repo = _repo(tmp_path, "git@github.com:acme/widget.git")
    git(
        repo,
        "config",
        "--local",
        f"url.{planted(shape)}.insteadOf",
        "git@github.com:acme/widget.git",
    )
    return Planted(repo, _write(repo, "FROM alpine\nRUN true\n"), [])


def in_label(tmp_path: Path, shape: Shape) -> Planted:
    repo = _repo(tmp_path, "git@github.com:acme/widget.git")
    text = f"FROM alpine\nLABEL {SRC}={label_literal(planted(shape))}\n"
    return Planted(repo, _write(repo, text), [])


def in_malformed_label(tmp_path: Path, shape: Shape) -> Planted:
    """An unterminated quote: the file cannot be read, and the error quotes the line."""
    repo = _repo(tmp_path, "git@github.com:acme/widget.git")
    text = f'FROM alpine\nLABEL {SRC}="{planted(shape)}\n'
    return Planted(repo, _write(repo, text), [])


def in_config(tmp_path: Path, shape: Shape) -> Planted:
    repo = _repo(tmp_path, "git@github.com:acme/widget.git")
    value = planted(shape).replace("\\", "\\\\").replace('"', '\\"')
    (repo / ".dlink.toml").write_text(f'repo-url = "{value}"\n')
    return Planted(repo, _write(repo, "FROM alpine\nRUN true\n"), [])


def in_build_arg(tmp_path: Path, shape: Shape) -> Planted:
    repo = _repo(tmp_path, "git@github.com:acme/widget.git")
    text = f"FROM alpine\nARG SRC_URL\nLABEL {SRC}=$SRC_URL\n"
    return Planted(repo, _write(repo, text), ["--build-arg", f"SRC_URL={planted(shape)}"])


def in_repo_url_flag(tmp_path: Path, shape: Shape) -> Planted:
    repo = _repo(tmp_path, "git@github.com:acme/widget.git")
    return Planted(repo, _write(repo, "FROM alpine\nRUN true\n"), ["--repo-url", planted(shape)])


PLACES: dict[str, Callable[[Path, Shape], Planted]] = {
    "remote": in_remote,
    "insteadOf": in_instead_of,
    "label": in_label,
    "malformed-label": in_malformed_label,
    "config": in_config,
    "build-arg": in_build_arg,
    "repo-url-flag": in_repo_url_flag,
}

CHECK_FORMATS = ["text", "json", "sarif", "github", "gitlab"]


def commands(place: Planted) -> Iterator[tuple[list[str], Path | None]]:
    """Every command and format, with the report file it writes (if any)."""
    target = str(place.dockerfile)
    for fmt in CHECK_FORMATS:
        yield ["check", "--format", fmt, *place.extra_args, target], None
        report = place.repo.parent / f"report.{fmt}"
        yield (
            ["check", "--format", fmt, "--output-file", str(report), *place.extra_args, target],
            report,
        )
    yield ["check", "--color", "always", *place.extra_args, target], None
    yield ["fix", "--diff", *place.extra_args, target], None
    yield ["fix", "--diff", "--color", "always", *place.extra_args, target], None
    repo_args = [a for a in place.extra_args if a != "--build-arg" and not a.startswith("SRC_URL=")]
    yield ["repo", *repo_args, target], None
    yield ["repo", "--json", *repo_args, target], None
    yield ["rules"], None
    images_args = [a for a in repo_args if a != "--remote"]
    for fmt in ("text", "json"):
        yield ["images", "--format", fmt, "--scope", "all", *images_args, str(place.repo)], None
    yield ["fix", *place.extra_args, target], None  # last: it may rewrite the Dockerfile


def _files(root: Path) -> dict[Path, bytes]:
    return {
        path: path.read_bytes()
        for path in root.rglob("*")
        if path.is_file() and ".git" not in path.relative_to(root).parts
    }


def assert_hidden(shape: Shape, where: str, text: str) -> None:
    for half in halves(shape):
        assert half not in text, f"{shape.name}: {half!r} leaked in {where}:\n{text[:2000]}"


@pytest.mark.parametrize("place_name", list(PLACES))
@pytest.mark.parametrize("shape", SHAPES, ids=[s.name.replace(" ", "-") for s in SHAPES])
def test_no_secret_leaves(
    shape: Shape,
    place_name: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    place = PLACES[place_name](tmp_path, shape)
    planted_files = _files(tmp_path)
    monkeypatch.chdir(place.repo)
    for argv, report in commands(place):
        before = _files(tmp_path)
        code, out, err = run_cli(argv, capsys, monkeypatch)
        where = f"`dlink {shlex.join(argv)}` (exit {code})"
        assert code in (0, 1, 2), where
        assert_hidden(shape, f"stdout of {where}", out)
        assert_hidden(shape, f"stderr of {where}", err)
        if report is not None and report.exists():
            assert_hidden(shape, f"{report.name} of {where}", report.read_text())
        for path, data in _files(tmp_path).items():
            if before.get(path) != data and planted_files.get(path) != data:
                assert_hidden(
                    shape, f"{path.name} written by {where}", data.decode(errors="replace")
                )


@pytest.mark.parametrize("shape", SHAPES, ids=[s.name.replace(" ", "-") for s in SHAPES])
def test_no_secret_in_build_push_dry_run(
    shape: Shape,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """build-push --dry-run prints the commands it would run: build args and labels too."""
    if shutil.which("docker") is None:
        pytest.skip("build-push --dry-run needs an engine on PATH (docker)")
    place = in_label(tmp_path, shape)
    monkeypatch.chdir(place.repo)
    for argv in (
        ["build-push", ".", "--dry-run", "--engine", "docker", "-t", "ghcr.io/acme/widget:1"],
        [
            "build-push",
            ".",
            "--dry-run",
            "--engine",
            "docker",
            "-t",
            "ghcr.io/acme/widget:1",
            "--build-arg",
            f"TOKEN={planted(shape)}",
        ],
        # A malformed image reference with credentials in it, as a user might paste one.
        [
            "build-push",
            ".",
            "--dry-run",
            "--engine",
            "docker",
            "-t",
            f"u:{secret(shape)}@ghcr.io/acme/widget:1",
        ],
        [
            "build-push",
            ".",
            "--dry-run",
            "--engine",
            "docker",
            "-t",
            "ghcr.io/acme/widget:1",
            "--label",
            f"org.example.origin={planted(shape)}",
        ],
    ):
        code, out, err = run_cli(argv, capsys, monkeypatch)
        where = f"`dlink {shlex.join(argv)}` (exit {code})"
        assert_hidden(shape, f"stdout of {where}", out)
        assert_hidden(shape, f"stderr of {where}", err)
        # A credential in the label, a build arg, a --label or the tag: refused, even dry.
        assert code == 2, where


@pytest.mark.parametrize("shape", SHAPES, ids=[s.name.replace(" ", "-") for s in SHAPES])
def test_the_redactor_hides_each_shape_in_prose(shape: Shape) -> None:
    """The unit under all of the above: the planted URL quoted in a message, in a diff
    line, in JSON, percent-encoded; and the check can fail (the bare halves show)."""
    url = planted(shape)
    for text in (
        f"source label {url!r} is not canonical",
        f"-LABEL {SRC}={label_literal(url)}",
        '{"remote_url": "' + url.replace('"', '\\"') + '"}',
        f"fatal: could not read from '{url}': 403",
    ):
        assert_hidden(shape, "redact()", redact(text))
    with pytest.raises(AssertionError):
        assert_hidden(shape, "a bare secret", secret(shape))


def test_registered_secrets_are_hidden_as_given_and_encoded() -> None:
    token = "registry-Tok3n/with spaces"
    try:
        register_secret(token)
        assert redact(f"login with {token} failed") == "login with *** failed"
        assert redact(f"u={quote(token, safe='')}") == "u=***"
    finally:
        clear_registered_secrets()
    assert redact(token) == token


@pytest.mark.parametrize("size", [40_000, 1_000_000])
def test_redaction_is_linear(size: int) -> None:
    """The old redactor took seconds on 40,000 characters; 1 MB of the worst shapes must
    be quick. (A bound on work, not a timing: each shape runs on a fixed budget of
    characters, and this test only checks it finishes and keeps the text's length.)"""
    for unit in ("a", "https://", "@", "a@", "?token", "https://u:", "x:y@", "ghp_"):
        text = unit * (size // len(unit))
        assert len(redact(text)) <= len(text) + 3 * len(text) // max(len(unit), 1)


def test_cli_code_prints_only_through_the_output_module() -> None:
    """The boundary cannot be bypassed: no module under dlink/cli or dlink/report prints
    or writes a stream by itself; dlink.cli.output is the one place, and it redacts."""
    from conftest import ROOT

    forbidden = ("typer.echo(", "print(", "sys.stdout.write(", "sys.stderr.write(", "click.echo(")
    offenders = []
    for module in [
        *(ROOT / "src" / "dlink" / "cli").glob("*.py"),
        *(ROOT / "src" / "dlink" / "report").glob("*.py"),
    ]:
        if module.name == "output.py":
            continue
        for number, line in enumerate(module.read_text().splitlines(), 1):
            if any(call in line for call in forbidden):
                offenders.append(f"{module.name}:{number}: {line.strip()}")
    assert offenders == []
    assert output.redact is redact
