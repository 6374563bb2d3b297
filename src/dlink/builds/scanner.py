"""Reading every build definition below a repository root into build sites.

Files are recognised by name; each kind has its reader (imported only when such a
file exists, so YAML and HCL parsers cost nothing in a repository without them).
A definition that cannot be read becomes a notice; the scan goes on.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from dlink.builds.names import build_definitions, repository_files
from dlink.builds.site import BuildLabel, BuildScan, BuildSite, Notice, Origin
from dlink.builds.values import as_glob, glob_match, has_unknowns

if TYPE_CHECKING:  # the command-line reader loads only when a file has build commands
    from dlink.builds.commands import BakeCommand, Commands

_MAX_FILE_BYTES = 2_000_000


class BakeCall:
    """An invocation of bake: which files, which targets, does it push, extra labels."""

    __slots__ = (
        "origin", "description", "kind", "files", "directory", "targets", "push", "overrides",
        "tags",
    )  # fmt: skip

    def __init__(
        self,
        origin: Origin,
        description: str,
        kind: str,
        files: list[str],
        directory: str,
        targets: list[str],
        push: bool,
        overrides: dict[str, dict[str, BuildLabel]] | None = None,
        tags: tuple[str, ...] = (),
    ) -> None:
        self.origin = origin
        self.description = description
        self.kind = kind
        self.files = files  # repository-relative; empty = bake's default files in `directory`
        self.directory = directory
        self.targets = targets
        self.push = push
        self.overrides = {} if overrides is None else overrides
        self.tags = tags  # the names the call gives every target, replacing theirs


class Scanner:
    """What readers add to while the repository's build definitions are read."""

    __slots__ = ("files", "result", "bake_calls")

    def __init__(self, files: set[str]) -> None:
        self.files = files
        self.result = BuildScan()
        self.bake_calls: list[BakeCall] = []

    def notice(self, path: str, line: int, message: str) -> None:
        self.result.notices.append(Notice(Origin(path, line), message))

    def add(self, site: BuildSite) -> None:
        self.result.sites.append(site)

    def locate(
        self,
        file: str | None,
        context: str | None,
        bases: Iterable[str],
        *,
        file_from_context: bool = False,
    ) -> tuple[str | None, str | None, str]:
        """(dockerfile, pattern, context): the first candidate that exists, else the first.

        `file` is relative to the base (docker build -f) or, with `file_from_context`, to
        the context (bake, compose); no file means `Dockerfile` in the context.
        """
        first: tuple[str | None, str | None, str] | None = None
        for base in bases:
            ctx = _join(base, context or ".")
            if file is None:
                path = _join(ctx, "Dockerfile")
            else:
                path = _join(ctx if file_from_context else base, file)
            if has_unknowns(path):
                pattern = as_glob(path)
                candidate: tuple[str | None, str | None, str] = (None, pattern, ctx)
                if any(glob_match(f, pattern) for f in self.files):
                    return candidate
            else:
                candidate = (path, None, ctx)
                if path in self.files:
                    return candidate
            first = first or candidate
        return first or (None, None, ".")

    def command_sites(
        self,
        commands: Commands,
        path: str,
        kind: str,
        bases: list[str],
    ) -> None:
        """Sites for the build commands of one file; bake commands become bake calls."""
        pushed = {_image_name(ref) for ref in commands.pushes}
        for build in commands.builds:
            if build.context is not None and _is_remote(build.context):
                continue
            if build.file == "-":
                continue  # the Dockerfile comes on stdin
            dockerfile, pattern, context = self.locate(build.file, build.context, bases)
            if build.tool == "kaniko" and build.file is not None:
                dockerfile, pattern, context = self.locate(
                    build.file, build.context, bases, file_from_context=True
                )
            origin = Origin(path, build.line)
            from dlink.builds.commands import build_labels

            labels = build_labels(build.labels, origin, f"--label in {build.tool}")
            publishes = (
                build.push
                or any(_registry_tag(t) for t in build.tags)
                or _pushed_later(build.tags, pushed)
            )
            self.add(
                BuildSite(
                    kind,
                    origin,
                    build.tool,
                    dockerfile,
                    pattern,
                    context,
                    tuple(build.targets) or (None,),
                    publishes,
                    tuple(build.tags),
                    labels,
                )
            )
        for bake in commands.bakes:
            if bake.prints:
                continue
            self.bake_calls.append(_bake_call(bake, path, kind, bases[0]))


def _bake_call(bake: BakeCommand, path: str, kind: str, base: str) -> BakeCall:
    origin = Origin(path, bake.line)
    labels = {
        key: BuildLabel(key, value, origin, "docker buildx bake --set")
        for key, value in bake.labels
    }
    return BakeCall(
        origin,
        "docker buildx bake",
        kind,
        [_join(base, f) for f in bake.files],
        base,
        bake.targets or ["default"],
        bake.push,
        {"*": labels} if labels else {},
    )


def _join(base: str, relative: str) -> str:
    relative = relative.strip()
    if relative.startswith("/"):
        relative = relative.lstrip("/")  # an absolute path: read it from the root
    joined = posixpath.normpath(posixpath.join(base, relative)) if relative else base
    return "." if joined in ("", ".") else joined.removeprefix("./")


def _is_remote(context: str) -> bool:
    return context == "-" or bool(re.match(r"[a-z][a-z0-9+.-]*://|git@", context))


def _image_name(reference: str) -> str:
    """`ghcr.io/o/r:1.0` -> `ghcr.io/o/r` (the tag or digest dropped)."""
    name = reference.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    return name[: len(name) - len(last)] + last.split(":", 1)[0]


def _pushed_later(tags: list[str], pushed: set[str]) -> bool:
    """A `docker push` in the same script pushes this build's image: same name, or a name
    dlink cannot know on either side (a variable), or an untagged build (tagged later)."""
    if not pushed:
        return False
    if not tags or any(has_unknowns(name) for name in pushed):
        return True
    return any(has_unknowns(tag) or _image_name(tag) in pushed for tag in tags)


def _registry_tag(tag: str) -> bool:
    """A tag that names a registry host (`ghcr.io/o/r`), other than a local one."""
    first, slash, _ = tag.partition("/")
    if not slash or has_unknowns(first):
        return False
    host = first.split(":")[0]
    return ("." in host or ":" in first) and host not in ("localhost", "127.0.0.1")


def scan(
    root: Path,
    files: list[str] | None = None,
    definitions: list[tuple[str, str]] | None = None,
) -> BuildScan:
    """Every build site below `root`. Never raises for a file's content: notices instead.

    `definitions`, when given, must be `build_definitions(files)`.
    """
    listed = repository_files(root) if files is None else files
    scanner = Scanner(set(listed))
    if definitions is None:
        definitions = build_definitions(listed)
    bake_files: list[str] = []
    for relative, kind in definitions:
        try:
            raw = (root / relative).read_bytes()[:_MAX_FILE_BYTES]
        except FileNotFoundError:
            continue  # tracked but deleted from the work tree
        except OSError as error:
            scanner.notice(relative, 1, f"cannot read: {error.strerror or error}")
            continue
        text = raw.decode("utf-8", "replace")
        if kind == "bake":
            bake_files.append(relative)
            continue
        if kind in ("make", "script", "jenkins") and not re.search(
            r"docker|podman|buildah|kaniko|\$[({]?[A-Z_]*(ENGINE|CONTAINER|RUNTIME)", text
        ):
            continue  # most scripts build nothing: do not read them further
        scanner.result.read.append(relative)
        try:
            _read(kind, relative, text, scanner)
        except RecursionError:  # a pathologically nested file: say so, read the rest
            scanner.notice(relative, 1, "nested too deeply to read")
    if bake_files or scanner.bake_calls:  # the HCL reader loads only for bake
        from dlink.builds.bakesites import bake_sites

        bake_sites(root, bake_files, scanner)
    return scanner.result


def _read(kind: str, relative: str, text: str, scanner: Scanner) -> None:
    directory = posixpath.dirname(relative) or "."
    if kind == "github-actions":
        from dlink.builds.workflows import read_workflow

        read_workflow(relative, text, scanner)
    elif kind == "goreleaser":
        from dlink.builds.goreleaser import read_goreleaser

        read_goreleaser(relative, text, scanner)
    elif kind == "compose":
        from dlink.builds.compose import read_compose

        read_compose(relative, text, scanner)
    elif kind == "gitlab-ci":
        from dlink.builds.gitlab import read_gitlab_ci

        read_gitlab_ci(relative, text, scanner)
    elif kind == "npm":
        _read_package_json(relative, text, scanner)
    else:
        variables = _make_variables(text) if kind == "make" else _shell_variables(text)
        if kind == "make":
            # Assignments are not commands (a variable may hold one: it runs where used).
            text = "\n".join(
                "" if re.match(_MAKE_ASSIGNMENT, line) else line for line in text.splitlines()
            )
            text = text.replace("$$", "$")
        bases = [directory] if kind == "make" else list(dict.fromkeys([".", directory]))
        from dlink.builds.commands import read_commands

        commands = read_commands(text, variables)
        scanner.command_sites(commands, relative, kind, bases)


# Compiled (and cached by `re`) when a Makefile or script that builds is read.
_MAKE_ASSIGNMENT = r"^(?:export[ \t]+|override[ \t]+)?([A-Za-z_][A-Za-z0-9_.-]*)[ \t]*(?:\?|:{1,3}|\+)?=[ \t]*(.*)$"
_SHELL_ASSIGNMENT = (
    r"^[ \t]*(?:export[ \t]+|local[ \t]+|readonly[ \t]+)?([A-Za-z_][A-Za-z0-9_]*)=(\S*)"
)
_SHELL_ARRAY = (
    r"^[ \t]*(?:local[ \t]+|declare[ \t]+-a[ \t]+)?([A-Za-z_][A-Za-z0-9_]*)\+?=\((.*)\)[ \t]*$"
)


def _make_variables(text: str) -> dict[str, str]:
    variables: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("\t"):
            continue  # a recipe line
        match = re.match(_MAKE_ASSIGNMENT, line)
        if match and match.group(1) not in variables:
            variables[match.group(1)] = match.group(2).split("#", 1)[0].strip()
    return variables


def _shell_variables(text: str) -> dict[str, str]:
    variables: dict[str, str] = {}
    for line in text.splitlines():
        array = re.match(_SHELL_ARRAY, line)
        if array:
            # Every element any branch adds: `opts+=("--push")` in an `if` may push.
            name = array.group(1) + "[@]"
            words = variables.get(name, "").split() + array.group(2).split()
            variables[name] = " ".join(dict.fromkeys(w.strip("'\"") for w in words))
            continue
        match = re.match(_SHELL_ASSIGNMENT, line)
        if match:
            value = match.group(2).strip("'\"")
            if match.group(1) in variables and variables[match.group(1)] != value:
                variables[match.group(1)] = "${" + match.group(1) + "}"  # set twice: unknowable
            else:
                variables[match.group(1)] = value
    return {k: v for k, v in variables.items() if v != "${" + k + "}"}


def _read_package_json(relative: str, text: str, scanner: Scanner) -> None:
    import json

    if "docker" not in text and "podman" not in text:
        return
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        scanner.notice(relative, error.lineno, f"not valid JSON: {error.msg}")
        return
    scripts = document.get("scripts") if isinstance(document, dict) else None
    if not isinstance(scripts, dict):
        return
    lines = text.splitlines()
    directory = posixpath.dirname(relative) or "."
    for name, command in scripts.items():
        if not isinstance(command, str):
            continue
        line = next((n for n, t in enumerate(lines, 1) if f'"{name}"' in t), 1)
        from dlink.builds.commands import read_commands

        commands = read_commands(command, first_line=line)
        scanner.command_sites(commands, relative, "npm", [directory])
