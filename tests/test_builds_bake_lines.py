"""Line numbers of bake targets and labels: found in one pass, as the per-name search did."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from dlink.builds.bake import _Positions, read_bake


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
