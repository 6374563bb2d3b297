"""The check/fix workflow: files -> config -> repository -> engine -> writer.

Nothing here prints: each file's outcome (findings, an error, a diff to show, a
write made) is returned to the CLI, which decides what goes where.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from dlink.errors import DlinkError
from dlink.findings import Finding

if TYPE_CHECKING:
    from dlink.model import Model


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
    path: Path | None = None  # the file itself, for reports that name it from the root
    root: Path | None = None  # the top of its repository's working tree, when known
    anchors: list[str] = field(default_factory=list)  # per finding: "stage\0label key"
    source: str | None = None  # check: the file's text when it has findings (code frames)


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


def worktree_root(path: Path) -> Path | None:
    """The nearest directory above `path` holding `.git` (a directory, or a file in a
    worktree or submodule): where reports count paths from when git was not asked."""
    for directory in path.resolve().parents:
        if (directory / ".git").exists():
            return directory
    return None


def finding_anchor(model: Model | None, line: int) -> str:
    """What a finding is about, independent of where the file moved it: the stage (its
    name, else its index) and the label key at `line`. Report fingerprints use it, so
    a line added above a finding does not make it a new one."""
    if model is None:
        return ""
    stage = None
    for candidate in model.stages:
        if candidate.from_instruction.start_line <= line:
            stage = candidate
    if stage is None:
        return ""
    key = ""
    for setting in stage.labels:
        if setting.instruction.start_line <= line <= setting.instruction.end_line:
            key = setting.key
            break
    return f"{stage.name or stage.index}\0{key}"


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


def run_lint(options: LintOptions, *, fixing: bool, diff: bool = False) -> LintRun:
    """Check (or fix) every Dockerfile the options name. Raises DlinkError for a bad run
    (config, paths); a problem with one file is that file's outcome."""
    from dlink import config as config_module
    from dlink.codes import check_directives
    from dlink.engine import Selection, analyse, fix, select_findings
    from dlink.files import discover, read_dockerfile, write_atomic
    from dlink.repo import RepoResolver, resolve_repository
    from dlink.rules import Context

    config_module.clear_cache()  # one run, one view of the config files (tests run many in a process)
    explicit = config_module.load_config(options.config) if options.config else None
    resolver = RepoResolver()
    run = LintRun()
    for path in discover(options.paths):
        settings = explicit or config_module.find_config(path)
        base = settings.path.parent if settings.path else None
        if _excluded(path, settings.exclude, base) and path not in options.paths:
            continue
        outcome = FileOutcome(display_path(path), path=path.resolve())
        run.outcomes.append(outcome)
        try:
            data = read_dockerfile(path)
            check_directives(data.decode("utf-8-sig", "replace"))
            identity = resolve_repository(
                path,
                repo_url=options.repo_url,
                remote=options.remote,
                settings=settings,
                resolver=resolver,
            )
        except DlinkError as error:
            outcome.error = DlinkError(f"{outcome.shown}: {error.message}", error.hint)
            outcome.root = worktree_root(path)
            continue
        outcome.root = identity.root or worktree_root(path)
        context = Context(outcome.shown, identity.url, options.target, options.build_args)
        selection = Selection(options.select or settings.select, options.ignore + settings.ignore)
        fail_on = options.fail_on or settings.fail_on or "warning"
        if not fixing:
            analysis = analyse(data, context, selection)
            outcome.findings = analysis.findings
            outcome.anchors = [finding_anchor(analysis.model, f.line) for f in analysis.findings]
            if outcome.findings:
                outcome.source = data.decode("utf-8-sig", "replace")
        else:
            result = fix(data, context, selection)
            outcome.findings = result.remaining
            if result.changed:
                outcome.before, outcome.after, outcome.edits = data, result.data, result.fixed
                if diff:
                    outcome.failing += 1
                else:
                    try:
                        write_atomic(path, result.data)
                        outcome.written = True
                    except DlinkError as error:
                        outcome.error = error
                        continue
        outcome.failing += len(select_findings(outcome.findings, fail_on))
    return run
