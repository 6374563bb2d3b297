"""Benchmark: does `dlink check` grow linearly with its input?

Usage: python benchmarks/growth.py [--sizes 5000,40000,200000] [--timeout 60] [--line-mb 10]
                                   [--shapes comments,stages,...]

For each shape a Dockerfile of N units is written to a temporary directory and
checked end to end (`dlink check --repo-url ...`, the CLI's own `main`) in a fresh
Python process. Start-up is taken off: the child imports dlink and checks a
one-line Dockerfile first, then times only the check of the big file. Peak memory
is the child's peak resident set and, beside it, how much the timed check added to
the warmed-up process (on Linux the peak is reset after the warm-up through
/proc/self/clear_refs, so this is the check's own peak), against the file's size.

"growth" is t(N2)/t(N1) for consecutive sizes; linear is the size ratio (8x, then
5x), and the target is at most 1.5 times that. A run slower than --timeout is
killed and shown as "> T s"; the larger sizes of that shape are then skipped.
Speed is measured here, never asserted in tests.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

REPO_URL = "https://github.com/acme/widget"


def comments(n: int) -> bytes:
    return b"FROM alpine\n" + b"".join(b"# comment line %d\n" % i for i in range(n))


def stages(n: int) -> bytes:
    return b"".join(b"FROM alpine AS s%d\nRUN true\n" % i for i in range(n))


def label_pairs(n: int) -> bytes:
    pairs = b"".join(b"    key%d=value%d \\\n" % (i, i) for i in range(n))
    return b"FROM alpine\nLABEL \\\n" + pairs + b"    last=1\n"


def label_value(n: int) -> bytes:
    return b'FROM alpine\nLABEL description="' + b"x" * (40 * n) + b'"\n'


def run_lines(n: int) -> bytes:
    return b"FROM alpine\n" + b"".join(b"RUN echo %d\n" % i for i in range(n))


def env_lines(n: int) -> bytes:
    return b"FROM alpine\n" + b"".join(b"ENV V%d=%d\n" % (i, i) for i in range(n))


SHAPES: dict[str, tuple[str, Callable[[int], bytes]]] = {
    "comments": ("comment lines after FROM", comments),
    "stages": ("stages (FROM alpine AS sN + RUN true)", stages),
    "label-pairs": ("one LABEL with N pairs over continuation lines", label_pairs),
    "label-value": ("one LABEL value of 40*N characters", label_value),
    "run": ("RUN lines", run_lines),
    "env": ("ENV lines", env_lines),
}

# One line of `size` bytes, in the places where a long line costs most.
LINES: dict[str, Callable[[int], bytes]] = {
    "source label value": lambda size: (
        b'FROM alpine\nLABEL org.opencontainers.image.source="' + b"x" * (size - 52) + b'"\n'
    ),
    "FROM image name": lambda size: b"FROM " + b"x" * (size - 6) + b"\n",
    "RUN command": lambda size: b"FROM alpine\nRUN echo " + b"x" * (size - 22) + b"\n",
}

# The child: warm up on a tiny file (imports, first-call costs), then time the big one.
CHILD = r"""
import json, re, resource, sys, time, io, contextlib
from dlink.cli import main

def status(key):
    # Linux: the resident set now (VmRSS) and its peak (VmHWM); None elsewhere.
    try:
        with open("/proc/self/status") as handle:
            return int(re.search(key + r":\s+(\d+)", handle.read()).group(1))
    except (OSError, AttributeError):
        return None

tiny, big, url = sys.argv[1:4]
sink = io.StringIO()
with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
    main(["check", "--repo-url", url, tiny])
try:  # start the peak afresh: what the check adds, not what start-up left behind
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")
    before = status("VmRSS")
except OSError:
    before = None
if before is None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
sink = io.StringIO()
started = time.perf_counter()
with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
    code = main(["check", "--repo-url", url, big])
elapsed = time.perf_counter() - started
peak = status("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
lines = sink.getvalue().splitlines()
print(json.dumps({"seconds": elapsed, "code": code, "peak_kib": peak, "grew_kib": peak - before,
                  "first": lines[0][:120] if lines else ""}))
"""


def measure(data: bytes, workdir: Path, timeout: float) -> dict[str, object] | None:
    big = workdir / "Dockerfile"
    big.write_bytes(data)
    tiny = workdir / "tiny.Dockerfile"
    tiny.write_bytes(b"FROM alpine\n")
    try:
        # Byte-code in a cache of our own, as an installed dlink has (see versus_hadolint.py).
        environment = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        environment["PYTHONPYCACHEPREFIX"] = str(workdir / "pycache")
        completed = subprocess.run(
            [sys.executable, "-c", CHILD, str(tiny), str(big), REPO_URL],
            env=environment,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return None
    if completed.returncode != 0:
        return {
            "seconds": float("nan"),
            "code": completed.returncode,
            "peak_kib": 0,
            "grew_kib": 0,
            "first": completed.stderr.decode(errors="replace")[-200:],
        }
    result: dict[str, object] = json.loads(completed.stdout.decode().splitlines()[-1])
    return result


def _mb(kib: object) -> str:
    return f"{int(kib) / 1024:.0f} MB" if isinstance(kib, int) else "?"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--sizes", default="5000,40000,200000")
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument(
        "--line-mb", type=float, default=10.0, help="the single line's size (0: skip)"
    )
    parser.add_argument("--shapes", default=",".join(SHAPES))
    options = parser.parse_args()
    sizes = [int(size) for size in options.sizes.split(",")]
    print(f"python {sys.version.split()[0]}; timeout {options.timeout:.0f} s per run")
    header = "| shape | " + " | ".join(f"{size:,}" for size in sizes)
    header += " | " + " | ".join(f"growth {b // a}x input" for a, b in itertools.pairwise(sizes))
    header += f" | peak at {sizes[-1]:,} (file size) | last exit |"
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    with tempfile.TemporaryDirectory(prefix="dlink-growth-") as temporary:
        workdir = Path(temporary)
        for key in options.shapes.split(","):
            title, make = SHAPES[key]
            times: list[float | None] = []
            peak = "?"
            code: object = "?"
            for size in sizes:
                if times and times[-1] is None:
                    times.append(None)
                    continue
                data = make(size)
                result = measure(data, workdir, options.timeout)
                if result is None:
                    times.append(None)
                    peak, code = "?", "timeout"
                    continue
                times.append(float(result["seconds"]))  # type: ignore[arg-type]
                grew = int(result["grew_kib"]) * 1024  # type: ignore[call-overload]
                peak = (
                    f"{_mb(result['peak_kib'])} (+{_mb(result['grew_kib'])} = "
                    f"{grew / len(data):.0f}x the file's {len(data) / 1e6:.1f} MB)"
                )
                code = result["code"]
            cells = [f"{t:.2f} s" if t is not None else f"> {options.timeout:.0f} s" for t in times]
            growth = [
                f"{b / a:.1f}x" if a is not None and b is not None and a > 0 else "-"
                for a, b in itertools.pairwise(times)
            ]
            print(
                f"| {title} | "
                + " | ".join(cells)
                + " | "
                + " | ".join(growth)
                + f" | {peak} | {code} |",
                flush=True,
            )
        if options.line_mb > 0:
            size = int(options.line_mb * 1_000_000)
            print(f"\none line of {options.line_mb:g} MB:")
            for title, make_line in LINES.items():
                data = make_line(size)
                result = measure(data, workdir, options.timeout)
                if result is None:
                    print(f"- {title}: > {options.timeout:.0f} s (killed)", flush=True)
                    continue
                seconds = float(result["seconds"])  # type: ignore[arg-type]
                print(
                    f"- {title}: {seconds:.2f} s, peak {_mb(result['peak_kib'])} "
                    f"(+{_mb(result['grew_kib'])}), exit {result['code']}: {str(result['first'])[:90]}",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
