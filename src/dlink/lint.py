"""The check/fix workflow: files -> config -> repository -> engine -> writer.

Nothing here prints: each file's outcome (findings, an error, a diff to show, a
write made) is returned to the CLI, which decides what goes where.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from dlink.errors import DlinkError
from dlink.findings import Finding


@dataclass
class LintOptions:
    """What the user asked for on the command line (config fills the gaps per file)."""

    paths: list[Path]
    repo_url: str | None = None
    remote: str | None = None
    target: str | None = None
    build_args: dict[str, str] = field(default_factory=dict)
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    config: Path | None = None
    fail_on: str | None = None


@dataclass
class FileOutcome:
    """What happened to one file. `shown` is the path as reported to the user."""

    shown: str
    findings: list[Finding] = field(default_factory=list)
    error: DlinkError | None = None  # the file could not be checked, or not written
    before: bytes | None = None  # fix: the original bytes, when a change was made or proposed
    after: bytes | None = None  # fix: the fixed bytes
    written: bool = False  # fix: the file was rewritten
    edits: int = 0  # fix: edits applied
    failing: int = 0  # findings at or above the file's fail-on level


@dataclass
class LintRun:
    """Every file's outcome, in the order checked."""

    outcomes: list[FileOutcome] = field(default_factory=list)

    @property
    def findings(self) -> list[Finding]:
        return [finding for outcome in self.outcomes for finding in outcome.findings]

    @property
    def errors(self) -> int:
        """Files that could not be checked or written, plus unreadable (DLK000) findings."""
        return sum(
            (outcome.error is not None)
            + sum(1 for finding in outcome.findings if finding.code == "DLK000")
            for outcome in self.outcomes
        )

    @property
    def failing(self) -> int:
        return sum(outcome.failing for outcome in self.outcomes)


def display_path(path: Path) -> str:
    """A path as the user should read it: relative to the current directory when below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _excluded(path: Path, patterns: tuple[str, ...], base: Path | None) -> bool:
    """Config `exclude`: globs relative to the config file's directory (or to where we run)."""
    from dlink.files import is_excluded

    if not patterns:
        return False
    candidates = [PurePosixPath(path.as_posix())]
    if base is not None:
        try:
            candidates.append(PurePosixPath(path.resolve().relative_to(base.resolve()).as_posix()))
        except ValueError:
            pass
    return any(is_excluded(candidate, patterns) for candidate in candidates)


def _too_large(shown: str, error: DlinkError) -> Finding:
    from dlink.rules.dlk000_unreadable import RULE

    message = f"{error.message}; {error.hint}" if error.hint else error.message
    return Finding(shown, 1, 1, 1, 1, RULE.code, RULE.name, RULE.severity, message, False)


def run_lint(options: LintOptions, *, fixing: bool, diff: bool = False) -> LintRun:
    """Check (or fix) every Dockerfile the options name. Raises DlinkError for a bad run
    (config, paths); a problem with one file is that file's outcome."""
    from dlink import config as config_module
    from dlink.engine import Selection, analyse, fix, select_findings
    from dlink.files import (
        FileTooLarge,
        discover,
        max_file_size,
        read_dockerfile,
        remove_leftovers,
        write_atomic,
    )
    from dlink.repo import RepoResolver, resolve_repository
    from dlink.rules import Context

    config_module.clear_cache()  # one run, one view of the config files (tests run many in a process)
    explicit = config_module.load_config(options.config) if options.config else None
    resolver = RepoResolver()
    size_limit = max_file_size()
    run = LintRun()
    for path in discover(options.paths):
        settings = explicit or config_module.find_config(path)
        base = settings.path.parent if settings.path else None
        if _excluded(path, settings.exclude, base) and path not in options.paths:
            continue
        outcome = FileOutcome(display_path(path))
        run.outcomes.append(outcome)
        if fixing and not diff:
            remove_leftovers(Path(os.path.realpath(path)))  # of a run killed mid-write
        try:
            data = read_dockerfile(path, size_limit)
            identity = resolve_repository(
                path,
                repo_url=options.repo_url,
                remote=options.remote,
                settings=settings,
                resolver=resolver,
            )
        except FileTooLarge as error:
            # Refused by size, like BuildKit refuses a too-long line: a DLK000 finding.
            outcome.findings = [_too_large(outcome.shown, error)]
            outcome.failing = 1
            continue
        except DlinkError as error:
            outcome.error = DlinkError(f"{outcome.shown}: {error.message}", error.hint)
            continue
        context = Context(outcome.shown, identity.url, options.target, options.build_args)
        selection = Selection(options.select or settings.select, options.ignore + settings.ignore)
        fail_on = options.fail_on or settings.fail_on or "warning"
        if not fixing:
            outcome.findings = analyse(data, context, selection).findings
        else:
            result = fix(data, context, selection)
            outcome.findings = result.remaining
            if result.changed:
                outcome.before, outcome.after, outcome.edits = data, result.data, result.fixed
                if diff:
                    outcome.failing += 1
                else:
                    try:
                        outcome.written = write_atomic(path, result.data, expected=data)
                    except DlinkError as error:
                        outcome.error = error
                        continue
        outcome.failing += len(select_findings(outcome.findings, fail_on))
    return run
