"""BuildKit's shell-word lexer: quote removal, escapes and ${VAR} expansion.

BuildKit runs this lexer over LABEL keys and values (and heredoc words) before
they reach the image, so dlink uses the same rules to know what a label's value
really is: `$V`, `${V}`, `${V:-w}`, `${V-w}`, `${V:+w}`, `${V+w}`, `${V?w}`,
`${V#p}`, `${V%p}`, `${V/p/r}`, escaped `$`, literal single quotes. The quirks
are BuildKit's own and are kept on purpose (one shared words buffer, raw escapes
doubling inside double quotes), because agreeing with it is the point.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from collections.abc import Set as AbstractSet
from functools import cache

from dlink.syntax.text import GO_SPACE

_EOF = ""
_SPECIAL_PARAMS = frozenset("@*#?-$!0")
# How deep `${...}` (and quotes within them) may nest. BuildKit has no limit of
# its own, but each level costs dlink a few Python frames; real files use two or
# three, and a deeper one is refused with a clear error, never a RecursionError.
MAX_NESTING = 64


_PLAIN_RUNS: dict[tuple[str, str], Callable[[str, int], re.Match[str] | None]] = {}


def _plain_run(escape: str, stop: str) -> Callable[[str, int], re.Match[str] | None]:
    """The `match` of a run of characters that need no decision of the scanner."""
    found = _PLAIN_RUNS.get((escape, stop))
    if found is None:
        special = "".join(sorted(GO_SPACE)) + "$<'\"" + escape + stop
        found = _PLAIN_RUNS[escape, stop] = re.compile("[^" + re.escape(special) + "]+").match
    return found


@cache
def _quoted_run(escape: str) -> Callable[[str, int], re.Match[str] | None]:
    """The `match` of a run inside double quotes that is copied as it is (no `"`, `$`, escape)."""
    return re.compile('[^"$' + re.escape(escape) + "]+").match


class LexError(ValueError):
    """A word BuildKit's lexer rejects (unterminated quote, bad substitution...)."""


# The variables of a word that uses none (most words): one empty set for all of them.
_NO_NAMES: frozenset[str] = frozenset()


class WordResult:
    """An expanded word, and the variables it used that were (not) set."""

    __slots__ = ("matched", "unmatched", "value")

    def __init__(
        self,
        value: str,
        matched: AbstractSet[str] = _NO_NAMES,
        unmatched: AbstractSet[str] = _NO_NAMES,
    ) -> None:
        self.value = value
        self.matched = matched
        self.unmatched = unmatched

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, WordResult)
        return (self.value, self.matched, self.unmatched) == (
            other.value, other.matched, other.unmatched,
        )  # fmt: skip

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"WordResult(value={self.value!r}, matched={self.matched!r}, unmatched={self.unmatched!r})"


class _Words:
    """BuildKit's wordsStruct over the lexer's one shared buffer."""

    __slots__ = ("in_word", "lex", "words")

    def __init__(self, lex: ShellLex) -> None:
        self.lex = lex
        self.words: list[str] = []
        self.in_word = False

    def add_char(self, ch: str) -> None:
        if ch in GO_SPACE:
            if self.in_word and self.lex.words_buf:
                self.words.append("".join(self.lex.words_buf))
                self.lex.words_buf.clear()
                self.in_word = False
        else:
            self.add_raw_char(ch)

    def add_raw_char(self, ch: str) -> None:
        self.lex.words_buf.append(ch)
        self.in_word = True

    def add_string(self, text: str) -> None:
        for ch in text:
            self.add_char(ch)

    def add_raw_string(self, text: str) -> None:
        self.lex.words_buf.append(text)
        self.in_word = True

    def get_words(self) -> list[str]:
        if self.lex.words_buf:
            self.words.append("".join(self.lex.words_buf))
            self.lex.words_buf.clear()
            self.in_word = False
        return self.words


class ShellLex:
    """One lexer configuration (escape token and BuildKit's Raw*/Skip* switches)."""

    def __init__(
        self,
        escape: str = "\\",
        *,
        raw_quotes: bool = False,
        raw_escapes: bool = False,
        skip_unset_env: bool = False,
        skip_process_quotes: bool = False,
    ) -> None:
        self.escape = escape
        self.raw_quotes = raw_quotes
        self.raw_escapes_default = raw_escapes
        self.skip_unset_env = skip_unset_env
        self.skip_process_quotes = skip_process_quotes
        self.words_buf: list[str] = []
        self._src = ""
        self._pos = 0
        self._raw_escapes = raw_escapes
        self._env: Mapping[str, str] = {}
        self._matched: set[str] = set()
        self._unmatched: set[str] = set()
        self._depth = 0
        # The characters the scanner acts on in process_word; a word without any is its own value.
        self._special = re.compile("[$<'\"" + re.escape(escape) + "]").search

    # -- public API -----------------------------------------------------------------

    def process_word(self, word: str, env: Mapping[str, str]) -> WordResult:
        """ProcessWordWithMatches: the expanded word, and which variables were (not) found."""
        if self._special(word) is None:
            # Nothing to expand, unquote or unescape: the scanner would copy the word
            # as it is (most FROM images and label keys), so skip it.
            return WordResult(word)
        value, _ = self._start(word, env)
        return WordResult(value, self._matched, self._unmatched)

    def process_words(self, word: str, env: Mapping[str, str]) -> list[str]:
        """ProcessWords: expand, then split into words the way BuildKit does."""
        _, words = self._start(word, env)
        return words

    # -- scanner --------------------------------------------------------------------

    def _start(self, word: str, env: Mapping[str, str]) -> tuple[str, list[str]]:
        self._src = word
        self._pos = 0
        self._env = env
        self._raw_escapes = self.raw_escapes_default
        self._matched = set()
        self._unmatched = set()
        self.words_buf = []
        self._depth = 0
        try:
            return self._process_stop_on(_EOF, self._raw_escapes)
        except LexError as error:
            shown = word if len(word) <= 80 else word[:60] + "..."  # one readable line
            raise LexError(f"failed to process {shown!r}: {error}") from None

    def _peek(self) -> str:
        return self._src[self._pos] if self._pos < len(self._src) else _EOF

    def _next(self) -> str:
        if self._pos < len(self._src):
            ch = self._src[self._pos]
            self._pos += 1
            return ch
        return _EOF

    def _process_stop_on(self, stop: str, raw_escapes: bool) -> tuple[str, list[str]]:
        if self._depth >= MAX_NESTING:
            raise LexError(
                f"expansions nested more than {MAX_NESTING} deep; dlink does not read them"
            )
        self._depth += 1
        try:
            return self._process_stop_on_inner(stop, raw_escapes)
        finally:
            self._depth -= 1

    def _process_stop_on_inner(self, stop: str, raw_escapes: bool) -> tuple[str, list[str]]:
        result: list[str] = []
        self.words_buf.clear()
        words = _Words(self)
        saved = self._raw_escapes
        self._raw_escapes = raw_escapes
        plain = _plain_run(self.escape, stop)
        try:
            while self._peek() != _EOF:
                run = plain(self._src, self._pos)
                if run is not None:
                    # Characters the scanner would copy one by one into the value and the
                    # current word (no space, quote, escape, `$`, `<` or stop among them).
                    text = run.group()
                    result.append(text)
                    self.words_buf.append(text)
                    words.in_word = True
                    self._pos = run.end()
                    continue
                ch = self._peek()
                if stop != _EOF and ch == stop:
                    self._next()
                    return "".join(result), words.get_words()
                if ch == "$":
                    tmp = self._process_dollar()
                    result.append(tmp)
                    words.add_string(tmp)
                elif ch == "<":
                    tmp = self._process_possible_heredoc()
                    result.append(tmp)
                    words.add_raw_string(tmp)
                elif ch in "'\"" and not self.skip_process_quotes:
                    tmp = self._single_quote() if ch == "'" else self._double_quote()
                    result.append(tmp)
                    words.add_raw_string(tmp)
                else:
                    ch = self._next()
                    if ch == self.escape:
                        if self._raw_escapes:
                            words.add_raw_char(ch)
                            result.append(ch)
                        ch = self._next()
                        if ch == _EOF:
                            break
                        words.add_raw_char(ch)
                    else:
                        words.add_char(ch)
                    result.append(ch)
            if stop != _EOF:
                raise LexError(f"unexpected end of statement while looking for matching {stop}")
            return "".join(result), words.get_words()
        finally:
            self._raw_escapes = saved

    def _single_quote(self) -> str:
        out: list[str] = []
        ch = self._next()
        if self.raw_quotes:
            out.append(ch)
        # Everything up to the closing quote is kept as it is.
        close = self._src.find("'", self._pos)
        if close < 0:
            self._pos = len(self._src)
            raise LexError("unexpected end of statement while looking for matching single-quote")
        out.append(self._src[self._pos : close])
        self._pos = close + 1
        if self.raw_quotes:
            out.append("'")
        return "".join(out)

    def _double_quote(self) -> str:
        out: list[str] = []
        ch = self._next()
        if self.raw_quotes:
            out.append(ch)
        plain = _quoted_run(self.escape)
        while True:
            run = plain(self._src, self._pos)
            if run is not None:
                out.append(run.group())
                self._pos = run.end()
                continue
            peek = self._peek()
            if peek == _EOF:
                raise LexError(
                    "unexpected end of statement while looking for matching double-quote"
                )
            if peek == '"':
                ch = self._next()
                if self.raw_quotes:
                    out.append(ch)
                return "".join(out)
            if peek == "$":
                out.append(self._process_dollar())
                continue
            ch = self._next()
            if ch == self.escape:
                if self._raw_escapes:
                    out.append(ch)
                following = self._peek()
                if following == _EOF:
                    continue
                if following in ('"', "$", self.escape):
                    ch = self._next()
            out.append(ch)

    def _get_env(self, name: str) -> tuple[str, bool]:
        if name in self._env:
            self._matched.add(name)
            return self._env[name], True
        self._unmatched.add(name)
        return "", False

    def _process_name(self) -> str:
        name: list[str] = []
        while self._peek() != _EOF:
            ch = self._peek()
            if not name and ch.isdigit():
                while self._peek() != _EOF and self._peek().isdigit():
                    name.append(self._next())
                return "".join(name)
            if not name and ch in _SPECIAL_PARAMS:
                return self._next()
            if not (ch.isalpha() or ch.isdigit() or ch == "_"):
                break
            name.append(self._next())
        return "".join(name)

    def _process_dollar(self) -> str:
        self._next()
        if self._peek() != "{":
            name = self._process_name()
            if not name:
                return "$"
            value, found = self._get_env(name)
            if not found and self.skip_unset_env:
                return "$" + name
            return value
        self._next()
        peek = self._peek()
        if peek == _EOF:
            raise LexError("syntax error: missing '}'")
        if peek in "{}:":
            raise LexError("syntax error: bad substitution")
        name = self._process_name()
        ch = self._next()
        chs = ch if ch != _EOF else "\ufffd"
        null_is_unset = False
        if ch == "}":
            value, found = self._get_env(name)
            if not found and self.skip_unset_env:
                return "${" + name + "}"
            return value
        if ch == ":":
            null_is_unset = True
            ch = self._next()
            chs += ch if ch != _EOF else "\ufffd"
            return self._modifier(name, ch, chs, null_is_unset)
        if ch in "+-?#%" and ch != _EOF:
            return self._modifier(name, ch, chs, null_is_unset)
        if ch == "/":
            return self._replace(name)
        raise LexError(f"unsupported modifier ({chs}) in substitution")

    def _until(self, stop: str, raw_escapes: bool, missing: str) -> str:
        """The text up to `stop`; running out of input is BuildKit's `missing` error."""
        try:
            text, _ = self._process_stop_on(stop, raw_escapes)
        except LexError:
            if self._peek() == _EOF:
                raise LexError(missing) from None
            raise
        return text

    def _modifier(self, name: str, ch: str, chs: str, null_is_unset: bool) -> str:
        # After ':' any character falls through to here, as in BuildKit: `${V:%p}`
        # trims like `${V%p}`, and only an unknown modifier of a set variable fails.
        raw = ch in ("#", "%") and ch != _EOF
        word = self._until("}", raw, "syntax error: missing '}'")
        value, found = self._get_env(name)
        if self.skip_unset_env and not found:
            return "${" + name + chs + word + "}"
        if ch == "-":
            return word if (not found or (null_is_unset and value == "")) else value
        if ch == "+":
            return "" if (not found or (null_is_unset and value == "")) else word
        if ch == "?":
            if not found:
                raise LexError(f"{name}: {word or 'is not allowed to be unset'}")
            if null_is_unset and value == "":
                raise LexError(f"{name}: {word or 'is not allowed to be empty'}")
            return value
        if ch in ("%", "#") and ch != _EOF:
            greedy = bool(word) and word[0] == ch
            if greedy:
                word = word[1:]
            if ch == "%":
                return _trim_suffix(word, value, greedy)
            return _trim_prefix(word, value, greedy)
        raise LexError(f"unsupported modifier ({chs}) in substitution")

    def _replace(self, name: str) -> str:
        replace_all = self._peek() == "/"
        if replace_all:
            self._next()
        pattern = self._until("/", True, "syntax error: missing '/' in ${}")
        replacement = self._until("}", True, "syntax error: missing '}'")
        value, found = self._get_env(name)
        if self.skip_unset_env and not found:
            return "${" + name + "/" + pattern + "/" + replacement + "}"
        return glob_replace(pattern, value, replacement, replace_all)

    def _process_possible_heredoc(self) -> str:
        self._next()
        if self._peek() != "<":
            return "<"
        self._next()
        space: list[str] = []
        while self._peek() in ("\t", "\r", " ") and self._peek() != _EOF:
            space.append(self._next())
        return "<<" + "".join(space)


# Shell patterns (`${V#p}`, `${V%p}`, `${V/p/r}`): BuildKit turns them into Go
# regular expressions, which run in linear time. Python's `re` backtracks, and a
# pattern like `*a*a*a*b` over a long value would take polynomial time of high
# degree, so patterns run on a small Pike VM instead: same leftmost-first,
# greedy (or lazy) answers as Go's regexp, in O(len(value) * len(pattern)).
_STAR = 0  # `*`: any run of characters
_ANY = 1  # `?`: one character
_Glob = list["str | int"]  # literal characters, _STAR and _ANY
_MATCH = -1


def glob_tokens(pattern: str) -> _Glob:
    """The tokens of a shell pattern, escapes resolved (BuildKit's conversion rules)."""
    out: _Glob = []
    i = 0
    while i < len(pattern):
        tok = pattern[i]
        i += 1
        if tok == "*":
            out.append(_STAR)
        elif tok == "?":
            out.append(_ANY)
        elif tok == "\\":
            following = pattern[i] if i < len(pattern) else _EOF
            if following in ("}", "/") and following != _EOF:
                continue
            if following not in ("*", "?", "\\") or following == _EOF:
                shown = following if following != _EOF else "\ufffd"
                raise LexError(
                    f"invalid pattern ({pattern}) in substitution: invalid escape '\\{shown}'"
                )
            out.append(following)
            i += 1
        else:
            out.append(tok)
    return out


def _closure(
    tokens: _Glob, pc: int, greedy: bool, seen: set[tuple[bool, int]]
) -> list[tuple[bool, int]]:
    """Threads reachable from `pc` without reading, in priority order.

    A thread is (star_loop, pc): `pc == len(tokens)` is a match; `star_loop` is a
    thread that reads one character and stays on the `*` at pc.
    """
    out: list[tuple[bool, int]] = []
    stack: list[tuple[bool, int]] = [(False, pc)]
    while stack:
        thread = stack.pop()
        if thread in seen:
            continue
        seen.add(thread)
        loop, at = thread
        if not loop and at < len(tokens) and tokens[at] == _STAR:
            # `*` splits: read one more (greedy first) or move on (lazy first).
            first, second = ((True, at), (False, at + 1))
            if not greedy:
                first, second = second, first
            stack.append(second)
            stack.append(first)
            continue
        out.append(thread)
    return out


def glob_search(
    tokens: _Glob, text: str, pos: int = 0, *, greedy: bool = True, anchored: bool = False
) -> tuple[int, int] | None:
    """The leftmost-first match of the pattern in text[pos:], as (start, end)."""
    size = len(tokens)
    seen: set[tuple[bool, int]] = set()
    threads = [(t, pos) for t in _closure(tokens, 0, greedy, seen)]
    found: tuple[int, int] | None = None
    i = pos
    while True:
        ch = text[i] if i < len(text) else None
        following: list[tuple[tuple[bool, int], int]] = []
        seen = set()
        for (loop, at), start in threads:
            if not loop and at == size:
                found = (start, i)
                break  # lower-priority threads lose to this match
            if ch is None:
                continue
            if loop or tokens[at] == _ANY:
                accepts = ch != "\n"  # Go's `.` (so `*` and `?`) does not match a newline
            else:
                accepts = tokens[at] == ch
            if accepts:
                target = at if loop else at + 1
                following += [(t, start) for t in _closure(tokens, target, greedy, seen)]
        if ch is None:
            return found
        i += 1
        if found is None and not anchored:
            following += [(t, i) for t in _closure(tokens, 0, greedy, seen)]
        if not following:
            return found
        threads = following


def _trim_prefix(pattern: str, value: str, greedy: bool) -> str:
    match = glob_search(glob_tokens(pattern), value, greedy=greedy, anchored=True)
    return value[match[1] :] if match else value


def _trim_suffix(pattern: str, value: str, greedy: bool) -> str:
    tokens = glob_tokens(pattern)[::-1]
    reversed_value = value[::-1]
    match = glob_search(tokens, reversed_value, greedy=greedy, anchored=True)
    return (reversed_value[match[1] :] if match else reversed_value)[::-1]


def glob_replace(pattern: str, value: str, replacement: str, replace_all: bool) -> str:
    """Go's Regexp.ReplaceAllString (or the first match only) with a shell pattern."""
    tokens = glob_tokens(pattern)
    if not replace_all:
        match = glob_search(tokens, value)
        return value if match is None else value[: match[0]] + replacement + value[match[1] :]
    out: list[str] = []
    last_end = 0
    search = 0
    while search <= len(value):
        match = glob_search(tokens, value, search)
        if match is None:
            break
        start, end = match
        out.append(value[last_end:start])
        # No replacement for an empty match right after another match (Go's rule).
        if end > last_end or start == 0:
            out.append(replacement)
        last_end = end
        search = max(end, search + 1)
    out.append(value[last_end:])
    return "".join(out)
