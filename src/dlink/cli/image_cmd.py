"""`dlink build-push` and `dlink verify`: build with the right labels, and prove what a registry holds."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from dlink.cli import output
from dlink.cli.app import app, fail, parse_build_args, repository_of
from dlink.errors import DlinkError, ExitCode

if TYPE_CHECKING:
    from dlink.registry import RemoteImage

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


@app.command("build-push", epilog="What GHCR needs to link a package: dlink explain ghcr")
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
    tags_from: Annotated[
        str | None,
        typer.Option(
            "--tags-from",
            help="'git': tag each image with the semver tag on HEAD (1.2.3, 1.2, 1, latest), "
            "the branch and sha-SHORT, as docker/metadata-action does.",
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
    label: Annotated[
        list[str] | None,
        typer.Option("--label", help="KEY=VALUE: add a label or override one dlink sets."),
    ] = None,
    target: Annotated[
        str | None, typer.Option("--target", help="The stage to build (default: the last).")
    ] = None,
    platform: Annotated[
        str | None,
        typer.Option(
            "--platform", help="linux/amd64, or several: linux/amd64,linux/arm64 (an index)."
        ),
    ] = None,
    cache_from: Annotated[
        list[str] | None, typer.Option("--cache-from", help="Passed to the engine.")
    ] = None,
    cache_to: Annotated[
        list[str] | None, typer.Option("--cache-to", help="Passed to the engine.")
    ] = None,
    provenance: Annotated[
        str | None, typer.Option("--provenance", help="buildx only: e.g. false, mode=max.")
    ] = None,
    sbom: Annotated[str | None, typer.Option("--sbom", help="buildx only: e.g. true.")] = None,
    secret: Annotated[
        list[str] | None,
        typer.Option("--secret", help="id=NAME,src=FILE or id=NAME,env=VAR (BuildKit, podman)."),
    ] = None,
    ssh: Annotated[
        list[str] | None, typer.Option("--ssh", help="default or ID=SOCKET|KEY; repeatable.")
    ] = None,
    metadata_file: Annotated[
        Path | None,
        typer.Option("--metadata-file", help="Write the pushed tags, digests and labels (JSON)."),
    ] = None,
    repo_url: RepoUrlOpt = None,
    remote: RemoteOpt = None,
    insecure: InsecureOpt = False,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Print the commands (secrets as ***); run nothing."),
    ] = False,
) -> None:
    """Build and push an image whose source label names this repository, then read it back.

    A wrong or missing source label is passed at build time; the Dockerfile is left as it is.
    --fix rewrites the Dockerfile first; --strict refuses to build (exit 1). A credential in
    the Dockerfile, a build arg or a label stops the build (exit 2).

    Also labelled, unless the Dockerfile sets them: revision (HEAD), created
    (SOURCE_DATE_EPOCH or now), title, url, version (the tag on HEAD), licenses.

    Token: --password-stdin, CR_PAT or GITHUB_TOKEN; user: --username or GITHUB_ACTOR. It is
    used from a temporary configuration removed after the run. Without one, your own logins.

    Prints each pushed tag with its digest: TAG@sha256:...

    Example: dlink build-push . -t ghcr.io/acme/widget:1.0 --platform linux/amd64,linux/arm64
    """
    from dlink import publish

    request = publish.Request(
        context=context,
        dockerfile=file,
        tags=tuple(tags or ()),
        fix=fix,
        strict=strict,
        engine_name=engine_name,
        build_args=tuple(build_arg or ()),
        labels=tuple(label or ()),
        target=target,
        platform=platform,
        repo_url=repo_url,
        remote=remote,
        insecure=insecure,
        tags_from=tags_from,
        cache_from=tuple(cache_from or ()),
        cache_to=tuple(cache_to or ()),
        provenance=provenance,
        sbom=sbom,
        secrets=tuple(secret or ()),
        ssh=tuple(ssh or ()),
        metadata_file=metadata_file,
        dry_run=dry_run,
    )
    environ = os.environ
    try:
        request = replace(
            request, build_arg_values=parse_build_args(list(build_arg or ()), environ)
        )
        given = _token(password_stdin, username, BUILD_TOKEN_VARIABLES, environ)
        token = None if given is None else publish.Token(given.token, given.origin, given.username)
        plan = publish.plan(request, token, environ, datetime.now(timezone.utc), _note)
        if dry_run:
            secrets = [token.token] if token is not None else []
            for command in plan.commands:
                output.out(command.display(secrets))
            return

        def stream(line: str) -> None:
            output.err(line, nl=False)

        outcome = publish.execute(plan, token, environ, stream, _note)
    except publish.Refused as refused:
        output.err(f"dlink: {refused.message}")
        raise typer.Exit(ExitCode.FINDINGS) from None
    except DlinkError as error:
        raise fail(error) from None
    for pushed in outcome.pushed:
        output.out(f"{pushed.tag}@{pushed.digest}")
    if outcome.problems:
        for problem in outcome.problems:
            output.err(f"dlink: {problem}")
        output.err("dlink: the pushed image does not carry the expected labels")
        raise typer.Exit(ExitCode.FINDINGS)
    _note(
        f"pushed {len(outcome.pushed)} tag(s) with {SOURCE_LABEL}={plan.repository} "
        "(read back from the registry)"
    )


# -- verify ----------------------------------------------------------------------------------


def _verdict(
    image: RemoteImage, expected: str
) -> tuple[bool, str | None, Mapping[str, str], list[str]]:
    """(ok, source, labels, lines): the platform that decides, and a line per platform.

    An index is checked too: a source annotation on it must name the repository; when
    it has none, a line says so (GitHub reads a multi-platform image's description and
    licenses from there) without failing, since GHCR links through the config label.
    """
    deciding = image.images[0]
    lines: list[str] = []
    ok = True
    if image.is_index:
        annotated = image.annotations.get(SOURCE_LABEL)
        if annotated is None:
            lines.append(
                f"{image.ref} [index]: no {SOURCE_LABEL} annotation on the index "
                "(GitHub shows a multi-platform image's description and licenses from it)"
            )
        elif _same_repository(annotated, expected):
            lines.append(f"{image.ref} [index]: annotation {SOURCE_LABEL}={annotated} matches")
        else:
            ok = False
            lines.append(
                f"{image.ref} [index]: annotation {SOURCE_LABEL} is {_shown(annotated)}, "
                f"expected {expected!r}"
            )
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
            "index_annotations": dict(remote_image.annotations) if remote_image.is_index else None,
            "platforms": [
                {
                    "platform": platform_image.platform,
                    "source": platform_image.labels.get(SOURCE_LABEL),
                    "ok": _same_repository(platform_image.labels.get(SOURCE_LABEL), expected),
                }
                for platform_image in remote_image.images
            ],
        }
        output.out(json.dumps(document, indent=2, sort_keys=False))
    else:
        for line in lines:
            output.out(line)
    if not ok:
        raise typer.Exit(ExitCode.FINDINGS)
