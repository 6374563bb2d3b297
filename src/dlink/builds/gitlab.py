"""GitLab CI: the build commands in every job's `before_script`, `script` and `after_script`,
with the pipeline's and the job's `variables`."""

from __future__ import annotations

from typing import Any

from dlink.builds.commands import read_commands
from dlink.builds.scanner import Scanner
from dlink.builds.yamlread import line_of, load_mapping


def _variables(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    result = {}
    for key, item in value.items():
        if isinstance(item, dict):
            item = item.get("value")
        if isinstance(item, (str, int, float)) and not isinstance(item, bool):
            result[str(key)] = str(item)
    return result


def read_gitlab_ci(relative: str, text: str, scanner: Scanner) -> None:
    document = load_mapping(relative, text, scanner.notice)
    if document is None:
        return
    # The job runs in the checkout: paths built from CI_PROJECT_DIR are the repository's.
    pipeline = {"CI_PROJECT_DIR": ".", **_variables(document.get("variables"))}
    for name, job in document.items():
        if not isinstance(job, dict) or name in ("variables", "default", "workflow", "include"):
            continue
        variables = {**pipeline, **_variables(job.get("variables"))}
        for key in ("before_script", "script", "after_script"):
            lines = job.get(key)
            for line in (
                lines if isinstance(lines, list) else [lines] if isinstance(lines, str) else []
            ):
                if not isinstance(line, str):
                    continue
                commands = read_commands(line, variables, first_line=line_of(line, 1))
                scanner.command_sites(commands, relative, "gitlab-ci", ["."])
