"""A small reader of HCL's native syntax, as bake files use it.

python-hcl2 (lark) cost 120-200 ms of CPU per run: 40 ms or more to import, then
80-110 ms to load its grammar and parse a 200-line bake file. dlink reads the bake file
on every `dlink check` in a repository that has one, so it reads HCL itself: one pass
over the text (about 3 ms for that file), no regular expressions, no tables built at
import.

`loads(text)` returns what `hcl2.loads(text, serialization_options=
SerializationOptions(strip_string_quotes=True, with_comments=False))` returns, because
that structure is what dlink.builds.bake was written against and python-hcl2 stays the
test oracle (tests/test_builds_hcl.py):

- a body is a dict: attributes by name, blocks as lists of bodies under their type,
  each block's labels nesting it (`target "a" {}` -> `{"target": [{"a": {...}}]}`)
  and `__is_block__: True` in each block body;
- a quoted string is its value (escapes resolved) with `${...}` interpolations kept
  as text; numbers, bools and null are Python values; tuples are lists; objects are
  dicts; a heredoc is its source text (`<<EOT ... EOT`);
- any other expression (a call, a reference, an operator, a conditional, a for
  expression) is its source rewritten the way python-hcl2 writes it: `"${a ? b : c}"`,
  one space around binary operators and after commas, quotes kept inside.

What it does not do: evaluate anything, accept the JSON syntax (bake's .json files are
read with json), or accept every oddity python-hcl2 accepts (a quoted string that spans
lines is an error here, as it is for HCL itself). It reads some valid HCL python-hcl2
refuses: a `/* */` comment inside an expression (read as a space), `a -1.5` (a
subtraction) and a for expression whose value is a number. Input that is not HCL raises
HclError with a line number; nesting is bounded so hostile input cannot exhaust the
stack, and long flat chains (`a.b.c...`, `1 + 1 + ...`) are built without recursion.
"""

from __future__ import annotations

from typing import Any

__all__ = ["HclError", "loads"]

# Deeper than any real bake file; low enough that the recursion (about six Python
# frames per level) stays far from the interpreter's limit.
MAX_DEPTH = 64

_NAME_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_NAME_REST = _NAME_START | frozenset("0123456789-")
_DIGITS = frozenset("0123456789")
_HEREDOC_MARK_REST = _NAME_START | frozenset("0123456789.-")
_SIMPLE_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}
_HEX = frozenset("0123456789abcdefABCDEF")
# Binary operators by precedence (HCL's table, loosest first), longest spelling first.
_BINARY = (
    ("||",),
    ("&&",),
    ("==", "!="),
    ("<=", ">=", "<", ">"),
    ("+", "-"),
    ("*", "/", "%"),
)
_KEYWORD_LITERALS = {"true": True, "false": False, "null": None}

# Expression nodes are tuples whose first item says what they are; `_render` turns them
# into python-hcl2's output.
Node = tuple[Any, ...]


class HclError(ValueError):
    """Text that is not HCL: a one-line reason and the line it was found on."""

    def __init__(self, reason: str, line: int) -> None:
        super().__init__(f"{reason} (line {line})")
        self.reason = reason
        self.line = line


def loads(text: str) -> dict[str, Any]:
    """The body of an HCL file, shaped as python-hcl2 shapes it (see the module doc)."""
    return _Reader(text).body(top=True)


class _Reader:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.depth = 0
        self.bracketed = False  # inside (), [] or ${}, where a newline is only a space
        self.heredoc_end = -1  # just after the newline that ends the last heredoc read

    # -- errors and positions ------------------------------------------------------

    def fail(self, reason: str, pos: int | None = None) -> HclError:
        at = self.pos if pos is None else pos
        return HclError(reason, self.text.count("\n", 0, at) + 1)

    def describe(self) -> str:
        if self.pos >= len(self.text):
            return "end of file"
        char = self.text[self.pos]
        if char == "\n":
            return "end of line"
        if char in _NAME_START:
            end = self.pos + 1
            while end < len(self.text) and self.text[end] in _NAME_REST and end - self.pos < 40:
                end += 1
            return repr(self.text[self.pos : end])
        return repr(char)

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail(f"nested deeper than {MAX_DEPTH} levels")

    # -- white space and comments ----------------------------------------------------

    def skip(self, newlines: bool = False, spaces_only: bool = False) -> None:
        """Spaces and comments; newlines too where they are only spaces."""
        text = self.text
        end = len(text)
        newlines = newlines or (self.bracketed and not spaces_only)
        while self.pos < end:
            char = text[self.pos]
            if char in " \t\r" or (char == "\n" and newlines):
                self.pos += 1
            elif spaces_only:
                return
            elif char == "#" or text.startswith("//", self.pos):
                stop = text.find("\n", self.pos)
                self.pos = end if stop < 0 else stop
            elif text.startswith("/*", self.pos):
                stop = text.find("*/", self.pos + 2)
                if stop < 0:
                    raise self.fail("unterminated /* comment")
                self.pos = stop + 2
            else:
                return

    def bracket(self, bracketed: bool) -> bool:
        """Enter (or leave, for an object or a block) a place where newlines are spaces."""
        saved, self.bracketed = self.bracketed, bracketed
        return saved

    def peek(self, token: str) -> bool:
        return self.text.startswith(token, self.pos)

    def expect(self, token: str, what: str) -> None:
        if not self.text.startswith(token, self.pos):
            raise self.fail(f"expected {what}, found {self.describe()}")
        self.pos += len(token)

    def name(self) -> str | None:
        text = self.text
        start = self.pos
        if start >= len(text) or text[start] not in _NAME_START:
            return None
        end = start + 1
        while end < len(text) and text[end] in _NAME_REST:
            end += 1
        self.pos = end
        return text[start:end]

    # -- bodies and blocks ------------------------------------------------------------

    def body(self, top: bool) -> dict[str, Any]:
        result: dict[str, Any] = {}
        attributes: set[str] = set()
        while True:
            self.skip(newlines=True)
            if self.pos >= len(self.text):
                if not top:
                    raise self.fail("expected '}' to close the block")
                return result
            if self.peek("}"):
                if top:
                    raise self.fail("unexpected '}'")
                return result
            start = self.pos
            name = self.name()
            if name is None:
                raise self.fail(f"expected an attribute or a block, found {self.describe()}")
            self.skip()
            if self.peek("=") and not self.peek("=="):
                self.pos += 1
                self.skip()
                value = _render(self.expression(), inside=False)
                self.end_of_item()
                attributes.add(name)
                result[name] = value
                continue
            labels: list[str] = []
            while not self.peek("{"):
                if self.peek('"'):
                    labels.append(_render(self.string(), inside=False))
                else:
                    label = self.name()
                    if label is None:
                        raise self.fail(
                            f"expected '=' or a block label after {name!r}, found {self.describe()}"
                        )
                    labels.append(label)
                if len(labels) > MAX_DEPTH:
                    raise self.fail(f"a block with more than {MAX_DEPTH} labels")
                self.skip()
                if self.peek("\n"):
                    self.skip(newlines=True)
                    if not self.peek("{"):
                        raise self.fail(f"expected '{{' to open the block {name!r}")
            self.pos += 1
            if name in attributes:
                raise self.fail(f"block {name!r} has the name of an attribute", start)
            self.enter()
            saved = self.bracket(False)
            block = self.body(top=False)
            self.bracketed = saved
            self.depth -= 1
            self.pos += 1  # the closing brace
            block["__is_block__"] = True
            for label in reversed(labels):
                block = {label: block}
            blocks = result.get(name)
            if not isinstance(blocks, list):
                blocks = result[name] = []
            blocks.append(block)

    def end_of_item(self) -> None:
        self.skip()
        if not self.at_line_end():
            raise self.fail(f"expected the end of the line, found {self.describe()}")

    def at_line_end(self) -> bool:
        """At a newline, a closing brace or the end, or just past a heredoc's last line."""
        if self.pos >= len(self.text) or self.peek("\n") or self.peek("}"):
            return True
        after_heredoc = self.text[self.heredoc_end : self.pos]
        return self.heredoc_end >= 0 and not after_heredoc.strip(" \t\r")

    # -- expressions ----------------------------------------------------------------

    def expression(self) -> Node:
        self.enter()
        condition = self.binary(0)
        self.skip()
        if self.peek("?"):
            self.pos += 1
            self.skip(newlines=True)
            if_true = self.expression()
            self.skip(newlines=True)
            self.expect(":", "':' of a conditional")
            self.skip(newlines=True)
            if_false = self.expression()
            condition = ("cond", condition, if_true, if_false)
        self.depth -= 1
        return condition

    def binary(self, lowest: int) -> Node:
        """Operators by precedence climbing: one loop per level met, not one frame each.

        python-hcl2 writes an operation out flat (`a + b * c`), so a chain is kept as its
        text, built once: `1 + 1 + ...` makes no deep tree to recurse through later.
        """
        left = self.unary()
        parts: list[str] = []
        while True:
            self.skip()
            found = self.operator()
            if found is None or found[1] < lowest:
                return ("expr", "".join(parts)) if parts else left
            operator, level = found
            self.pos += len(operator)
            self.skip(newlines=True)
            right = self.binary(level + 1)
            if not parts:
                parts.append(_source(left))
            parts += (f" {operator} ", _source(right))

    def operator(self) -> tuple[str, int] | None:
        for level, operators in enumerate(_BINARY):
            for operator in operators:
                if self.peek(operator):
                    return operator, level
        return None

    def unary(self) -> Node:
        if self.peek("-") or (self.peek("!") and not self.peek("!=")):
            operator = self.text[self.pos]
            self.pos += 1
            self.skip()
            return ("unary", operator, self.postfix())
        return self.postfix()

    def postfix(self) -> Node:
        """`a.b[0].*.c`: kept as its text, built once (as operations are, see binary)."""
        node = self.primary()
        parts: list[str] = []
        while True:
            self.skip()
            if self.peek(".*"):
                self.pos += 2
                suffix = ".*" + self.splat_trailers()
            elif self.peek("[*]"):
                self.pos += 3
                suffix = "[*]" + self.splat_trailers()
            elif self.peek(".") and not self.peek("..."):
                suffix = self.attribute_access()
            elif self.peek("["):
                suffix = self.index()
            else:
                return ("expr", "".join(parts)) if parts else node
            if not parts:
                parts.append(_source(node))
            parts.append(suffix)

    def attribute_access(self) -> str:
        self.pos += 1
        self.skip()
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] in _DIGITS:
            self.pos += 1
        if self.pos > start:
            return "." + str(int(self.text[start : self.pos]))
        name = self.name()
        if name is None:
            raise self.fail(f"expected an attribute name after '.', found {self.describe()}")
        return "." + name

    def index(self) -> str:
        self.pos += 1
        saved = self.bracket(True)
        self.skip()
        key = self.expression()
        self.skip()
        self.expect("]", "']' to close the index")
        self.bracketed = saved
        return "[" + str(_render(key, inside=True)) + "]"

    def splat_trailers(self) -> str:
        trailers: list[str] = []
        while True:
            self.skip()
            if self.peek(".") and not self.peek(".*") and not self.peek("..."):
                trailers.append(self.attribute_access())
            elif self.peek("[") and not self.peek("[*]"):
                trailers.append(self.index())
            else:
                return "".join(trailers)

    def primary(self) -> Node:
        text = self.text
        if self.pos >= len(text):
            raise self.fail("expected an expression, found end of file")
        char = text[self.pos]
        if char == '"':
            return self.string()
        if char in _DIGITS:
            return self.number()
        if char == "[":
            return self.sequence()
        if char == "{":
            return self.object()
        if char == "(":
            self.pos += 1
            saved = self.bracket(True)
            self.skip()
            inner = self.expression()
            self.skip()
            self.expect(")", "')'")
            self.bracketed = saved
            return ("paren", inner)
        if text.startswith("<<", self.pos):
            return self.heredoc()
        name = self.name()
        if name is None:
            raise self.fail(f"expected an expression, found {self.describe()}")
        self.skip(newlines=False, spaces_only=True)
        if self.peek("::") or self.peek("("):
            while self.peek("::"):
                self.pos += 2
                part = self.name()
                if part is None:
                    raise self.fail("expected a function name after '::'")
                name += "::" + part
                self.skip()
            return self.call(name)
        if name in _KEYWORD_LITERALS:
            return ("keyword", name)
        return ("name", name)

    def number(self) -> Node:
        text = self.text
        start = self.pos
        end = start
        while end < len(text) and text[end] in _DIGITS:
            end += 1
        is_float = False
        if end + 1 < len(text) and text[end] == "." and text[end + 1] in _DIGITS:
            is_float = True
            end += 1
            while end < len(text) and text[end] in _DIGITS:
                end += 1
        if end < len(text) and text[end] in "eE":
            mark = end + 1
            if mark < len(text) and text[mark] in "+-":
                mark += 1
            if mark < len(text) and text[mark] in _DIGITS:
                is_float = True
                end = mark
                while end < len(text) and text[end] in _DIGITS:
                    end += 1
        self.pos = end
        return ("float" if is_float else "int", text[start:end])

    def call(self, name: str) -> Node:
        self.expect("(", "'('")
        saved = self.bracket(True)
        arguments: list[Node] = []
        expand = False
        self.skip()
        while not self.peek(")"):
            arguments.append(self.expression())
            self.skip()
            if self.peek("..."):
                self.pos += 3
                expand = True
                self.skip()
                break
            if not self.peek(","):
                break
            self.pos += 1
            self.skip()
        self.expect(")", f"',' or ')' in the arguments of {name}()")
        self.bracketed = saved
        return ("call", name, arguments, expand)

    def sequence(self) -> Node:
        self.pos += 1
        saved = self.bracket(True)
        self.skip()
        start = self.pos
        if self.name() == "for":
            self.skip()
            if self.peek_name():
                intro = self.for_intro()
                value = self.expression()
                condition = self.for_condition()
                self.expect("]", "']' to close the for expression")
                self.bracketed = saved
                return ("for_tuple", intro, value, condition)
        self.pos = start
        items: list[Node] = []
        while not self.peek("]"):
            items.append(self.expression())
            self.skip()
            if not self.peek(","):
                break
            self.pos += 1
            self.skip()
        self.expect("]", "',' or ']' in a list")
        self.bracketed = saved
        return ("tuple", items)

    def peek_name(self) -> bool:
        return self.pos < len(self.text) and self.text[self.pos] in _NAME_START

    def object(self) -> Node:
        """`{ key = value, ... }`: newlines separate elements, as commas do."""
        self.pos += 1
        saved = self.bracket(True)
        self.skip()
        start = self.pos
        if self.name() == "for":
            self.skip()
            if self.peek_name():
                intro = self.for_intro()
                key = self.expression()
                self.skip()
                self.expect("=>", "'=>' in the for expression")
                self.skip()
                value = self.expression()
                self.skip()
                grouped = self.peek("...")
                if grouped:
                    self.pos += 3
                condition = self.for_condition()
                self.expect("}", "'}' to close the for expression")
                self.bracketed = saved
                return ("for_object", intro, key, value, grouped, condition)
        self.pos = start
        self.bracketed = False
        items: list[tuple[Node, Node]] = []
        while True:
            self.skip(newlines=True)
            if self.peek("}"):
                break
            key = self.object_key()
            self.skip()
            if self.peek(":") or (self.peek("=") and not self.peek("==")):
                self.pos += 1
            else:
                raise self.fail(f"expected '=' or ':' after an object key, found {self.describe()}")
            self.skip()
            items.append((key, self.expression()))
            self.skip()
            if self.peek(","):
                self.pos += 1
            elif not self.at_line_end():
                raise self.fail(
                    f"expected ',', a new line or '}}' in an object, found {self.describe()}"
                )
        self.pos += 1
        self.bracketed = saved
        return ("object", items)

    def object_key(self) -> Node:
        start = self.pos
        name = self.name()
        if name is not None:
            self.skip()
            if self.peek(":") or (self.peek("=") and not self.peek("==")):
                return ("key", name)
            self.pos = start
        return self.expression()

    def for_intro(self) -> str:
        first = self.name()
        self.skip()
        second = None
        if self.peek(","):
            self.pos += 1
            self.skip()
            second = self.name()
            if second is None:
                raise self.fail("expected a second name in the for expression")
            self.skip()
        if self.name() != "in":
            raise self.fail("expected 'in' in the for expression")
        self.skip()
        collection = self.expression()
        self.skip()
        self.expect(":", "':' in the for expression")
        self.skip()
        names = f"{first}, {second}" if second else str(first)
        return f"for {names} in {_render(collection, inside=True)} : "

    def for_condition(self) -> Node | None:
        self.skip()
        start = self.pos
        if self.name() == "if":
            self.skip()
            condition = self.expression()
            self.skip()
            return condition
        self.pos = start
        return None

    # -- strings and heredocs ----------------------------------------------------------

    def string(self) -> Node:
        """A quoted template: its parts, as python-hcl2's lexer cuts them."""
        text = self.text
        start = self.pos
        self.pos += 1
        parts: list[Node] = []
        chars_from = self.pos
        open_directives = 0

        def flush() -> None:
            if self.pos > chars_from:
                kind = "raw" if open_directives else "chars"
                parts.append((kind, text[chars_from : self.pos]))

        while True:
            if self.pos >= len(text) or text[self.pos] == "\n":
                raise self.fail("unterminated string", start)
            char = text[self.pos]
            if char == '"':
                flush()
                self.pos += 1
                if open_directives:
                    raise self.fail("template directive without its end", start)
                return ("string", parts)
            if char == "\\":
                if text.startswith("\n", self.pos + 1):
                    raise self.fail("unterminated string", start)
                self.pos += 2
                continue
            if text.startswith("$${", self.pos) or text.startswith("%%{", self.pos):
                flush()
                stop = text.find("}", self.pos)
                if stop < 0:
                    raise self.fail("unterminated escaped template sequence")
                parts.append(("raw", text[self.pos : stop + 1]))
                self.pos = stop + 1
                chars_from = self.pos
                continue
            if text.startswith("${", self.pos):
                flush()
                self.pos += 2
                saved = self.bracket(True)
                self.skip()
                inner = self.expression()
                self.skip()
                self.expect("}", "'}' to close the interpolation")
                self.bracketed = saved
                parts.append(("interpolation", inner))
                chars_from = self.pos
                continue
            if text.startswith("%{", self.pos):
                flush()
                self.pos += 2
                rendered, change = self.directive()
                if open_directives + change < 0:
                    raise self.fail("template directive end without its start")
                open_directives += change
                parts.append(("raw", rendered))
                chars_from = self.pos
                continue
            self.pos += 1

    def directive(self) -> tuple[str, int]:
        """`%{ if x }`, `%{ else }`, `%{ endif }`, `%{ for v in x }`, `%{ endfor }`."""
        strip_open = self.peek("~")
        if strip_open:
            self.pos += 1
        saved = self.bracket(True)
        self.skip()
        keyword = self.name()
        self.skip()
        if keyword == "if":
            body, change = "if " + str(_render(self.expression(), inside=True)), 1
        elif keyword == "for":
            first = self.name()
            self.skip()
            names = str(first)
            if self.peek(","):
                self.pos += 1
                self.skip()
                names += f", {self.name()}"
                self.skip()
            if self.name() != "in":
                raise self.fail("expected 'in' in the template for directive")
            self.skip()
            body, change = f"for {names} in {_render(self.expression(), inside=True)}", 1
        elif keyword in ("else", "endif", "endfor"):
            body, change = str(keyword), (0 if keyword == "else" else -1)
        else:
            raise self.fail("unknown template directive")
        self.skip()
        strip_close = self.peek("~")
        if strip_close:
            self.pos += 1
        self.expect("}", "'}' to close the template directive")
        self.bracketed = saved
        prefix = "~ " if strip_open else " "
        suffix = " ~" if strip_close else " "
        return f"%{{{prefix}{body}{suffix}}}", change

    def heredoc(self) -> Node:
        """`<<EOT` or `<<-EOT` up to the line that is only (indentation and) EOT."""
        text = self.text
        start = self.pos
        mark_at = start + (3 if text.startswith("<<-", start) else 2)
        end = mark_at
        if end < len(text) and text[end] in _NAME_START - {"_"}:
            end += 1
            while end < len(text) and text[end] in _HEREDOC_MARK_REST:
                end += 1
        marker = text[mark_at:end]
        if not marker:
            raise self.fail("expected a heredoc marker after '<<'")
        if text.startswith("\r\n", end):
            end += 1
        if not text.startswith("\n", end):
            raise self.fail("expected the end of the line after the heredoc marker")
        line_start = end + 1
        while True:
            if line_start > len(text):
                raise self.fail(f"heredoc without its closing {marker}", start)
            line_end = text.find("\n", line_start)
            if line_end < 0:
                line_end = len(text)
            line = text[line_start:line_end].rstrip("\r")
            if line.lstrip() == marker:
                # python-hcl2's heredoc token ends with the newline after its marker, so
                # an operator on the next line continues the expression; so it does here.
                value = text[start : line_start + len(line)]
                self.pos = self.heredoc_end = min(line_end + 1, len(text))
                return ("heredoc", value)
            line_start = line_end + 1


# -- rendering, as python-hcl2 serializes (hcl2/rules/*.py) ------------------------------


def _is_dollar(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("${") and value.endswith("}")


def _dollar(value: Any) -> Any:
    return value if _is_dollar(value) else f"${{{value}}}"


def _parenthesized(value: Any) -> str:
    if _is_dollar(value):
        return str(_dollar(f"({value[2:-1]})"))
    return f"({value})"


def _render(node: Node, inside: bool) -> Any:
    """A node as python-hcl2 gives it: a value at the top, source text inside `${}`."""
    kind = node[0]
    if kind == "string":
        if inside:
            return '"' + "".join(_render_part(part, inside=True) for part in node[1]) + '"'
        return "".join(_render_part(part, inside=False) for part in node[1])
    if kind == "int":
        return int(node[1])
    if kind == "float":
        if "e" in node[1].lower():
            return node[1] if inside else _dollar(node[1])
        return float(node[1])
    if kind == "keyword":
        return node[1] if inside else _KEYWORD_LITERALS[node[1]]
    if kind in ("name", "key"):
        return node[1]
    if kind == "heredoc":
        return node[1]
    if kind == "tuple":
        if not inside:
            return [_render(item, inside=False) for item in node[1]]
        return "[" + ", ".join(str(_render(item, inside=True)) for item in node[1]) + "]"
    if kind == "object":
        if not inside:
            return {_render_key(key, inside=False): _render(value, False) for key, value in node[1]}
        elements = ", ".join(
            f"{_render_key(key, inside=True)} = {_render(value, True)}" for key, value in node[1]
        )
        return "{" + elements + "}"
    if kind == "paren":
        parenthesized = _parenthesized(_render(node[1], inside))
        return parenthesized if inside else _dollar(parenthesized)
    if kind == "unary":
        operand = _render(node[2], inside=True)
        if inside:
            return f"{node[1]}{operand}"
        if node[1] == "-" and isinstance(operand, (int, float)) and not isinstance(operand, bool):
            return -operand
        return _dollar(f"{node[1]}{operand}")
    if kind == "expr":
        rendered = node[1]
    elif kind == "cond":
        rendered = f"{_render(node[1], True)} ? {_render(node[2], True)} : {_render(node[3], True)}"
    elif kind == "call":
        arguments = ", ".join(str(_render(argument, True)) for argument in node[2])
        rendered = f"{node[1]}({arguments}{' ...' if node[3] else ''})"
    elif kind == "for_tuple":
        condition = f" if {_render(node[3], True)}" if node[3] is not None else ""
        rendered = f"[{node[1]}{_render(node[2], True)}{condition}]"
    elif kind == "for_object":
        condition = f" if {_render(node[5], True)}" if node[5] is not None else ""
        grouped = "..." if node[4] else ""
        rendered = (
            f"{{{node[1]}{_render(node[2], True)} => {_render(node[3], True)}{grouped}{condition}}}"
        )
    else:  # pragma: no cover - every node kind the reader makes is handled above
        raise AssertionError(kind)
    return rendered if inside else _dollar(rendered)


def _source(node: Node) -> str:
    """A node as it is written inside `${}`."""
    return str(_render(node, inside=True))


def _render_key(node: Node, inside: bool) -> Any:
    kind = node[0]
    if kind in ("int", "float", "string", "name", "key"):
        key = _render(node, inside)
        return str(key) if isinstance(key, (int, float)) else key
    if kind == "keyword":
        return node[1]
    rendered = _render(node, inside=True)
    return rendered if inside else _dollar(rendered)


def _render_part(part: Node, inside: bool) -> str:
    kind = part[0]
    if kind == "chars":
        return part[1] if inside else _unescape(part[1])
    if kind == "raw":
        return str(part[1])
    return str(_dollar(_render(part[1], inside=True)))


def _unescape(chars: str) -> str:
    """HCL's escapes in literal text; an unknown escape stays as written (as python-hcl2)."""
    if "\\" not in chars:
        return chars
    result: list[str] = []
    index = 0
    while index < len(chars):
        char = chars[index]
        if char != "\\" or index + 1 >= len(chars):
            result.append(char)
            index += 1
            continue
        marker = chars[index + 1]
        if marker in _SIMPLE_ESCAPES:
            result.append(_SIMPLE_ESCAPES[marker])
            index += 2
            continue
        width = 4 if marker == "u" else 8 if marker == "U" else 0
        digits = chars[index + 2 : index + 2 + width]
        if width and len(digits) == width and all(d in _HEX for d in digits):
            codepoint = int(digits, 16)
            if codepoint <= 0x10FFFF and not 0xD800 <= codepoint < 0xE000:
                result.append(chr(codepoint))
                index += 2 + width
                continue
        result.append(char + marker)
        index += 2
    return "".join(result)
