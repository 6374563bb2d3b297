"""The README is part of the product: its commands, tables and examples must be true."""

from __future__ import annotations

import re
import shlex
import subprocess

import pytest
import yaml

from conftest import ROOT
from dlink.cli import main
from dlink.rules import markdown_table

README = (ROOT / "README.md").read_text(encoding="utf-8")


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.DOTALL)


def _quick_start() -> list[str]:
    section = README.split("## Quick start", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, flags=re.DOTALL)
    assert block is not None
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_readme_opens_with_a_two_command_quick_start() -> None:
    assert README.index("## Quick start") < README.index("## Why")
    commands = _quick_start()
    assert len(commands) == 2
    assert "dlink fix --diff tests/fixtures/" in commands[0]
    assert "pytest" in commands[1]


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    assert _quick_start()[1] in ci.splitlines()


def test_quick_start_example_shows_a_fix(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    words = shlex.split(_quick_start()[0].split("&&")[-1])
    assert words[0].endswith("dlink")
    example = ROOT / "tests" / "fixtures" / "example" / "Dockerfile"
    before = example.read_bytes()
    code = main(words[1:])
    out = capsys.readouterr().out
    assert code == 1  # --diff: changes would be made
    assert '+LABEL org.opencontainers.image.source="https://github.com/monalisa/my_repo"' in out
    assert example.read_bytes() == before


def test_rules_table_is_current() -> None:
    table = README.split("<!-- rules:start -->\n", 1)[1].split("<!-- rules:end -->", 1)[0]
    assert table == markdown_table(), "run `dlink rules --markdown` and paste it into the README"


def test_yaml_examples_parse() -> None:
    blocks = [yaml.safe_load(block) for block in _blocks("yaml")]
    workflow = next(b for b in blocks if isinstance(b, dict) and "jobs" in b)
    steps = workflow["jobs"]["labels"]["steps"]
    [action_step] = [s for s in steps if str(s.get("uses", "")).startswith("OWNER/dlink@")]
    action_inputs = yaml.safe_load((ROOT / "action.yml").read_text())["inputs"]
    assert set(action_step.get("with", {})) <= set(action_inputs)
    assert workflow["jobs"]["labels"]["permissions"]["security-events"] == "write"
    gitlab = next(b for b in blocks if isinstance(b, dict) and "dlink" in b)
    assert gitlab["dlink"]["artifacts"]["reports"]["codequality"] == "gl-code-quality-report.json"
    assert "--format gitlab" in " ".join(gitlab["dlink"]["script"])
    precommit = next(b for b in blocks if isinstance(b, dict) and "repos" in b)
    hook_ids = {h["id"] for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert {h["id"] for h in precommit["repos"][0]["hooks"]} <= hook_ids


def test_shell_examples_are_valid_shell() -> None:
    for block in _blocks("sh"):
        subprocess.run(["bash", "-n"], input=block, text=True, check=True)


def test_toml_example_is_a_valid_config(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from dlink.config import load_config

    block = next(b for b in _blocks("toml") if "[tool.dlink]" in b)
    (tmp_path / "pyproject.toml").write_text(block)
    config = load_config(tmp_path / "pyproject.toml")
    assert config.repo_url == "https://github.com/monalisa/my_repo"
    assert config.fail_on == "warning"


def test_every_command_has_help_with_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("check", "fix", "images", "repo", "build-push", "verify", "rules", "explain"):
        assert main([command, "--help"]) == 0
        assert "Example" in capsys.readouterr().out, command


def test_install_instructions_name_no_package_that_does_not_exist() -> None:
    """dlink is not on a package index: every install line names the git repository."""
    assert "pip install dlink" not in README
    assert "rev: v" not in README  # no tag is promised before maintainers push one
    for line in README.splitlines():
        if re.search(r"\b(pip|pipx|uvx)\b.*\b(install|run|--from)\b", line):
            assert "git+https://github.com/OWNER/dlink@REF" in line or " ." in line, line
