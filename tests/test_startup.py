"""What a plain `dlink check` or `dlink --help` imports: start-up is what users feel.

These tests never time anything (speed lives in benchmarks/versus_hadolint.py); they
pin down the causes of slow start-ups the benchmark found, so that a dependency update
or a new top-level import that brings one back fails here with the reason.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import requires, version
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from freshrun import run_fresh
from gitrepo import make_repo

ROOT = Path(__file__).resolve().parent.parent

# Imported by a plain check or --help, each would cost milliseconds for nothing:
# pydantic (typer >= 0.29 builds an adapter per parameter: 130-190 ms a run), rich
# (typer's rich help: about 90 ms), the registry client and what it pulls in (urllib's
# HTTP and TLS stack), the build-engine code, YAML parsers and the temporary-file module
# (only writes need it).
HEAVY = (
    "pydantic",
    "rich",
    "dlink.registry",
    "dlink.build",
    "dlink.publish",
    "http.client",
    "ssl",
    "urllib.request",
    "yaml",
    "tempfile",
)


def modules_after(argv: list[str], cwd: Path) -> set[str]:
    return run_fresh(argv, cwd)[2]


def _typer_requirement() -> Requirement:
    import tomllib

    with open(ROOT / "pyproject.toml", "rb") as stream:
        dependencies = tomllib.load(stream)["project"]["dependencies"]
    return next(r for r in map(Requirement, dependencies) if r.name == "typer")


@pytest.mark.skipif(sys.version_info < (3, 11), reason="reads pyproject.toml with tomllib")
def test_installed_typer_is_within_the_bound() -> None:
    requirement = _typer_requirement()
    assert version("typer") in requirement.specifier, (
        f"typer {version('typer')} is installed but pyproject.toml asks for {requirement}"
    )
    # The bound is there because of pydantic: when an allowed typer depends on it, the
    # start-up cost is back. Lift the bound only once typer no longer needs pydantic.
    assert not any(Requirement(r).name == "pydantic" for r in requires("typer") or [])


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["--help"], id="help"),
        pytest.param(["check", "--repo-url", "https://github.com/acme/widget", "."], id="check"),
        pytest.param(["check", "--help"], id="check-help"),
    ],
)
def test_plain_runs_import_nothing_heavy(tmp_path: Path, argv: list[str]) -> None:
    (tmp_path / "Dockerfile").write_bytes(b"FROM alpine\n")
    loaded = modules_after(argv, tmp_path)
    assert "dlink.cli" in loaded  # the probe ran the real CLI
    assert sorted(loaded.intersection(HEAVY)) == []


def test_a_command_imports_only_its_own_command_module(tmp_path: Path) -> None:
    # typer builds a click command for every registered command on each run: `check`
    # registers only lint_cmd's commands, not those of build-push/verify, images, repo.
    (tmp_path / "Dockerfile").write_bytes(b"FROM alpine\n")
    loaded = modules_after(["check", "--repo-url", "https://github.com/acme/widget", "."], tmp_path)
    assert "dlink.cli.lint_cmd" in loaded
    others = {"dlink.cli.image_cmd", "dlink.cli.images_cmd", "dlink.cli.repo_cmd"}
    assert sorted(loaded & others) == []


@pytest.mark.parametrize("argv", [["--help"], ["chek"], ["--version"]])
def test_help_and_unknown_words_see_every_command(tmp_path: Path, argv: list[str]) -> None:
    loaded = modules_after(argv, tmp_path)
    modules = {"dlink.cli.image_cmd", "dlink.cli.images_cmd", "dlink.cli.lint_cmd"}
    assert modules | {"dlink.cli.repo_cmd"} <= loaded


def test_help_lists_every_command_in_order_whatever_was_imported_first() -> None:
    script = (
        "import dlink.cli.repo_cmd, dlink.cli.lint_cmd\n"
        "from dlink.cli import app\n"
        "print(' '.join(c.name or '' for c in app.registered_commands))\n"
    )
    child = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    expected = "build-push verify images check fix rules explain repo"
    assert child.stdout.split() == expected.split()
    help_text = subprocess.run(
        [sys.executable, "-m", "dlink", "--help"], capture_output=True, text=True, check=True
    ).stdout
    for name in expected.split():
        assert f"  {name} " in help_text, name


def test_a_repository_without_build_definitions_loads_no_build_readers(tmp_path: Path) -> None:
    # The build-definition scan runs on every check; its command-line, bake and HCL
    # readers (and hashlib, for GitLab's report only) load when there is work for them.
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "Dockerfile").write_bytes(b"FROM alpine\n")
    subprocess.run(["git", "-C", str(tmp_path), "add", "Dockerfile"], check=True)
    loaded = modules_after(["check", "--repo-url", "https://github.com/acme/widget", "."], tmp_path)
    assert "dlink.builds.names" in loaded  # the scan did run (its file filter)
    lazy = {"dlink.builds.commands", "dlink.builds.bake", "dlink.builds.bakesites", "hashlib"}
    lazy.add("tomllib")  # no config file here: the TOML parser is not needed
    assert sorted(loaded & lazy) == []
    (tmp_path / "build.sh").write_text("docker build -t ghcr.io/acme/widget .\n")
    subprocess.run(["git", "-C", str(tmp_path), "add", "build.sh"], check=True)
    loaded = modules_after(["check", "--repo-url", "https://github.com/acme/widget", "."], tmp_path)
    assert "dlink.builds.commands" in loaded  # ... and do load when a script builds


# A dataclass writes and compiles the source of its methods when its module is imported
# (0.2-0.85 ms a class): the values a plain check or fix makes are dlink.record.Records
# instead. The probe records every class the dataclass decorator builds during the run.
DATACLASS_PROBE = """
import contextlib, dataclasses, io, json, sys
built = []
_process_class = dataclasses._process_class
def _recording(cls, *args, **kwargs):
    built.append([cls.__module__, cls.__qualname__])
    return _process_class(cls, *args, **kwargs)
dataclasses._process_class = _recording

@dataclasses.dataclass
class Canary:  # shows that the hook sees what the decorator builds
    x: int

from dlink.cli import main
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    code = main(sys.argv[1:])
print(json.dumps({"code": code, "built": built, "modules": sorted(sys.modules)}))
"""
# Every module of dlink: the values a check or fix makes, the reader, the model, the
# repository and the build-definition readers. (build-push's modules keep dataclasses:
# they are never loaded by check or fix, see test_startup's import tests.)
RECORD_MODULES = ("dlink",)


def _in_record_modules(name: str) -> bool:
    return any(name == module or name.startswith(module + ".") for module in RECORD_MODULES)


@pytest.mark.skipif(
    not hasattr(__import__("dataclasses"), "_process_class"),
    reason="this Python's dataclasses has no _process_class to watch",
)
@pytest.mark.parametrize(
    ("argv", "expected_code"),
    [
        pytest.param(["check", "Dockerfile"], 1, id="check-file"),
        pytest.param(["check"], 1, id="check-directory"),
        pytest.param(["check", "--format", "sarif", "Dockerfile"], 1, id="check-sarif"),
        pytest.param(["check", "--format", "json", "Dockerfile"], 1, id="check-json"),
        pytest.param(["fix", "--diff", "Dockerfile"], 1, id="fix-diff"),
    ],
)
def test_a_plain_check_builds_no_dataclass_of_its_own(
    tmp_path: Path, argv: list[str], expected_code: int
) -> None:
    repo = make_repo(tmp_path / "repo", remotes={"origin": "https://github.com/acme/widget.git"})
    child = subprocess.run(
        [sys.executable, "-c", DATACLASS_PROBE, *argv],
        capture_output=True,
        text=True,
        cwd=repo,
        check=True,
    )
    result = json.loads(child.stdout.splitlines()[-1])
    # The run did the work (DLK101: the Dockerfile has no source label) with the hook on.
    assert result["code"] == expected_code
    assert ["__main__", "Canary"] in result["built"]
    assert {"dlink.lint", "dlink.rules", "dlink.findings"} <= set(result["modules"])
    built_here = [
        f"{module}.{name}" for module, name in result["built"] if _in_record_modules(module)
    ]
    assert built_here == []


TYPER_PROBE = """
import contextlib, io, json, sys
import typer.main
built = []  # per run: the names of the commands typer built
_from_info = typer.main.get_command_from_info
def _recording(command_info, **kwargs):
    built[-1].append(command_info.name)
    return _from_info(command_info, **kwargs)
typer.main.get_command_from_info = _recording
from dlink.cli import main
from dlink.cli.app import app
codes = []
for argv in json.loads(sys.argv[1]):
    built.append([])
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        codes.append(main(argv))
registered = [info.name for info in app.registered_commands]
print(json.dumps({"codes": codes, "built": built, "registered": registered}))
"""


def test_typer_builds_only_the_command_a_run_names(tmp_path: Path) -> None:
    # typer makes a click command of every registered command on each run; `check` needs
    # only its own. The others stay registered for the next run in the same process.
    (tmp_path / "Dockerfile").write_bytes(b"FROM alpine\n")
    runs = [
        ["check", "--repo-url", "https://github.com/acme/widget", "Dockerfile"],
        ["rules"],
        ["--help"],
    ]
    child = subprocess.run(
        [sys.executable, "-c", TYPER_PROBE, json.dumps(runs)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=True,
    )
    result = json.loads(child.stdout.splitlines()[-1])
    assert result["codes"] == [1, 0, 0]
    everything = ["build-push", "verify", "images", "check", "fix", "rules", "explain", "repo"]
    assert result["built"] == [["check"], ["rules"], everything]  # --help lists them all
    assert result["registered"] == everything


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        pytest.param("dlink ch", {"check"}, id="command"),
        pytest.param("dlink ", {"build-push", "check", "fix", "images", "repo"}, id="commands"),
        pytest.param("dlink check --for", {"--format", "--force-exclude"}, id="option"),
        pytest.param("dlink fix --unsafe", {"--unsafe-fixes"}, id="other-command"),
    ],
)
def test_shell_completion_sees_every_command(
    tmp_path: Path, words: str, expected: set[str]
) -> None:
    # Completion reads its words from the environment, not argv: main must not narrow
    # the commands it registers or shows typer to the (empty) argv's.
    env = {
        **os.environ,
        "_DLINK_COMPLETE": "complete_bash",
        "COMP_WORDS": words,
        "COMP_CWORD": str(len(words.split(" ")) - 1),
    }
    script = "import sys\nfrom dlink.cli import main\nsys.exit(main())\n"
    child = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        check=False,
    )
    assert child.returncode == 0, child.stderr
    assert expected <= set(child.stdout.split())


# The console script freezes what start-up loaded out of the cyclic collector's sight
# (dlink.cli.entry): the collections during the run and the last one at exit then skip
# typer's and dlink's modules, classes and functions. `main` itself, called by other
# code, must leave the collector as it found it.
ENTRY_PROBE = """
import contextlib, gc, io, sys
from dlink.cli import entry, main
assert gc.get_freeze_count() == 0
with contextlib.redirect_stdout(io.StringIO()):
    main(["--version"])
after_main = gc.get_freeze_count()
sys.argv = ["dlink", "--version"]
try:
    with contextlib.redirect_stdout(io.StringIO()):
        entry()
except SystemExit as stop:
    print(stop.code, after_main, gc.get_freeze_count())
"""


def test_the_console_script_freezes_start_up_objects_and_main_does_not() -> None:
    import tomllib

    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["dlink"] == "dlink.cli:entry"
    assert (ROOT / "src/dlink/__main__.py").read_text().count("entry()") == 1
    child = subprocess.run(
        [sys.executable, "-c", ENTRY_PROBE], capture_output=True, text=True, check=True
    )
    code, after_main, after_entry = (int(word) for word in child.stdout.split())
    assert (code, after_main) == (0, 0)
    assert after_entry > 10_000  # typer's and dlink's objects, at least


def test_python_dash_m_dlink_runs_the_entry() -> None:
    child = subprocess.run(
        [sys.executable, "-m", "dlink", "--version"], capture_output=True, text=True, check=False
    )
    assert child.returncode == 0
    assert child.stdout.strip().endswith("0.1.0"), child.stdout
