"""Lossless Dockerfile reading that agrees with BuildKit's parser."""

from dlink.syntax.errors import ParseError
from dlink.syntax.reader import (
    Dockerfile,
    Heredoc,
    Instruction,
    LabelToken,
    Token,
    parse,
    parse_lines,
    parse_text,
)

__all__ = [
    "Dockerfile",
    "Heredoc",
    "Instruction",
    "LabelToken",
    "ParseError",
    "Token",
    "parse",
    "parse_lines",
    "parse_text",
]
