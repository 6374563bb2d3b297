"""Bytes to text and back: encoding, BOM, physical lines, Go's notion of white space.

BuildKit reads a Dockerfile as bytes, drops a UTF-8 byte-order mark on the first
line, and keeps every line ending as it is (CRLF stays CRLF inside heredoc
bodies). It does not insist on UTF-8: a NUL byte in a value is kept, and bytes
that are not UTF-8 build (in a LABEL value the image gets U+FFFD instead). dlink
decodes with `surrogateescape`, so every byte survives a round trip; the reader
then accepts such bytes only where they cannot reach an image or a message
(comments, heredoc bodies) and refuses them inside an instruction.
"""

from __future__ import annotations

import re

UTF8_BOM = b"\xef\xbb\xbf"

# Checked longest first: the UTF-32 LE mark starts with the UTF-16 LE one.
_FOREIGN_BOMS = (
    (b"\xff\xfe\x00\x00", "UTF-32LE"),
    (b"\x00\x00\xfe\xff", "UTF-32BE"),
    (b"\xff\xfe", "UTF-16LE"),
    (b"\xfe\xff", "UTF-16BE"),
)

# unicode.IsSpace in Go: Latin-1 spaces plus the White_Space property. Python's
# str.isspace() also counts \x1c-\x1f, which Go does not.
GO_SPACE = frozenset(
    "\t\n\v\f\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000"
    + "".join(chr(c) for c in range(0x2000, 0x200B))
)
GO_SPACE_CLASS = "".join(sorted(GO_SPACE)).replace("\\", "\\\\")

# BuildKit's reWhitespace: the separator of instruction words.
WHITESPACE_RUN = re.compile(r"[\t\v\f\r ]+")

# What `surrogateescape` makes of a byte that is not UTF-8.
NOT_UTF8 = re.compile("[\udc80-\udcff]")

_LEADING_GO_SPACE = re.compile("[" + re.escape(GO_SPACE_CLASS) + "]*")
_LINE = re.compile(r"[^\n]*\n|[^\n]+")


class DecodeError(ValueError):
    """The bytes are not a UTF-8 text file; `line` is 1-based, `reason` one line."""

    def __init__(self, reason: str, line: int = 1) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line


def decode(data: bytes) -> tuple[bool, str]:
    """Return (had_utf8_bom, text). Raises DecodeError for UTF-16/32 files.

    Bytes that are not UTF-8 become lone surrogates (`surrogateescape`), which
    `encode` turns back into the same bytes.
    """
    for mark, name in _FOREIGN_BOMS:
        if data.startswith(mark):
            raise DecodeError(
                f"the file is {name} (byte-order mark); BuildKit reads only UTF-8, "
                "so convert it to UTF-8 first"
            )
    has_bom = data.startswith(UTF8_BOM)
    body = data[len(UTF8_BOM) :] if has_bom else data
    return has_bom, body.decode("utf-8", "surrogateescape")


def encode(has_bom: bool, text: str) -> bytes:
    return (UTF8_BOM if has_bom else b"") + text.encode("utf-8", "surrogateescape")


def byte_length(text: str) -> int:
    """Length in bytes of text as `encode` writes it."""
    return len(text.encode("utf-8", "surrogateescape"))


def printable(text: str) -> str:
    """Text safe to print: bytes that were not UTF-8 shown as U+FFFD."""
    if NOT_UTF8.search(text) is None:
        return text
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def split_lines(text: str) -> list[str]:
    """Physical lines, each with its own ending ('\\n', '\\r\\n', or none at end of file)."""
    return _LINE.findall(text)


def trim_newline(line: str) -> str:
    """Go's bytes.TrimRight(line, "\\r\\n")."""
    return line.rstrip("\r\n")


def leading_space_len(line: str) -> int:
    """Length of the leading run of Go white space."""
    if not line or line[0] not in GO_SPACE:
        return 0  # most lines: no regex call (this runs several times per line)
    match = _LEADING_GO_SPACE.match(line)
    return match.end() if match else 0


def go_trim_space(value: str) -> str:
    """Go's strings.TrimSpace."""
    start = leading_space_len(value)
    end = len(value)
    while end > start and value[end - 1] in GO_SPACE:
        end -= 1
    return value[start:end]
