"""The check/fix workflow: files -> config -> repository -> engine -> writer.

Nothing here prints: each file's outcome (findings, an error, a diff to show, a
write made) is returned to the CLI, which decides what goes where.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from dlink.errors import DlinkError
from dlink.findings import Finding

if TYPE_CHECKING:
    from dlink.config import Config
    from dlink.engine import Selection
    from dlink.files import Discovery
    from dlink.repo import NoRepository, RepoIdentity
    from dlink.rules import Context


@dataclass
class LintOptions:
    """What the user asked for on the command line (config fills the gaps per file)."""

    paths: list[Path]
    repo_url: str | None = None
    remote: str | None = None
    targets: tuple[str, ...] = ()  # each is checked; none: the last stage
    build_args: dict[str, str] = field(default_factory=dict)
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    config: Path | None = None
    fail_on: str | None = None
    force_exclude: bool = False  # files named on the command line obey the excludes too
    unsafe_fixes: bool | None = None  # None: the config's `unsafe-fixes` (default false)
    platforms: tuple[str, ...] = ("linux/amd64",)


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
    """Every file's outcome, in the order checked, and notes for the whole run."""

    outcomes: list[FileOutcome] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)  # said once per run, not per file

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
    # Not resolved: a symlinked Dockerfile is shown under the link's name, as the user knows it.
    try:
        return str(Path(os.path.abspath(path)).relative_to(os.path.abspath(os.getcwd())))
    except ValueError:
        return str(path)


def find_files(options: LintOptions, *, unused_patterns: bool = False) -> Discovery:
    """The files a run would check, and the ones it leaves out with the reason."""
    return _find_files(options, _explicit_config(options), unused_patterns=unused_patterns)


def _explicit_config(options: LintOptions) -> Config | None:
    from dlink import config as config_module

    config_module.clear_cache()  # one run, one view of the config files (tests run many in a process)
    return config_module.load_config(options.config) if options.config else None


def _find_files(
    options: LintOptions, explicit: Config | None, *, unused_patterns: bool = False
) -> Discovery:
    from dlink.files import discover

    return discover(
        options.paths,
        config=explicit,
        force_exclude=options.force_exclude,
        unused_patterns=unused_patterns,
    )


def run_lint(options: LintOptions, *, fixing: bool, diff: bool = False) -> LintRun:
    """Check (or fix) every Dockerfile the options name. Raises DlinkError for a bad run
    (config, paths); a problem with one file is that file's outcome."""
    from dlink import config as config_module
    from dlink.engine import Selection, select_findings
    from dlink.files import read_dockerfile, write_atomic
    from dlink.repo import NoRepository, RepoResolver, resolve_repository

    explicit = _explicit_config(options)
    discovery = _find_files(options, explicit)
    resolver = RepoResolver()
    run = LintRun()
    without_repository: list[NoRepository] = []
    for path in discovery.files:
        settings = explicit or config_module.find_config(path)
        per_file = config_module.file_settings(settings, path)
        outcome = FileOutcome(display_path(path))
        run.outcomes.append(outcome)
        identity: RepoIdentity | None = None
        try:
            data = read_dockerfile(path)
            identity = resolve_repository(
                path,
                repo_url=options.repo_url,
                remote=options.remote,
                settings=settings,
                resolver=resolver,
            )
        except NoRepository as missing:
            # Not an error: the rules that need no repository still run (see _no_repository).
            without_repository.append(missing)
        except DlinkError as error:
            outcome.error = DlinkError(f"{outcome.shown}: {error.message}", error.hint)
            continue
        build_args = {**(per_file.build_args or {}), **options.build_args}
        targets = options.targets or per_file.targets or (None,)
        contexts = [
            _context(outcome.shown, identity, t, build_args, options.platforms) for t in targets
        ]
        selection = Selection(
            options.select or per_file.select or settings.select,
            options.ignore + per_file.ignore + settings.ignore,
        )
        fail_on = options.fail_on or settings.fail_on or "warning"
        if not fixing:
            outcome.findings = _analyse_all(data, contexts, selection)
        else:
            unsafe = options.unsafe_fixes
            unsafe = bool(settings.unsafe_fixes) if unsafe is None else unsafe
            fixed, edits, remaining, withheld = _fix_all(data, contexts, selection, unsafe)
            outcome.findings = remaining
            if withheld is not None:
                # A fix that failed its own verification: nothing is written (exit 2).
                message = f"{outcome.shown}: fix withheld, file left unchanged: {withheld}"
                outcome.error = DlinkError(message, "please report this as a dlink bug")
                continue
            if fixed != data:
                outcome.before, outcome.after, outcome.edits = data, fixed, edits
                if diff:
                    outcome.failing += 1
                else:
                    try:
                        write_atomic(path, fixed)
                        outcome.written = True
                    except DlinkError as error:
                        outcome.error = error
                        continue
        outcome.failing += len(select_findings(outcome.findings, fail_on))
    if without_repository:
        run.notices.append(_no_repository(without_repository, fixing))
    return run


def _context(
    shown: str,
    identity: RepoIdentity | None,
    target: str | None,
    args: dict[str, str],
    platforms: tuple[str, ...],
) -> Context:
    """What the rules may know about the file's repository (None: there is none)."""
    from dlink.rules import Context

    if identity is None:
        return Context(shown, None, target, args, platforms=platforms)
    source = f"remote {identity.remote!r}" if identity.remote else identity.reason or None
    return Context(
        shown,
        identity.url,
        target,
        args,
        repo_authoritative=identity.authoritative,
        repo_source=source,
        remotes=dict(identity.remotes),
        platforms=platforms,
    )


def _analyse_all(data: bytes, contexts: list[Context], selection: Selection) -> list[Finding]:
    """Findings for every target, each once: a finding in a stage that several targets
    share is the same finding for all of them."""
    from dlink.engine import analyse

    if len(contexts) == 1:
        return analyse(data, contexts[0], selection).findings
    findings: list[Finding] = []
    seen: set[tuple[object, ...]] = set()
    for context in contexts:
        for finding in analyse(data, context, selection).findings:
            key = (finding.line, finding.column, finding.end_line, finding.code, finding.message)
            if key not in seen:
                seen.add(key)
                findings.append(finding)
    findings.sort(key=lambda f: (f.line, f.column, f.code))
    return findings


def _fix_all(
    data: bytes, contexts: list[Context], selection: Selection, unsafe_fixes: bool
) -> tuple[bytes, int, list[Finding], str | None]:
    """(fixed bytes, edits, what remains, why a fix was withheld): each target fixed in
    turn, from the previous target's result, then what is left looked at for every target.
    A fix withheld for any target withholds them all: the original bytes come back."""
    from dlink.engine import fix

    original = data
    edits = 0
    remaining: list[Finding] = []
    for context in contexts:
        result = fix(data, context, selection, unsafe_fixes=unsafe_fixes)
        if result.withheld is not None:
            return original, 0, result.remaining, result.withheld
        data, edits, remaining = result.data, edits + result.fixed, result.remaining
    if len(contexts) > 1:
        remaining = _analyse_all(data, contexts, selection)
    return data, edits, remaining, None


def _no_repository(missing: list[NoRepository], fixing: bool) -> str:
    """One notice for every file that had no repository, however many there were."""
    count = len(missing)
    files = f"{count} file{'s' * (count != 1)}"
    skipped = "DLK102 (source-label-mismatch) was not checked"
    if fixing:
        skipped += " and no missing label was added"
    return (
        f"no repository for {files} ({missing[0].message}): {skipped}; "
        "pass --repo-url URL or set repo-url in the dlink config to check everything"
    )
