"""dlink.builds.hcl, checked against python-hcl2: the reader it replaced and its oracle.

The HCL texts below reproduce shapes met in real bake files (docker/buildx, moby/buildkit,
moby/moby, docker/cli, docker/compose, crazy-max/diun, tonistiigi/xx, jenkinsci/docker,
docker/bake-action, docker/metadata-action ...): variables with defaults, functions,
groups, inheritance, labels with interpolations, matrices, conditionals, for expressions,
heredocs and all three kinds of comments. Each is read by both readers and the results
must be equal; the build sites a repository yields must be equal end to end too.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import UNDER_CI
from dlink.builds import bake as bake_module
from dlink.builds import scan
from dlink.builds.bake import BakeError, read_bake
from dlink.builds.hcl import MAX_DEPTH, HclError, loads
from freshrun import run_fresh

SRC = "org.opencontainers.image.source"


def hcl2_loads(text: str) -> Any:
    """What dlink read before (bake._parse_hcl's call): the oracle."""
    try:
        import hcl2
        from hcl2.utils import SerializationOptions
    except ImportError:
        if UNDER_CI:
            pytest.fail("python-hcl2, the oracle of these tests, is required under CI")
        pytest.skip("python-hcl2 (the test extra's oracle for dlink.builds.hcl) is not installed")
    options = SerializationOptions(strip_string_quotes=True, with_comments=False)
    return hcl2.loads(text, serialization_options=options)


SHAPES = [
    pytest.param(
        """\
variable "GO_VERSION" {
  default = "1.24"
}
variable "DESTDIR" {
  default = "./bin"
}
variable "N" { default = 3 }
variable "F" { default = 1.5 }
variable "ON" { default = true }
variable "NOTHING" { default = null }
variable "EMPTY" {}
""",
        id="variables",
    ),
    pytest.param(
        """\
group "default" {
  targets = ["image-local"]
}

group "validate" {
  targets = ["lint", "validate-vendor", "validate-docs"]
}

target "_common" {
  args = {
    GO_VERSION = GO_VERSION
    BUILDKIT_CONTEXT_KEEP_GIT_DIR = 1
    "QUOTED.KEY" = "v"
  }
}

target "image" {
  inherits = ["_common", "docker-metadata-action"]
  context = "."
  dockerfile = "./Dockerfile"
  target = "release"
  output = ["type=image"]
  platforms = [
    "linux/amd64",
    "linux/arm64",
  ]
}
""",
        id="groups-inheritance-lists",
    ),
    pytest.param(
        """\
target "labelled" {
  labels = {
    "org.opencontainers.image.source" = "https://github.com/${GITHUB_REPOSITORY}"
    "org.opencontainers.image.title": "widget"
    description = "A \\"quoted\\" tab\\tand \\u00e9 and $${LITERAL} and %%{ LITERAL }"
  }
  tags = ["ghcr.io/acme/widget:${VERSION}", "acme/widget:latest"]
}
""",
        id="labels-interpolation-escapes",
    ),
    pytest.param(
        """\
function "bindir" {
  params = [defaultdir]
  result = DESTDIR != "" ? DESTDIR : "./bin/${defaultdir}"
}

target "binaries" {
  output = [bindir("build")]
  platforms = ["local"]
  tags = notequal("", VERSION) ? ["acme/widget:${VERSION}"] : []
  cache-from = [equal(CACHE, "1") ? "type=gha,scope=${CACHE_SCOPE}" : ""]
  meta = [IMAGE_TARGET != null && IMAGE_TARGET != "" ? "x:local-${IMAGE_TARGET}" : "x:local"]
}
""",
        id="functions-conditionals",
    ),
    pytest.param(
        """\
target "lint" {
  name = "lint-${buildtags.name}"
  matrix = {
    buildtags = [
      { name = "default", tags = "", target = "golangci-lint" },
      { name = "labs", tags = "dfrundevice", target = "golangci-lint" }
    ]
  }
  args = {
    BUILDTAGS = buildtags.tags
  }
  target = buildtags.target
}
""",
        id="matrix-objects-references",
    ),
    pytest.param(
        """\
function "binutilsTag" {
    # a comment inside a function block
    params = [repo, version, version_only, target]
    result = ["${repo}:binutils-${version}-${target}", version_only=="1"?"":"${repo}:x"]
}
target "all" {
  platforms = [for p in split(",", PLATFORMS) : "linux/${p}" if p != ""]
  args = {for k, v in ARGS : upper(k) => v}
  grouped = {for k, v in ARGS : v => k...}
  joined = join(",", [for t in TAGS : "${REPO}:${t}"])
  spread = concat(A, B...)
  attr = target.base.tags[0]
  splat = targets[*].name
  legacy = things.0
  math = (1 + 2) * 3 - -4 % 2 / 1
  neg = -1
  negf = -2.5
  sci = 1e3
  not = !false
  lt = a <= b && c >= d || e < f && g > h
  nested = "${format("%s-%s", "a b", upper("c"))}"
  spaced = "x${ VAR }y"
  directive = "%{ if VAR != "" }-${VAR}%{ else }none%{ endif }"
  loop = "%{~ for i, v in L ~}${v},%{ endfor }"
  empty_list = []
  empty_object = {}
  parenthesised = ("a")
}
""",
        id="expressions",
    ),
    pytest.param(
        """\
# a hash comment
// a slash comment
/* a block
   comment */
target "commented" { # after the brace
  dockerfile = "Dockerfile" // after a value
  context = "." # after a value
  args = {
    # inside an object
    BUILDX_EXPERIMENTAL = 1 // enables experimental flags
  }
}
target "one-line" { dockerfile = "one.Dockerfile" }
""",
        id="comments",
    ),
    pytest.param(
        """\
target "inline" {
  dockerfile-inline = <<EOT
FROM alpine
LABEL org.opencontainers.image.source="https://github.com/${REPO}"
EOT
  description = <<-EOT
    indented ${VAR}
      more
    EOT
  script = trimspace(<<EOF
echo hi
EOF
  )
}
""",
        id="heredocs",
    ),
    pytest.param(
        """\
target "a" "b" {
  dockerfile = "nested-labels.Dockerfile"
}
variable "V" {
  default = "x"
  validation {
    condition = V != ""
    error_message = "V must not be empty."
  }
}
target "crlf" {\r
  dockerfile = "crlf.Dockerfile"\r
}\r
""",
        id="nested-blocks-crlf",
    ),
    pytest.param(
        """\
variable "TAG" {
  default = "latest"
}
target "jdk" {
  matrix = {
    jdk = [17, 21]
    variant = ["alpine", "debian"]
  }
  name = "${variant}_jdk${jdk}"
  tags = concat(
    linux_tags(variant, jdk),
    equal(LATEST_LTS, "true") ? ["acme/x:lts-${variant}"] : [],
  )
  args = {
    JAVA_VERSION = "${javaversion(jdk)}"
    ID = 0.50
  }
  platforms = platforms(variant, jdk)
  object_colon = { a: 1, "b": [1, 2, { c = "d" }] }
  keys = { (VAR) = 1, 2 = "two", true = 3, for = 4, a.b = 5 }
}
""",
        id="multiline-calls-and-keys",
    ),
]


@pytest.mark.parametrize("text", SHAPES)
def test_reads_what_python_hcl2_read(text: str) -> None:
    assert loads(text) == hcl2_loads(text)


def test_a_bake_file_reads_as_values_without_the_oracle() -> None:
    # The same structure written out, so this file checks something where hcl2 is absent.
    text = """\
variable "REPO" { default = "acme/widget" }
group "default" { targets = ["app"] }
target "app" {
  inherits = ["base"]
  labels = { "org.opencontainers.image.source" = "https://github.com/${REPO}" }
  tags = VERSION != "" ? ["${REPO}:${VERSION}"] : []
  args = { N = 1, F = 1.5, B = true, Z = null }
}
"""
    assert loads(text) == {
        "variable": [{"REPO": {"default": "acme/widget", "__is_block__": True}}],
        "group": [{"default": {"targets": ["app"], "__is_block__": True}}],
        "target": [
            {
                "app": {
                    "inherits": ["base"],
                    "labels": {SRC: "https://github.com/${REPO}"},
                    "tags": '${VERSION != "" ? ["${REPO}:${VERSION}"] : []}',
                    "args": {"N": 1, "F": 1.5, "B": True, "Z": None},
                    "__is_block__": True,
                }
            }
        ],
    }


# Generated expressions: what no hand-written table covers, compared with the oracle
# wherever python-hcl2 reads the text (it fails on some valid HCL: `[for v in x : 1]`
# raises its TypeError, `a -1.5` its UnexpectedToken; those are not compared).
_SPACE = st.sampled_from(["", " ", "\t"])
_ATOMS = st.sampled_from(
    ["0", "7", "1.50", "1e3", "2E-2", "true", "false", "null", "VAR", "a_b", "c-d"]
    + ['"x"', '"a b"', '"\\n\\t\\"\\\\"', '"$${lit}"', '"%%{lit}"', '"\\u00e9"', '""']
)


def _joined(parts: list[str], spaces: list[str]) -> str:
    return "".join(space + part for part, space in zip(parts, spaces))


def _compound(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    many = st.lists(inner, max_size=3)
    key = st.sampled_from(["a", "in", '"q.k"', "(VAR)", "1", "x.y", "true"])
    element = st.tuples(key, st.sampled_from([" = ", ":", "="]), inner).map("".join)
    return st.one_of(
        st.tuples(
            inner,
            _SPACE,
            st.sampled_from(["||", "&&", "==", "!=", "<=", "<", "+", "-", "*", "/", "%"]),
            _SPACE,
            inner,
        ).map("".join),
        st.tuples(inner, st.just(" ? "), inner, st.just(" : "), inner).map("".join),
        many.map(lambda items: "[" + ", ".join(items) + "]"),
        st.lists(element, max_size=3).map(lambda items: "{" + ", ".join(items) + "}"),
        st.lists(element, min_size=1, max_size=3).map(
            lambda items: "{\n" + "\n".join(items) + "\n}"
        ),
        st.tuples(st.sampled_from(["f", "join", "p::a::b"]), many).map(
            lambda c: f"{c[0]}({', '.join(c[1])})"
        ),
        inner.map(lambda item: f"({item})"),
        inner.map(lambda item: f'"pre-${{{item}}}-post"'),
        st.tuples(
            st.sampled_from(["-", "!"]), st.sampled_from(["1", "1.5", "VAR", "(a)", "f(1)"])
        ).map("".join),
        st.tuples(
            st.sampled_from(["a", "VAR"]),
            st.sampled_from([".b", "[0]", ".*.c", "[*].d", ".0", '["k"]']),
        ).map("".join),
        st.tuples(inner, inner).map(lambda p: f'[for k, v in {p[0]} : "${{v}}" if {p[1]}]'),
        st.tuples(inner, inner).map(lambda p: f"{{for k, v in {p[0]} : k => {p[1]}...}}"),
        inner.map(lambda item: f"f(<<-EOT\n  a ${{b}}\n    c\n  EOT\n, {item})"),
    )


EXPRESSIONS = st.recursive(_ATOMS, _compound, max_leaves=12)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(EXPRESSIONS, min_size=1, max_size=3))
def test_generated_expressions_read_as_python_hcl2_reads_them(values: list[str]) -> None:
    text = 'target "t" {\n' + "".join(f"  k{n} = {v}\n" for n, v in enumerate(values)) + "}\n"
    try:
        expected = hcl2_loads(text)
    except Exception:  # noqa: BLE001 - python-hcl2 refused it: nothing to compare with
        return
    assert loads(text) == expected


NOT_HCL = [
    pytest.param('target "a" {\n  dockerfile = \n}\n', 2, id="missing-value"),
    pytest.param('target "a" {\n  tags = ["x"\n', 3, id="unclosed-list"),
    pytest.param('target "a" {\n  dockerfile = "x\n}\n', 2, id="unterminated-string"),
    pytest.param('target "a" {\n  d = "x"\n', 3, id="unclosed-block"),
    pytest.param("}\n", 1, id="stray-brace"),
    pytest.param('\n\ntarget "a" {\n  x = 1 2\n}\n', 4, id="two-values"),
    pytest.param('target "a" {\n  x = <<EOT\nnever closed\n', 2, id="unclosed-heredoc"),
    pytest.param('target "a" {\n  x = 1 /* never closed\n}\n', 2, id="unclosed-comment"),
    pytest.param('target "a" {\n  x = "${a"\n}\n', 2, id="unclosed-interpolation"),
    pytest.param('{\n  "target": {}\n}\n', 1, id="json-syntax"),
    pytest.param('x = 1\nx "b" {}\n', 2, id="block-named-like-an-attribute"),
    pytest.param('x = "%{ if a }never ended"\n', 1, id="unended-directive"),
    pytest.param("x = 1 +\n", 2, id="dangling-operator"),
]


@pytest.mark.parametrize(("text", "line"), NOT_HCL)
def test_input_that_is_not_hcl_is_one_line_error_with_its_line(text: str, line: int) -> None:
    with pytest.raises(HclError) as caught:
        loads(text)
    assert caught.value.line == line
    assert "\n" not in caught.value.reason and caught.value.reason
    with pytest.raises(BakeError) as through_bake:
        read_bake("docker-bake.hcl", text)
    assert through_bake.value.line == line
    assert through_bake.value.reason.startswith("not valid HCL: ")


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("x = " + "[" * 100_000, id="lists"),
        pytest.param("x = " + "(" * 100_000, id="parentheses"),
        pytest.param("x = " + "{a = " * 100_000, id="objects"),
        pytest.param("x = " + 'f("${' * 100_000, id="interpolations"),
        pytest.param("a {\n" * 100_000, id="blocks"),
        pytest.param("x = " + "-" * 100_000 + "1", id="unary"),
        pytest.param("x = " + "a ? b : " * 100_000 + "c", id="conditionals"),
        pytest.param("a " + '"l" ' * 100_000 + "{}", id="labels"),
    ],
)
def test_hostile_nesting_is_an_error_not_a_recursion_error(text: str) -> None:
    with pytest.raises(HclError) as caught:
        loads(text)
    assert caught.value.line >= 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("x = a" + ".b" * 100_000, "${a" + ".b" * 100_000 + "}", id="attributes"),
        pytest.param("x = a" + "[0]" * 100_000, "${a" + "[0]" * 100_000 + "}", id="indexes"),
        pytest.param("x = 1" + "+1" * 100_000, "${1" + " + 1" * 100_000 + "}", id="operators"),
    ],
)
def test_long_flat_chains_are_read_not_refused(text: str, expected: str) -> None:
    # Flat, not nested: python-hcl2 reads them, and so must a reader that recurses.
    assert loads(text) == {"x": expected}


def test_nesting_up_to_the_bound_is_read() -> None:
    depth = MAX_DEPTH - 2  # the attribute's own expression and one more level of margin
    text = "x = " + "[" * depth + "1" + "]" * depth + "\n"
    value: Any = loads(text)["x"]
    for _ in range(depth - 1):
        value = value[0]
    assert value == [1]


def test_a_long_file_is_read_in_one_pass() -> None:
    # Twenty thousand targets: a reader that rescans would not finish in a test's time.
    text = "".join(
        f'target "t{n}" {{\n  inherits = ["base"]\n  tags = ["r:${{V}}-{n}"]\n}}\n'
        for n in range(20_000)
    )
    targets = loads(text)["target"]
    assert len(targets) == 20_000 and targets[-1]["t19999"]["tags"] == ["r:${V}-19999"]


def test_the_build_sites_are_the_ones_python_hcl2_gave(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # End to end: a repository laid out like crazy-max/diun (a bake file whose image
    # target inherits docker-metadata-action, a workflow that bakes it) scanned with each
    # reader behind bake._parse_hcl.
    hcl2_loads("")  # skips (or fails under CI) when the oracle is absent
    files = {
        "docker-bake.hcl": """\
variable "GO_VERSION" { default = "1.24" }
variable "DESTDIR" { default = "./bin" }
target "_common" {
  args = { GO_VERSION = GO_VERSION }
}
// Special target: https://github.com/docker/metadata-action#bake-definition
target "docker-metadata-action" {
  tags = ["acme/widget:local"]
}
group "default" { targets = ["image-local"] }
target "image" {
  inherits = ["_common", "docker-metadata-action"]
  labels = { "org.opencontainers.image.source" = "https://github.com/acme/widget" }
}
target "image-local" {
  inherits = ["image"]
  output = ["type=docker"]
}
target "image-all" {
  inherits = ["image"]
  platforms = ["linux/amd64", "linux/arm64"]
  output = [notequal("", DESTDIR) ? "type=registry" : "type=docker"]
}
target "artifact" {
  inherits = ["_common"]
  target = "artifact"
  output = ["${DESTDIR}/artifact"]
}
""",
        ".github/workflows/build.yml": """\
on: push
jobs:
  image:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - id: meta
        uses: docker/metadata-action@v5
        with:
          images: ghcr.io/acme/widget
      - uses: docker/bake-action@v6
        with:
          files: |
            ./docker-bake.hcl
            cwd://${{ steps.meta.outputs.bake-file }}
          targets: image-all
          push: true
""",
        "Dockerfile": "FROM alpine AS artifact\nFROM alpine\n",
    }
    for relative, text in files.items():
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    ours = scan(tmp_path).sites
    assert any(site.kind == "bake" or "bake" in site.description for site in ours), ours

    def parse_with_hcl2(text: str) -> dict[str, list[dict[str, Any]]]:
        document = hcl2_loads(text)
        return {k: v for k, v in document.items() if k in ("target", "group", "variable")}

    monkeypatch.setattr(bake_module, "_parse_hcl", parse_with_hcl2)
    assert scan(tmp_path).sites == ours


def test_a_check_in_a_repository_with_a_bake_file_imports_no_hcl2_or_lark(
    tmp_path: Path,
) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "Dockerfile").write_text("FROM alpine\n")
    (tmp_path / "docker-bake.hcl").write_text(
        'target "image" {\n  output = ["type=registry"]\n  tags = ["ghcr.io/acme/widget"]\n}\n'
    )
    subprocess.run(["git", "-C", str(tmp_path), "add", "."], check=True)
    _, _, loaded = run_fresh(
        ["check", "--repo-url", "https://github.com/acme/widget", "Dockerfile"], tmp_path
    )
    assert "dlink.builds.hcl" in loaded  # the bake file was read ...
    assert sorted(name for name in loaded if name.split(".")[0] in ("hcl2", "lark")) == []
