"""Build, log in and push through a container engine's command line.

The commands are values (`Command`), made by pure functions from what the user asked
(`BuildSpec`) and the engine found (`Engine`), so `--dry-run` prints exactly what a
real run executes. Running goes through `run_command`: an argument list (never a
shell), the engine's output passed line by line to a callback with every secret
replaced by `***`, and a secret given only on the engine's stdin (`login
--password-stdin`), never in argv.

Nothing here prints; failures a user can cause are DlinkError.
"""

from __future__ import annotations

import base64
import json
import os
import shlex
import shutil
import subprocess
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

from dlink.errors import DlinkError
from dlink.redact import MASK
from dlink.registry import (
    Credentials,
    ImageRef,
    RegistryError,
    is_loopback,
    parse_image_ref,
    shown_reference,
)

ENGINE_NAMES = ("docker", "podman", "buildah")
SOURCE_LABEL = "org.opencontainers.image.source"
REVISION_LABEL = "org.opencontainers.image.revision"
CREATED_LABEL = "org.opencontainers.image.created"
GHCR = "ghcr.io"

# Where the docker CLI looks for plugins on Linux, after the user's own directory.
_SYSTEM_PLUGIN_DIRS = (
    "/usr/local/lib/docker/cli-plugins",
    "/usr/local/libexec/docker/cli-plugins",
    "/usr/lib/docker/cli-plugins",
    "/usr/libexec/docker/cli-plugins",
)


@dataclass(frozen=True)
class Engine:
    """A container engine's CLI: which one, where, and for docker whether buildx is there."""

    name: str  # one of ENGINE_NAMES
    executable: str
    buildx: bool = False
    # podman/buildah: `manifest annotate --index` exists (buildah 1.34+, podman 5); older
    # versions cannot annotate the index itself, only each image's manifest.
    index_annotations: bool = False
    # buildx: the builder's driver ("docker", "docker-container", ...), when known.
    buildx_driver: str | None = None

    @property
    def daemonless(self) -> bool:
        return self.name in {"podman", "buildah"}

    @property
    def supports_annotations(self) -> bool:
        """Whether the build can set manifest annotations (buildx, podman, buildah can)."""
        return self.buildx or self.name in {"podman", "buildah"}

    @property
    def pushes_while_building(self) -> bool:
        """buildx pushes with `--push`, which keeps annotations and multi-platform indexes."""
        return self.buildx


@dataclass(frozen=True)
class BuildSpec:
    """What to build: everything the engine's build command needs."""

    context: str
    dockerfile: str
    tags: tuple[str, ...]
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    build_args: tuple[str, ...] = ()  # NAME=VALUE or NAME, passed as given
    target: str | None = None
    platform: str | None = None  # one platform or a comma-separated list
    cache_from: tuple[str, ...] = ()
    cache_to: tuple[str, ...] = ()
    provenance: str | None = None  # buildx only: "false", "mode=max", ...
    sbom: str | None = None  # buildx only
    secrets: tuple[str, ...] = ()  # id=NAME,src=PATH or id=NAME,env=VAR: never a value
    ssh: tuple[str, ...] = ()
    # podman/buildah with several platforms: the local manifest list the build fills.
    manifest_list: str | None = None

    @property
    def platforms(self) -> tuple[str, ...]:
        if not self.platform:
            return ()
        return tuple(part.strip() for part in self.platform.split(",") if part.strip())

    @property
    def multi_platform(self) -> bool:
        return len(self.platforms) > 1


@dataclass(frozen=True)
class Command:
    """One engine invocation; `secret_on_stdin` means the token is written to its stdin."""

    argv: tuple[str, ...]
    action: str  # "login", "build", "push", "annotate" or "cleanup"
    subject: str  # the registry, context or tag it acts on
    secret_on_stdin: bool = False
    may_fail: bool = False  # cleanup: a failure is reported, not fatal

    def display(self, secrets: Iterable[str] = ()) -> str:
        """The command as a shell line; a secret on stdin shows as `***`, and so does
        anything in argv that looks like a credential (defence in depth: build-push
        refuses such values before it gets here)."""
        line = shlex.join(redact_text(word, secrets) for word in self.argv)
        return f"printf '%s\\n' '{MASK}' | {line}" if self.secret_on_stdin else line

    def describe(self) -> str:
        """`login to ghcr.io`, `build of .`, `push of ghcr.io/acme/widget:1`."""
        return f"{self.action} {'to' if self.action == 'login' else 'of'} {self.subject}"

    def failure_hint(self) -> str:
        return _FAILURE_HINTS.get(self.action, "see the engine's output above")


_FAILURE_HINTS = {
    "login": "check the user name and the token (and that the token may write packages)",
    "build": "see the engine's output above",
    "push": "check the image name and that your credentials may push to it",
    "annotate": "see the engine's output above",
    "cleanup": "see the engine's output above",
}


# -- choosing the engine -------------------------------------------------------------------


def docker_plugin_dirs(environ: Mapping[str, str]) -> list[Path]:
    """The directories the docker CLI searches for plugins such as buildx."""
    config = environ.get("DOCKER_CONFIG") or str(Path(environ.get("HOME", "~")) / ".docker")
    return [Path(config).expanduser() / "cli-plugins", *map(Path, _SYSTEM_PLUGIN_DIRS)]


def has_buildx(environ: Mapping[str, str]) -> bool:
    """Whether `docker buildx` is installed; DOCKER_BUILDKIT=0 asks for the classic builder."""
    if environ.get("DOCKER_BUILDKIT", "").strip() == "0":
        return False
    for directory in docker_plugin_dirs(environ):
        plugin = directory / "docker-buildx"
        if plugin.is_file() and os.access(plugin, os.X_OK):
            return True
    return False


def find_engine(name: str | None, environ: Mapping[str, str]) -> Engine:
    """The engine asked for, or the first of docker, podman, buildah found on PATH."""
    search_path = environ.get("PATH", os.defpath)

    def engine(found: str) -> Engine:
        # Run by name: the same PATH lookup finds it, and --dry-run shows `docker ...`.
        return Engine(found, found, buildx=found == "docker" and has_buildx(environ))

    if name is not None:
        if name not in ENGINE_NAMES:
            raise DlinkError(
                f"unknown engine {name!r}", hint=f"choose one of: {', '.join(ENGINE_NAMES)}"
            )
        if shutil.which(name, path=search_path) is None:
            raise DlinkError(
                f"{name} is not installed (not found on PATH)",
                hint="install it, or choose another engine with --engine",
            )
        return engine(name)
    for candidate in ENGINE_NAMES:
        if shutil.which(candidate, path=search_path) is not None:
            return engine(candidate)
    raise DlinkError(
        "no container engine found on PATH (looked for docker, podman, buildah)",
        hint="install one of them, or choose one with --engine",
    )


def _probe(argv: Sequence[str], environ: Mapping[str, str] | None) -> str:
    """The output of a quick, read-only engine query; '' when it fails."""
    try:
        result = subprocess.run(
            list(argv),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=30,
            env=None if environ is None else dict(environ),
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return result.stdout + result.stderr if result.returncode == 0 else ""


def parse_buildx_driver(inspect_output: str) -> str | None:
    """The `Driver:` of `docker buildx inspect`'s first node; None when absent."""
    for line in inspect_output.splitlines():
        name, sep, value = line.partition(":")
        if sep and name.strip().lower() == "driver" and value.strip():
            return value.strip()
    return None


def probe_engine(engine: Engine, environ: Mapping[str, str] | None = None) -> Engine:
    """`engine` with what only asking it tells: the buildx driver, index annotations."""
    from dataclasses import replace

    if engine.buildx:
        output = _probe([engine.executable, "buildx", "inspect"], environ)
        return replace(engine, buildx_driver=parse_buildx_driver(output))
    if engine.daemonless:
        output = _probe([engine.executable, "manifest", "annotate", "--help"], environ)
        return replace(engine, index_annotations="--index" in output)
    return engine


def daemon_problem(engine: Engine, output: str) -> DlinkError:
    """The one-line error for a docker CLI that could not reach its daemon."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    for line in lines:
        lowered = line.lower()
        if "cannot connect to the docker daemon" in lowered or "daemon running" in lowered:
            where = line.split(" at ", 1)[1].split(". ", 1)[0] if " at " in line else ""
            target = f" at {where}" if where else ""
            return DlinkError(
                f"cannot connect to the Docker daemon{target}: is it running?",
                hint="start the daemon (or set DOCKER_HOST), or choose another --engine",
            )
        if "permission denied" in lowered:
            return DlinkError(
                f"{engine.name} cannot reach its daemon: permission denied",
                hint="run as a user in the docker group, or as root",
            )
    first = lines[-1] if lines else "no output"
    return DlinkError(f"{engine.name} cannot reach its daemon: {first[:300]}")


def check_daemon(engine: Engine, environ: Mapping[str, str] | None = None) -> None:
    """For docker, fail early with one line when the daemon is not reachable."""
    if engine.name != "docker":
        return  # podman and buildah work without a daemon
    argv = [engine.executable, "version", "--format", "{{.Server.Version}}"]
    try:
        result = subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=60,
            env=None if environ is None else dict(environ),
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise DlinkError(f"cannot run {engine.executable}: {error}") from None
    if result.returncode != 0 or not result.stdout.strip():
        raise daemon_problem(engine, result.stderr + result.stdout)


# -- what to build -------------------------------------------------------------------------


def github_owner_repo(repo_url: str) -> tuple[str, str] | None:
    """(owner, name) of an https://github.com/OWNER/NAME URL; None for any other host."""
    parts = urlsplit(repo_url)
    if (parts.hostname or "").lower() not in {"github.com", "www.github.com"}:
        return None
    segments = [segment for segment in parts.path.split("/") if segment]
    if len(segments) < 2:
        return None
    name = segments[1].removesuffix(".git")
    return segments[0], name


def default_image(repo_url: str) -> str:
    """`ghcr.io/<owner>/<repo>:latest`, lower-cased: GHCR names must be lower-case."""
    owner_repo = github_owner_repo(repo_url)
    if owner_repo is None:
        raise DlinkError(
            f"no -t given and {repo_url} is not a GitHub repository, so there is no default image",
            hint="name the image with -t REGISTRY/NAME:TAG",
        )
    owner, name = owner_repo
    return f"{GHCR}/{owner}/{name}:latest".lower()


def parse_tag(tag: str) -> ImageRef:
    """An image tag the engine can push to, or DlinkError (exit 2)."""
    try:
        ref = parse_image_ref(tag)
    except RegistryError as error:
        raise DlinkError(f"invalid tag: {error.message}", hint=error.hint) from None
    if ref.is_digest:
        raise DlinkError(
            f"cannot push to a digest: {shown_reference(tag)!r}",
            hint="give a tag, e.g. NAME:latest",
        )
    return ref


def foreign_owner(ref: ImageRef, repo_url: str) -> str | None:
    """Why a ghcr.io tag cannot link to the repository (owners differ), or None when fine."""
    if ref.registry.lower() != GHCR:
        return None
    owner_repo = github_owner_repo(repo_url)
    if owner_repo is None:
        return None  # not a GitHub repository: nothing GHCR could link anyway
    package_owner = ref.repository.split("/", 1)[0]
    if package_owner.lower() == owner_repo[0].lower():
        return None
    return (
        f"{ref} belongs to {package_owner!r} but the repository belongs to {owner_repo[0]!r}: "
        "GitHub links a package to a repository only when both have the same owner"
    )


# The latest moment an RFC 3339 timestamp with a four-digit year can name.
_MAX_EPOCH = 253402300799  # 9999-12-31T23:59:59Z


def created_timestamp(environ: Mapping[str, str], now: datetime) -> str:
    """RFC 3339 UTC time for org.opencontainers.image.created; SOURCE_DATE_EPOCH wins."""
    epoch = environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch:
        # ASCII digits only: str.isdigit() also accepts other scripts' digits and '²'.
        if not (epoch.isascii() and epoch.isdigit()):
            raise DlinkError(
                f"SOURCE_DATE_EPOCH must be whole seconds since 1970 in ASCII digits, "
                f"not {epoch[:40]!r}",
                hint="e.g. SOURCE_DATE_EPOCH=$(git log -1 --format=%ct)",
            )
        if len(epoch) > 12 or int(epoch) > _MAX_EPOCH:
            raise DlinkError(
                f"SOURCE_DATE_EPOCH is out of range: {epoch[:40]} is after the year 9999",
                hint="e.g. SOURCE_DATE_EPOCH=$(git log -1 --format=%ct)",
            )
        moment = datetime.fromtimestamp(int(epoch), tz=timezone.utc)
    else:
        moment = now.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def mentions_label(dockerfile: bytes, key: str) -> bool:
    """Whether the Dockerfile names `key` anywhere: then it sets the label itself.

    Deliberately conservative: a mention (even in a comment) means dlink leaves that
    label to the Dockerfile rather than overriding what its author wrote.
    """
    return key.encode() in dockerfile


def _attestations_requested(value: str | None) -> bool | None:
    """--provenance/--sbom: True when asked for, False when turned off, None when not given."""
    if value is None:
        return None
    return value.strip().lower() not in {"false", "0", "no", "off"}


def buildx_pushes_index(engine: Engine, spec: BuildSpec, environ: Mapping[str, str]) -> bool:
    """Whether a buildx push of `spec` can be an index rather than a single manifest.

    Several platforms always make an index; so do attestations (provenance, SBOM),
    which buildx adds by default with every driver but the plain `docker` one, unless
    BUILDX_NO_DEFAULT_ATTESTATIONS is set.
    """
    if spec.multi_platform:
        return True
    provenance = _attestations_requested(spec.provenance)
    sbom = _attestations_requested(spec.sbom)
    if provenance or sbom:
        return True
    if provenance is False:
        return False
    if environ.get("BUILDX_NO_DEFAULT_ATTESTATIONS", "").strip() not in {"", "0", "false"}:
        return False
    return engine.buildx_driver not in {None, "docker"}


def annotation_argument(key: str, value: str, index: bool) -> str:
    """buildx's `--annotation` value: index and manifest when the push is an index.

    BuildKit refuses index annotations when it exports a single image, so a push that
    is one manifest annotates only the manifest.
    """
    return f"{'index,manifest' if index else 'manifest'}:{key}={value}"


def unsupported(engine: Engine, spec: BuildSpec) -> DlinkError | None:
    """Why `engine` cannot do what `spec` asks (checked before anything runs), or None."""
    if engine.name == "docker" and not engine.buildx:
        if spec.multi_platform:
            return DlinkError(
                f"docker without buildx cannot build several platforms ({spec.platform})",
                hint="install the buildx plugin, or use --engine podman / buildah, "
                "or build one --platform at a time",
            )
        asked = [
            option
            for option, value in (
                ("--cache-to", spec.cache_to),
                ("--provenance", spec.provenance),
                ("--sbom", spec.sbom),
                ("--secret", spec.secrets),
                ("--ssh", spec.ssh),
            )
            if value
        ]
        if asked:
            return DlinkError(
                f"docker without buildx does not support {', '.join(asked)}",
                hint="install the buildx plugin (BuildKit), or use --engine podman / buildah",
            )
    if engine.daemonless:
        asked = [
            option
            for option, value in (("--provenance", spec.provenance), ("--sbom", spec.sbom))
            if value
        ]
        if asked:
            return DlinkError(
                f"{engine.name} does not support {', '.join(asked)} (BuildKit attestations)",
                hint="use docker with buildx for provenance and SBOM attestations",
            )
        if len(spec.cache_from) > 1 or len(spec.cache_to) > 1:
            return DlinkError(
                f"{engine.name} takes one --cache-from and one --cache-to (a repository)"
            )
    return None


def _tls_flags(engine: Engine, registry: str) -> list[str]:
    # podman and buildah insist on TLS unless told; docker treats 127.0.0.0/8 as insecure.
    if engine.name in {"podman", "buildah"} and is_loopback(registry):
        return ["--tls-verify=false"]
    return []


def login_command(engine: Engine, registry: str, username: str) -> Command:
    """`ENGINE login --username USER --password-stdin REGISTRY`: the token goes to stdin only."""
    # Options before the registry: buildah stops reading options at the first argument.
    argv = [engine.executable, "login", *_tls_flags(engine, registry)]
    argv += ["--username", username, "--password-stdin", registry]
    return Command(tuple(argv), "login", registry, secret_on_stdin=True)


def build_command(
    engine: Engine, spec: BuildSpec, environ: Mapping[str, str] | None = None
) -> Command:
    """The engine's build command for `spec` (buildx also pushes, with `--push`)."""
    problem = unsupported(engine, spec)
    if problem is not None:
        raise problem
    if engine.buildx:
        argv = [engine.executable, "buildx", "build"]
    else:
        argv = [engine.executable, "build"]
    argv += ["--file", spec.dockerfile]
    if spec.manifest_list is not None:
        argv += ["--manifest", spec.manifest_list]  # tags are pushed from the list
        if engine.name == "podman" and not (spec.cache_from or spec.cache_to):
            # podman 4.3 reuses a cached layer built for another platform (FROM scratch),
            # so the list ends up with one platform; without layer caching it has all.
            argv.append("--layers=false")
    else:
        for tag in spec.tags:
            argv += ["--tag", tag]
    for key, value in spec.labels.items():
        argv += ["--label", f"{key}={value}"]
    if engine.supports_annotations:
        index = engine.buildx and buildx_pushes_index(engine, spec, environ or {})
        for key, value in spec.annotations.items():
            if engine.buildx:
                argv += ["--annotation", annotation_argument(key, value, index)]
            else:
                argv += ["--annotation", f"{key}={value}"]
    for build_arg in spec.build_args:
        argv += ["--build-arg", build_arg]
    if spec.target:
        argv += ["--target", spec.target]
    if spec.platform:
        argv += ["--platform", ",".join(spec.platforms)]
    for option, values in (
        ("--cache-from", spec.cache_from),
        ("--cache-to", spec.cache_to),
        ("--secret", spec.secrets),
        ("--ssh", spec.ssh),
    ):
        for value in values:
            argv += [option, value]
    if spec.provenance is not None:
        argv.append(f"--provenance={spec.provenance}")
    if spec.sbom is not None:
        argv.append(f"--sbom={spec.sbom}")
    if engine.pushes_while_building:
        argv.append("--push")
    argv.append(spec.context)
    return Command(tuple(argv), "build", spec.context)


def push_commands(engine: Engine, spec: BuildSpec) -> list[Command]:
    """One push per tag, except with buildx, whose build already pushed them.

    podman and buildah push a manifest list with `manifest push --all` (every platform's
    image, then the list as an OCI index); index annotations first, where the engine
    can set them, and the local list is removed at the end.
    """
    if engine.pushes_while_building:
        return []
    commands = []
    listed = spec.manifest_list
    if listed is not None:
        if engine.index_annotations:
            for key, value in spec.annotations.items():
                annotate = [engine.executable, "manifest", "annotate", "--index"]
                annotate += ["--annotation", f"{key}={value}", listed]
                commands.append(Command(tuple(annotate), "annotate", listed))
        for tag in spec.tags:
            registry = parse_tag(tag).registry
            push = [engine.executable, "manifest", "push", "--all", "--format", "oci"]
            push += [*_tls_flags(engine, registry), listed, f"docker://{tag}"]
            commands.append(Command(tuple(push), "push", tag))
        return commands
    for tag in spec.tags:
        registry = parse_tag(tag).registry
        argv = (engine.executable, "push", *_tls_flags(engine, registry), tag)
        commands.append(Command(argv, "push", tag))
    return commands


def cleanup_commands(engine: Engine, spec: BuildSpec) -> list[Command]:
    """Remove the local manifest list a podman/buildah multi-platform build made."""
    if spec.manifest_list is None:
        return []
    argv = (engine.executable, "manifest", "rm", spec.manifest_list)
    return [Command(argv, "cleanup", spec.manifest_list, may_fail=True)]


def plan_commands(
    engine: Engine,
    spec: BuildSpec,
    logins: Sequence[tuple[str, str]],
    environ: Mapping[str, str] | None = None,
) -> list[Command]:
    """Everything a build-push runs, in order: logins (registry, user), build, pushes."""
    commands = [login_command(engine, registry, user) for registry, user in logins]
    commands.append(build_command(engine, spec, environ))
    commands += push_commands(engine, spec)
    commands += cleanup_commands(engine, spec)
    return commands


# -- running -------------------------------------------------------------------------------


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with the given secrets, token shapes and URL credentials replaced by `***`
    (dlink.redact: the one redactor of everything dlink prints)."""
    from dlink.redact import redact as redact_all

    return redact_all(text, secrets)


def run_command(
    command: Command,
    *,
    secret: str | None,
    on_output: Callable[[str], None],
    env: Mapping[str, str] | None = None,
) -> int:
    """Run `command`, streaming its output (stdout and stderr, redacted) line by line.

    The secret goes to stdin when the command asks for it; otherwise stdin is closed,
    so an engine can never sit waiting for a password.
    """
    if command.secret_on_stdin and not secret:
        raise DlinkError("internal: a login needs a token")  # pragma: no cover
    secrets = [secret] if secret else []
    try:
        process = subprocess.Popen(
            list(command.argv),
            stdin=subprocess.PIPE if command.secret_on_stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            errors="replace",
            bufsize=1,
            env=None if env is None else dict(env),
        )
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise DlinkError(f"cannot run {command.argv[0]}: {reason}") from None
    assert process.stdout is not None
    with process:
        if command.secret_on_stdin:
            assert process.stdin is not None and secret is not None
            try:
                process.stdin.write(secret + "\n")
                process.stdin.close()
            except BrokenPipeError:
                pass
        for line in process.stdout:
            on_output(redact_text(line, secrets))
        return process.wait()


# -- credentials the engine already has ---------------------------------------------------


def _docker_config_file(environ: Mapping[str, str]) -> Path:
    directory = environ.get("DOCKER_CONFIG") or str(Path(environ.get("HOME", "~")) / ".docker")
    return Path(directory).expanduser() / "config.json"


def auth_files(engine: Engine, environ: Mapping[str, str]) -> list[Path]:
    """Where the engine keeps registry credentials, most specific first."""
    files: list[Path] = []
    if engine.name in {"podman", "buildah"}:
        if environ.get("REGISTRY_AUTH_FILE"):
            files.append(Path(environ["REGISTRY_AUTH_FILE"]))
        if environ.get("XDG_RUNTIME_DIR"):
            files.append(Path(environ["XDG_RUNTIME_DIR"]) / "containers" / "auth.json")
        home = Path(environ.get("HOME", "~")).expanduser()
        files.append(home / ".config" / "containers" / "auth.json")
    files.append(_docker_config_file(environ))
    return files


def _server_keys(registry: str) -> list[str]:
    if registry in {"docker.io", "index.docker.io", "registry-1.docker.io"}:
        return [
            "https://index.docker.io/v1/",
            "index.docker.io",
            "docker.io",
            "registry-1.docker.io",
        ]
    return [registry, f"https://{registry}", f"http://{registry}", f"https://{registry}/v1/"]


def credentials_from_config(
    config: Mapping[str, object],
    registry: str,
    helper: Callable[[str, str], Credentials | None],
) -> Credentials | None:
    """Credentials for `registry` in a docker config.json / containers auth.json document.

    `helper(name, server)` asks a credential helper (`docker-credential-NAME get`).
    """
    keys = _server_keys(registry)
    cred_helpers = config.get("credHelpers")
    if isinstance(cred_helpers, Mapping):
        for key in keys:
            name = cred_helpers.get(key)
            if isinstance(name, str) and name:
                return helper(name, key)
    auths = config.get("auths")
    if isinstance(auths, Mapping):
        for key in keys:
            entry = auths.get(key)
            if not isinstance(entry, Mapping):
                continue
            encoded = entry.get("auth")
            if isinstance(encoded, str) and encoded:
                try:
                    user, sep, password = base64.b64decode(encoded).decode().partition(":")
                except (ValueError, UnicodeDecodeError):
                    continue
                if sep and user:
                    return Credentials(user, password)
            named, given = entry.get("username"), entry.get("password")
            if isinstance(named, str) and isinstance(given, str) and named:
                return Credentials(named, given)
    store = config.get("credsStore")
    if isinstance(store, str) and store:
        for key in keys:
            found = helper(store, key)
            if found is not None:
                return found
    return None


def ask_credential_helper(name: str, server: str) -> Credentials | None:
    """`docker-credential-NAME get` for `server`; None when it has nothing or fails."""
    executable = shutil.which(f"docker-credential-{name}")
    if executable is None:
        return None
    try:
        result = subprocess.run(
            [executable, "get"],
            input=server,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        answer = json.loads(result.stdout) if result.returncode == 0 else None
    except (OSError, subprocess.TimeoutExpired, ValueError):
        return None
    if not isinstance(answer, Mapping):
        return None
    user, secret = answer.get("Username"), answer.get("Secret")
    if not isinstance(user, str) or not isinstance(secret, str) or not user or user == "<token>":
        return None  # "<token>" means an identity token, which is not a password
    return Credentials(user, secret)


def stored_credentials(
    engine: Engine, registry: str, environ: Mapping[str, str]
) -> Credentials | None:
    """The credentials the engine would use for `registry` (after an earlier `login`)."""
    for path in auth_files(engine, environ):
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(document, Mapping):
            found = credentials_from_config(document, registry, ask_credential_helper)
            if found is not None:
                return found
    return None
