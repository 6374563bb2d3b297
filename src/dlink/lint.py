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
    from dlink.builds.plan import ImagePlan
    from dlink.config import Config
    from dlink.repo import RepoIdentity
    from dlink.rules import Context


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
    scope: str | None = None  # "published" or "all"; None: config, else "published"


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
    plan: ImagePlan | None = None  # who builds the file and how it was checked




@dataclass
class LintRun:
    """Every file's outcome, in the order checked."""

    outcomes: list[FileOutcome] = field(default_factory=list)
    skipped: list[ImagePlan] = field(default_factory=list)  # out of scope: not images to label
    notices: list[str] = field(default_factory=list)  # build definitions dlink could not read

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


def run_lint(options: LintOptions, *, fixing: bool, diff: bool = False) -> LintRun:
    """Check (or fix) every Dockerfile the options name. Raises DlinkError for a bad run
    (config, paths); a problem with one file is that file's outcome."""
    from dlink import config as config_module
    from dlink.builds.plan import Planner
    from dlink.engine import Selection, analyse, fix, select_findings
    from dlink.files import discover, read_dockerfile, write_atomic
    from dlink.repo import RepoResolver, resolve_repository

    config_module.clear_cache()  # one run, one view of the config files (tests run many in a process)
    explicit = config_module.load_config(options.config) if options.config else None
    resolver = RepoResolver()
    planner = Planner(options.paths)
    run = LintRun()
    seen_elsewhere: set[Finding] = set()  # a build definition's finding, reported once
    for path in discover(options.paths):
        settings = explicit or config_module.find_config(path)
        base = settings.path.parent if settings.path else None
        if _excluded(path, settings.exclude, base) and path not in options.paths:
            continue
        plan = planner.plan(path, options.scope or settings.scope or "published")
        if not plan.in_scope:
            run.skipped.append(plan)
            continue
        outcome = FileOutcome(display_path(path), plan=plan)
        run.outcomes.append(outcome)
        try:
            data = read_dockerfile(path)
            identity = resolve_repository(
                path,
                repo_url=options.repo_url,
                remote=options.remote,
                settings=settings,
                resolver=resolver,
            )
        except DlinkError as error:
            outcome.error = DlinkError(f"{outcome.shown}: {error.message}", error.hint)
            continue
        contexts = _contexts(outcome.shown, identity, options, plan, _configured_targets(path, settings))
        selection = Selection(options.select or settings.select, options.ignore + settings.ignore)
        fail_on = options.fail_on or settings.fail_on or "warning"
        current = data
        if fixing:
            for context in contexts:  # each target on the bytes the previous one left
                result = fix(current, context, selection)
                outcome.edits += result.fixed
                current = result.data
        findings: dict[Finding, None] = {}
        for context in contexts:
            found = analyse(current, context, selection).findings
            findings.update(dict.fromkeys(_name_the_site(f, context) for f in found))
        for finding in list(findings):
            if finding.path != outcome.shown:
                if finding in seen_elsewhere:
                    del findings[finding]
                seen_elsewhere.add(finding)
        outcome.findings = sorted(findings, key=lambda f: (f.path != outcome.shown, f.path, f.line, f.column, f.code))
        if fixing and current != data:
            outcome.before, outcome.after = data, current
            if diff:
                outcome.failing += 1
            else:
                try:
                    write_atomic(path, current)
                    outcome.written = True
                except DlinkError as error:
                    outcome.error = error
                    continue
        outcome.failing += len(select_findings(outcome.findings, fail_on))
    for root, scanned in planner.scans.items():
        run.notices += [f"{display_path(root / n.origin.path)}:{n.origin.line}: {n.message}" for n in scanned.notices]
    return run


def _configured_targets(path: Path, settings: Config) -> tuple[str, ...]:
    """`targets` in config for this file (paths relative to the config file's directory)."""
    if not settings.targets or settings.path is None:
        return ()
    base = settings.path.parent.resolve()
    for relative, stages in settings.targets:
        if (base / relative).resolve() == path.resolve():
            return stages
    return ()


def _contexts(
    shown: str,
    identity: RepoIdentity,
    options: LintOptions,
    plan: ImagePlan,
    configured: tuple[str, ...] = (),
) -> list[Context]:
    """One context per published target and label set (one, as before, when unpublished)."""
    from dlink.builds.plan import resolve_labels
    from dlink.builds.values import RepoFacts
    from dlink.rules import Context

    # GoReleaser's {{ .GitURL }} is the checkout's remote URL. Under GitHub Actions the
    # checkout action sets it to the repository's https URL; elsewhere only git knows.
    git_url = identity.remote_url if identity.source.startswith("remote:") else None
    if identity.source == "ci:github":
        git_url = identity.url
    facts = RepoFacts(identity.url, git_url)
    checks = plan.checks(options.target, configured)
    targets = tuple(dict.fromkeys(check.target for check in checks))
    return [
        Context(
            shown,
            identity.url,
            check.target,
            options.build_args,
            resolve_labels(check.labels, facts, plan.root, display_path),
            targets,
            str(check.site.origin) if check.site else None,
        )
        for check in checks
    ]


def _name_the_site(finding: Finding, context: Context) -> Finding:
    """A target a build site names but the file lacks: say which site names it."""
    if finding.code != "DLK000" or not context.published_by or context.target is None:
        return finding
    if not finding.message.startswith("target stage"):
        return finding
    from dataclasses import replace

    return replace(finding, message=f"{finding.message}; {context.published_by} builds this target")
