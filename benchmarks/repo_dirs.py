"""Many directories cost no more than one: `dlink check` on N files of one repository.

Builds a throwaway git repository twice: N Dockerfiles in one directory, and the same
N files one per directory (`svc0000/Dockerfile`, ...). Runs `dlink check` on each
tree in turn (alternating, so both meet the same machine load) and prints the median
wall time of each and their ratio. The target is a ratio of at most about 1.0: the
repository root is found once per run, not once per directory.

    python benchmarks/repo_dirs.py            # 2,000 files, 5 runs each
    python benchmarks/repo_dirs.py -n 500 -r 9

Set PYTHONPATH to another checkout's src/ to measure that code instead.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LABELLED = 'FROM alpine\nLABEL org.opencontainers.image.source="https://github.com/acme/widget"\n'


def make_tree(root: Path, count: int, spread: bool) -> Path:
    subprocess.run(["git", "init", "--quiet", str(root)], check=True)
    subprocess.run(
        ["git", "-C", str(root), "remote", "add", "origin", "https://github.com/acme/widget.git"],
        check=True,
    )
    for index in range(count):
        if spread:
            path = root / f"svc{index:04d}" / "Dockerfile"
            path.parent.mkdir()
        else:
            path = root / "images" / f"svc{index:04d}.Dockerfile"
            path.parent.mkdir(exist_ok=True)
        path.write_text(LABELLED, encoding="utf-8")
    return root


def timed_check(root: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds of dlink and the git it runs) of one `dlink check`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-m", "dlink", "check", str(root)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "GIT_CONFIG_NOSYSTEM": "1"},
    )
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if completed.returncode != 0:
        raise SystemExit(f"dlink check {root} exited {completed.returncode}:\n{completed.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--files", type=int, default=2000)
    parser.add_argument("-r", "--runs", type=int, default=5)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dlink-bench-") as scratch:
        one = make_tree(Path(scratch) / "one-dir", options.files, spread=False)
        many = make_tree(Path(scratch) / "many-dirs", options.files, spread=True)
        trees = {"one directory": one, "one per directory": many}
        runs: dict[str, list[tuple[float, float]]] = {name: [] for name in trees}
        for _ in range(options.runs):
            for name, tree in trees.items():
                runs[name].append(timed_check(tree))
    print(f"dlink check, {options.files} files, median of {options.runs} runs")
    print(f"  {'':18} {'wall':>8} {'cpu':>8}")
    medians: dict[str, tuple[float, float]] = {}
    for name, values in runs.items():
        wall = statistics.median(value[0] for value in values)
        cpu = statistics.median(value[1] for value in values)
        medians[name] = (wall, cpu)
        print(f"  {name:18} {wall:7.3f}s {cpu:7.3f}s")
    many_wall, many_cpu = medians["one per directory"]
    one_wall, one_cpu = medians["one directory"]
    print(f"  {'many / one':18} {many_wall / one_wall:7.2f}x {many_cpu / one_cpu:7.2f}x")
    print("  (cpu: user + system time of dlink and its git processes; steadier on a busy machine)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
