"""The build-push workflow: plan, log in with temporary auth, build, push, read back.

`plan()` turns what the user asked (`Request`) into a `Plan`: the engine, the labels
and annotations, the commands (`dlink.build` makes them as data) and what to expect
when the image is read back. It refuses, before anything runs, what would leak a
secret into an image or a process's argv. `execute()` runs a plan: a token given to
dlink goes into a temporary, private engine configuration (DOCKER_CONFIG for docker,
REGISTRY_AUTH_FILE for podman and buildah) that is removed afterwards, so the user's
own configuration is never written and no token stays on disk; without a token the
engine uses the user's own logins and credential helpers. After pushing, every tag
is read back from its registry.

Nothing here prints: notes go to a callback, engine output to another.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import signal
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from dlink.errors import DlinkError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

if TYPE_CHECKING:
    from dlink.build import BuildSpec, Command, Engine
    from dlink.registry import ImageRef, RemoteImage

OCI = "org.opencontainers.image."
SOURCE_LABEL = OCI + "source"
REVISION_LABEL = OCI + "revision"
CREATED_LABEL = OCI + "created"
TITLE_LABEL = OCI + "title"
URL_LABEL = OCI + "url"
VERSION_LABEL = OCI + "version"
LICENSES_LABEL = OCI + "licenses"

# Build-arg names that say their value is a secret; BuildKit warns about the same
# (SecretsUsedInArgOrEnv): build args are recorded in the image's history.
_SECRET_NAME = re.compile(
    r"(?i)(token|passw|secret|credential|api_?key|private_?key|\bpat\b|_pat$)"
)
_SCHEME_URL_WORD = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s\"'<>`]+")
_SEMVER = re.compile(
    r"v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?"
)
_TAG_CHARS = re.compile(r"[^A-Za-z0-9_.-]+")
_SPDX_EXPRESSION = re.compile(
    r"\(?[A-Za-z0-9][A-Za-z0-9.+-]*\)?(?:\s+(?:AND|OR|WITH)\s+\(?[A-Za-z0-9][A-Za-z0-9.+-]*\)?)*"
)
_NOT_SPDX = frozenset({"UNLICENSED", "UNLICENSE-D", "NONE", "NOASSERTION", "PROPRIETARY"})

GHCR_GUIDE = """\
What GitHub Container Registry (ghcr.io) needs to link an image to its repository

- Same owner: the package ghcr.io/OWNER/NAME links only to a repository of OWNER.
  build-push refuses a ghcr.io tag whose owner differs from the repository's.
- The link is made when the package is first created (its first push), from the
  org.opencontainers.image.source label in the image config (for a multi-platform
  image, GitHub reads the index annotations for description and licenses; dlink sets
  the source as an annotation on the index too where the engine can). Pushing a
  later version with the label does not re-link an existing package.
- A workflow that pushes needs the package scope:
      permissions:
        contents: read
        packages: write
  and logs in with ${{ github.actor }} and ${{ secrets.GITHUB_TOKEN }} (build-push reads
  GITHUB_ACTOR and GITHUB_TOKEN, and gives the token to the engine on stdin only).
- To link an existing package by hand: on GitHub, open the package page (your
  profile or the organisation -> Packages -> the package) and click "Connect
  repository", then choose the repository. In the package's settings, "Manage
  Actions access" lets another repository's workflows push to it.
"""


class Refused(DlinkError):
    """build-push refuses to build because the Dockerfile is wrong (--strict): exit 1."""


@dataclass(frozen=True)
class Token:
    """A registry token, where it came from (never the token itself), and its user."""

    token: str = field(repr=False)
    origin: str = ""
    username: str = ""


@dataclass(frozen=True)
class Request:
    """What the user asked build-push to do; paths and option values as given."""

    context: Path
    dockerfile: Path | None = None
    tags: tuple[str, ...] = ()
    fix: bool = False
    strict: bool = False
    engine_name: str | None = None
    build_args: tuple[str, ...] = ()  # as given, NAME=VALUE or NAME: passed to the engine
    # The values the build sees (a bare NAME taken from the environment): the CLI's one
    # --build-arg parser makes them, so check, fix and build-push agree.
    build_arg_values: Mapping[str, str] = field(default_factory=dict)
    labels: tuple[str, ...] = ()  # --label KEY=VALUE: added, or overriding dlink's
    target: str | None = None
    platform: str | None = None
    repo_url: str | None = None
    remote: str | None = None
    insecure: bool = False
    tags_from: str | None = None  # "git"
    cache_from: tuple[str, ...] = ()
    cache_to: tuple[str, ...] = ()
    provenance: str | None = None
    sbom: str | None = None
    secrets: tuple[str, ...] = ()
    ssh: tuple[str, ...] = ()
    metadata_file: Path | None = None
    dry_run: bool = False  # only changes the wording of notes: plan() never runs anything


@dataclass(frozen=True)
class Plan:
    """Everything a build-push will run, and what it expects to read back."""

    engine: Engine
    spec: BuildSpec
    commands: tuple[Command, ...]
    repository: str
    refs: tuple[ImageRef, ...]
    dockerfile: Path
    fixed: bytes | None  # the rewritten Dockerfile (--fix), written just before building
    labels: Mapping[str, str]  # every label dlink passes (read back afterwards)
    annotations: Mapping[str, str]
    index_annotations: bool  # whether the pushed index should carry `annotations`
    logins: tuple[str, ...]  # registries logged in to with the token
    notes: tuple[str, ...]
    metadata_file: Path | None = None
    insecure: bool = False  # read back over plain http


@dataclass(frozen=True)
class Pushed:
    tag: str
    digest: str


@dataclass(frozen=True)
class Outcome:
    pushed: tuple[Pushed, ...]
    problems: tuple[str, ...]  # labels or annotations missing after the push (exit 1)


# -- secrets -------------------------------------------------------------------------------


def credential_in(value: str) -> bool:
    """Whether `value` carries a credential: a known token shape or a URL with one."""
    from dlink.redact import contains_token
    from dlink.repo import url_has_credentials

    if contains_token(value):
        return True
    # Only a URL-like value can carry userinfo or a secret query parameter.
    return ("@" in value or "?" in value) and url_has_credentials(value)


def shown(value: str) -> str:
    """`value` as it may be printed: credentials replaced by `***`."""
    from dlink.build import redact_text

    return redact_text(value)


def dockerfile_credentials(
    data: bytes, label_values: Sequence[tuple[int, str]] = ()
) -> list[tuple[int, str]]:
    """(line, what, redacted) where the Dockerfile, or a label value as the build sees
    it, carries a credential.

    `label_values` are (line, value) of every label reaching the image, expanded with
    the build args: a credential that arrives through --build-arg counts too.
    """
    from dlink.redact import contains_token

    text = data.decode("utf-8", errors="replace")
    found: list[tuple[int, str]] = []
    seen_lines: set[int] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        words = _SCHEME_URL_WORD.findall(line)
        if contains_token(line) or any(credential_in(word) for word in words):
            found.append((number, f"a credential in the Dockerfile: {shown(line.strip())[:200]}"))
            seen_lines.add(number)
    for number, value in label_values:
        if number not in seen_lines and credential_in(value):
            found.append(
                (number, f"a label gets a credential through a build arg: {shown(value)[:200]}")
            )
            seen_lines.add(number)
    return found


def argument_credentials(build_args: Sequence[str], labels: Sequence[str]) -> list[str]:
    """--build-arg and --label values that carry a credential (shown redacted)."""
    found: list[str] = []
    for item in build_args:
        name, sep, value = item.partition("=")
        if sep and (credential_in(value) or (value and _SECRET_NAME.search(name))):
            found.append(f"--build-arg {name}=*** carries a secret (build args stay in the image)")
    for item in labels:
        name, _, value = item.partition("=")
        if credential_in(value):
            found.append(f"--label {name}={shown(value)} carries a credential")
    return found


def _refuse_credentials(found: Sequence[str], fix_can_help: bool) -> DlinkError:
    lines = "; ".join(found[:5]) + (f"; and {len(found) - 5} more" if len(found) > 5 else "")
    hint = (
        "`dlink fix` (or build-push --fix) strips credentials from the source label; "
        "anything else must be removed by hand. Pass secrets to a build with "
        "--secret id=NAME,env=VAR (never in the Dockerfile, a build arg or a label)"
    )
    if not fix_can_help:
        hint = (
            "remove it by hand: a build arg or label is stored in the image for anyone "
            "who pulls it; pass secrets with --secret id=NAME,env=VAR"
        )
    return DlinkError(f"refusing to build, the image would carry a secret: {lines}", hint=hint)


# -- labels that are certain ---------------------------------------------------------------


def repository_name(repo_url: str) -> str | None:
    """The last path segment of a repository URL (its name), without `.git`."""
    segments = [segment for segment in repo_url.split("://", 1)[-1].split("/")[1:] if segment]
    return segments[-1].removesuffix(".git") if segments else None


def exact_version(tags_on_head: Sequence[str]) -> str | None:
    """The one tag on HEAD (as written); None when there is none or several disagree."""
    tags = sorted(set(tags_on_head))
    return tags[0] if len(tags) == 1 else None


def _spdx(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    value = value.strip()
    if not value or value.upper() in _NOT_SPDX or not _SPDX_EXPRESSION.fullmatch(value):
        return None
    return value


def _license_from_text(text: str) -> str | None:
    """The SPDX identifier of a LICENSE file whose text identifies it without doubt."""
    flat = " ".join(text.split())
    if "Apache License Version 2.0, January 2004" in flat and "TERMS AND CONDITIONS" in flat:
        return "Apache-2.0"
    if (
        "Permission is hereby granted, free of charge, to any person obtaining a copy" in flat
        and "The above copyright notice and this permission notice shall be included" in flat
        and 'THE SOFTWARE IS PROVIDED "AS IS"' in flat
    ):
        return "MIT"
    if "Mozilla Public License Version 2.0" in flat:
        return "MPL-2.0"
    return None  # the GPLs do not say "only" or "or later" in their text: not certain


def project_licenses(root: Path) -> tuple[str | None, str]:
    """(SPDX expression, where from) declared by the project's own metadata in `root`.

    Each declaration is read from pyproject.toml (`project.license`, a string or a
    `{text = ...}` that is an SPDX identifier), package.json (`license`), Cargo.toml
    (`package.license`) and a LICENSE file recognised by its text. When they disagree
    nothing is certain and no label is set.
    """
    found: dict[str, str] = {}

    def read_toml(name: str) -> dict[str, object]:
        try:
            with (root / name).open("rb") as handle:
                document = tomllib.load(handle)
        except (OSError, tomllib.TOMLDecodeError, RecursionError):
            return {}
        return document if isinstance(document, dict) else {}

    project = read_toml("pyproject.toml").get("project")
    if isinstance(project, dict):
        declared = project.get("license")
        if isinstance(declared, dict):
            declared = declared.get("text")
        value = _spdx(declared)
        if value:
            found["pyproject.toml"] = value
    try:
        package = json.loads((root / "package.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        package = None
    if isinstance(package, dict):
        value = _spdx(package.get("license"))
        if value:
            found["package.json"] = value
    cargo = read_toml("Cargo.toml").get("package")
    if isinstance(cargo, dict):
        value = _spdx(cargo.get("license"))
        if value:
            found["Cargo.toml"] = value
    for name in ("LICENSE", "LICENSE.txt", "LICENSE.md", "COPYING"):
        try:
            text = (root / name).read_text(encoding="utf-8", errors="replace")[:100_000]
        except OSError:
            continue
        value = _license_from_text(text)
        if value:
            found[name] = value
        break
    values = set(found.values())
    if len(values) == 1:
        return values.pop(), ", ".join(sorted(found))
    if len(values) > 1:
        return None, "the project's metadata disagree: " + ", ".join(
            f"{name} says {value}" for name, value in sorted(found.items())
        )
    return None, "no license declared in pyproject.toml, package.json, Cargo.toml or LICENSE"


# -- tags from git -------------------------------------------------------------------------


def git_tags(
    image_names: Sequence[str], tags_on_head: Sequence[str], branch: str | None, commit: str | None
) -> list[str]:
    """Tags the way docker/metadata-action's common setup makes them, for each image name.

    - a semver tag on HEAD (`v1.2.3`): `1.2.3`, `1.2`, `1` (no bare `0` for 0.x) and
      `latest`; a pre-release (`v1.2.3-rc.1`) gets only `1.2.3-rc.1`
      (metadata-action: type=semver with {{version}}, {{major}}.{{minor}}, {{major}}),
    - `sha-SHORT`: the first 7 characters of HEAD (type=sha),
    - the branch, with characters a tag cannot hold replaced by `-` (type=ref,event=branch).
    """
    suffixes: list[str] = []
    versions = [m for m in (_SEMVER.fullmatch(tag) for tag in tags_on_head) if m]
    if len(versions) == 1:
        major, minor, patch, pre = versions[0].groups()
        suffixes.append(f"{major}.{minor}.{patch}" + (f"-{pre}" if pre else ""))
        if not pre:
            suffixes.append(f"{major}.{minor}")
            if major != "0":
                suffixes.append(major)
            suffixes.append("latest")
    if branch:
        cleaned = _TAG_CHARS.sub("-", branch).strip(".-")[:128]
        if cleaned:
            suffixes.append(cleaned)
    if commit:
        suffixes.append(f"sha-{commit[:7]}")
    tags: list[str] = []
    for name in image_names:
        for suffix in dict.fromkeys(suffixes):
            tags.append(f"{name}:{suffix}")
    return tags


def _git_lines(root: Path, *args: str) -> list[str]:
    from dlink.repo import _run_git  # the one place that runs git, with its environment

    completed = _run_git(root, *args)
    if completed.returncode != 0:
        return []
    return [
        line.strip()
        for line in completed.stdout.decode("utf-8", "replace").splitlines()
        if line.strip()
    ]


# -- planning ------------------------------------------------------------------------------


def _parse_labels(items: Sequence[str]) -> dict[str, str]:
    labels: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not key or not sep:
            raise DlinkError(f"--label {shown(item)!r}: expected KEY=VALUE")
        labels[key] = value
    return labels


def _image_name(tag: str) -> str:
    """The image name of a tag as written, without its `:tag`."""
    from dlink.build import parse_tag

    parse_tag(tag)  # refuses a digest or a malformed reference (shown redacted)
    return tag.rsplit(":", 1)[0] if _has_explicit_tag(tag) else tag


def plan(
    request: Request,
    token: Token | None,
    environ: Mapping[str, str],
    now: datetime,
    note: Callable[[str], None],
) -> Plan:
    """Decide everything a build-push does; run nothing but read-only queries (git, engine)."""
    from dlink import build
    from dlink.engine import source_label_plan
    from dlink.files import read_dockerfile
    from dlink.model import ModelError
    from dlink.model import build as build_model
    from dlink.repo import resolve_repository, same_repository
    from dlink.syntax import ParseError, parse

    notes: list[str] = []

    def say(message: str) -> None:
        notes.append(message)
        note(message)

    if request.fix and request.strict:
        raise DlinkError("--fix and --strict contradict each other: choose one")
    if request.tags_from not in {None, "git"}:
        raise DlinkError(f"--tags-from {request.tags_from!r}: the only strategy is 'git'")
    context = request.context
    dockerfile = request.dockerfile if request.dockerfile is not None else context / "Dockerfile"
    if not context.is_dir():
        raise DlinkError(f"build context {context} is not a directory")

    # Secrets given on the command line: refused before anything else looks at them.
    found = argument_credentials(request.build_args, request.labels)
    if found:
        raise _refuse_credentials(found, fix_can_help=False)
    user_labels = _parse_labels(request.labels)

    identity = resolve_repository(dockerfile, repo_url=request.repo_url, remote=request.remote)
    repository = identity.url
    given = user_labels.get(SOURCE_LABEL)
    if given is not None and not same_repository(given, repository):
        raise DlinkError(
            f"--label {SOURCE_LABEL}={shown(given)} is not the repository ({repository})",
            hint="leave the source label to dlink, or use --repo-url",
        )

    root = identity.root or (dockerfile.parent if dockerfile.parent.is_dir() else context)
    tags_on_head = _git_lines(root, "tag", "--points-at", "HEAD")
    commit_lines = _git_lines(root, "rev-parse", "--verify", "--quiet", "HEAD^{commit}")
    commit = commit_lines[0] if commit_lines else None

    wanted = list(request.tags) or [build.default_image(repository)]
    if request.tags_from == "git":
        names = list(dict.fromkeys(_image_name(tag) for tag in wanted))
        branch_lines = _git_lines(root, "symbolic-ref", "--quiet", "--short", "HEAD")
        branch = branch_lines[0] if branch_lines else None
        computed = git_tags(names, tags_on_head, branch, commit)
        explicit = [tag for tag in request.tags if _has_explicit_tag(tag)]
        wanted = list(dict.fromkeys(explicit + computed))
        if not wanted:
            raise DlinkError("--tags-from git found no tag, branch or commit to name the image")
    refs = [build.parse_tag(tag) for tag in wanted]
    for ref in refs:
        why = build.foreign_owner(ref, repository)
        if why is not None:
            raise DlinkError(why, hint="push to ghcr.io/<repository owner>/..., or use --repo-url")

    engine = build.find_engine(request.engine_name, environ)
    data = read_dockerfile(dockerfile)
    build_args = dict(request.build_arg_values)
    for name, value in build_args.items():
        if credential_in(value) or (value and _SECRET_NAME.search(name)):
            raise _refuse_credentials(
                [f"--build-arg {name} (from the environment) carries a secret"], fix_can_help=False
            )
    label_plan = source_label_plan(
        data,
        path=str(dockerfile),
        repo_url=repository,
        target=request.target,
        build_args=build_args,
    )
    labels: dict[str, str] = {}
    fixed: bytes | None = None
    label_note = None  # said once the secret scan below has passed
    if not label_plan.ok:
        state = "is missing" if label_plan.current is None else f"is {shown(label_plan.current)!r}"
        problem = f"{dockerfile}: {SOURCE_LABEL} {state}, expected {repository!r}"
        if request.strict:
            raise Refused(f"{problem}; refusing to build (--strict)")
        if request.fix and label_plan.fixed is not None:
            fixed = label_plan.fixed
            verb = "would rewrite" if request.dry_run else "rewriting"
            label_note = f"{problem}; {verb} the file before building (--fix)"
        else:
            labels[SOURCE_LABEL] = repository
            why = "it cannot be fixed automatically; " if request.fix else ""
            label_note = (
                f"{problem}; {why}passing the right value at build time (--label), "
                f"the file is unchanged" + ("" if request.fix else " (--fix rewrites it)")
            )

    # A credential anywhere in what the build reads is refused: the LABEL (or ENV, or
    # RUN line) stays in the image's history even when --label overrides its value.
    built = fixed if fixed is not None else data
    try:
        model = build_model(parse(built), build_args)
        label_values = [
            (setting.instruction.start_line, setting.value)
            for setting in model.image_labels(request.target)
        ]
    except (ParseError, ModelError):
        label_values = []
    found_built = dockerfile_credentials(built, label_values)
    if found_built:
        # Say where on disk: after --fix the lines have moved, so name the original line
        # for each finding that is still there.
        on_disk = {what: number for number, what in dockerfile_credentials(data, label_values)}
        where = [
            f"{dockerfile}:{on_disk.get(what, number)}: {what}" for number, what in found_built
        ]
        # Would --fix help? It strips credentials from the source label (DLK104).
        fix_helps = (
            not request.fix
            and label_plan.fixed is not None
            and len(dockerfile_credentials(label_plan.fixed, [])) < len(found_built)
        )
        raise _refuse_credentials(where, fix_can_help=fix_helps)
    if label_note is not None:
        say(label_note)

    def unless_set(key: str, value: str | None, why_not: str = "") -> None:
        if build.mentions_label(built, key):
            return
        if value is None:
            if why_not:
                say(f"no {key} label: {why_not}")
            return
        labels[key] = value

    if commit is None:
        say(f"no {REVISION_LABEL} label: no git commit found for {dockerfile}")
    else:
        if _git_lines(root, "status", "--porcelain", "--untracked-files=no"):
            say("the working tree has uncommitted changes; the revision label names HEAD")
        unless_set(REVISION_LABEL, commit)
    unless_set(CREATED_LABEL, build.created_timestamp(environ, now))
    unless_set(TITLE_LABEL, repository_name(repository))
    unless_set(URL_LABEL, repository)
    version = exact_version(tags_on_head)
    unless_set(
        VERSION_LABEL,
        version,
        "" if not tags_on_head else f"several tags on HEAD ({', '.join(tags_on_head[:5])})",
    )
    licenses, licenses_from = project_licenses(identity.root or context)
    unless_set(
        LICENSES_LABEL, licenses, "" if "no license declared" in licenses_from else licenses_from
    )
    for key, value in user_labels.items():
        labels[key] = value
    annotations = {SOURCE_LABEL: repository} if engine.supports_annotations else {}
    for key in (LICENSES_LABEL, URL_LABEL):
        if engine.supports_annotations and key in labels:
            annotations[key] = labels[key]
    engine = build.probe_engine(engine, environ)

    platforms = [part.strip() for part in (request.platform or "").split(",") if part.strip()]
    manifest_list = None
    if len(platforms) > 1 and engine.daemonless:
        manifest_list = f"localhost/dlink-build-{os.getpid()}-{now.strftime('%H%M%S%f')}:list"

    logins: list[str] = []
    if token is not None:
        for ref in refs:
            if ref.registry not in logins:
                logins.append(ref.registry)
                say(
                    f"logging in to {ref.registry} as {token.username} (token from {token.origin}; "
                    "temporary credentials, removed after the run)"
                )

    spec = build.BuildSpec(
        context=str(context),
        dockerfile=str(dockerfile),
        tags=tuple(wanted),
        labels=labels,
        annotations=annotations,
        build_args=tuple(request.build_args),
        target=request.target,
        platform=",".join(platforms) or None,
        cache_from=request.cache_from,
        cache_to=request.cache_to,
        provenance=request.provenance,
        sbom=request.sbom,
        secrets=request.secrets,
        ssh=request.ssh,
        manifest_list=manifest_list,
    )
    user = token.username if token is not None else ""
    commands = build.plan_commands(engine, spec, [(r, user) for r in logins], environ)
    if engine.buildx:
        index = build.buildx_pushes_index(engine, spec, environ)
    else:
        index = manifest_list is not None and engine.index_annotations
    if manifest_list is not None and not engine.index_annotations:
        say(
            f"{engine.name} here cannot annotate the index itself (`manifest annotate --index` "
            "needs buildah 1.34 / podman 5): the source is a label in every platform's "
            "config and an annotation on every platform's manifest"
        )
    return Plan(
        engine=engine,
        spec=spec,
        commands=tuple(commands),
        repository=repository,
        refs=tuple(refs),
        dockerfile=dockerfile,
        fixed=fixed,
        labels=labels,
        annotations=annotations,
        index_annotations=index,
        logins=tuple(logins),
        notes=tuple(notes),
        metadata_file=request.metadata_file,
        insecure=request.insecure,
    )


def _has_explicit_tag(tag: str) -> bool:
    last = tag.rsplit("/", 1)[-1]
    return ":" in last or "@" in last


# -- temporary credentials -----------------------------------------------------------------


def _docker_config_dir(environ: Mapping[str, str]) -> Path:
    directory = environ.get("DOCKER_CONFIG") or str(Path(environ.get("HOME", "~")) / ".docker")
    return Path(directory).expanduser()


def _read_json(path: Path) -> dict[str, object]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return {}
    return document if isinstance(document, dict) else {}


def _auth_key(registry: str) -> str:
    return "https://index.docker.io/v1/" if registry == "docker.io" else registry


def temporary_config(
    user_config: Mapping[str, object],
    registries: Sequence[str],
    username: str,
    token: str,
    *,
    docker: bool = True,
) -> dict[str, object]:
    """The user's engine configuration, with the token for `registries` in plain `auths`.

    Everything else is kept (credential helpers and logins for other registries,
    proxies, the current context). For the registries logged in to, `credHelpers`
    maps them to "" so that the docker CLI keeps the token in this file rather than
    in the user's credential store (a keychain outlives the run); podman and buildah
    take "" as a helper's name, so for them the entry is dropped instead (they use
    helpers only when registries.conf names them).
    """
    config: dict[str, object] = dict(user_config)
    found_auths, found_helpers = config.get("auths"), config.get("credHelpers")
    auths = dict(found_auths) if isinstance(found_auths, Mapping) else {}
    helpers = dict(found_helpers) if isinstance(found_helpers, Mapping) else {}
    encoded = base64.b64encode(f"{username}:{token}".encode()).decode("ascii")
    for registry in registries:
        for key in (registry, f"https://{registry}", f"http://{registry}", _auth_key(registry)):
            auths.pop(key, None)
        auths[_auth_key(registry)] = {"auth": encoded}
        helper_key = registry if registry != "docker.io" else "index.docker.io"
        if docker:
            helpers[helper_key] = ""
        else:
            helpers.pop(helper_key, None)
    config["auths"] = auths
    config["credHelpers"] = helpers
    return config


def _write_private(path: Path, document: Mapping[str, object]) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(document, handle)


@contextmanager
def temporary_auth(
    engine: Engine, registries: Sequence[str], token: Token | None, environ: Mapping[str, str]
) -> Iterator[dict[str, str]]:
    """The environment to run the engine in; with a token, a private configuration.

    The directory (mode 0700, under TMPDIR) is removed when the block ends, also on
    an error, Ctrl-C or SIGTERM. Without a token nothing changes: the engine uses the
    user's own configuration, logins and credential helpers.
    """
    env = dict(environ)
    if token is None or not registries:
        yield env
        return
    directory = Path(tempfile.mkdtemp(prefix="dlink-auth-"))
    previous = _terminate_as_exit()
    try:
        if engine.daemonless:
            user_file = next(
                (path for path in _containers_auth_files(environ) if path.is_file()), None
            )
            user_config = _read_json(user_file) if user_file is not None else {}
            auth_file = directory / "auth.json"
            _write_private(
                auth_file,
                temporary_config(
                    user_config, registries, token.username, token.token, docker=False
                ),
            )
            env["REGISTRY_AUTH_FILE"] = str(auth_file)
        else:
            user_dir = _docker_config_dir(environ)
            user_config = _read_json(user_dir / "config.json")
            _write_private(
                directory / "config.json",
                temporary_config(user_config, registries, token.username, token.token),
            )
            # Plugins (buildx), contexts and builders stay the user's: linked, not copied.
            for name in ("cli-plugins", "contexts", "buildx"):
                if (user_dir / name).is_dir():
                    (directory / name).symlink_to(user_dir / name, target_is_directory=True)
            env["DOCKER_CONFIG"] = str(directory)
        yield env
    finally:
        shutil.rmtree(directory, ignore_errors=True)
        _restore_terminate(previous)


def _containers_auth_files(environ: Mapping[str, str]) -> list[Path]:
    files = []
    if environ.get("REGISTRY_AUTH_FILE"):
        files.append(Path(environ["REGISTRY_AUTH_FILE"]))
    if environ.get("XDG_RUNTIME_DIR"):
        files.append(Path(environ["XDG_RUNTIME_DIR"]) / "containers" / "auth.json")
    files.append(
        Path(environ.get("HOME", "~")).expanduser() / ".config" / "containers" / "auth.json"
    )
    return files


_Handler = Callable[[int, FrameType | None], object] | int | None


def _terminate_as_exit() -> _Handler:
    """SIGTERM (a cancelled CI job) ends the run through `finally`, like Ctrl-C."""

    def stop(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    try:
        return signal.signal(signal.SIGTERM, stop)
    except ValueError:  # not the main thread: leave signals alone
        return None


def _restore_terminate(previous: _Handler) -> None:
    if previous is None:
        return
    try:
        signal.signal(signal.SIGTERM, previous)
    except ValueError:
        pass


# -- running -------------------------------------------------------------------------------


def execute(
    plan_: Plan,
    token: Token | None,
    environ: Mapping[str, str],
    on_output: Callable[[str], None],
    note: Callable[[str], None],
) -> Outcome:
    """Run the plan (write the fix, log in, build, push), then read every tag back."""
    from dlink import build
    from dlink.files import write_atomic

    secrets = [token.token] if token is not None else []
    with temporary_auth(plan_.engine, plan_.logins, token, environ) as env:
        build.check_daemon(plan_.engine, env)
        if plan_.fixed is not None:
            write_atomic(plan_.dockerfile, plan_.fixed)
        for command in plan_.commands:
            secret = token.token if token is not None and command.secret_on_stdin else None
            code = build.run_command(
                command,
                secret=secret,
                on_output=lambda line: on_output(build.redact_text(line, secrets)),
                env=env,
            )
            if code != 0 and command.may_fail:
                note(f"{command.describe()} failed ({plan_.engine.name} exited with {code})")
            elif code != 0:
                for cleanup in build.cleanup_commands(plan_.engine, plan_.spec):
                    build.run_command(cleanup, secret=None, on_output=lambda _line: None, env=env)
                raise DlinkError(
                    f"{command.describe()} failed ({plan_.engine.name} exited with {code})",
                    hint=command.failure_hint(),
                )
    outcome = read_back(plan_, token, environ)
    if plan_.metadata_file is not None:
        write_metadata(plan_.metadata_file, plan_, outcome)
    return outcome


def read_back(plan_: Plan, token: Token | None, environ: Mapping[str, str]) -> Outcome:
    """Read every pushed tag from its registry; what is missing from its labels."""
    from dlink import build
    from dlink.registry import Credentials, RegistryClient

    problems: list[str] = []
    pushed: list[Pushed] = []
    clients: dict[str, RegistryClient] = {}
    for ref, tag in zip(plan_.refs, plan_.spec.tags):
        client = clients.get(ref.registry)
        if client is None:
            credentials = (
                Credentials(token.username, token.token)
                if token is not None
                else build.stored_credentials(plan_.engine, ref.registry, environ)
            )
            client = clients[ref.registry] = RegistryClient(credentials, insecure=plan_.insecure)
        image = client.read_image(ref)
        problems += check_image(
            image, tag, plan_.repository, plan_.labels,
            index_annotations=plan_.annotations if plan_.index_annotations else {},
            manifest_annotations=plan_.annotations,
            platforms=plan_.spec.platforms if plan_.spec.multi_platform else (),
        )  # fmt: skip
        pushed.append(Pushed(tag, image.digest))
    return Outcome(tuple(pushed), tuple(problems))


def check_image(
    image: RemoteImage,
    tag: str,
    repository: str,
    expected: Mapping[str, str],
    *,
    index_annotations: Mapping[str, str],
    manifest_annotations: Mapping[str, str],
    platforms: Sequence[str] = (),
) -> list[str]:
    """What is wrong with a pushed image; each problem names the platform it is on.

    With several `platforms` asked for, the image must be an index holding each one:
    an engine that pushes one platform and reports success is caught here.
    """
    from dlink.repo import same_repository

    problems: list[str] = []
    if platforms:
        pushed = {platform_image.platform for platform_image in image.images}
        missing = [platform for platform in platforms if platform not in pushed]
        if not image.is_index or missing:
            problems.append(
                f"{tag}: platform(s) {', '.join(missing or platforms)} missing from what was pushed"
            )
    if image.is_index:
        for key, value in index_annotations.items():
            found = image.annotations.get(key)
            if found is None:
                problems.append(f"{tag} [index]: annotation {key} is missing")
            elif found != value:
                problems.append(
                    f"{tag} [index]: annotation {key} is {shown(found)!r}, expected {value!r}"
                )
    for platform_image in image.images:
        where = f"{tag} [{platform_image.platform}]" if platform_image.platform else tag
        labels = platform_image.labels
        source = labels.get(SOURCE_LABEL)
        if source is None or not same_repository(source, repository):
            state = "missing" if source is None else repr(shown(source))
            problems.append(f"{where}: {SOURCE_LABEL} is {state}, expected {repository!r}")
        for key, value in expected.items():
            if key == SOURCE_LABEL:
                continue
            if key not in labels:
                problems.append(f"{where}: {key} is missing")
            elif labels[key] != value:
                problems.append(f"{where}: {key} is {shown(labels[key])!r}, expected {value!r}")
        for key, value in manifest_annotations.items():
            if platform_image.annotations.get(key) != value:
                problems.append(f"{where}: manifest annotation {key} is missing")
    return problems


def write_metadata(path: Path, plan_: Plan, outcome: Outcome) -> None:
    """--metadata-file: what was pushed, in build-push-action's key names where they exist."""
    document = {
        "image.name": ",".join(plan_.spec.tags),
        "containerimage.digest": outcome.pushed[0].digest if outcome.pushed else None,
        "tags": {pushed.tag: pushed.digest for pushed in outcome.pushed},
        "labels": dict(plan_.labels),
        "annotations": dict(plan_.annotations),
        "repository": plan_.repository,
    }
    text = json.dumps(document, indent=2) + "\n"
    directory = path.parent if str(path.parent) else Path(".")
    try:
        descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.")
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, path)
    except OSError as error:
        raise DlinkError(
            f"cannot write --metadata-file {path}: {error.strerror or error}"
        ) from None
