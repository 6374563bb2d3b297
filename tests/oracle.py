"""The official BuildKit parser (the `dockerfile` package) as a test oracle.

The package vendors BuildKit v0.12.5's parser, while dlink follows today's
BuildKit. `as_oracle` renders dlink's instructions the way that version's AST
looks (name/value nodes without the separator node that later versions add), so
the two can be compared field by field.
"""

from __future__ import annotations

from typing import Any

import pytest

from dlink.syntax import Instruction

try:
    import dockerfile as _oracle
except ImportError:  # pragma: no cover - platform without wheels
    _oracle = None


def oracle() -> Any:
    if _oracle is None:
        from conftest import UNDER_CI

        if UNDER_CI:
            pytest.fail("the BuildKit oracle (package 'dockerfile') must be installed under CI")
        pytest.skip("the BuildKit oracle (package 'dockerfile') has no wheel for this platform")
    return _oracle


def _args(instruction: Instruction) -> tuple[str, ...]:
    target = instruction.sub or instruction
    if target.name in ("label", "env"):
        out: list[str] = []
        for key, value, _sep in zip(target.args[0::3], target.args[1::3], target.args[2::3]):
            out += (key, value)
        return tuple(out)
    return target.args


def as_oracle(instruction: Instruction) -> dict[str, Any]:
    target = instruction.sub or instruction
    return {
        "cmd": instruction.keyword,
        "sub_cmd": instruction.sub.keyword if instruction.sub else None,
        "json": target.json,
        "start_line": instruction.start_line,
        "end_line": instruction.end_line,
        "flags": instruction.flags,
        "value": _args(instruction),
        # The binding reports heredocs of the ONBUILD's inner node, which has none.
        "heredocs": ()
        if instruction.sub
        else tuple((h.name, h.content) for h in instruction.heredocs),
    }


def oracle_view(command: Any) -> dict[str, Any]:
    return {
        # The binding gives None for an empty instruction name (a lone escape on the
        # last line); BuildKit's node has "" there, as dlink does.
        "cmd": "" if command.cmd is None else command.cmd,
        "sub_cmd": command.sub_cmd,
        "json": command.json,
        "start_line": command.start_line,
        "end_line": command.end_line,
        "flags": tuple(command.flags),
        "value": tuple(command.value),
        "heredocs": tuple((h.name, h.content) for h in command.heredocs),
    }
