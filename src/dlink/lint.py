"""The check/fix workflow: files -> config -> repository -> engine -> writer.

Nothing here prints: each file's outcome (findings, an error, a diff to show, a
write made) is returned to the CLI, which decides what goes where.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dlink.errors import DlinkError
from dlink.findings import Finding
from dlink.record import Record

if TYPE_CHECKING:
    from dlink.builds.plan import ImagePlan
    from dlink.config import Config
    from dlink.engine import Selection
    from dlink.files import Discovery
    from dlink.model import Model
    from dlink.repo import NoRepository, RepoIdentity
    from dlink.rules import Context


class LintOptions(Record):
    """What the user asked for on the command line (config fills the gaps per file)."""

    __slots__ = (
        "paths", "repo_url", "remote", "targets", "build_args", "select", "ignore", "config",
        "fail_on", "force_exclude", "unsafe_fixes", "platforms", "scope",
    )  # fmt: skip
    paths: list[Path]
    repo_url: str | None
    remote: str | None
    targets: tuple[str, ...]  # each is checked; none: the last stage
    build_args: dict[str, str]
    select: tuple[str, ...]
    ignore: tuple[str, ...]
    config: Path | None
    fail_on: str | None
    force_exclude: bool  # files named on the command line obey the excludes too
    unsafe_fixes: bool | None  # None: the config's `unsafe-fixes` (default false)
    platforms: tuple[str, ...]
    scope: str | None  # "published" or "all"; None: config, else "published"

    def __init__(
        self,
        paths: list[Path],
        repo_url: str | None = None,
        remote: str | None = None,
        targets: tuple[str, ...] = (),
        build_args: dict[str, str] | None = None,
        select: tuple[str, ...] = (),
        ignore: tuple[str, ...] = (),
        config: Path | None = None,
        fail_on: str | None = None,
        force_exclude: bool = False,
        unsafe_fixes: bool | None = None,
        platforms: tuple[str, ...] = ("linux/amd64",),
        scope: str | None = None,
    ) -> None:
        self.paths = paths
        self.repo_url = repo_url
        self.remote = remote
        self.targets = targets
        self.build_args = {} if build_args is None else build_args
        self.select = select
        self.ignore = ignore
        self.config = config
        self.fail_on = fail_on
        self.force_exclude = force_exclude
        self.unsafe_fixes = unsafe_fixes
        self.platforms = platforms
        self.scope = scope


class FileOutcome:
    """What happened to one file. `shown` is the path as reported to the user.

    Filled in as the file goes through the run (a plain class: it changes after it is made).
    """

    __slots__ = (
        "shown", "findings", "error", "before", "after", "written", "edits", "failing", "plan",
        "path", "root", "anchors", "source",
    )  # fmt: skip
    shown: str
    findings: list[Finding]
    error: DlinkError | None  # the file could not be checked, or not written
    before: bytes | None  # fix: the original bytes, when a change was made or proposed
    after: bytes | None  # fix: the fixed bytes
    written: bool  # fix: the file was rewritten
    edits: int  # fix: edits applied
    failing: int  # findings at or above the file's fail-on level
    plan: ImagePlan | None  # who builds the file and how it was checked
    path: Path | None  # the file itself, for reports that name it from the root
    root: Path | None  # the top of its repository's working tree, when known
    # What each finding is about (finding_anchor), for fingerprints: "stage\0label key".
    anchors: dict[Finding, str]
    source: str | None  # check: the file's text when it has findings (code frames)

    def __init__(
        self, shown: str, *, plan: ImagePlan | None = None, path: Path | None = None
    ) -> None:
        self.shown = shown
        self.findings = []
        self.error = None
        self.before = None
        self.after = None
        self.written = False
        self.edits = 0
        self.failing = 0
        self.plan = plan
        self.path = path
        self.root = None
        self.anchors = {}
        self.source = None


class LintRun:
    """Every file's outcome, in the order checked, and notes for the whole run."""

    __slots__ = ("outcomes", "notices", "skipped", "excluded")
    outcomes: list[FileOutcome]
    notices: list[str]  # said once per run, not per file
    skipped: list[ImagePlan]  # out of scope: not images to label
    # Found by searching and left out by the default excludes or the config: when nothing else
    # was checked, "No findings" must not read as a clean tree (docker-library's layout).
    excluded: int

    def __init__(self, *, excluded: int = 0) -> None:
        self.outcomes = []
        self.notices = []
        self.skipped = []
        self.excluded = excluded

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


def worktree_root(path: Path) -> Path | None:
    """The nearest directory above `path` holding `.git` (a directory, or a file in a
    worktree or submodule): where reports count paths from when git was not asked."""
    for directory in Path(os.path.realpath(path)).parents:  # realpath: a link loop is no error here
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
        if candidate.start_line <= line:
            stage = candidate
    if stage is None:
        return ""
    key = ""
    for setting in stage.labels:
        if setting.instruction.start_line <= line <= setting.instruction.end_line:
            key = setting.key
            break
    return f"{stage.name or stage.index}\0{key}"


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
    from dlink.builds.plan import Planner
    from dlink.engine import Selection, select_findings
    from dlink.files import (
        FileTooLarge,
        max_file_size,
        read_dockerfile,
        remove_leftovers,
        write_atomic,
    )
    from dlink.repo import NoRepository, RepoResolver, resolve_repository

    explicit = _explicit_config(options)
    discovery = _find_files(options, explicit)
    named = {os.path.abspath(path) for path in options.paths}
    run_excluded = sum(
        1
        for skipped in discovery.skipped
        if skipped.reason.startswith("excluded") and os.path.abspath(skipped.path) not in named
    )
    resolver = RepoResolver()
    size_limit = max_file_size()
    cleaned: set[str] = set()
    planner = Planner(options.paths)
    run = LintRun(excluded=run_excluded)
    without_repository: list[NoRepository] = []
    seen_elsewhere: set[Finding] = set()  # a build definition's finding, reported once
    for path in discovery.files:
        settings = explicit or config_module.find_config(path)
        per_file = config_module.file_settings(settings, path)
        plan = planner.plan(path, options.scope or settings.scope or "published")
        if not plan.in_scope:
            run.skipped.append(plan)
            continue
        # realpath, not resolve(): a symlink loop must reach read_dockerfile's one-line
        # error, not raise RuntimeError here (pathlib before Python 3.13).
        outcome = FileOutcome(display_path(path), plan=plan, path=Path(os.path.realpath(path)))
        run.outcomes.append(outcome)
        if fixing and not diff:
            directory = os.path.dirname(os.path.realpath(path))
            if directory not in cleaned:  # temporary files of a run killed mid-write
                cleaned.add(directory)
                remove_leftovers(Path(directory))
        identity: RepoIdentity | None = None
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
            from dlink.rules.dlk000_unreadable import finding as unreadable_finding

            message = f"{error.message}; {error.hint}" if error.hint else error.message
            outcome.findings = [unreadable_finding(outcome.shown, 1, message)]
            outcome.failing = 1
            continue
        except NoRepository as missing:
            # Not an error: the rules that need no repository still run (see _no_repository).
            without_repository.append(missing)
        except DlinkError as error:
            # "cannot read PATH: ..." already names the file; other errors get it in front.
            names_file = error.message.startswith(f"cannot read {path}")
            message = error.message if names_file else f"{outcome.shown}: {error.message}"
            outcome.error = DlinkError(message, error.hint)
            outcome.root = worktree_root(path)
            continue
        outcome.root = (identity.root if identity else None) or worktree_root(path)
        build_args = {**(per_file.build_args or {}), **options.build_args}
        # Targets named on the command line or in config win over what the build sites say.
        targets = tuple(options.targets or per_file.targets or ())
        contexts = _contexts(outcome.shown, identity, build_args, plan, targets, options.platforms)
        selection = Selection(
            options.select or per_file.select or settings.select,
            options.ignore + per_file.ignore + settings.ignore,
        )
        fail_on = options.fail_on or settings.fail_on or "warning"
        if not fixing:
            outcome.findings, outcome.anchors = _analyse_all(data, contexts, selection)
            if outcome.findings:
                outcome.source = data.decode("utf-8-sig", "replace")
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
                        outcome.written = write_atomic(path, fixed, expected=data)
                    except DlinkError as error:
                        outcome.error = error
                        continue
        outcome.findings = _once(outcome, seen_elsewhere)
        outcome.failing += len(select_findings(outcome.findings, fail_on))
    for root, scanned in planner.scans.items():
        run.notices += [
            f"{display_path(root / n.origin.path)}:{n.origin.line}: {n.message}"
            for n in scanned.notices
        ]
    if without_repository:
        run.notices.append(_no_repository(without_repository, fixing))
    return run


def _context(
    shown: str,
    identity: RepoIdentity | None,
    target: str | None,
    args: dict[str, str],
    platforms: tuple[str, ...],
    **build: Any,
) -> Context:
    """What the rules may know about the file's repository (None: there is none), and
    `build`: what the publishing build site sets (build_labels, published_targets, ...)."""
    from dlink.rules import Context

    if identity is None:
        return Context(shown, None, target, args, platforms=platforms, **build)
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
        **build,
    )


def _contexts(
    shown: str,
    identity: RepoIdentity | None,
    build_args: dict[str, str],
    plan: ImagePlan,
    targets: tuple[str, ...],
    platforms: tuple[str, ...],
) -> list[Context]:
    """One context per published target and build-time label set (one, as before, for a
    file no publishing site builds)."""
    from dlink.builds.plan import resolve_labels
    from dlink.builds.site import RepoFacts

    checks = plan.checks(targets)
    published = tuple(dict.fromkeys(check.target for check in checks))
    facts = None
    if identity is not None:
        # GoReleaser's {{ .GitURL }} is the checkout's remote URL. Under GitHub Actions the
        # checkout action sets it to the repository's https URL; elsewhere only git knows.
        git_url = identity.remote_url if identity.from_remote else None
        if identity.source == "ci:github":
            git_url = identity.url
        facts = RepoFacts(identity.url, git_url)
    return [
        _context(
            shown,
            identity,
            check.target,
            build_args,
            platforms,
            build_labels=resolve_labels(check.labels, facts, plan.root, display_path),
            published_targets=published,
            published_by=str(check.site.origin) if check.site else None,
        )
        for check in checks
    ]


def _once(outcome: FileOutcome, seen_elsewhere: set[Finding]) -> list[Finding]:
    """A finding on a build definition's line (several Dockerfiles may share the site) is
    reported with the first file only; the file's own findings come first."""
    kept = []
    for finding in outcome.findings:
        if finding.path != outcome.shown:
            if finding in seen_elsewhere:
                continue
            seen_elsewhere.add(finding)
        kept.append(finding)
    return sorted(kept, key=lambda f: (f.path != outcome.shown, f.path, f.line, f.column, f.code))


def _name_the_site(finding: Finding, context: Context) -> Finding:
    """A target a build site names but the file lacks: say which site names it."""
    if finding.code != "DLK000" or not context.published_by or context.target is None:
        return finding
    if not finding.message.startswith("target stage"):
        return finding
    return finding.replace(message=f"{finding.message}; {context.published_by} builds this target")


def _analyse_all(
    data: bytes, contexts: list[Context], selection: Selection
) -> tuple[list[Finding], dict[Finding, str]]:
    """Findings for every target, each once: a finding in a stage that several targets
    share is the same finding for all of them. With each, its anchor (finding_anchor)."""
    from dlink.engine import analyse

    anchors: dict[Finding, str] = {}
    if len(contexts) == 1:
        analysis = analyse(data, contexts[0], selection)
        found = [_name_the_site(f, contexts[0]) for f in analysis.findings]
        anchors = {f: finding_anchor(analysis.model, f.line) for f in found}
        return found, anchors
    findings: list[Finding] = []
    seen: set[tuple[object, ...]] = set()
    for context in contexts:
        analysis = analyse(data, context, selection)
        for finding in analysis.findings:
            finding = _name_the_site(finding, context)
            key = (finding.path, finding.line, finding.column, finding.end_line, finding.code,
                   finding.message)  # fmt: skip
            if key not in seen:
                seen.add(key)
                findings.append(finding)
                anchors[finding] = finding_anchor(analysis.model, finding.line)
    findings.sort(key=lambda f: (f.line, f.column, f.code))
    return findings, anchors

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
        remaining = _analyse_all(data, contexts, selection)[0]
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
