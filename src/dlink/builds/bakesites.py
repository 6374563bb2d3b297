"""Bake files and the calls that run them, as build sites."""

from __future__ import annotations

import posixpath
from fnmatch import fnmatchcase
from pathlib import Path

from dlink.builds.bake import (
    BakeError,
    BakeFile,
    group_targets,
    read_bake,
    resolve_target,
    standalone_targets,
)
from dlink.builds.scanner import BakeCall, Scanner
from dlink.builds.site import BuildSite
from dlink.builds.values import as_glob, globs_matcher, has_unknowns

_DEFAULT_FILES = ("docker-bake.json", "docker-bake.hcl", "docker-bake.override.json",
                  "docker-bake.override.hcl")  # fmt: skip


def bake_sites(root: Path, bake_files: list[str], scanner: Scanner) -> None:
    """A site per target of every bake file (publishing when its output pushes), and a site
    per target of every call of bake (publishing when the call pushes)."""
    if not bake_files and not scanner.bake_calls:
        return
    parsed: dict[str, BakeFile | None] = {}

    def load(relative: str) -> BakeFile | None:
        if relative not in parsed:
            parsed[relative] = None
            try:
                text = (root / relative).read_text(encoding="utf-8", errors="replace")
                parsed[relative] = read_bake(relative, text)
                scanner.result.read.append(relative)
            except OSError as error:
                scanner.notice(relative, 1, f"cannot read: {error.strerror or error}")
            except BakeError as error:
                scanner.notice(relative, error.line, error.reason)
        return parsed[relative]

    covered: set[str] = set()  # targets some call builds: their call sites describe them
    for call in scanner.bake_calls:
        names = call.files or [
            posixpath.normpath(posixpath.join(call.directory, name)) for name in _DEFAULT_FILES
        ]
        names = [n.removeprefix("./") for n in names if n.removeprefix("./") in scanner.files]
        bakes = [b for b in (load(n) for n in names) if b is not None]
        targets = group_targets(bakes, call.targets)
        known = standalone_targets(bakes)
        builds = globs_matcher(as_glob(n) for n in targets)
        covered.update(t for t in known if builds(t))
        for name in targets:
            if has_unknowns(name):
                # A target named by a variable: any of the file's targets may be meant.
                pattern = as_glob(name)
                for match in [t for t in known if fnmatchcase(t, pattern)]:
                    _add(scanner, bakes, match, call, quiet_missing=True)
            else:
                _add(scanner, bakes, name, call)
    for relative in bake_files:
        bake = load(relative)
        if bake is None:
            continue
        for name in standalone_targets([bake]):
            _add(scanner, [bake], name, None, quiet=name in covered)


def _add(
    scanner: Scanner,
    bakes: list[BakeFile],
    name: str,
    call: BakeCall | None,
    quiet: bool = False,
    quiet_missing: bool = False,
) -> None:
    overrides = dict(call.overrides) if call else {}
    everywhere = overrides.pop("*", None)
    if everywhere:
        overrides[name] = {**overrides.get(name, {}), **everywhere}
    target = resolve_target(bakes, name, overrides)
    if target is None:
        if call is not None and bakes and not quiet_missing:
            scanner.notice(
                call.origin.path, call.origin.line, f"bake target {name!r} is not defined"
            )
        return
    if _is_remote(target.context):
        return
    bake_directory = posixpath.dirname(target.origin.path) or "."
    dockerfile, pattern, context = scanner.locate(
        target.dockerfile, target.context, [bake_directory], file_from_context=True
    )
    if call is None:
        if quiet and not target.publishes:
            return  # the call's own site describes this build
        origin, description, kind = target.origin, f"bake target {name!r}", "bake"
        publishes = target.publishes
    else:
        origin, description, kind = call.origin, f"{call.description} (target {name!r})", call.kind
        publishes = call.push or target.publishes
    scanner.add(
        BuildSite(
            kind,
            origin,
            description,
            dockerfile,
            pattern,
            context,
            (target.stage,),
            publishes,
            (call.tags if call is not None and call.tags else target.tags),
            target.labels,
        )
    )


def _is_remote(context: str) -> bool:
    return "://" in context or context.startswith(("git@", "target:"))
