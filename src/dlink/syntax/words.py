"""BuildKit's per-instruction argument parsers, with the position of every word.

Each function takes the instruction's logical line (continuations joined, as
BuildKit builds it) and returns what BuildKit's AST holds: flags, the argument
list and whether it was JSON. Word positions are offsets into the logical line,
so the reader can map them back to the bytes of the file.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from itertools import chain

from dlink.record import Record
from dlink.syntax.text import GO_SPACE, WHITESPACE_RUN, go_trim_space, leading_space_len


class SyntaxProblem(ValueError):
    """An instruction BuildKit's parser rejects; the message is BuildKit's own wording."""


class Word(Record):
    __slots__ = ("end", "start", "text")

    def __init__(self, text: str, start: int, end: int) -> None:
        self.text = text  # as BuildKit keeps it: quotes and escapes still in place
        self.start = start  # offsets into the logical line
        self.end = end


class NameValue(Record):
    """One `key=value` (or legacy `key value`) of LABEL or ENV."""

    __slots__ = ("key", "legacy", "value")

    def __init__(self, key: Word, value: Word, legacy: bool) -> None:
        self.key = key
        self.value = value
        self.legacy = legacy


class Parsed(Record):
    __slots__ = ("args", "args_start", "flags", "json", "keyword", "pairs", "sub", "words")

    def __init__(
        self,
        keyword: str,  # as written
        flags: tuple[str, ...],
        args: tuple[str, ...],  # BuildKit's node chain (name/value pairs carry their separator)
        json: bool,
        args_start: int,  # offset of the argument text in the logical line
        # Made for this reading only: the reader empties the list as it makes its tokens.
        pairs: list[NameValue] | tuple[()] = (),
        words: tuple[Word, ...] = (),  # ARG's words
        sub: Parsed | None = None,  # ONBUILD's instruction
    ) -> None:
        self.keyword = keyword
        self.flags = flags
        self.args = args
        self.json = json
        self.args_start = args_start
        self.pairs = pairs
        self.words = words
        self.sub = sub


# Keywords as written, each kept once: "RUN" is one string for every RUN of a file.
_KEYWORDS: dict[str, str] = {}


def split_command(line: str, escape: str) -> Parsed:
    """splitCommand + the dispatch table: the whole instruction from its logical line."""
    if line and line[0] not in GO_SPACE and line[-1] not in GO_SPACE:
        lead = 0
        trimmed = line  # the reader's lines: nothing to trim
    else:
        lead = leading_space_len(line)
        trimmed = go_trim_space(line)
    sep = WHITESPACE_RUN.search(trimmed)
    if sep is None:
        return _dispatch(trimmed, (), "", lead + len(trimmed), escape)
    word = trimmed[: sep.start()]
    keyword = _KEYWORDS.get(word)
    if keyword is None:
        keyword = word if len(_KEYWORDS) > 1000 else _KEYWORDS.setdefault(word, sys.intern(word))
    rest_start = lead + sep.end()
    rest = trimmed[sep.end() :]
    if rest[:2] != "--" and rest[0] not in GO_SPACE:
        # No flags (most instructions), and `rest` ends where `trimmed` does: nothing to trim.
        return _dispatch(keyword, (), rest, rest_start, escape)
    consumed, flags = extract_builder_flags(rest, escape)
    remaining = rest[consumed:]
    args_start = rest_start + consumed + leading_space_len(remaining)
    return _dispatch(keyword, tuple(flags), go_trim_space(remaining), args_start, escape)


def extract_builder_flags(line: str, escape: str) -> tuple[int, list[str]]:
    """Leading `--flag` words; returns how many characters they took, and the flags."""
    words: list[str] = []
    word: list[str] = []
    in_spaces, in_word, in_quote = 0, 1, 2
    phase = in_spaces
    quote = ""
    blank_ok = False
    pos = 0
    n = len(line)
    while pos <= n:
        ch = line[pos] if pos < n else ""
        if phase == in_spaces:
            if pos == n:
                break
            if ch in GO_SPACE:
                pos += 1
                continue
            if ch != "-" or pos + 1 == n or line[pos + 1] != "-":
                return pos, words
            phase = in_word
        if pos == n:
            text = "".join(word)
            if text != "--" and (blank_ok or text):
                words.append(text)
            break
        if phase == in_word:
            if ch in GO_SPACE:
                text = "".join(word)
                phase = in_spaces
                if text == "--":
                    return pos, words
                if blank_ok or text:
                    words.append(text)
                word = []
                blank_ok = False
                pos += 1
                continue
            if ch in "'\"":
                quote = ch
                blank_ok = True
                phase = in_quote
                pos += 1
                continue
            if ch == escape:
                if pos + 1 == n:
                    pos += 1
                    continue
                pos += 1
                ch = line[pos]
            word.append(ch)
            pos += 1
            continue
        # in_quote
        if ch == quote:
            phase = in_word
            pos += 1
            continue
        if ch == escape:
            if pos + 1 == n:
                phase = in_word
                pos += 1
                continue
            pos += 1
            ch = line[pos]
        word.append(ch)
        pos += 1
    return n, words


def _runs(escape: str) -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    """Runs of characters parse_words copies as they are: outside quotes, inside double
    quotes, inside single quotes (one pattern each, per escape character)."""
    runs = _RUNS.get(escape)
    if runs is None:
        stops = "".join(sorted(GO_SPACE)) + "'\"" + escape
        runs = _RUNS[escape] = (
            re.compile("[^" + re.escape(stops) + "]+"),
            re.compile('[^"' + re.escape(escape) + "]+"),
            re.compile("[^']+"),
        )
    return runs


_RUNS: dict[str, tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]] = {}
_SPACES = re.compile("[" + re.escape("".join(sorted(GO_SPACE))) + "]*")


def parse_words(rest: str, escape: str) -> list[Word]:
    """parseWords: split on white space, keeping quotes and escapes in the words.

    BuildKit walks the text a character at a time; here runs of characters that need
    no decision (no space, quote or escape) are copied whole, which gives the same words.
    """
    if _runs(escape)[0].fullmatch(rest):
        return [Word(rest, 0, len(rest))]  # one word, nothing to decide (`ENV V=1`)
    return list(_words(rest, escape))


def _words(rest: str, escape: str) -> Iterator[Word]:
    """parse_words, one word at a time (a LABEL of many pairs need not hold every word)."""
    plain, in_double, in_single = _runs(escape)
    word: list[str] = []
    in_spaces, in_word, in_quote = 0, 1, 2
    phase = in_spaces
    quote = ""
    blank_ok = False
    start = 0
    pos = 0
    n = len(rest)
    while pos < n:
        if phase == in_spaces:
            pos = _SPACES.match(rest, pos).end()  # type: ignore[union-attr]  # `*` always matches
            if pos == n:
                break
            phase = in_word
            start = pos
        if phase == in_word:
            run = plain.match(rest, pos)
            if run is not None:
                word.append(run.group())
                pos = run.end()
                continue
            ch = rest[pos]
            if ch in GO_SPACE:
                phase = in_spaces
                if blank_ok or word:
                    yield Word("".join(word), start, pos)
                word = []
                blank_ok = False
                pos += 1
                continue
            if ch in "'\"":
                quote = ch
                blank_ok = True
                phase = in_quote
            if ch == escape:
                if pos + 1 == n:
                    pos += 1
                    continue
                word.append(ch)
                pos += 1
                ch = rest[pos]
            word.append(ch)
            pos += 1
            continue
        # in_quote
        run = (in_single if quote == "'" else in_double).match(rest, pos)
        if run is not None:
            word.append(run.group())
            pos = run.end()
            continue
        ch = rest[pos]
        if ch == quote:
            phase = in_word
        if ch == escape and quote != "'":
            if pos + 1 == n:
                phase = in_word
                pos += 1
                continue
            pos += 1
            word.append(ch)
            ch = rest[pos]
        word.append(ch)
        pos += 1
    if phase != in_spaces and (blank_ok or word):
        yield Word("".join(word), start, pos)


def _shift(word: Word, offset: int) -> Word:
    return Word(word.text, word.start + offset, word.end + offset)


def _name_values(rest: str, keyword: str, escape: str, offset: int) -> list[NameValue]:
    if _runs(escape)[0].fullmatch(rest):
        words: Iterator[Word] = iter((Word(rest, 0, len(rest)),))
    else:
        words = _words(rest, escape)
    first = next(words, None)
    if first is None:
        return []
    if "=" not in first.text:
        sep = WHITESPACE_RUN.search(rest)
        if sep is None:
            raise SyntaxProblem(f"{keyword.upper()} must have two arguments")
        key = Word(rest[: sep.start()], offset, offset + sep.start())
        value = Word(rest[sep.end() :], offset + sep.end(), offset + len(rest))
        return [NameValue(key, value, legacy=True)]
    pairs = []
    for word in chain((first,), words):
        eq = word.text.find("=")
        if eq < 0:
            raise SyntaxProblem(
                f"Syntax error - can't find = in {_go_quote(word.text)}. Must be of the form: name=value"
            )
        text, start = word.text, offset + word.start
        key = Word(text[:eq], start, start + eq)
        value = Word(text[eq + 1 :], start + eq + 1, offset + word.end)
        pairs.append(NameValue(key, value, False))
    return pairs


def _go_quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


class _NotJSON(Exception):
    pass


_GO_JSON_MAX_DEPTH = 10_000


def _not_go_json(constant: str) -> object:
    raise ValueError(f"{constant} is not JSON to Go")


# Go's decoder: no NaN/Infinity, and a lone surrogate escape becomes U+FFFD.
_JSON = json.JSONDecoder(parse_constant=_not_go_json)
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _json_depth(text: str) -> tuple[int, bool]:
    """The deepest nesting of [ and { outside strings, and whether every one closes."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
            if depth < 0:
                return deepest, False
    return deepest, depth == 0 and not in_string


def _parse_json(rest: str) -> tuple[str, ...]:
    rest = rest[leading_space_len(rest) :]
    if not rest.startswith("["):
        raise _NotJSON
    try:
        # Go's json.Decoder reads the first value and ignores what follows it, so
        # `CMD ["a"] \` is JSON to BuildKit: raw_decode does the same.
        value, _end = _JSON.raw_decode(rest)
    except ValueError:
        raise _NotJSON from None
    except RecursionError:
        # Go's decoder refuses more than 10,000 levels (then it is not JSON to
        # BuildKit); Python's gives up far sooner: between the two, refuse plainly.
        deepest, balanced = _json_depth(rest)
        if deepest > _GO_JSON_MAX_DEPTH or not balanced:
            raise _NotJSON from None
        raise SyntaxProblem("JSON nested too deeply for dlink to read") from None
    if not isinstance(value, list):
        raise _NotJSON
    if not all(isinstance(item, str) for item in value):
        raise SyntaxProblem(
            "when using JSON array syntax, arrays must be comprised of strings only"
        )
    return tuple(_LONE_SURROGATE.sub("\ufffd", item) for item in value)


_ONE_ARG: dict[str, tuple[str]] = {}


def _maybe_json(rest: str) -> tuple[tuple[str, ...], bool]:
    if not rest:
        return (), False
    if rest[0] != "[" and rest[0] not in GO_SPACE:
        # Shell form (most RUN lines): not JSON, no decoder call. A short command that
        # repeats (`RUN true` in every stage) is one string and one tuple.
        if len(rest) <= 40:
            shared = _ONE_ARG.get(rest)
            if shared is None:
                shared = (rest,)
                if len(_ONE_ARG) < 4096:
                    _ONE_ARG[rest] = shared
            return shared, False
        return (rest,), False
    try:
        return _parse_json(rest), True
    except _NotJSON:
        return (rest,), False


def _maybe_json_list(rest: str) -> tuple[tuple[str, ...], bool]:
    try:
        return _parse_json(rest), True
    except _NotJSON:
        return _whitespace_list(rest), False


def _whitespace_list(rest: str) -> tuple[str, ...]:
    if not rest:
        return ()
    # Words such as "AS" and base images repeat from stage to stage: one string for each.
    words = rest.split(" ")
    if "" in words or "\t" in rest or "\r" in rest or "\f" in rest or "\v" in rest:
        words = WHITESPACE_RUN.split(rest)  # not single spaces only
    known = _SHARED.get
    return tuple([known(word) or _shared(word) for word in words])


# Short words seen in this process, each kept once (bounded: a generated file may have
# millions of distinct stage names, and those are not worth sharing).
_SHARED: dict[str, str] = {}


def _shared(word: str) -> str:
    known = _SHARED.get(word)
    if known is not None:
        return known
    if len(_SHARED) < 4096:
        _SHARED[word] = word
    return word


# Keyword as written -> its lower-case name.
_NAMES: dict[str, str] = {}


def _dispatch(keyword: str, flags: tuple[str, ...], rest: str, start: int, escape: str) -> Parsed:
    name = _NAMES.get(keyword)
    if name is None:
        name = keyword.lower()
        if len(_NAMES) < 1000:
            _NAMES[keyword] = name
    if name == "run":
        values, is_json = _maybe_json(rest)
        return Parsed(keyword, flags, values, is_json, start)
    if name == "from":
        return Parsed(keyword, flags, _whitespace_list(rest), False, start)
    if name in ("label", "env"):
        pairs = _name_values(rest, name, escape, start)
        args: list[str] = []
        for pair in pairs:
            args += (pair.key.text, pair.value.text, "" if pair.legacy else "=")
        return Parsed(keyword, flags, tuple(args), False, start, pairs=pairs)
    if name == "arg":
        words = tuple(_shift(w, start) for w in parse_words(rest, escape))
        return Parsed(keyword, flags, tuple(w.text for w in words), False, start, words=words)
    if name in ("cmd", "entrypoint", "shell"):
        values, is_json = _maybe_json(rest)
        return Parsed(keyword, flags, values, is_json, start)
    if name in ("add", "copy", "volume"):
        values, is_json = _maybe_json_list(rest)
        return Parsed(keyword, flags, values, is_json, start)
    if name == "expose":
        return Parsed(keyword, flags, _whitespace_list(rest), False, start)
    if name in ("maintainer", "stopsignal", "user", "workdir"):
        return Parsed(keyword, flags, (rest,) if rest else (), False, start)
    if name == "healthcheck":
        return _healthcheck(keyword, flags, rest, start)
    if name == "onbuild":
        if not rest:
            return Parsed(keyword, flags, (), False, start)
        sub = split_command(rest, escape)
        sub = _shifted(sub, start)
        return Parsed(keyword, flags, sub.args, sub.json, start, sub=sub)
    # BuildKit keeps unknown instructions with one empty argument (parseIgnore).
    return Parsed(keyword, flags, ("",), False, start)


def _shifted(parsed: Parsed, offset: int) -> Parsed:
    return Parsed(
        parsed.keyword,
        parsed.flags,
        parsed.args,
        parsed.json,
        parsed.args_start + offset,
        pairs=[
            NameValue(_shift(p.key, offset), _shift(p.value, offset), p.legacy)
            for p in parsed.pairs
        ],
        words=tuple(_shift(w, offset) for w in parsed.words),
        sub=_shifted(parsed.sub, offset) if parsed.sub else None,
    )


def _healthcheck(keyword: str, flags: tuple[str, ...], rest: str, start: int) -> Parsed:
    sep = 0
    while sep < len(rest) and rest[sep] not in GO_SPACE:
        sep += 1
    if sep == 0:
        return Parsed(keyword, flags, (), False, start)
    nxt = sep
    while nxt < len(rest) and rest[nxt] in GO_SPACE:
        nxt += 1
    values, is_json = _maybe_json(rest[nxt:])
    return Parsed(keyword, flags, (rest[:sep],) + values, is_json, start)
