"""A hypothesis strategy that writes Dockerfiles the way people (and templates) do.

`dockerfiles()` draws whole files as bytes. They are meant to stress the
reader, not to be good Dockerfiles: parser directives (both escape characters,
repeated or misplaced ones), instructions in any case, continuations broken by
comment and blank lines, an escape character at the very end of the file,
heredocs, JSON forms, LABEL pairs in every quoting, ARG/ENV with every
expansion modifier, several stages with `FROM <stage>`, BuildKit's platform
ARGs, LF/CRLF/mixed line endings, a byte-order mark, no final newline, and now
and then a line BuildKit refuses. Most files are ones BuildKit reads, so that
the properties are about agreement, not only about refusals.

Other test modules import it (the fix properties use it too); keep it free of
assertions.
"""

from __future__ import annotations

from hypothesis import strategies as st

ESCAPES = ("\\", "`")
PLATFORM_ARGS = (
    "TARGETPLATFORM",
    "TARGETOS",
    "TARGETARCH",
    "TARGETVARIANT",
    "BUILDPLATFORM",
    "BUILDOS",
    "BUILDARCH",
    "BUILDVARIANT",
)
SOURCE_KEY = "org.opencontainers.image.source"

_names = st.sampled_from(["A", "V", "URL", "base_image", "X1", *PLATFORM_ARGS])
_plain = st.sampled_from(
    ["alpine", "x", "https://github.com/acme/widget", "1.0", "a b", "", "*", "/tmp", "v-1_2.3"]
)
_images = st.sampled_from(
    ["alpine", "alpine:3.19", "scratch", "ghcr.io/acme/base@sha256:00", "busybox"]
)


def _mixed_case(draw: st.DrawFn, word: str) -> str:
    style = draw(st.sampled_from(["upper", "upper", "upper", "lower", "random"]))
    if style == "upper":
        return word.upper()
    if style == "lower":
        return word.lower()
    flips = draw(st.lists(st.booleans(), min_size=len(word), max_size=len(word)))
    return "".join(c.upper() if f else c.lower() for c, f in zip(word, flips))


@st.composite
def expansions(draw: st.DrawFn) -> str:
    """`$V`, `${V}` and `${V<modifier>word}` with every modifier BuildKit knows."""
    name = draw(_names)
    form = draw(
        st.sampled_from(
            ["$", "{}", ":-", "-", ":+", "+", "?", ":?", "#", "##", "%", "%%", "/", "//", "bad"]
        )
    )
    word = draw(st.sampled_from(["https://github.com/acme/widget", "x", "", "*/", "a*", "v"]))
    if form == "$":
        return "$" + name
    if form == "{}":
        return "${" + name + "}"
    if form in ("/", "//"):
        return "${" + name + form + draw(st.sampled_from(["a", "*", "x"])) + "/" + word + "}"
    if form == "bad":  # refused by the lexer, or not an expansion at all
        return draw(st.sampled_from(["${", "${}", "${:x}", "${V", "${V!x}", "$", "${V:#x}"]))
    return "${" + name + form + word + "}"


@st.composite
def values(draw: st.DrawFn, escape: str) -> str:
    """A LABEL/ENV/ARG value in one of the quoting styles people use."""
    inner = draw(st.one_of(_plain, expansions()))
    style = draw(
        st.sampled_from(["bare", "double", "single", "escaped-space", "mixed", "json-ish", "empty"])
    )
    if style == "bare":
        return inner.replace(" ", "")
    if style == "double":
        return '"' + inner.replace('"', "") + '"'
    if style == "single":
        return "'" + inner.replace("'", "") + "'"
    if style == "escaped-space":
        return inner.replace(" ", escape + " ") or "v"
    if style == "mixed":
        return 'a"' + inner.replace('"', "") + "\"'b c'" + escape + escape
    if style == "json-ish":
        return '["' + inner.replace('"', "") + '"]'
    return '""'


@st.composite
def label_pairs(draw: st.DrawFn, escape: str) -> list[str]:
    keys = st.sampled_from(
        [
            SOURCE_KEY,
            '"' + SOURCE_KEY + '"',
            "org.opencontainers.image.version",
            "maintainer",
            '"a key"',
            "k",
            "'q'",
        ]
    )
    count = draw(st.integers(1, 4))
    return [draw(keys) + "=" + draw(values(escape)) for _ in range(count)]


@st.composite
def heredoc(draw: st.DrawFn, keyword: str) -> tuple[list[str], list[str]]:
    """(words of the instruction, the body lines and terminator)."""
    name = draw(st.sampled_from(["EOF", "EOT", "END"]))
    quote = draw(st.sampled_from(["", '"', "'"]))
    chomp = draw(st.booleans())
    body = draw(
        st.lists(
            st.sampled_from(
                ["echo hi", "\techo tab", "FROM evil", "LABEL x=y", "", "# not a comment", "$HOME"]
            ),
            max_size=3,
        )
    )
    word = "<<" + ("-" if chomp else "") + quote + name + quote
    terminator = ("\t" if chomp and draw(st.booleans()) else "") + name
    words = [word, "/dst"] if keyword == "COPY" else [word]
    if keyword == "RUN" and draw(st.booleans()):
        words = ["cat", word, ">", "/f"]
    unterminated = draw(st.integers(0, 30)) == 0
    return words, body + ([] if unterminated else [terminator])


@st.composite
def instruction(draw: st.DrawFn, escape: str, stages: list[str]) -> tuple[list[str], list[str]]:
    """One instruction as (words, lines after it such as heredoc bodies)."""
    kind = draw(
        st.sampled_from(
            [
                "LABEL", "LABEL", "LABEL", "legacy-label", "ENV", "ENV-legacy", "ARG", "RUN",
                "RUN-json", "RUN-heredoc", "COPY", "COPY-heredoc", "CMD", "ENTRYPOINT", "WORKDIR",
                "USER", "EXPOSE", "ONBUILD", "HEALTHCHECK", "SHELL", "refused",
            ]
        )
    )  # fmt: skip
    after: list[str] = []
    if kind == "LABEL":
        words = ["LABEL", *draw(label_pairs(escape))]
    elif kind == "legacy-label":
        words = ["LABEL", draw(st.sampled_from(["maintainer", SOURCE_KEY])), draw(values(escape))]
    elif kind == "ENV":
        words = [
            "ENV",
            *(
                n + "=" + draw(values(escape))
                for n in draw(st.lists(_names, min_size=1, max_size=3))
            ),
        ]
    elif kind == "ENV-legacy":
        words = ["ENV", draw(_names), draw(values(escape)), "more"]
    elif kind == "ARG":
        name = draw(_names)
        words = ["ARG", draw(st.sampled_from([name, name + "=" + draw(values(escape))]))]
    elif kind == "RUN":
        run_words = st.one_of(
            st.sampled_from(["echo", "make", "&&", "'q u'", '"d q"']), expansions()
        )
        words = ["RUN", *draw(st.lists(run_words, min_size=1, max_size=4))]
    elif kind == "RUN-json":
        words = [
            "RUN",
            draw(
                st.sampled_from(
                    [
                        '["echo", "hi"]',
                        '[ "sh" , "-c" , "x" ]',
                        '["a", 1]',
                        "[not json",
                        '["<<EOF"]',
                        '["a"] trailing',
                        "[NaN]",
                        '["\\ud800"]',
                    ]
                )
            ),
        ]
    elif kind in ("RUN-heredoc", "COPY-heredoc"):
        keyword = kind.split("-")[0]
        doc_words, after = draw(heredoc(keyword))
        flags = ["--chmod=755"] if keyword == "COPY" and draw(st.booleans()) else []
        words = [keyword, *flags, *doc_words]
    elif kind == "COPY":
        source = draw(st.sampled_from(["--from=" + s for s in stages] or ["--from=x"]))
        words = [
            "COPY",
            *draw(st.sampled_from([[source], ["--chown=1:1"], ["--link"], []])),
            "a",
            "/b",
        ]
    elif kind in ("CMD", "ENTRYPOINT"):
        words = [kind, draw(st.sampled_from(['["/bin/app", "--flag"]', "/bin/app --flag", "[]"]))]
    elif kind == "WORKDIR":
        words = ["WORKDIR", draw(st.sampled_from(["/app", "$HOME/x", "C:\\\\app"]))]
    elif kind == "USER":
        words = ["USER", draw(st.sampled_from(["app", "1000:1000", "${U:-root}"]))]
    elif kind == "EXPOSE":
        words = [
            "EXPOSE",
            *draw(st.lists(st.sampled_from(["80", "443/tcp", "$PORT"]), min_size=1, max_size=3)),
        ]
    elif kind == "ONBUILD":
        words = ["ONBUILD", draw(st.sampled_from(["RUN make", "LABEL k=v", "COPY . /app"]))]
    elif kind == "HEALTHCHECK":
        words = [
            "HEALTHCHECK",
            draw(st.sampled_from(["NONE", "--interval=5s CMD curl -f x", 'CMD ["true"]'])),
        ]
    elif kind == "SHELL":
        words = ["SHELL", '["/bin/sh", "-c"]']
    else:
        words = draw(
            st.sampled_from(
                [
                    ["LABEL", "a=b", "c"],
                    ["ENV", "X"],
                    ["FOO", "bar"],
                    ["{%", "if", "x", "%}"],
                    ["LABEL", '"unterminated'],
                    ["COPY", "only-one"],
                    ["FROM", "a", "b"],
                    ["FROM", "a", "TO", "b"],
                    ["LABEL"],
                    ["ARG", "=x"],
                ]
            )
        )
    words[0] = _mixed_case(draw, words[0])
    return words, after


@st.composite
def from_line(draw: st.DrawFn, stages: list[str], index: int) -> tuple[list[str], str | None]:
    base = draw(
        st.one_of(
            _images,
            st.sampled_from(stages) if stages else _images,
            st.sampled_from(
                ["${BASE:-alpine}", "binaries-$TARGETOS", "$BASE", "${BASE}", "alpine:${V:-3}"]
            ),
        )
    )
    words = [_mixed_case(draw, "FROM")]
    if draw(st.integers(0, 3)) == 0:
        words.append(draw(st.sampled_from(["--platform=$BUILDPLATFORM", "--platform=linux/arm64"])))
    words.append(base)
    name = None
    if draw(st.booleans()):
        name = f"s{index}"
        words += [draw(st.sampled_from(["AS", "as", "As"])), name]
    return words, name


@st.composite
def logical_lines(draw: st.DrawFn, words: list[str], escape: str) -> list[str]:
    """Physical lines for one instruction: words joined by spaces or by continuations."""
    lines: list[str] = []
    indent = draw(st.sampled_from(["", "", "  ", "\t"]))
    current = indent + words[0]
    for word in words[1:]:
        if draw(st.integers(0, 4)) == 0:
            lines.append(current + " " + escape + draw(st.sampled_from(["", " ", "\t"])))
            for _ in range(draw(st.integers(0, 2))):
                lines.append(draw(st.sampled_from(["# inside a continuation", "", "   ", "  #x"])))
            current = draw(st.sampled_from(["", "  ", "\t"])) + word
        else:
            current += " " + word
    lines.append(current)
    return lines


@st.composite
def dockerfile_lines(draw: st.DrawFn) -> tuple[list[str], str]:
    """The physical lines of a whole file (no endings), and its escape character."""
    escape = draw(st.sampled_from(ESCAPES))
    lines: list[str] = []
    if draw(st.booleans()):
        lines.append(
            draw(
                st.sampled_from(["# syntax=docker/dockerfile:1", "#syntax = docker/dockerfile:1.7"])
            )
        )
    if escape == "`" or draw(st.integers(0, 3)) == 0:
        lines.append(draw(st.sampled_from(["# escape=", "#escape = ", "# ESCAPE="])) + escape)
    if draw(st.integers(0, 5)) == 0:
        lines.append(
            draw(
                st.sampled_from(
                    ["# check=skip=all", "# escape=x", "# escape=\\", "# dlink: ignore=DLK101"]
                )
            )
        )
    if draw(st.booleans()):
        lines.append(draw(st.sampled_from(["ARG BASE=alpine", "ARG BASE", "arg BASE=scratch"])))
    for _ in range(draw(st.integers(0, 2))):
        name = draw(_names)
        lines.append(
            _mixed_case(draw, "ARG")
            + " "
            + name
            + draw(st.sampled_from(["", "=alpine", "=https://github.com/acme/widget", "="]))
        )
    stages: list[str] = []
    for index in range(draw(st.integers(1, 3))):
        for _ in range(draw(st.integers(0, 2))):
            lines.append(draw(st.sampled_from(["", "# a comment", "  # indented comment", "#"])))
        words, name = draw(from_line(stages, index))
        lines += draw(logical_lines(words, escape))
        for _ in range(draw(st.integers(0, 4))):
            words, after = draw(instruction(escape, stages))
            if draw(st.integers(0, 6)) == 0:
                lines.append(draw(st.sampled_from(["# dlink: ignore=DLK101", "# comment", ""])))
            lines += draw(logical_lines(words, escape))
            lines += after
        if name:
            stages.append(name)
    if draw(st.integers(0, 4)) == 0:  # the last line ends in the escape character
        lines[-1] += " " + escape
        lines += draw(st.lists(st.sampled_from(["", "# trailing comment", "  "]), max_size=2))
    return lines, escape


@st.composite
def dockerfiles(draw: st.DrawFn) -> bytes:
    """A whole Dockerfile as bytes."""
    lines, _escape = draw(dockerfile_lines())
    endings = draw(st.sampled_from(["lf", "lf", "crlf", "mixed"]))
    out: list[str] = []
    for number, line in enumerate(lines):
        last = number == len(lines) - 1
        if endings == "mixed":
            ending = draw(st.sampled_from(["\n", "\r\n"]))
        else:
            ending = "\r\n" if endings == "crlf" else "\n"
        if last and draw(st.integers(0, 3)) == 0:
            ending = ""
        out.append(line + ending)
    bom = b"\xef\xbb\xbf" if draw(st.integers(0, 9)) == 0 else b""
    return bom + "".join(out).encode("utf-8")


@st.composite
def mutations(draw: st.DrawFn, data: bytes) -> bytes:
    """A real file with a few edits of the kinds that break readers and fixers."""
    lines = data.splitlines(keepends=True) or [b""]
    for _ in range(draw(st.integers(1, 3))):
        index = draw(st.integers(0, len(lines) - 1))
        kind = draw(
            st.sampled_from(
                [
                    "drop", "repeat", "escape-at-end", "blank", "comment", "crlf", "lf",
                    "truncate", "no-final-newline", "label", "heredoc", "swap-case",
                ]
            )
        )  # fmt: skip
        line = lines[index]
        body = line.rstrip(b"\r\n")
        ending = line[len(body) :]
        if kind == "drop" and len(lines) > 1:
            del lines[index]
        elif kind == "repeat":
            lines.insert(index, line if ending else line + b"\n")
        elif kind == "escape-at-end":
            lines[index] = body + draw(st.sampled_from([b" \\", b"\\", b" `", b"\\ "])) + ending
        elif kind == "blank":
            lines.insert(index, draw(st.sampled_from([b"\n", b"  \n", b"\r\n"])))
        elif kind == "comment":
            lines.insert(index, draw(st.sampled_from([b"# c\n", b"  # c \\\n", b"#\n"])))
        elif kind == "crlf" and ending == b"\n":
            lines[index] = body + b"\r\n"
        elif kind == "lf" and ending == b"\r\n":
            lines[index] = body + b"\n"
        elif kind == "truncate" and body:
            lines[index] = body[: draw(st.integers(0, len(body) - 1))] + ending
        elif kind == "label":
            lines.insert(index, b"LABEL " + SOURCE_KEY.encode() + b"=https://github.com/x/y\n")
        elif kind == "heredoc":
            lines.insert(index, b"RUN <<EOF\necho\nEOF\n")
        elif kind == "swap-case":
            lines[index] = body.swapcase() + ending
    if draw(st.integers(0, 4)) == 0:
        lines[-1] = lines[-1].rstrip(b"\r\n")
    return b"".join(lines)
