"""Run dlink's CLI in-process, as a user would from a shell, and capture what it prints."""

from __future__ import annotations

import io

import pytest

from dlink.cli import main


def run_cli(
    argv: list[str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    stdin: str = "",
) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of `dlink ARGV` with `stdin` as its standard input."""
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err
