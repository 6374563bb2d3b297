"""YAML with line numbers: mappings, lists and strings that remember where they were written.

PyYAML is imported here only, and this module only when a YAML build definition exists.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class YStr(str):
    """A string scalar; `line` is the 1-based line of its first character of content."""

    line: int


class YMap(dict[str, Any]):
    line: int
    key_lines: dict[str, int]


class YList(list[Any]):
    line: int


class YamlError(ValueError):
    def __init__(self, reason: str, line: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line


def load(text: str) -> Any:
    """The first document of `text`; raises YamlError (with a line) when it is not YAML."""
    import yaml

    loader_class = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        node = yaml.compose(text, Loader=loader_class)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise YamlError(f"not valid YAML: {problem}", mark.line + 1 if mark else 1) from None
    return None if node is None else _convert(node, 0)


def load_mapping(
    relative: str, text: str, notice: Callable[[str, int, str], None]
) -> dict[str, Any] | None:
    """The document when it is a mapping, else None; an unreadable file is a notice for
    `relative` (build definitions never stop a run)."""
    try:
        document = load(text)
    except YamlError as error:
        notice(relative, error.line, error.reason)
        return None
    return document if isinstance(document, dict) else None


def _convert(node: Any, depth: int) -> Any:
    import yaml

    if depth > 100:
        raise YamlError("nested too deeply", node.start_mark.line + 1)
    line = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        mapping = YMap()
        mapping.line = line
        mapping.key_lines = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                merged = _convert(value_node, depth + 1)
                for source in merged if isinstance(merged, list) else [merged]:
                    if isinstance(source, dict):
                        for key, value in source.items():
                            mapping.setdefault(key, value)
                continue
            key = str(_convert(key_node, depth + 1))
            mapping[key] = _convert(value_node, depth + 1)
            mapping.key_lines[key] = key_node.start_mark.line + 1
        return mapping
    if isinstance(node, yaml.SequenceNode):
        items = YList(_convert(item, depth + 1) for item in node.value)
        items.line = line
        return items
    tag = node.tag
    if tag.endswith(":bool"):
        return node.value.lower() in ("true", "yes", "on", "y")
    if tag.endswith(":null"):
        return None
    text = YStr(node.value)
    text.line = line + (1 if node.style in ("|", ">") else 0)
    return text


def line_of(value: Any, default: int) -> int:
    return getattr(value, "line", default)


def key_line(mapping: Any, key: str, default: int) -> int:
    """The line a mapping's key is written on."""
    lines = getattr(mapping, "key_lines", None)
    return lines.get(key, default) if isinstance(lines, dict) else default
