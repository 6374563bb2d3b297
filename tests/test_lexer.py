"""BuildKit's word lexer, as dlink uses it to expand LABEL values."""

from __future__ import annotations

import pytest

from dlink.syntax.lexer import LexError, ShellLex

ENV = {"V": "value", "EMPTY": "", "URL": "https://github.com/acme/widget"}


@pytest.mark.parametrize(
    ("word", "expected", "unmatched"),
    [
        pytest.param("$V", "value", set(), id="dollar-name"),
        pytest.param("${V}", "value", set(), id="braces"),
        pytest.param("pre-${V}-post", "pre-value-post", set(), id="inside-a-word"),
        pytest.param("${UNSET:-word}", "word", {"UNSET"}, id="colon-dash-unset"),
        pytest.param("${EMPTY:-word}", "word", set(), id="colon-dash-empty"),
        pytest.param("${EMPTY-word}", "", set(), id="dash-empty-is-set"),
        pytest.param("${UNSET-word}", "word", {"UNSET"}, id="dash-unset"),
        pytest.param("${V:+word}", "word", set(), id="colon-plus-set"),
        pytest.param("${EMPTY:+word}", "", set(), id="colon-plus-empty"),
        pytest.param("${EMPTY+word}", "word", set(), id="plus-empty-is-set"),
        pytest.param("${UNSET+word}", "", {"UNSET"}, id="plus-unset"),
        pytest.param("${UNSET:-$V}", "value", {"UNSET"}, id="nested-default"),
        pytest.param("\\$V", "$V", set(), id="escaped-dollar"),
        pytest.param("'$V'", "$V", set(), id="single-quotes-literal"),
        pytest.param('"$V and more"', "value and more", set(), id="double-quotes-expand"),
        pytest.param('"a \\"b\\" c"', 'a "b" c', set(), id="escaped-double-quote"),
        pytest.param("a\\ b", "a b", set(), id="escaped-space"),
        pytest.param("$", "$", set(), id="lone-dollar"),
        pytest.param("${URL%/widget}", "https://github.com/acme", set(), id="suffix-trim"),
        pytest.param("${URL#https://}", "github.com/acme/widget", set(), id="prefix-trim"),
        pytest.param("${URL/acme/monalisa}", "https://github.com/monalisa/widget", set(), id="replace"),
        pytest.param("$UNSET", "", {"UNSET"}, id="unset-is-empty"),
    ],
)
def test_process_word(word: str, expected: str, unmatched: set[str]) -> None:
    result = ShellLex().process_word(word, ENV)
    assert result.value == expected
    assert result.unmatched == unmatched


def test_backtick_escape() -> None:
    lex = ShellLex("`")
    assert lex.process_word("C:\\path `$V", ENV).value == "C:\\path $V"


@pytest.mark.parametrize(
    "word",
    [
        pytest.param('"open', id="double-quote"),
        pytest.param("'open", id="single-quote"),
        pytest.param("${V", id="brace"),
        pytest.param("${:V}", id="bad-substitution"),
        pytest.param("${V:x}", id="bad-modifier"),
        pytest.param("${UNSET?is required}", id="required"),
    ],
)
def test_errors(word: str) -> None:
    with pytest.raises(LexError):
        ShellLex().process_word(word, ENV)


def test_words_split_after_expansion() -> None:
    words = ShellLex(raw_quotes=True, raw_escapes=True, skip_unset_env=True).process_words(
        'RUN <<EOF cat "a b" $UNSET', {}
    )
    assert words == ["RUN", "<<EOF", "cat", '"a b"', "$UNSET"]
