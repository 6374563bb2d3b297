"""Shell patterns in `${V#p}`, `${V%p}`, `${V/p/r}`: a linear matcher with regex answers.

BuildKit turns these patterns into Go regular expressions (linear time). dlink
runs them on a small Pike VM instead of Python's backtracking `re`; the property
here is that both give the same leftmost-first match, greedy or lazy, for every
pattern and value drawn (small enough for `re` to be quick), and the last test
is the input that made `re` take forever.
"""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from dlink.syntax.lexer import ShellLex, glob_search, glob_tokens

_patterns = st.text(alphabet="ab*?\\}/", max_size=8)
_values = st.text(alphabet="ab}/\n", max_size=12)


def _regex(pattern: str, *, greedy: bool, anchored: bool) -> re.Pattern[str] | None:
    """The regex BuildKit builds from a shell pattern (the reference; None if invalid)."""
    out = ["^"] if anchored else []
    i = 0
    while i < len(pattern):
        tok = pattern[i]
        i += 1
        if tok == "*":
            out.append(".*" if greedy else ".*?")
        elif tok == "?":
            out.append(".")
        elif tok == "\\":
            following = pattern[i] if i < len(pattern) else ""
            if following in ("}", "/") and following:
                continue
            if following not in ("*", "?", "\\") or not following:
                return None
            out.append("\\" + following)
            i += 1
        else:
            out.append(re.escape(tok))
    return re.compile("".join(out))  # like Go's regexp: `.` does not match a newline


@settings(max_examples=500, deadline=None, derandomize=True)
@given(pattern=_patterns, value=_values, greedy=st.booleans(), anchored=st.booleans())
def test_same_match_as_a_regex(pattern: str, value: str, greedy: bool, anchored: bool) -> None:
    regex = _regex(pattern, greedy=greedy, anchored=anchored)
    if regex is None:
        return
    for pos in range(len(value) + 1):
        expected = regex.search(value, pos)
        if anchored and pos:
            break
        got = glob_search(glob_tokens(pattern), value, pos, greedy=greedy, anchored=anchored)
        assert got == (expected.span() if expected else None), (pattern, value, pos)


def test_expansions_with_patterns() -> None:
    env = {"V": "a/b/c.tar.gz", "E": ""}
    lex = ShellLex()
    cases = {
        "${V#*/}": "b/c.tar.gz",
        "${V##*/}": "c.tar.gz",
        "${V%.*}": "a/b/c.tar",
        "${V%%.*}": "a/b/c",
        "${V/\\//-}": "a-b/c.tar.gz",
        "${V//\\//-}": "a-b-c.tar.gz",
        "${V//?/x}": "xxxxxxxxxxxx",
        "${E//*/x}": "x",
        "${V//*/x}": "x",
    }
    for word, value in cases.items():
        assert lex.process_word(word, env).value == value, word


def test_a_pattern_that_makes_regexes_backtrack_is_quick() -> None:
    env = {"V": "a" * 20_000}
    lex = ShellLex()
    # A backtracking matcher never finishes these (hours); the Pike VM takes a second.
    assert lex.process_word("${V#*a*a*a*a*a*a*a*a*b}", env).value == env["V"]
    assert lex.process_word("${V/a*a*a*a*a*a*b/x}", env).value == env["V"]
