"""The GitHub Action: action.yml's structure, and scripts/action-run.sh run as a runner would.

Most runs reuse the dlink installed in the test environment (DLINK_ACTION_SKIP_INSTALL=1);
`test_real_install_from_the_action_path` installs it with pip the way users' runners do.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import ROOT, UNDER_CI
from gitrepo import git, make_repo

ACTION = ROOT / "action.yml"
SCRIPT = ROOT / "scripts" / "action-run.sh"
SCRIPT_IN_ACTION = "scripts/action-run.sh"
# The environment running these tests has dlink installed next to its python.
TEST_BIN = Path(sys.executable).parent
REPO = "https://github.com/acme/widget"
SRC = "org.opencontainers.image.source"
MISSING = "FROM alpine\nRUN true\n"
GOOD = f'FROM alpine\nLABEL {SRC}="{REPO}"\n'
INPUT_DEFAULTS = {
    "paths": ".",
    "config": "",
    "format": "sarif",
    "output-file": "",
    "fail-on": "warning",
    "select": "",
    "ignore": "",
    "repo-url": "",
    "version": "",
    "upload-sarif": "false",
}
ANNOTATION = re.compile(r"^::(error|warning|notice) file=([^,]*),")


def action() -> dict[str, Any]:
    loaded = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def the_step() -> dict[str, Any]:
    """The step that installs and checks (the others cache, upload and exit)."""
    [step] = [step for step in action()["runs"]["steps"] if step.get("id") == "check"]
    assert isinstance(step, dict)
    return step


# Variables the check step sets that are not inputs.
STEP_VARIABLES = {"PIP_CACHE_DIR", "DLINK_ACTION_DEFER_EXIT"}


def input_variables() -> dict[str, str]:
    """Input name -> the environment variable the step maps it to, read from action.yml."""
    mapping: dict[str, str] = {}
    for variable, value in the_step()["env"].items():
        if variable in STEP_VARIABLES:
            continue
        found = re.fullmatch(r"\$\{\{\s*inputs\.([A-Za-z0-9_-]+)\s*\}\}", str(value))
        assert found, f"{variable}: {value!r} is not an input"
        mapping[found.group(1)] = variable
    return mapping


# -- action.yml ------------------------------------------------------------------------


def test_action_is_a_composite_with_the_documented_inputs() -> None:
    metadata = action()
    assert metadata["name"] == "dlink"
    assert metadata["description"]
    assert metadata["runs"]["using"] == "composite"
    inputs = metadata["inputs"]
    assert {name: spec["default"] for name, spec in inputs.items()} == INPUT_DEFAULTS
    for name, spec in inputs.items():
        assert spec["description"], name
        assert spec.get("required", False) is False, name


def test_each_input_reaches_the_script_as_an_input_variable() -> None:
    step = the_step()
    assert input_variables() == {
        name: "INPUT_" + name.upper().replace("-", "_") for name in INPUT_DEFAULTS
    }
    assert step["shell"] == "bash"
    # The script is found through the runner's variable, and no input is pasted into it.
    assert step["run"].strip() == f'bash "$GITHUB_ACTION_PATH/{SCRIPT_IN_ACTION}"'
    assert "${{" not in step["run"]
    script = SCRIPT.read_text(encoding="utf-8")
    for variable in input_variables().values():
        assert f"${{{variable}" in script, f"the script never reads {variable}"
    assert "eval" not in re.findall(r"\w+", script)
    assert "set -euo pipefail" in script


def test_script_passes_shellcheck() -> None:
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        if UNDER_CI:
            pytest.fail("shellcheck is required under CI")
        pytest.skip("shellcheck is not installed (apt-get install shellcheck)")
    completed = subprocess.run(
        [shellcheck, "--severity=style", str(SCRIPT)], capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stdout


# -- the script, run as the runner runs it -----------------------------------------------


def run_action(
    workspace: Path,
    runner_temp: Path,
    inputs: Mapping[str, str] | None = None,
    *,
    install: bool = False,
    extra_env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the step's command in `workspace` with every input mapped, defaults filled in."""
    env = dict(os.environ)
    path = [entry for entry in env.get("PATH", "").split(os.pathsep) if Path(entry) != TEST_BIN]
    if install:
        env.pop("DLINK_ACTION_SKIP_INSTALL", None)
    else:
        env["DLINK_ACTION_SKIP_INSTALL"] = "1"
        path.insert(0, str(TEST_BIN))
    runner_temp.mkdir(exist_ok=True)
    env.update(
        PATH=os.pathsep.join(path),
        GITHUB_ACTIONS="true",
        GITHUB_SERVER_URL="https://github.com",
        GITHUB_REPOSITORY="acme/widget",
        GITHUB_WORKSPACE=str(workspace),
        GITHUB_ACTION_PATH=str(ROOT),
        RUNNER_TEMP=str(runner_temp),
        GITHUB_OUTPUT=str(runner_temp / "github-output"),
        GITHUB_STEP_SUMMARY=str(runner_temp / "step-summary.md"),
    )
    env.update(extra_env or {})
    given = {**INPUT_DEFAULTS, **(inputs or {})}
    for name, variable in input_variables().items():
        env[variable] = given.pop(name)
    assert not given, f"no such input: {sorted(given)}"
    return subprocess.run(
        ["bash", "-c", the_step()["run"]],
        cwd=workspace,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def annotated(stdout: str) -> list[tuple[str, str]]:
    """(command, file) of every annotation with a file, in order."""
    return [
        (found.group(1), found.group(2))
        for line in stdout.splitlines()
        if (found := ANNOTATION.match(line))
    ]


def sarif_results(path: Path) -> list[tuple[str, str]]:
    """(ruleId, uri) of each result in a SARIF file, after checking its outline."""
    log = json.loads(path.read_text(encoding="utf-8"))
    assert log["version"] == "2.1.0"
    assert log["runs"][0]["tool"]["driver"]["name"] == "dlink"
    return [
        (result["ruleId"], result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"])
        for result in log["runs"][0]["results"]
    ]


def workspace_with(root: Path, files: Mapping[str, str]) -> Path:
    """A checkout as actions/checkout leaves it: a git repository with `origin` set."""
    repo = make_repo(root / "workspace", remotes={"origin": f"{REPO}.git"}, commit=False)
    for relative, text in files.items():
        (repo / relative).parent.mkdir(parents=True, exist_ok=True)
        (repo / relative).write_text(text, encoding="utf-8")
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", "checkout")
    return repo


def outputs(runner_temp: Path) -> dict[str, str]:
    """The step outputs the script wrote to GITHUB_OUTPUT."""
    lines = (runner_temp / "github-output").read_text(encoding="utf-8").splitlines()
    return dict(line.split("=", 1) for line in lines)


def test_findings_fail_the_step_with_annotations_and_a_sarif_file(tmp_path: Path) -> None:
    workspace = workspace_with(tmp_path, {"Dockerfile": MISSING, "good/Dockerfile": GOOD})
    runner_temp = tmp_path / "runner-temp"
    completed = run_action(workspace, runner_temp, {"output-file": "reports/dlink.sarif"})
    assert completed.returncode == 1, completed.stderr
    assert annotated(completed.stdout) == [("error", "Dockerfile")]
    assert "title=DLK101" in completed.stdout
    assert sarif_results(workspace / "reports" / "dlink.sarif") == [("DLK101", "Dockerfile")]
    assert git(workspace, "status", "--porcelain") == "?? reports/"  # check writes nothing else
    assert outputs(runner_temp) == {
        "findings": "1",
        "exit-code": "1",
        "report": "reports/dlink.sarif",
    }
    summary = (runner_temp / "step-summary.md").read_text(encoding="utf-8")
    assert "| `Dockerfile` | 1 | DLK101" in summary


def test_clean_workspace_passes_with_an_empty_sarif_file(tmp_path: Path) -> None:
    workspace = workspace_with(tmp_path, {"Dockerfile": GOOD, "web/app.Dockerfile": GOOD})
    runner_temp = tmp_path / "runner-temp"
    completed = run_action(workspace, runner_temp, {"output-file": "dlink.sarif"})
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "::error" not in completed.stdout
    assert sarif_results(workspace / "dlink.sarif") == []
    assert outputs(runner_temp)["findings"] == "0"


def test_a_failed_run_hands_no_report_on(tmp_path: Path) -> None:
    """Exit 2 (here: a config error): the report says the run failed, and the `report`
    output is empty, so the upload step (guarded by it) does not run."""
    workspace = workspace_with(tmp_path, {"Dockerfile": GOOD, ".dlink.toml": "fail-on = 3\n"})
    runner_temp = tmp_path / "runner-temp"
    completed = run_action(workspace, runner_temp, {"upload-sarif": "true"})
    assert completed.returncode == 2, completed.stdout + completed.stderr
    assert outputs(runner_temp) == {"findings": "0", "exit-code": "2", "report": ""}
    assert "is not handed on for upload" in completed.stdout
    log = json.loads((runner_temp / "dlink.sarif").read_text(encoding="utf-8"))
    assert log["runs"][0]["invocations"][0]["executionSuccessful"] is False
    [upload] = [s for s in action()["runs"]["steps"] if "upload-sarif" in str(s.get("uses"))]
    assert "steps.check.outputs.report != ''" in upload["if"]


def test_deferred_exit_lets_the_upload_run_then_the_last_step_fails(tmp_path: Path) -> None:
    workspace = workspace_with(tmp_path, {"Dockerfile": MISSING})
    runner_temp = tmp_path / "runner-temp"
    completed = run_action(
        workspace, runner_temp, {"upload-sarif": "true"}, extra_env={"DLINK_ACTION_DEFER_EXIT": "1"}
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert outputs(runner_temp)["report"] == str(runner_temp / "dlink.sarif")
    last = action()["runs"]["steps"][-1]
    assert last["env"] == {"DLINK_EXIT_CODE": "${{ steps.check.outputs.exit-code }}"}
    result = subprocess.run(["bash", "-c", last["run"]], env={"DLINK_EXIT_CODE": "1"}, check=False)
    assert result.returncode == 1


def test_action_outputs_and_cache_are_declared() -> None:
    metadata = action()
    assert set(metadata["outputs"]) == {"findings", "report", "exit-code"}
    for name, spec in metadata["outputs"].items():
        assert spec["value"] == f"${{{{ steps.check.outputs.{name} }}}}"
    cache = metadata["runs"]["steps"][0]
    assert cache["uses"].startswith("actions/cache@")
    assert cache["with"]["path"] == the_step()["env"]["PIP_CACHE_DIR"]
    # Installed from the action's own checkout, not from an index.
    script = SCRIPT.read_text(encoding="utf-8")
    assert 'source_spec="$action_path"' in script and "pip install dlink" not in script


@pytest.mark.parametrize(
    ("inputs", "expected_code", "expected_annotations"),
    [
        pytest.param(
            {}, 1, [("error", "Dockerfile"), ("error", "my app/Dockerfile")], id="defaults"
        ),
        pytest.param(
            {"fail-on": "never"},
            0,
            [("error", "Dockerfile"), ("error", "my app/Dockerfile")],
            id="fail-on-never-still-annotates",
        ),
        pytest.param({"paths": "good"}, 0, [], id="one-path"),
        pytest.param(
            {"paths": "  good/Dockerfile\n\nmy app\n"},
            1,
            [("error", "my app/Dockerfile")],
            id="paths-one-per-line-spaces-kept",
        ),
        pytest.param(
            {"paths": "good", "repo-url": "https://github.com/acme/gadget"},
            1,
            [("error", "good/Dockerfile")],
            id="repo-url-overrides-the-repository",
        ),
        pytest.param({"select": "DLK102, DLK103"}, 0, [], id="select-skips-dlk101"),
        pytest.param({"ignore": "DLK101\nDLK103"}, 0, [], id="ignore-one-per-line"),
        pytest.param({"select": "DLK1O1"}, 2, [], id="unknown-code-is-an-error"),
        pytest.param({"config": "strict.toml"}, 0, [], id="config-file"),
        pytest.param({"upload-sarif": "yes"}, 2, [], id="bad-upload-sarif"),
        pytest.param({"upload-sarif": "true", "format": "json"}, 2, [], id="upload-needs-sarif"),
        pytest.param({"fail-on": "sometimes"}, 2, [], id="bad-fail-on-is-an-error"),
        pytest.param({"paths": "absent"}, 2, [], id="missing-path-is-an-error"),
    ],
)
def test_inputs(
    tmp_path: Path,
    inputs: dict[str, str],
    expected_code: int,
    expected_annotations: list[tuple[str, str]],
) -> None:
    workspace = workspace_with(
        tmp_path,
        {
            "Dockerfile": MISSING,
            "good/Dockerfile": GOOD,
            "my app/Dockerfile": MISSING,
            "strict.toml": 'fail-on = "never"\nexclude = ["Dockerfile", "my app/*"]\n',
        },
    )
    completed = run_action(workspace, tmp_path / "runner-temp", inputs)
    assert completed.returncode == expected_code, completed.stdout + completed.stderr
    assert annotated(completed.stdout) == expected_annotations


def test_a_sarif_file_that_cannot_be_written_does_not_mask_the_check(tmp_path: Path) -> None:
    workspace = workspace_with(tmp_path, {"Dockerfile": MISSING})
    # The parent of the report is a regular file: neither mkdir nor the write can work.
    completed = run_action(
        workspace, tmp_path / "runner-temp", {"output-file": "Dockerfile/dlink.sarif"}
    )
    assert completed.returncode == 2, completed.stderr
    assert "::warning title=dlink action::cannot create the directory" in completed.stdout
    assert "dlink: error: cannot write Dockerfile/dlink.sarif" in completed.stderr


def test_skip_install_without_dlink_on_path_is_an_error(tmp_path: Path) -> None:
    workspace = workspace_with(tmp_path, {"Dockerfile": GOOD})
    env = {
        "PATH": os.pathsep.join(["/usr/bin", "/bin"]),
        "DLINK_ACTION_SKIP_INSTALL": "1",
        "GITHUB_ACTIONS": "true",
    }
    completed = subprocess.run(
        ["bash", str(SCRIPT)], cwd=workspace, env=env, capture_output=True, text=True, check=False
    )
    assert completed.returncode == 2
    assert completed.stdout.startswith("::error title=dlink action::DLINK_ACTION_SKIP_INSTALL=1")


# -- what users run: pip install from the action's checkout -----------------------------


def _pypi_reachable() -> bool:
    try:
        with socket.create_connection(("pypi.org", 443), timeout=5):
            return True
    except OSError:
        return False


def test_real_install_from_the_action_path(tmp_path: Path) -> None:
    """REAL INSTALL: a fresh venv in RUNNER_TEMP, `pip install $GITHUB_ACTION_PATH`, then check.

    Needs the package index (PyPI) for dlink's build backend and dependencies; skips only
    when the install fails and PyPI is unreachable, and never under CI.
    """
    workspace = workspace_with(tmp_path, {"Dockerfile": MISSING, "good/Dockerfile": GOOD})
    runner_temp = tmp_path / "runner-temp"
    completed = run_action(workspace, runner_temp, {"output-file": "dlink.sarif"}, install=True)
    output = completed.stdout + completed.stderr
    install_failed = "pip could not install dlink" in completed.stdout
    if install_failed and not UNDER_CI and not _pypi_reachable():
        pytest.skip("pip cannot install dlink's dependencies: PyPI is unreachable")
    assert completed.returncode == 1, output
    assert "::group::Install dlink from " in completed.stdout
    installed = sorted(runner_temp.glob("dlink-action.*/venv/bin/dlink"))
    assert len(installed) == 1, output
    assert annotated(completed.stdout) == [("error", "Dockerfile")]
    assert sarif_results(workspace / "dlink.sarif") == [("DLK101", "Dockerfile")]
