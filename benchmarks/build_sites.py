"""Benchmark: how long reading a repository's build definitions takes.

Usage: python benchmarks/build_sites.py [REPOSITORY ...] [--repeat N]

Without arguments it lays out a typical repository in a temporary directory (git
repository, 3000 files, 40 Dockerfiles, workflows with metadata-action and a
matrix, a bake file, goreleaser, compose, a Makefile, scripts) and times it.
Each run is a fresh process, so parser imports (PyYAML; bake HCL has its own reader,
dlink.builds.hcl, since python-hcl2 cost ~80 ms here) and the parse of
every bake HCL file count; the same layout without its bake HCL file shows what HCL
costs. Times are CPU time (the
machine is shared; wall time measures the neighbours). Also times
`dlink check` on the whole repository with the default scope and `--scope all`.
Speed is measured here, never asserted in tests.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
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


def make_typical(root: Path, *, with_hcl: bool = True) -> None:
    files = {
        ".github/workflows/images.yml": WORKFLOW,
        ".github/workflows/ci.yml": WORKFLOW.replace("push: ${{", "load: true\n          x: ${{"),
        "docker-bake.hcl": BAKE,
        ".goreleaser.yaml": GORELEASER,
        "compose.yaml": COMPOSE,
        "Makefile": MAKEFILE,
    }
    if not with_hcl:
        del files["docker-bake.hcl"]
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
    subprocess.run(
        ["git", "remote", "add", "origin", "https://github.com/acme/widget"], cwd=root, check=True
    )
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)


# CPU time, not wall time: on a shared machine the wall clock mostly measures the neighbours.
# (git ls-files runs in a child process; its CPU time is added.)
_SCAN = """
import resource, sys, time
import dlink.cli, dlink.engine, dlink.lint, dlink.repo, dlink.rules  # what dlink check loads anyway
started = time.process_time()
from pathlib import Path
from dlink.builds import scan
result = scan(Path(sys.argv[1]))
children = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = time.process_time() - started + children.ru_utime + children.ru_stime
print(f"{cpu * 1000:.1f} {len(result.sites)} {len(result.read)}")
"""


def _best(command: list[str], env: dict[str, str], repeat: int) -> tuple[float, str]:
    """The least CPU time (user + system, children included) of `repeat` runs, and stdout."""
    best, out = float("inf"), ""
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        completed = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        best = min(best, cpu)
        out = completed.stdout
    return best * 1000, out


def measure(root: Path, repeat: int, pycache: str) -> None:
    # Installed dlink runs from byte-code; compile once into a private prefix, as pip would.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(PYTHONPYCACHEPREFIX=pycache)
    _best([sys.executable, "-c", _SCAN, str(root)], env, 1)
    best = min(
        (_best([sys.executable, "-c", _SCAN, str(root)], env, 1)[1] for _ in range(repeat)),
        key=lambda line: float(line.split()[0]),
    )
    in_process, sites, read = best.split()
    print(f"{root}: {sites} build sites from {read} definitions")
    print(
        f"  added to dlink check by reading build sites, CPU ms (parser imports and git included): "
        f"{in_process}"
    )
    dlink = [sys.executable, "-m", "dlink", "check", "--format", "json", str(root)]
    published_ms, _ = _best(dlink, env, repeat)
    all_ms, _ = _best([*dlink, "--scope", "all"], env, repeat)
    print(
        f"  dlink check, CPU ms of the whole process: {published_ms:.0f} (scope published), "
        f"{all_ms:.0f} (--scope all)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repositories", nargs="*", type=Path)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        pycache = str(Path(temporary, "pycache"))
        roots = list(args.repositories)
        if not roots:
            typical = Path(temporary, "typical")
            make_typical(typical)
            without_hcl = Path(temporary, "typical-without-hcl")
            make_typical(without_hcl, with_hcl=False)
            roots = [typical, without_hcl]
        for root in roots:
            measure(root, args.repeat, pycache)
    return 0


if __name__ == "__main__":
    sys.exit(main())
