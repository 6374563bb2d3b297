"""`dlink build-push` and `dlink verify`: build with the right labels, and prove what a registry holds."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from dlink.cli import output
from dlink.cli.app import app, fail, parse_build_args, repository_of
from dlink.errors import DlinkError, ExitCode

if TYPE_CHECKING:
    from dlink.build import Engine
    from dlink.registry import Credentials, ImageRef, RemoteImage

SOURCE_LABEL = "org.opencontainers.image.source"
REVISION_LABEL = "org.opencontainers.image.revision"
# Where a token may come from, in order, when not given on stdin.
BUILD_TOKEN_VARIABLES = ("CR_PAT", "GITHUB_TOKEN")
VERIFY_TOKEN_VARIABLES = ("DLINK_REGISTRY_PASSWORD", "CR_PAT", "GITHUB_TOKEN")


class OutputFormat(str, Enum):
    text = "text"
    json = "json"


RepoUrlOpt = Annotated[
    str | None, typer.Option("--repo-url", help="The repository URL to expect (skips git).")
]
RemoteOpt = Annotated[
    str | None, typer.Option("--remote", help="The git remote to read the URL from.")
]
UsernameOpt = Annotated[
    str | None,
    typer.Option("--username", "-u", help="Registry user name (default: $GITHUB_ACTOR)."),
]
PasswordStdinOpt = Annotated[
    bool,
    typer.Option("--password-stdin", help="Read the registry token from standard input."),
]
InsecureOpt = Annotated[
    bool,
    typer.Option(
        "--insecure",
        help="Read the registry over plain http (automatic for localhost and 127.0.0.1).",
    ),
]


def _note(message: str) -> None:
    output.err(f"dlink: {message}")


def _read_stdin_token() -> str:
    token = sys.stdin.read().rstrip("\r\n")
    if not token:
        raise DlinkError("--password-stdin was given but standard input is empty")
    if "\n" in token:
        raise DlinkError("--password-stdin: standard input holds more than one line")
    return token


@dataclass(frozen=True)
class _Secret:
    """A token, where it came from (never the token itself), and the user name for it."""

    token: str = field(repr=False)
    origin: str = ""
    username: str = ""


def _token(
    password_stdin: bool,
    username: str | None,
    variables: Sequence[str],
    environ: Mapping[str, str],
) -> _Secret | None:
    """The token to use, or None: from stdin when asked, else the first variable set.

    A token from stdin needs a user name (--username, else GITHUB_ACTOR); one from the
    environment without a user name is not used (with a note), because such variables
    are often set for other tools.
    """
    from dlink.redact import register_secret

    user = username or environ.get("GITHUB_ACTOR") or None
    for name in variables:  # hidden in all output from now on, used or not
        register_secret(environ.get(name, "").strip())
    if password_stdin:
        token = _read_stdin_token()
        register_secret(token)
        if user is None:
            raise DlinkError(
                "--password-stdin needs a user name",
                hint="pass --username (or set GITHUB_ACTOR)",
            )
        return _Secret(token, "--password-stdin", user)
    for name in variables:
        value = environ.get(name, "").strip()
        if value:
            if user is None:
                _note(
                    f"{name} is set but no user name is known (--username, GITHUB_ACTOR): not using it"
                )
                return None
            return _Secret(value, name, user)
    return None


def _same_repository(found: str | None, expected: str) -> bool:
    if found is None:
        return False
    from dlink.repo import same_repository

    return same_repository(found, expected)


def _shown(value: str | None) -> str:
    if value is None:
        return "missing"
    from dlink.repo import redact_url

    return repr(redact_url(value))


# -- build-push ----------------------------------------------------------------------------


def _check_pushed(
    image: RemoteImage, tag: str, repo_url: str, expected: Mapping[str, str]
) -> list[str]:
    """What is wrong with the labels of a pushed image; empty when all is there."""
    problems: list[str] = []
    for platform_image in image.images:
        where = f"{tag} [{platform_image.platform}]" if platform_image.platform else tag
        labels = platform_image.labels
        source = labels.get(SOURCE_LABEL)
        if not _same_repository(source, repo_url):
            problems.append(f"{where}: {SOURCE_LABEL} is {_shown(source)}, expected {repo_url!r}")
        for key, value in expected.items():
            if key == SOURCE_LABEL:
                continue
            if key not in labels:
                problems.append(f"{where}: {key} is missing")
            elif labels[key] != value:
                problems.append(f"{where}: {key} is {labels[key]!r}, expected {value!r}")
    return problems


@app.command("build-push")
def build_push(
    context: Annotated[
        Path, typer.Argument(help="The build context (default: the current directory).")
    ] = Path("."),
    file: Annotated[
        Path | None,
        typer.Option("--file", "-f", help="The Dockerfile (default: CONTEXT/Dockerfile)."),
    ] = None,
    tags: Annotated[
        list[str] | None,
        typer.Option(
            "--tag",
            "-t",
            help="IMAGE[:TAG] to push; repeatable (default: ghcr.io/OWNER/REPO:latest).",
        ),
    ] = None,
    fix: Annotated[
        bool, typer.Option("--fix", help="Rewrite the Dockerfile's source label before building.")
    ] = False,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict", help="Refuse to build when the Dockerfile's source label is wrong."
        ),
    ] = False,
    engine_name: Annotated[
        str | None,
        typer.Option(
            "--engine", help="docker, podman or buildah (default: the first found on PATH)."
        ),
    ] = None,
    username: UsernameOpt = None,
    password_stdin: PasswordStdinOpt = False,
    build_arg: Annotated[
        list[str] | None,
        typer.Option("--build-arg", help="NAME=VALUE passed to the build; repeatable."),
    ] = None,
    target: Annotated[
        str | None, typer.Option("--target", help="The stage to build (default: the last).")
    ] = None,
    platform: Annotated[
        str | None, typer.Option("--platform", help="Passed to the build, e.g. linux/amd64.")
    ] = None,
    repo_url: RepoUrlOpt = None,
    remote: RemoteOpt = None,
    insecure: InsecureOpt = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the commands (token as ***); run nothing.")
    ] = False,
) -> None:
    """Build and push an image whose source label names this repository, then read it back.

    A wrong or missing source label is passed at build time; the Dockerfile is left as it is.

    --fix rewrites the Dockerfile first; --strict refuses to build (exit 1).

    Also labelled: org.opencontainers.image.revision and .created (from SOURCE_DATE_EPOCH).

    Token: --password-stdin, CR_PAT or GITHUB_TOKEN; user: --username or GITHUB_ACTOR.

    Example: dlink build-push . -t ghcr.io/acme/widget:1.0 --dry-run
    """
    try:
        _build_push(
            context=context,
            file=file,
            tags=list(tags or []),
            fix=fix,
            strict=strict,
            engine_name=engine_name,
            username=username,
            password_stdin=password_stdin,
            build_args=list(build_arg or []),
            target=target,
            platform=platform,
            repo_url=repo_url,
            remote=remote,
            insecure=insecure,
            dry_run=dry_run,
        )
    except DlinkError as error:
        raise fail(error) from None


def _build_push(
    *,
    context: Path,
    file: Path | None,
    tags: list[str],
    fix: bool,
    strict: bool,
    engine_name: str | None,
    username: str | None,
    password_stdin: bool,
    build_args: list[str],
    target: str | None,
    platform: str | None,
    repo_url: str | None,
    remote: str | None,
    insecure: bool,
    dry_run: bool,
) -> None:
    from dlink import build
    from dlink.engine import source_label_plan
    from dlink.files import read_dockerfile, write_atomic

    environ = os.environ
    if fix and strict:
        raise DlinkError("--fix and --strict contradict each other: choose one")
    dockerfile = file if file is not None else context / "Dockerfile"
    if not context.is_dir():
        raise DlinkError(f"build context {context} is not a directory")

    repository = repository_of(dockerfile, repo_url=repo_url, remote=remote).url
    wanted = tags or [build.default_image(repository)]
    refs = [build.parse_tag(tag) for tag in wanted]
    for ref in refs:
        why = build.foreign_owner(ref, repository)
        if why is not None:
            raise DlinkError(why, hint="push to ghcr.io/<repository owner>/..., or use --repo-url")

    engine = build.find_engine(engine_name, environ)
    secret = _token(password_stdin, username, BUILD_TOKEN_VARIABLES, environ)
    data = read_dockerfile(dockerfile)
    args = build_args
    plan = source_label_plan(
        data,
        path=str(dockerfile),
        repo_url=repository,
        target=target,
        build_args=parse_build_args(args, environ),
    )
    labels: dict[str, str] = {}
    fixed: bytes | None = None
    if not plan.ok:
        state = "is missing" if plan.current is None else f"is {_shown(plan.current)}"
        problem = f"{dockerfile}: {SOURCE_LABEL} {state}, expected {repository!r}"
        if strict:
            output.err(f"dlink: {problem}; refusing to build (--strict)")
            raise typer.Exit(ExitCode.FINDINGS)
        if fix and plan.fixed is not None:
            fixed = plan.fixed
            _note(f"{problem}; {'would rewrite' if dry_run else 'rewriting'} the file (--fix)")
        else:
            labels[SOURCE_LABEL] = repository
            why = "it cannot be fixed automatically; " if fix else ""
            _note(
                f"{problem}; {why}passing the right value at build time (--label), "
                f"the file is unchanged" + ("" if fix else " (--fix rewrites it)")
            )

    if not build.mentions_label(data, build.REVISION_LABEL):
        revision = _head_revision(dockerfile)
        if revision is not None:
            labels[build.REVISION_LABEL] = revision
    if not build.mentions_label(data, build.CREATED_LABEL):
        labels[build.CREATED_LABEL] = build.created_timestamp(environ, datetime.now(timezone.utc))
    annotations = {SOURCE_LABEL: repository} if engine.supports_annotations else {}

    logins: list[tuple[str, str]] = []
    if secret is not None:
        for ref in refs:
            if ref.registry not in [registry for registry, _ in logins]:
                logins.append((ref.registry, secret.username))
                _note(
                    f"logging in to {ref.registry} as {secret.username} (token from {secret.origin})"
                )

    spec = build.BuildSpec(
        context=str(context),
        dockerfile=str(dockerfile),
        tags=tuple(wanted),
        labels=labels,
        annotations=annotations,
        build_args=tuple(args),
        target=target,
        platform=platform,
    )
    commands = build.plan_commands(engine, spec, logins)
    if dry_run:
        for command in commands:
            output.out(command.display())
        return

    build.check_daemon(engine)
    if fixed is not None:
        write_atomic(dockerfile, fixed)

    def stream(line: str) -> None:
        output.err(line, nl=False)

    for command in commands:
        token = secret.token if secret is not None and command.secret_on_stdin else None
        code = build.run_command(command, secret=token, on_output=stream)
        if code != 0:
            raise DlinkError(
                f"{command.describe()} failed ({engine.name} exited with {code})",
                hint=command.failure_hint(),
            )

    problems = _read_back(engine, refs, wanted, repository, labels, secret, insecure, environ)
    if problems:
        for problem in problems:
            output.err(f"dlink: {problem}")
        output.err("dlink: the pushed image does not carry the expected labels")
        raise typer.Exit(ExitCode.FINDINGS)


def _head_revision(dockerfile: Path) -> str | None:
    from dlink.repo import head_facts

    try:
        facts = head_facts(dockerfile)
    except DlinkError as error:
        _note(f"no {REVISION_LABEL} label: {error.message}")
        return None
    if facts.commit is None:
        _note(f"no {REVISION_LABEL} label: the repository has no commit yet")
        return None
    if facts.dirty:
        _note("the working tree has uncommitted changes; the revision label names HEAD")
    return facts.commit


def _read_back(
    engine: Engine,
    refs: Sequence[ImageRef],
    tags: Sequence[str],
    repository: str,
    labels: Mapping[str, str],
    secret: _Secret | None,
    insecure: bool,
    environ: Mapping[str, str],
) -> list[str]:
    """Read every pushed tag back from its registry; the problems with its labels."""
    from dlink import build
    from dlink.registry import Credentials, RegistryClient

    problems: list[str] = []
    clients: dict[str, RegistryClient] = {}
    for ref, tag in zip(refs, tags):
        client = clients.get(ref.registry)
        if client is None:
            credentials: Credentials | None
            if secret is not None:
                credentials = Credentials(secret.username, secret.token)
            else:
                credentials = build.stored_credentials(engine, ref.registry, environ)
            client = clients[ref.registry] = RegistryClient(credentials, insecure=insecure)
        image = client.read_image(ref)
        found = _check_pushed(image, tag, repository, labels)
        problems += found
        if not found:
            output.out(f"{ref.registry}/{ref.repository}@{image.digest}")
            _note(f"pushed {tag}: {SOURCE_LABEL}={repository} (read back from the registry)")
    return problems


# -- verify ----------------------------------------------------------------------------------


def _verdict(
    image: RemoteImage, expected: str
) -> tuple[bool, str | None, Mapping[str, str], list[str]]:
    """(ok, source, labels, lines): the platform that decides, and a line per platform."""
    deciding = image.images[0]
    lines: list[str] = []
    ok = True
    for platform_image in image.images:
        source = platform_image.labels.get(SOURCE_LABEL)
        matches = _same_repository(source, expected)
        where = f" [{platform_image.platform}]" if platform_image.platform else ""
        if matches:
            lines.append(f"{image.ref}{where}: {SOURCE_LABEL}={source} matches the repository")
        elif source is None:
            lines.append(f"{image.ref}{where}: {SOURCE_LABEL} is missing (expected {expected})")
        else:
            lines.append(
                f"{image.ref}{where}: {SOURCE_LABEL} is {_shown(source)}, expected {expected!r}"
            )
        if ok and not matches:
            ok, deciding = False, platform_image
    return ok, deciding.labels.get(SOURCE_LABEL), deciding.labels, lines


@app.command("verify")
def verify(
    image: Annotated[str, typer.Argument(help="The image to read, e.g. ghcr.io/acme/widget:1.0.")],
    path: Annotated[
        Path,
        typer.Option("--path", help="A file or directory in the repository (default: .)."),
    ] = Path("."),
    repo_url: RepoUrlOpt = None,
    remote: RemoteOpt = None,
    username: UsernameOpt = None,
    password_stdin: PasswordStdinOpt = False,
    insecure: InsecureOpt = False,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="text or json.", case_sensitive=False)
    ] = OutputFormat.text,
) -> None:
    """Read IMAGE's labels from its registry and check its source label names this repository.

    Exit 0 when it does, 1 when the label is missing or different, 2 when unreadable.

    Token: --password-stdin, DLINK_REGISTRY_PASSWORD, CR_PAT or GITHUB_TOKEN; else anonymous.

    Example: dlink verify ghcr.io/acme/widget:1.0 --format json
    """
    try:
        _verify(image, path, repo_url, remote, username, password_stdin, insecure, output_format)
    except DlinkError as error:
        raise fail(error) from None


def _verify(
    image: str,
    path: Path,
    repo_url: str | None,
    remote: str | None,
    username: str | None,
    password_stdin: bool,
    insecure: bool,
    output_format: OutputFormat,
) -> None:
    from dlink.registry import Credentials, RegistryClient, parse_image_ref

    environ = os.environ
    ref = parse_image_ref(image)
    expected = repository_of(path, repo_url=repo_url, remote=remote).url
    secret = _token(password_stdin, username, VERIFY_TOKEN_VARIABLES, environ)
    credentials = None
    if secret is not None:
        credentials = Credentials(secret.username, secret.token)
    remote_image = RegistryClient(credentials, insecure=insecure).read_image(ref)
    ok, source, labels, lines = _verdict(remote_image, expected)
    if output_format is OutputFormat.json:
        document = {
            "image": str(ref),
            "source": source,
            "expected": expected,
            "ok": ok,
            "labels": dict(labels),
        }
        output.out(json.dumps(document, indent=2, sort_keys=False))
    else:
        for line in lines:
            output.out(line)
    if not ok:
        raise typer.Exit(ExitCode.FINDINGS)
