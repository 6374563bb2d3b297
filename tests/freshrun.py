"""Run dlink's CLI in a fresh interpreter: what a start-up imports can only be seen there
(this test process has imported everything already)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

_PROBE = """
import contextlib, io, json, sys
from dlink.cli import main
out = io.StringIO()
with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
    code = main(sys.argv[1:])
print(json.dumps({"code": code, "out": out.getvalue(), "modules": sorted(sys.modules)}))
"""


def run_fresh(argv: list[str], cwd: Path) -> tuple[int, str, set[str]]:
    """`dlink ARGV` in a new interpreter in `cwd`: exit code, standard output, and the name
    of every module it imported."""
    child = subprocess.run(
        [sys.executable, "-c", _PROBE, *argv], capture_output=True, text=True, cwd=cwd, check=True
    )
    result = json.loads(child.stdout.splitlines()[-1])
    return result["code"], result["out"], set(result["modules"])
