"""Build command lines in scripts: `docker build`, `docker buildx build`, `podman build`,
`buildah bud`, kaniko's executor, `docker buildx bake`, and the pushes that publish them.

The same reader serves workflow `run:` steps, GitLab CI scripts, Jenkinsfiles,
Makefiles, shell and PowerShell scripts and package.json scripts: it finds the
commands in the text, whatever surrounds them, and reads their options.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

from dlink.builds.site import SOURCE_KEY, BuildLabel, Origin
from dlink.builds.values import substitute

# An engine named through a variable, as Makefiles do: $(DOCKER), ${CONTAINER_ENGINE}.
_ENGINE_VARIABLE = re.compile(
    r"\$[({]?[A-Za-z_]*(?:DOCKER|PODMAN|BUILDAH|ENGINE|CONTAINER|RUNTIME|OCI|CLI)[A-Za-z_]*[)}]?",
    re.IGNORECASE,
)
_CANDIDATE = re.compile(
    r"docker|podman|buildah|nerdctl|kaniko|\$[({]?[A-Za-z_]*(?:ENGINE|CONTAINER|RUNTIME|OCI|CLI)",
    re.IGNORECASE,
)
_EXPRESSION = re.compile(r"\$\{\{.*?\}\}|\{\{.*?\}\}|\$\([^()]*\)")
# Commands that only print their arguments: `echo "run docker build ..."` builds nothing.
_PRINTERS = {"echo", "printf", "write-host", "write-output", "write-verbose", "write-information",
             "print", "println", "log", "info", "warn", "error"}  # fmt: skip
_SEPARATORS = {"&&", "||", ";", "|", "&", "(", ")", "{", "}", "then", "do", "else"}
# Options of the build commands that take no value; every other option takes one.
_FLAGS = {
    "--print", "--list-targets",
    "--push", "--load", "--pull", "--no-cache", "--quiet", "-q", "--rm", "--force-rm",
    "--squash", "--squash-all", "--compress", "--layers", "--no-hosts", "--all-platforms",
    "--debug", "--no-push", "--reproducible", "--single-snapshot", "--cleanup",
}  # fmt: skip
_DOCKER_GLOBAL_VALUE = {"--context", "-c", "--host", "-H", "--config", "--log-level", "-l"}


# Plain slotted classes, filled in while a command line is read (a dataclass would
# compile its generated methods whenever a repository has a script to read).


class BuildCommand:
    """One build command as written: raw option values (variables not yet known)."""

    __slots__ = ("line", "tool", "file", "context", "targets", "tags", "labels", "push")

    def __init__(self, line: int, tool: str) -> None:
        self.line = line
        # "docker build", "docker buildx build", "podman build", "buildah bud", "kaniko"
        self.tool = tool
        self.file: str | None = None
        self.context: str | None = None
        self.targets: list[str] = []
        self.tags: list[str] = []
        self.labels: list[tuple[str, str]] = []
        self.push = False

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"BuildCommand({fields})"


class BakeCommand:
    """`docker buildx bake`: which files and targets, and whether it pushes."""

    __slots__ = ("line", "files", "targets", "push", "prints", "labels")

    def __init__(self, line: int) -> None:
        self.line = line
        self.files: list[str] = []
        self.targets: list[str] = []
        self.push = False
        self.prints = False  # --print: shows the definition, builds nothing
        self.labels: list[tuple[str, str]] = []  # --set *.labels.K=V

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"BakeCommand({fields})"


class Commands:
    __slots__ = ("builds", "bakes", "pushes")

    def __init__(self) -> None:
        self.builds: list[BuildCommand] = []
        self.bakes: list[BakeCommand] = []
        self.pushes: list[str] = []  # image references pushed


_LINE_MARK = re.compile(r"\x02(\d+)\x02")


def logical_lines(text: str, first_line: int = 1) -> Iterator[tuple[int, str]]:
    """Lines with their continuations (`\\` or PowerShell's backtick) joined; 1-based.

    Each continued line is marked with its number (\\x02N\\x02) so that a command in the
    middle of a long `for` loop still reports its own line.
    """
    pending: list[str] = []
    start = first_line
    for number, line in enumerate(text.splitlines(), first_line):
        if not pending:
            start = number
        stripped = line.rstrip()
        mark = f" \x02{number}\x02 " if pending else ""
        if stripped.endswith(("\\", "`")) and not stripped.endswith("\\\\"):
            pending.append(mark + stripped[:-1])
            continue
        pending.append(mark + line)
        yield start, " ".join(pending)
        pending = []
    if pending:
        yield start, " ".join(pending)


def read_commands(
    text: str, variables: Mapping[str, str] | None = None, first_line: int = 1
) -> Commands:
    """Every build, bake and push command in `text`, with `variables` substituted."""
    found = Commands()
    known = dict(variables or {})
    for number, line in logical_lines(text, first_line):
        if not _CANDIDATE.search(line) or line.lstrip().startswith(("#", "//", "<#", "REM ")):
            continue
        for command_line, words in _simple_commands(substitute(line, known), number):
            if words[0].lower().lstrip("@-+") not in _PRINTERS:
                _read_command(words, command_line, found)
    return found


def _tokens(line: str) -> list[str]:
    # Expressions such as ${{ github.sha }} hold spaces; keep each one a single word.
    saved: list[str] = []

    def hide(match: re.Match[str]) -> str:
        saved.append(match.group(0))
        return f"\x00{len(saved) - 1}\x00"

    hidden = _EXPRESSION.sub(hide, line)
    words = _split(hidden)
    return [re.sub(r"\x00(\d+)\x00", lambda m: saved[int(m.group(1))], word) for word in words]


# A shell word: runs of plain characters, backslash escapes and quoted strings.
_WORD = re.compile(r"""(?:[^\s'"\\]+|\\.|'[^']*'|"(?:[^"\\]|\\.)*")+""", re.DOTALL)
_WORD_PART = re.compile(r"""'([^']*)'|"((?:[^"\\]|\\.)*)"|\\(.)|([^'"\\]+)""", re.DOTALL)


def _split(line: str) -> list[str]:
    """Words as POSIX shell splits them (quotes removed); shlex's rules, at regex speed.

    With unbalanced quotes (a fragment of a larger string: Groovy, JSON) the line is
    split at whitespace, as written.
    """
    matches = list(_WORD.finditer(line))
    covered = sum(m.end() - m.start() for m in matches)
    if covered != len(line) - sum(ch.isspace() for ch in _gaps(line, matches)):
        return line.split()
    return ["".join(_unquote(part) for part in _WORD_PART.finditer(m.group(0))) for m in matches]


def _gaps(line: str, matches: list[re.Match[str]]) -> str:
    """The text between the words (whitespace only, unless a quote was left open)."""
    pieces, cursor = [], 0
    for match in matches:
        pieces.append(line[cursor : match.start()])
        cursor = match.end()
    pieces.append(line[cursor:])
    return "".join(pieces)


def _unquote(part: re.Match[str]) -> str:
    single, double, escaped, plain = part.groups()
    if single is not None:
        return single
    if double is not None:
        return re.sub(r'\\([\\"])', r"\1", double)  # as shlex does: only \\ and \"
    return escaped if escaped is not None else plain


def _simple_commands(line: str, number: int) -> Iterator[tuple[int, list[str]]]:
    """The simple commands of a line, each with the line its first word is on."""
    current: list[str] = []
    current_line = line_now = number
    for word in _tokens(line):
        mark = _LINE_MARK.fullmatch(word)
        if mark:
            line_now = int(mark.group(1))
            continue
        word = _LINE_MARK.sub("", word)
        pieces = [word]
        if word.endswith(";") and word != ";":
            pieces = [word[:-1], ";"]
        for piece in pieces:
            if piece in _SEPARATORS:
                if current:
                    yield current_line, current
                current = []
            else:
                if not current:
                    current_line = line_now
                current.append(piece)
    if current:
        yield current_line, current


def _engine(word: str) -> str | None:
    word = word.lstrip("@-+'\"(`").rstrip("'\"")
    name = word.rsplit("/", 1)[-1].lower()
    name = name.removesuffix(".exe")
    if name in ("docker", "podman", "buildah", "nerdctl"):
        return name
    if name == "executor" and "kaniko" in word:
        return "kaniko"
    if _ENGINE_VARIABLE.fullmatch(word):
        return "docker"
    return None


def _read_command(words: list[str], line: int, found: Commands, depth: int = 0) -> None:
    for index, word in enumerate(words):
        engine = _engine(word)
        if engine is None:
            if depth < 3 and " " in word and _CANDIDATE.search(word):
                # A command inside a string: `sh 'docker build ...'` (Jenkins), `bash -c "..."`.
                for _, inner in _simple_commands(word, line):
                    if inner[0].lower() not in _PRINTERS:
                        _read_command(inner, line, found, depth + 1)
            continue
        rest = words[index + 1 :]
        if engine == "kaniko":
            found.builds.append(_read_build(rest, line, "kaniko"))
            return
        while rest and rest[0].startswith("-"):  # docker's global options
            rest = rest[2:] if rest[0] in _DOCKER_GLOBAL_VALUE else rest[1:]
        verb = [w.lower() for w in rest[:2]]
        if (
            engine == "buildah"
            and verb[:1]
            and verb[0] in ("bud", "build", "build-using-dockerfile")
        ):
            found.builds.append(_read_build(rest[1:], line, f"buildah {verb[0]}"))
        elif verb[:1] == ["build"]:
            found.builds.append(_read_build(rest[1:], line, f"{engine} build"))
        elif verb in (
            ["buildx", "build"],
            ["image", "build"],
            ["builder", "build"],
            ["buildx", "b"],
        ):
            found.builds.append(_read_build(rest[2:], line, f"{engine} {verb[0]} build"))
        elif verb == ["buildx", "bake"] or verb[:1] == ["bake"]:
            found.bakes.append(_read_bake(rest[2:] if verb[0] == "buildx" else rest[1:], line))
        elif verb[:1] == ["push"] or verb == ["image", "push"]:
            refs = [w for w in rest[1 if verb[0] == "push" else 2 :] if not w.startswith("-")]
            found.pushes += refs[:1]
        return


def _options(words: list[str]) -> Iterator[tuple[str, str | None]]:
    """(option, value) pairs; positional words come as ("", word)."""
    index = 0
    while index < len(words):
        word = words[index]
        index += 1
        if word.startswith("--") and "=" in word:
            name, _, value = word.partition("=")
            yield name, value
        elif word.startswith("-") and word != "-":
            if word in _FLAGS or index >= len(words):
                yield word, None
            else:
                yield word, words[index]
                index += 1
        else:
            yield "", word


def _label(value: str) -> tuple[str, str]:
    key, _, label_value = value.partition("=")
    return key.strip(), label_value


def _read_build(words: list[str], line: int, tool: str) -> BuildCommand:
    command = BuildCommand(line, tool)
    for name, value in _options(words):
        if name == "" and value is not None:
            if command.context is None:
                command.context = value
        elif value is None:
            command.push |= name == "--push"
        elif name in ("-f", "--file", "--dockerfile"):
            command.file = value
        elif name in ("-t", "--tag"):
            command.tags.append(value)
        elif name == "--destination" or name == "-d":
            command.tags.append(value)
            command.push = True
        elif name == "--target":
            command.targets.append(value)
        elif name == "--label":
            command.labels.append(_label(value))
        elif name in ("-o", "--output"):
            command.push |= "type=registry" in value or "push=true" in value
        elif name == "--context" and tool == "kaniko":
            command.context = value.removeprefix("dir://")
    return command


def _read_bake(words: list[str], line: int) -> BakeCommand:
    command = BakeCommand(line)
    for name, value in _options(words):
        if name == "" and value is not None:
            command.targets.append(value)
        elif value is None:
            command.push |= name == "--push"
            command.prints |= name == "--print"
        elif name in ("-f", "--file"):
            command.files.append(value)
        elif name == "--set":
            setting, _, setting_value = value.partition("=")
            if setting.endswith((".output", ".push")):
                command.push |= "registry" in setting_value or setting_value == "true"
            elif ".labels." in setting:
                command.labels.append((setting.split(".labels.", 1)[1], setting_value))
    return command


def build_labels(pairs: list[tuple[str, str]], origin: Origin, via: str) -> tuple[BuildLabel, ...]:
    return tuple(BuildLabel(key, value, origin, via) for key, value in pairs if key)


__all__ = ["SOURCE_KEY", "BakeCommand", "BuildCommand", "Commands", "read_commands"]
