"""Shared test setup: isolation from the machine's git config and CI environment, corpus paths."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# The real servers (registry, dockerd) as fixtures; one plugin, so one server per session.
pytest_plugins = ["servers"]

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
CORPUS = (ROOT.parent / "shared" / "corpus").resolve()
# Read before any fixture clears CI variables: under CI, server and corpus tests are mandatory.
UNDER_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

# No test may depend on the machine's or the user's git config, nor on the CI
# system the suite happens to run under: dlink reads GITHUB_* / GITLAB_* variables.
os.environ["GIT_CONFIG_GLOBAL"] = os.devnull
os.environ["GIT_CONFIG_NOSYSTEM"] = "1"
for _name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
    os.environ.pop(_name, None)
os.environ.setdefault("GIT_AUTHOR_NAME", "dlink tests")
os.environ.setdefault("GIT_AUTHOR_EMAIL", "tests@dlink.invalid")
os.environ.setdefault("GIT_COMMITTER_NAME", "dlink tests")
os.environ.setdefault("GIT_COMMITTER_EMAIL", "tests@dlink.invalid")


@pytest.fixture(autouse=True)
def _no_ci_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests opt in to CI variables explicitly; the host CI's own must not leak in."""
    for name in list(os.environ):
        if name.startswith(("GITHUB_", "GITLAB_", "CI_")) or name in {"CI", "NO_COLOR"}:
            monkeypatch.delenv(name, raising=False)


def corpus_or_skip() -> Path:
    """The shared real-world corpus, or skip: a user's fresh clone has no ../shared/."""
    if not (CORPUS / "MANIFEST.tsv").is_file():
        if UNDER_CI:
            pytest.fail(f"the corpus is required under CI but {CORPUS} is missing")
        pytest.skip(
            f"the shared corpus is not present at {CORPUS} (only CI and dev machines have it)"
        )
    return CORPUS
