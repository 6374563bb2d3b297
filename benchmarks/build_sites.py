"""Benchmark: how long reading a repository's build definitions takes.

Usage: python benchmarks/build_sites.py [REPOSITORY ...] [--repeat N]

Without arguments it lays out a typical repository in a temporary directory (git
repository, 3000 files, 40 Dockerfiles, workflows with metadata-action and a
matrix, a bake file, goreleaser, compose, a Makefile, scripts) and times it.
Each run is a fresh process, so parser imports (PyYAML, python-hcl2) count; the
HCL parse cache is cold on the first run and warm after. Also times
`dlink check` on the whole repository with the default scope and `--scope all`.
Speed is measured here, never asserted in tests.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORKFLOW = """\
on: push
jobs:
  image:
    runs-on: ubuntu-latest
    strategy:
      matrix:
        service: [api, worker, cron, web]
    steps:
      - uses: actions/checkout@v4
      - id: meta
        uses: docker/metadata-action@v5
        with:
          images: ghcr.io/acme/${{ matrix.service }}
      - uses: docker/build-push-action@v6
        with:
          file: services/${{ matrix.service }}/Dockerfile
          push: ${{ github.event_name != 'pull_request' }}
          tags: ${{ steps.meta.outputs.tags }}
          labels: ${{ steps.meta.outputs.labels }}
      - run: |
          docker build -f test/Dockerfile -t acme-test .
          docker run --rm acme-test
"""
BAKE = """\
variable "TAG" { default = "dev" }
group "default" { targets = ["tools", "docs"] }
target "_common" {
  labels = { "org.opencontainers.image.source" = "https://github.com/acme/widget" }
}
target "tools" {
  inherits = ["_common"]
  dockerfile = "tools/Dockerfile"
  tags = ["ghcr.io/acme/tools:${TAG}"]
}
target "docs" {
  dockerfile = "docs/Dockerfile"
  output = ["type=cacheonly"]
}
"""
GORELEASER = """\
dockers:
  - image_templates: ["ghcr.io/acme/cli:{{ .Version }}"]
    dockerfile: cli/Dockerfile
    build_flag_templates: ["--label=org.opencontainers.image.source={{.GitURL}}"]
"""
COMPOSE = "services:\n  api:\n    build:\n      context: services/api\n      target: dev\n"
MAKEFILE = "IMAGE ?= ghcr.io/acme/edge\npush:\n\tdocker buildx build --push -t $(IMAGE) -f edge/Dockerfile .\n"


def make_typical(root: Path) -> None:
    files = {
        ".github/workflows/images.yml": WORKFLOW,
        ".github/workflows/ci.yml": WORKFLOW.replace("push: ${{", "load: true\n          x: ${{"),
        "docker-bake.hcl": BAKE,
        ".goreleaser.yaml": GORELEASER,
        "compose.yaml": COMPOSE,
        "Makefile": MAKEFILE,
    }
    for name in ("api", "worker", "cron", "web"):
        files[f"services/{name}/Dockerfile"] = "FROM alpine\nRUN true\n"
    for name in ("tools", "docs", "cli", "edge", "test"):
        files[f"{name}/Dockerfile"] = "FROM alpine\n"
    for index in range(31):
        files[f"testdata/case{index}/Dockerfile"] = "FROM scratch\n"
    for index in range(20):
        files[f"scripts/task{index}.sh"] = "#!/bin/sh\nset -e\ngo test ./...\n"
    for index in range(2930):
        files[f"pkg/m{index // 100}/f{index}.go"] = "package m\n"
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    subprocess.run(["git", "remote", "add", "origin", "https://github.com/acme/widget"], cwd=root, check=True)
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)


_SCAN = """
import sys, time
started = time.perf_counter()
from pathlib import Path
from dlink.builds import scan
result = scan(Path(sys.argv[1]))
print(f"{(time.perf_counter() - started) * 1000:.1f} {len(result.sites)} {len(result.read)}")
"""


def _best(command: list[str], env: dict[str, str], repeat: int) -> tuple[float, str]:
    best, out = float("inf"), ""
    for _ in range(repeat):
        started = time.perf_counter()
        completed = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        best = min(best, time.perf_counter() - started)
        out = completed.stdout
    return best * 1000, out


def measure(root: Path, repeat: int, cache: str) -> None:
    env = {**os.environ, "XDG_CACHE_HOME": cache}
    cold_ms, cold = _best([sys.executable, "-c", _SCAN, str(root)], env, 1)
    warm_ms, warm = _best([sys.executable, "-c", _SCAN, str(root)], env, repeat)
    in_process_cold, sites, read = cold.split()
    in_process_warm = warm.split()[0]
    print(f"{root}: {sites} build sites from {read} definitions")
    print(f"  read build sites (fresh process, imports included): first {in_process_cold} ms, "
          f"then {in_process_warm} ms (cold/warm HCL cache); process {cold_ms:.0f}/{warm_ms:.0f} ms")
    dlink = [sys.executable, "-m", "dlink", "check", "--format", "json", str(root)]
    published_ms, _ = _best(dlink, env, repeat)
    all_ms, _ = _best([*dlink, "--scope", "all"], env, repeat)
    print(f"  dlink check: {published_ms:.0f} ms (scope published), {all_ms:.0f} ms (--scope all)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repositories", nargs="*", type=Path)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        cache = str(Path(temporary, "cache"))
        roots = list(args.repositories)
        if not roots:
            typical = Path(temporary, "typical")
            make_typical(typical)
            roots = [typical]
        for root in roots:
            measure(root, args.repeat, cache)
    return 0


if __name__ == "__main__":
    sys.exit(main())
