"""Bake files of many targets, groups that name themselves: linear work, same answers.

Each shape here was quadratic or worse before (a regular expression per target for its
line, every target matched against every call's target, a group re-expanded at every
level): a 20,000-target file took 104 s to read, and 8,000 targets in a pushed group
352 s to check.
"""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from dlink.builds import scan
from dlink.builds.bake import (
    MAX_INHERITANCE_DEPTH,
    BakeFile,
    _Positions,
    group_targets,
    read_bake,
    resolve_target,
)
from dlink.builds.values import glob_match, globs_matcher


def _old_target_line(text: str, name: str) -> int:
    # The search the one-pass index replaced (a regex per target, from the top each time),
    # kept here as the reference the index must agree with.
    match = re.search(rf'^[ \t]*target[ \t]+"?{re.escape(name)}"?[ \t]*{{', text, re.MULTILINE)
    if match is None:
        match = re.search(rf'"{re.escape(name)}"[ \t]*:', text)
    return text.count("\n", 0, match.start()) + 1 if match else 1


def _old_label_line(text: str, needle: str, after_line: int) -> int:
    offset = 0
    for _ in range(after_line - 1):
        offset = text.find("\n", offset) + 1
    found = text.find(needle, offset)
    return text.count("\n", 0, found) + 1 if found >= 0 else after_line


HCL = """\
variable "TAG" {
  default = "latest"
}

target "base" {
  labels = {
    "org.opencontainers.image.source" = "https://github.com/acme/widget"
  }
}
  target app {
  inherits = ["base"]
  labels = {
    description = "the app"
    "org.opencontainers.image.source" = "https://github.com/acme/app"
  }
}
target "two words" {}
target "x"{
}
"""


def test_target_and_label_lines_in_hcl() -> None:
    bake = read_bake("docker-bake.hcl", HCL)
    lines = {name: target.origin.line for name, target in bake.targets.items()}
    assert lines == {"base": 5, "app": 10, "two words": 17, "x": 18}
    source = "org.opencontainers.image.source"
    assert bake.targets["base"].labels[source][1].line == 7
    assert bake.targets["app"].labels[source][1].line == 14
    assert bake.targets["app"].labels["description"][1].line == 13


def test_target_lines_in_json() -> None:
    text = '{\n  "target": {\n    "a": {"context": "."},\n    "b\\\\c": {}\n  }\n}\n'
    bake = read_bake("docker-bake.json", text)
    assert {n: t.origin.line for n, t in bake.targets.items()} == {"a": 3, "b\\c": 1}
    assert _old_target_line(text, "b\\c") == 1  # the escaped key: neither search finds it


def test_many_targets_each_on_its_own_line() -> None:
    count = 5_000
    text = "".join(f'target "t{i}" {{\n  labels = {{ k{i} = "v" }}\n}}\n' for i in range(count))
    bake = read_bake("docker-bake.hcl", text)
    assert len(bake.targets) == count
    for i in (0, 1, 2_500, count - 1):
        target = bake.targets[f"t{i}"]
        assert target.origin.line == 3 * i + 1
        assert target.labels[f"k{i}"][1].line == 3 * i + 2


PIECES = st.sampled_from(
    [
        'target "a" {\n',
        "target a {\n",
        '  target "b"{\n',
        'target "a b" {\n',
        'target "a {\n',
        '"a": {\n',
        '"b" : 1,\n',
        "}\n",
        "\n",
        "  labels = {\n",
        '    a = "x"\n',
        "# target a {\n",
        "target  c  {\n",
        'target "c"\t{\n',
        '"target": {\n',
        'xtarget "a" {\n',
        "b\n",
    ]
)


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.lists(PIECES, max_size=30), st.sampled_from(["a", "b", "c", "a b", "x", "target"]))
def test_the_index_agrees_with_the_per_name_search(pieces: list[str], name: str) -> None:
    text = "".join(pieces)
    positions = _Positions(text)
    assert positions.target_line(name) == _old_target_line(text, name)
    for after in range(1, text.count("\n") + 2):
        assert positions.label_line(name, after) == _old_label_line(text, name, after)


def test_a_group_that_names_itself_expands_once() -> None:
    bake = BakeFile("docker-bake.hcl")
    # Each level named itself eight times: 8**20 expansions before.
    bake.groups["default"] = ["default"] * 8 + ["app", "all"]
    bake.groups["all"] = ["default", "worker", "app"]
    assert group_targets([bake], ["default"]) == ["app", "worker"]


def test_a_cycle_of_groups_gives_targets_only() -> None:
    bake = BakeFile("docker-bake.hcl")
    bake.groups["a"] = ["b", "one"]
    bake.groups["b"] = ["a", "two"]
    # Before, the cycle ran to the depth bound and then took a group's name for a target.
    assert group_targets([bake], ["a"]) == ["two", "one"]  # b (and its two) come first


@settings(max_examples=300, derandomize=True, deadline=None)
@given(
    st.lists(st.sampled_from(["app", "a*", "*", "*-x", "a/*", "b", "a-x", "*b*"]), max_size=5),
    st.sampled_from(["app", "a-x", "b", "ab", "a/b", "x", "", "a/b/c"]),
)
def test_globs_matcher_is_glob_match_of_any(patterns: list[str], name: str) -> None:
    assert globs_matcher(patterns)(name) == any(glob_match(name, p) for p in patterns)


def test_many_targets_in_a_pushed_group(tmp_path: Path) -> None:
    count = 2_000
    names = ", ".join(f'"t{i}"' for i in range(count))
    targets = "".join(
        f'target "t{i}" {{\n  inherits = ["base"]\n  tags = ["ghcr.io/acme/t{i}"]\n}}\n'
        for i in range(count)
    )
    (tmp_path / "docker-bake.hcl").write_text(
        f'group "default" {{\n  targets = [{names}]\n}}\n{targets}target "base" {{}}\n'
    )
    (tmp_path / "Makefile").write_text("release:\n\tdocker buildx bake --push\n")
    result = scan(tmp_path)
    published = [site for site in result.sites if site.publishes]
    assert len(published) == count
    assert {str(site.origin) for site in published} == {"Makefile:2"}
    # Every target is described by the call that pushes it, not again by its own block.
    assert len(result.sites) == count


def _bake(text: str) -> list[BakeFile]:
    return [read_bake("docker-bake.hcl", text)]


def test_a_target_inherited_along_many_paths_is_merged_once() -> None:
    # t39 reaches t0 along 2**39 paths; each target is merged once.
    text = 'target "t0" {\n  tags = ["ghcr.io/acme/t"]\n  labels = { a = "b" }\n}\n' + "".join(
        f'target "t{i}" {{\n  inherits = ["t{i - 1}", "t{i - 1}"]\n}}\n' for i in range(1, 40)
    )
    target = resolve_target(_bake(text), "t39")
    assert target is not None
    assert target.tags == ("ghcr.io/acme/t",)
    assert [(label.key, label.raw) for label in target.labels] == [("a", "b")]


def test_inheritance_deeper_than_the_bound_stops_without_recursing_further() -> None:
    depth = 3_000  # deeper than Python's recursion limit
    text = 'target "t0" {\n  tags = ["ghcr.io/acme/deep"]\n}\n' + "".join(
        f'target "t{i}" {{\n  inherits = ["t{i - 1}"]\n}}\n' for i in range(1, depth)
    )
    bakes = _bake(text)
    near = resolve_target(bakes, f"t{MAX_INHERITANCE_DEPTH - 1}")
    assert near is not None and near.tags == ("ghcr.io/acme/deep",)
    far = resolve_target(bakes, f"t{depth - 1}")
    assert far is not None and far.tags == ()  # t0 lies beyond the bound: not followed
