"""Bake files (docker-bake.hcl, docker-bake.json, *.bake.hcl): targets, groups, inheritance.

HCL is read with dlink.builds.hcl (python-hcl2 cost 150-200 ms per run and is now only
the test oracle), imported only when an HCL bake file exists. A target's
attributes come from the targets it `inherits` (in order), then its own; labels merge
key by key. `${VAR}` takes the variable's default; functions stay unresolved.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Mapping
from typing import Any

from dlink.builds.site import BuildLabel, Origin
from dlink.builds.values import substitute
from dlink.record import Record

METADATA_TARGET = "docker-metadata-action"
# Targets inherited through more levels than this are not followed (real files use a few).
MAX_INHERITANCE_DEPTH = 64

_Merged = tuple[dict[str, Any], dict[str, BuildLabel], Origin]


class BakeError(ValueError):
    def __init__(self, reason: str, line: int = 1) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line


class BakeTarget:
    __slots__ = ("name", "origin", "attributes", "labels")

    def __init__(self, name: str, origin: Origin) -> None:
        self.name = name
        self.origin = origin
        self.attributes: dict[str, Any] = {}
        self.labels: dict[str, tuple[str, Origin]] = {}


class BakeFile:
    __slots__ = ("path", "targets", "groups")

    def __init__(self, path: str) -> None:
        self.path = path
        self.targets: dict[str, BakeTarget] = {}
        self.groups: dict[str, list[str]] = {}


class ResolvedTarget(Record):
    """A target with inheritance applied: what one bake build of it does."""

    __slots__ = (
        "name", "origin", "dockerfile", "context", "stage", "tags", "publishes", "labels",
    )  # fmt: skip

    def __init__(
        self,
        name: str,
        origin: Origin,
        dockerfile: str,
        context: str,
        stage: str | None,
        tags: tuple[str, ...],
        publishes: bool,
        labels: tuple[BuildLabel, ...],
    ) -> None:
        self.name = name
        self.origin = origin
        self.dockerfile = dockerfile
        self.context = context
        self.stage = stage
        self.tags = tags
        self.publishes = publishes  # its output pushes to a registry
        self.labels = labels


def read_bake(path: str, text: str) -> BakeFile:
    """Parse one bake file. Raises BakeError for a file that is not HCL/JSON bake."""
    if path.endswith(".json"):
        try:
            document = json.loads(text)
        except json.JSONDecodeError as error:
            raise BakeError(f"not valid JSON: {error.msg}", error.lineno) from None
        if not isinstance(document, dict):
            raise BakeError("a bake JSON file is an object")
        blocks = {
            kind: [{name: body} for name, body in section.items()]
            for kind in ("target", "group", "variable")
            for section in [document.get(kind)]
            if isinstance(section, dict)
        }
    else:
        blocks = _read_hcl(text)
    variables = {}
    for entry in blocks.get("variable") or []:
        for name, body in entry.items() if isinstance(entry, dict) else []:
            default = body.get("default") if isinstance(body, dict) else None
            if isinstance(default, (str, int, float)) and not isinstance(default, bool):
                variables[str(name)] = str(default)
    bake = BakeFile(path)
    positions = _Positions(text)
    for entry in blocks.get("group") or []:
        for name, body in entry.items() if isinstance(entry, dict) else []:
            targets = body.get("targets") if isinstance(body, dict) else None
            bake.groups[str(name)] = _names(targets)
    for entry in blocks.get("target") or []:
        for name, body in entry.items() if isinstance(entry, dict) else []:
            if not isinstance(body, dict):
                continue
            name = str(name)
            origin = Origin(path, positions.target_line(name))
            target = BakeTarget(name, origin)
            for key, value in body.items():
                key = str(key)
                if key.startswith("__"):
                    continue
                if key == "labels" and isinstance(value, dict):
                    for label_key, label_value in value.items():
                        if label_value is None:
                            continue
                        line = positions.label_line(str(label_key), origin.line)
                        target.labels[str(label_key)] = (
                            substitute(str(label_value), variables),
                            Origin(path, line),
                        )
                else:
                    target.attributes[key] = _substituted(value, variables)
            bake.targets[name] = target
    return bake


def _read_hcl(text: str) -> dict[str, list[dict[str, Any]]]:
    # Parsed on every run, never kept on disk: a bake file's variable defaults can hold
    # secrets, and the parse costs only repositories that have an HCL bake file.
    return _parse_hcl(text)


def _parse_hcl(text: str) -> dict[str, list[dict[str, Any]]]:
    from dlink.builds.hcl import HclError, loads

    try:
        document = loads(text)
    except HclError as error:
        raise BakeError(f"not valid HCL: {error.reason}", error.line) from None
    return {
        k: v
        for k, v in document.items()
        if isinstance(v, list) and k in ("target", "group", "variable")
    }


def _substituted(value: Any, variables: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return substitute(value, variables)
    if isinstance(value, list):
        return [_substituted(item, variables) for item in value]
    return value


class _Positions:
    """Line numbers in one bake file: each block header and line start found in one pass.

    A search from the top of the text for every target and every label (and a regular
    expression compiled for each target) made a bake file of many targets quadratic.
    """

    # `target "name" {` (quotes optional), at the start of a line.
    _HEADER = r'^[ \t]*target[ \t]+"?([^"\n{]*?)"?[ \t]*\{'
    # `"name":` in a JSON bake file.
    _JSON_KEY = r'"([^"\\\n]*)"[ \t]*:'

    def __init__(self, text: str) -> None:
        self.text = text
        self._starts: list[int] | None = None
        self._headers: dict[str, int] | None = None
        self._json_keys: dict[str, int] | None = None

    def _line_starts(self) -> list[int]:
        if self._starts is None:
            self._starts = [0]
            self._starts.extend(m.end() for m in re.finditer("\n", self.text))
        return self._starts

    def _line_of_offset(self, offset: int) -> int:
        return bisect.bisect_right(self._line_starts(), offset)

    def target_line(self, name: str) -> int:
        if self._headers is None:
            self._headers = self._first_offsets(self._HEADER, re.MULTILINE)
        offset = self._headers.get(name)
        if offset is None:
            if self._json_keys is None:
                self._json_keys = self._first_offsets(self._JSON_KEY, 0)
            offset = self._json_keys.get(name)
        if offset is None:
            # A name the one-pass patterns do not capture (a quote, a brace or an escape in
            # it): looked for on its own, as rare as such names are.
            match = re.search(
                rf'^[ \t]*target[ \t]+"?{re.escape(name)}"?[ \t]*{{', self.text, re.MULTILINE
            ) or re.search(rf'"{re.escape(name)}"[ \t]*:', self.text)
            offset = match.start() if match else None
        return self._line_of_offset(offset) if offset is not None else 1

    def label_line(self, needle: str, after_line: int) -> int:
        """The line where `needle` first appears at or after line `after_line`."""
        starts = self._line_starts()
        start = starts[after_line - 1] if after_line <= len(starts) else len(self.text)
        found = self.text.find(needle, start)
        return self._line_of_offset(found) if found >= 0 else after_line

    def _first_offsets(self, pattern: str, flags: int) -> dict[str, int]:
        offsets: dict[str, int] = {}
        for match in re.finditer(pattern, self.text, flags):
            offsets.setdefault(match.group(1), match.start())
        return offsets


def resolve_target(
    bakes: list[BakeFile],
    name: str,
    overrides: Mapping[str, Mapping[str, BuildLabel]] | None = None,
) -> ResolvedTarget | None:
    """A target with its inheritance applied, across all files given (later files win)."""
    merged = _merged(bakes, name, overrides or {}, set(), {})
    if merged is None:
        return None
    attributes, labels, origin = merged
    context = str(attributes.get("context") or ".")
    dockerfile = str(attributes.get("dockerfile") or "Dockerfile")
    outputs = attributes.get("output") or []
    outputs = outputs if isinstance(outputs, list) else [outputs]
    publishes = any("type=registry" in str(o) or "push=true" in str(o) for o in outputs)
    tags = attributes.get("tags") or []
    stage = attributes.get("target")
    return ResolvedTarget(
        name,
        origin,
        dockerfile,
        context,
        str(stage) if stage else None,
        tuple(str(t) for t in (tags if isinstance(tags, list) else [tags])),
        publishes or attributes.get("push") is True,
        tuple(labels.values()),
    )


def _merged(
    bakes: list[BakeFile],
    name: str,
    overrides: Mapping[str, Mapping[str, BuildLabel]],
    seen: set[str],
    done: dict[str, _Merged | None],
) -> _Merged | None:
    # `done`: a target inherited along several paths (t2 inherits t1 twice, t3 inherits t2
    # twice, ...) is merged once, not once per path: 2**depth merges before.
    if name in done:
        return done[name]
    if name in seen:
        return None  # inheritance cycle: bake refuses it; dlink reads no further
    if len(seen) >= MAX_INHERITANCE_DEPTH:
        return None  # deeper than any real bake file; read no further rather than recurse
    seen = seen | {name}
    definitions = [bake.targets[name] for bake in bakes if name in bake.targets]
    if not definitions and name not in overrides:
        return None
    attributes: dict[str, Any] = {}
    labels: dict[str, BuildLabel] = {}
    inherits = [str(p) for d in definitions for p in _names(d.attributes.get("inherits"))]
    for parent in inherits:
        inherited = _merged(bakes, parent, overrides, seen, done)
        if inherited is not None:
            attributes.update(inherited[0])
            labels.update(inherited[1])
    for definition in definitions:
        attributes.update({k: v for k, v in definition.attributes.items() if k != "inherits"})
        for key, (value, origin) in definition.labels.items():
            labels[key] = BuildLabel(key, value, origin, f"bake target {definition.name!r}")
    labels.update(overrides.get(name, {}))
    origin = definitions[0].origin if definitions else next(iter(overrides[name].values())).origin
    done[name] = (attributes, labels, origin)
    return done[name]


def _names(value: Any) -> list[str]:
    """A list attribute (inherits, targets); anything else names nothing dlink can follow."""
    return [str(item) for item in value] if isinstance(value, list) else []


def group_targets(bakes: list[BakeFile], names: list[str]) -> list[str]:
    """Groups expanded to their targets, in order, each once."""
    result: dict[str, None] = {}  # ordered, with a set's membership test
    # A group expands to the same targets every time: once is enough, and a group that
    # names itself (or a cycle of groups) cannot multiply the work at every level.
    expanded: set[str] = set()

    def expand(name: str, depth: int) -> None:
        groups = [bake.groups[name] for bake in bakes if name in bake.groups]
        if groups and depth < 20:
            if name in expanded:
                return
            expanded.add(name)
            for group in groups:
                for member in group:
                    expand(member, depth + 1)
        else:
            result.setdefault(name)

    for name in names:
        expand(name, 0)
    return list(result)


def standalone_targets(bakes: list[BakeFile]) -> list[str]:
    """Targets that stand for an image: in a group, or not only inherited by others."""
    grouped = set(group_targets(bakes, [g for bake in bakes for g in bake.groups]))
    inherited = {
        str(parent)
        for bake in bakes
        for target in bake.targets.values()
        for parent in _names(target.attributes.get("inherits"))
    }
    names = [name for bake in bakes for name in bake.targets]
    return [n for n in dict.fromkeys(names) if n in grouped or n not in inherited]
