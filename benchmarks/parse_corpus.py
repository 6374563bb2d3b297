"""Benchmark: parse every corpus Dockerfile and print files/s and MB/s.

Usage: python benchmarks/parse_corpus.py [CORPUS_DIR] [--repeat N] [--oracle]

Speed is measured here, never asserted in tests. --oracle also times the
official BuildKit parser (the `dockerfile` package) on the same files.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from dlink.syntax import parse


def _files(corpus: Path) -> list[bytes]:
    names = [
        line.split("\t", 1)[0] for line in (corpus / "MANIFEST.tsv").read_text().splitlines()[1:]
    ]
    return [(corpus / name).read_bytes() for name in names]


def _time(label: str, work: list[bytes], parse_one: object, repeat: int) -> None:
    best = float("inf")
    refused = 0
    for _ in range(repeat):
        started = time.perf_counter()
        refused = 0
        for data in work:
            try:
                parse_one(data)  # type: ignore[operator]
            except Exception:  # noqa: BLE001 - negative test files are part of the load
                refused += 1
        best = min(best, time.perf_counter() - started)
    size = sum(len(d) for d in work) / 1e6
    print(
        f"{label:8} {len(work)} files, {size:.2f} MB: best of {repeat} {best:.3f} s, "
        f"{len(work) / best:,.0f} files/s, {size / best:.1f} MB/s ({refused} refused)"
    )


def main() -> int:
    default = Path(__file__).resolve().parents[2] / "shared" / "corpus"
    parser = argparse.ArgumentParser()
    parser.add_argument("corpus", nargs="?", type=Path, default=default)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--oracle", action="store_true")
    options = parser.parse_args()
    if not (options.corpus / "MANIFEST.tsv").is_file():
        print(f"no corpus at {options.corpus}", file=sys.stderr)
        return 2
    work = _files(options.corpus)
    _time("dlink", work, parse, options.repeat)
    if options.oracle:
        import dockerfile

        def oracle(data: bytes) -> object:
            return dockerfile.parse_string(data.decode("utf-8"))

        _time("buildkit", work, oracle, options.repeat)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
