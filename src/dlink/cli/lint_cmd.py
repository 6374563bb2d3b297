"""`dlink check`, `dlink fix`, `dlink rules`, `dlink explain`.

No `from __future__ import annotations` here, unlike the rest of dlink: typer reads the
commands' annotations on every run, through `inspect.signature(eval_str=True)` and then
`typing.get_type_hints`, so string annotations are compiled and evaluated twice per
parameter per run (about 0.5 ms of a `dlink check`); written as objects, they are
evaluated once, at import, for the same cost as one of those passes.
"""

import difflib
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from dlink.cli import output
from dlink.cli.app import app, fail, parse_build_args
from dlink.errors import DlinkError, ExitCode
from dlink.findings import Finding
from dlink.lint import FileOutcome, LintOptions, LintRun, display_path, run_lint
from dlink.redact import redact

if TYPE_CHECKING:
    from dlink.report import RunContext

PathsArg = Annotated[
    list[Path] | None,
    typer.Argument(
        help="Dockerfiles or directories to search (default: the current directory).",
        show_default=False,
    ),
]
RepoUrlOpt = Annotated[
    str | None, typer.Option("--repo-url", help="The repository URL to expect (skips git).")
]
RemoteOpt = Annotated[
    str | None, typer.Option("--remote", help="The git remote to read the URL from.")
]
TargetOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--target",
        help="A stage that becomes an image (default: the last); repeatable, each is checked.",
    ),
]
ForceExcludeOpt = Annotated[
    bool,
    typer.Option(
        "--force-exclude",
        help="Apply the excludes to files named on the command line too (as pre-commit does).",
    ),
]
ShowFilesOpt = Annotated[
    bool,
    typer.Option(
        "--show-files",
        help="List the files that would be checked, and why each other one is skipped; check nothing.",
    ),
]
BuildArgOpt = Annotated[
    list[str] | None,
    typer.Option("--build-arg", help="NAME=VALUE as given to the build; repeatable."),
]
PlatformOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--platform",
        help="OS/ARCH or OS/ARCH/VARIANT the image is built for (TARGETOS etc.); repeatable or "
        "comma-separated; default linux/amd64.",
    ),
]
SelectOpt = Annotated[
    list[str] | None,
    typer.Option("--select", help="Only these rule codes or prefixes; repeatable."),
]
IgnoreOpt = Annotated[
    list[str] | None,
    typer.Option("--ignore", help="Skip these rule codes or prefixes; repeatable."),
]
ConfigOpt = Annotated[
    Path | None, typer.Option("--config", help="Use this config file instead of discovery.")
]
FailOnOpt = Annotated[
    str | None,
    typer.Option("--fail-on", help="Lowest severity that fails: error, warning, info or never."),
]

OutputFileOpt = Annotated[
    Path | None,
    typer.Option(
        "--output-file",
        "-o",
        help="Write the report (--format) to FILE; the terminal still shows the findings.",
        metavar="FILE",
    ),
]
ColorOpt = Annotated[
    str,
    typer.Option(
        "--color",
        help="auto (a terminal; NO_COLOR, FORCE_COLOR and TERM=dumb obeyed), always or never.",
    ),
]
QuietOpt = Annotated[
    bool, typer.Option("--quiet", "-q", help="Findings and errors only: no summary, no notes.")
]
ScopeOpt = Annotated[
    str | None,
    typer.Option(
        "--scope",
        help="published: only the Dockerfiles the repository's build sites publish (when it "
        "has any); all: every Dockerfile. Default: the scope setting, else published.",
    ),
]


def _options(
    paths: list[Path] | None,
    repo_url: str | None,
    remote: str | None,
    target: list[str] | None,
    build_arg: list[str] | None,
    select: list[str] | None,
    ignore: list[str] | None,
    config: Path | None,
    fail_on: str | None,
    force_exclude: bool = False,
    unsafe_fixes: bool | None = None,
    platform: list[str] | None = None,
    scope: str | None = None,
) -> LintOptions:
    args = parse_build_args(build_arg or [], os.environ)
    from dlink.builds.plan import SCOPES
    from dlink.config import FAIL_ON_CHOICES
    from dlink.model import parse_platforms

    try:
        platforms = parse_platforms(platform or [])
    except ValueError as error:
        raise DlinkError(str(error)) from None

    if scope is not None and scope not in SCOPES:
        raise DlinkError(f"--scope {scope!r} is not one of {', '.join(SCOPES)}")

    if fail_on is not None and fail_on not in FAIL_ON_CHOICES:
        raise DlinkError(f"--fail-on {fail_on!r} is not one of {', '.join(FAIL_ON_CHOICES)}")
    from dlink.codes import check_codes

    codes = check_codes(select or [], "--select")
    ignored = check_codes(ignore or [], "--ignore")
    targets = tuple(dict.fromkeys(target or []))
    return LintOptions(
        paths or [Path(".")],
        repo_url,
        remote,
        targets,
        args,
        codes,
        ignored,
        config,
        fail_on,
        force_exclude,
        unsafe_fixes,
        platforms,
        scope,
    )


def _show_files(options: LintOptions) -> None:
    """`--show-files`: one line per file met, `check PATH` or `skip PATH: reason`, then the
    config patterns that matched none of them."""
    from dlink.lint import find_files

    discovery = find_files(options, unused_patterns=True)
    for path in discovery.files:
        output.out(f"check {display_path(path)}")
    for skipped in discovery.skipped:
        output.out(f"skip  {display_path(skipped.path)}: {skipped.reason}")
    for pattern in discovery.unused_patterns:
        output.out(f"unused pattern {pattern}: matches no Dockerfile here")


def _print_outcomes(
    run: LintRun, diff: bool, *, fixing: bool = False, color: bool = False, quiet: bool = False
) -> None:
    """Per-file errors, diffs and "fixed" lines, in the order the files were checked, then
    the unsafe fixes left unapplied and the run's notices (not with --quiet)."""
    for outcome in run.outcomes:
        if outcome.before is not None and outcome.after is not None:
            if diff:
                _print_diff(outcome.shown, outcome.before, outcome.after, color)
            elif outcome.written and not quiet:
                count = outcome.edits
                output.err(f"fixed {outcome.shown} ({count} edit{'s' * (count != 1)})")
        if outcome.error is not None:
            output.error_line(outcome.error)
    if quiet:
        return
    if fixing:
        for finding in run.findings:
            if finding.edits and not finding.fix_safe:
                would = finding.fix_title or "apply an unsafe fix"
                output.err(
                    f"{finding.path}:{finding.line}:{finding.column}: {finding.code} not fixed: "
                    f"would {would}; pass --unsafe-fixes or set repo-url"
                )
    for notice in run.notices:
        output.err(f"dlink: note: {notice}")
    if run.excluded and not run.outcomes:
        count = run.excluded
        output.err(
            f"dlink: {count} Dockerfile{'s' * (count != 1)} excluded (default excludes or "
            "config), not checked (--show-files lists them and why)"
        )
    named = [plan for plan in run.skipped if plan.explicit]
    for plan in named:
        output.err(f"dlink: {plan.path}: not checked: {plan.reason} (--scope all checks it)")
    if len(run.skipped) > len(named):
        count = len(run.skipped) - len(named)
        output.err(
            f"dlink: {count} Dockerfile{'s' * (count != 1)} not published by this repository's "
            "build sites, not checked (dlink images lists them; --scope all checks them)"
        )


def _print_diff(shown: str, before: bytes, after: bytes, color: bool) -> None:
    from dlink.report.text import color_diff_line

    # Shown, not written: bytes that are not UTF-8 (kept in comments) print as U+FFFD.
    old = before.decode("utf-8-sig", "replace").splitlines(keepends=True)
    new = after.decode("utf-8-sig", "replace").splitlines(keepends=True)
    for line in difflib.unified_diff(old, new, f"a/{shown}", f"b/{shown}"):
        if not line.endswith("\n"):
            line += "\n\\ No newline at end of file\n"
        # Redacted before it is coloured, so an escape code cannot split a secret.
        output.out(color_diff_line(redact(line), color), nl=False)


def _format(requested: str | None) -> str:
    from dlink.report import FORMATS

    if requested is None:
        return _terminal_format()
    if requested not in FORMATS:
        raise DlinkError(f"--format {requested!r} is not one of {', '.join(FORMATS)}")
    return requested


def _terminal_format() -> str:
    return "github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text"


def _report_root(run: LintRun, fmt: str) -> Path:
    """Where machine formats count paths from: GitLab's CI_PROJECT_DIR when set (for
    gitlab), else the repository root of the first file checked, else here."""
    project_dir = os.environ.get("CI_PROJECT_DIR")
    if fmt == "gitlab" and project_dir:
        return Path(project_dir).resolve()
    for outcome in run.outcomes:
        if outcome.root is not None:
            return outcome.root.resolve()
    return Path.cwd().resolve()


def _machine_path(outcome: FileOutcome, root: Path) -> str:
    if outcome.path is None:
        return outcome.shown
    try:
        return outcome.path.relative_to(root).as_posix()
    except ValueError:
        return outcome.path.as_posix()


def _rooted(finding: Finding, root: Path) -> str:
    """A finding in another file (a build definition): its path from `root`."""
    path = Path(finding.path).resolve()
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def _report_input(
    run: LintRun, fmt: str, quiet: bool, frames: bool
) -> "tuple[list[Finding], RunContext]":
    """The findings as format `fmt` names files, and what else the report must say."""
    from dlink.report import RunContext, RunError

    if fmt in ("text", "markdown"):
        errors = [RunError(o.error.message, o.error.hint) for o in run.outcomes if o.error]
        sources = {o.shown: o.source for o in run.outcomes if o.source is not None}
        return run.findings, RunContext(errors, quiet=quiet, sources=sources, frames=frames)
    root = _report_root(run, fmt)
    findings: list[Finding] = []
    anchors: list[str] = []
    errors = []
    for outcome in run.outcomes:
        path = _machine_path(outcome, root)
        findings += [
            finding.replace(path=path if finding.path == outcome.shown else _rooted(finding, root))
            for finding in outcome.findings
        ]
        anchors += [outcome.anchors.get(finding, "") for finding in outcome.findings]
        if outcome.error is not None:
            errors.append(RunError(outcome.error.message, outcome.error.hint, path))
    root_uri = root.as_uri().rstrip("/") + "/"
    return findings, RunContext(errors, anchors=anchors, root_uri=root_uri)


def _render(run: LintRun, fmt: str, *, color: bool, quiet: bool, frames: bool) -> str:
    from dlink.report import render
    from dlink.rules import ALL_RULES

    findings, context = _report_input(run, fmt, quiet, frames)
    return render(fmt, findings, [r.info for r in ALL_RULES], color=color, context=context)


def _report(
    run: LintRun, fmt: str, output_file: Path | None, color_choice: str, quiet: bool
) -> None:
    """The report in `fmt` on stdout, or in FILE with the findings still on the terminal;
    under GitHub Actions also a Markdown summary for the job page."""
    terminal = fmt
    if output_file is not None:
        output.write_file(output_file, _render(run, fmt, color=False, quiet=quiet, frames=False))
        terminal = _terminal_format()
    color = terminal == "text" and output.use_color(color_choice, sys.stdout)
    frames = terminal == "text" and (color or sys.stdout.isatty())
    if not (terminal == "text" and run.errors and not run.findings):
        # (text: "no findings" would hide that some files were not checked at all)
        text = _render(run, terminal, color=color, quiet=quiet, frames=frames)
        if text:
            output.out(text, nl=False)
    _step_summary(run)


def _step_summary(run: LintRun) -> None:
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if os.environ.get("GITHUB_ACTIONS") == "true" and summary:
        output.append_file(
            Path(summary), _render(run, "markdown", color=False, quiet=False, frames=False)
        )


def _failed_report(fmt: str, output_file: Path | None, error: DlinkError) -> None:
    """A run that could not start still leaves a report that says it failed: an empty
    one would look clean, and code scanning would close every open alert."""
    from dlink.report import RunContext, RunError, render
    from dlink.rules import ALL_RULES

    rules = [r.info for r in ALL_RULES]
    context = RunContext([RunError(error.message, error.hint)])
    if output_file is not None:
        try:
            output.write_file(output_file, render(fmt, [], rules, context=context))
        except DlinkError as write_error:
            output.error_line(write_error)
    elif fmt != "text":
        output.out(render(fmt, [], rules, context=context), nl=False)
    _step_summary_error(context)


def _step_summary_error(context: "RunContext") -> None:
    from dlink.report import render

    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if os.environ.get("GITHUB_ACTIONS") == "true" and summary:
        try:
            output.append_file(Path(summary), render("markdown", [], [], context=context))
        except DlinkError:
            pass  # the error itself is already on stderr


def _exit(run: LintRun) -> typer.Exit:
    if run.errors:
        return typer.Exit(ExitCode.ERROR)
    return typer.Exit(ExitCode.FINDINGS if run.failing else ExitCode.OK)


@app.command("check")
def check(
    paths: PathsArg = None,
    output_format: Annotated[
        str | None,
        typer.Option(
            "--format", help="text, json, sarif, github or gitlab (github under GitHub Actions)."
        ),
    ] = None,
    repo_url: RepoUrlOpt = None,
    remote: RemoteOpt = None,
    target: TargetOpt = None,
    build_arg: BuildArgOpt = None,
    platform: PlatformOpt = None,
    select: SelectOpt = None,
    ignore: IgnoreOpt = None,
    config: ConfigOpt = None,
    fail_on: FailOnOpt = None,
    force_exclude: ForceExcludeOpt = False,
    show_files: ShowFilesOpt = False,
    scope: ScopeOpt = None,
    output_file: OutputFileOpt = None,
    color: ColorOpt = "auto",
    quiet: QuietOpt = False,
) -> None:
    """Report missing or wrong source labels; exit 1 when findings remain.

    Example: dlink check --format sarif --output-file dlink.sarif
    """
    try:
        fmt = _format(output_format)
        output.use_color(color, sys.stdout)  # refuse a bad --color before any work
    except DlinkError as error:
        raise fail(error) from None
    try:
        options = _options(
            paths, repo_url, remote, target, build_arg, select, ignore, config, fail_on,
            force_exclude, platform=platform, scope=scope,
        )
        if show_files:
            _show_files(options)
            raise typer.Exit(ExitCode.OK)
        run = run_lint(options, fixing=False)
    except DlinkError as error:
        _failed_report(fmt, output_file, error)
        raise fail(error) from None
    _print_outcomes(run, diff=False, quiet=quiet)
    try:
        _report(run, fmt, output_file, color, quiet)
    except DlinkError as error:
        raise fail(error) from None
    raise _exit(run)


@app.command("fix")
def fix_command(
    paths: PathsArg = None,
    diff: Annotated[
        bool, typer.Option("--diff", help="Print a unified diff; write nothing.")
    ] = False,
    repo_url: RepoUrlOpt = None,
    remote: RemoteOpt = None,
    target: TargetOpt = None,
    build_arg: BuildArgOpt = None,
    platform: PlatformOpt = None,
    select: SelectOpt = None,
    ignore: IgnoreOpt = None,
    config: ConfigOpt = None,
    fail_on: FailOnOpt = None,
    force_exclude: ForceExcludeOpt = False,
    show_files: ShowFilesOpt = False,
    unsafe_fixes: Annotated[
        bool | None,
        typer.Option(
            "--unsafe-fixes/--no-unsafe-fixes",
            help="Also apply unsafe fixes: repointing a label at the repository a git remote "
            "suggests (default: the unsafe-fixes setting, else no).",
            show_default=False,
        ),
    ] = None,
    scope: ScopeOpt = None,
    color: ColorOpt = "auto",
    quiet: QuietOpt = False,
) -> None:
    """Rewrite Dockerfiles in place so the source label is right, changing nothing else.

    Only safe fixes apply unless --unsafe-fixes is given: repointing a label at another
    repository is unsafe when that repository is a git remote's guess rather than
    --repo-url, repo-url or the CI's.

    Example: dlink fix Dockerfile   (or: dlink fix --diff . to preview)
    """
    try:
        diff_color = output.use_color(color, sys.stdout)
        options = _options(
            paths, repo_url, remote, target, build_arg, select, ignore, config, fail_on,
            force_exclude, unsafe_fixes, platform, scope,
        )
        if show_files:
            _show_files(options)
            raise typer.Exit(ExitCode.OK)
        run = run_lint(options, fixing=True, diff=diff)
    except DlinkError as error:
        raise fail(error) from None
    _print_outcomes(run, diff=diff, fixing=True, color=diff_color, quiet=quiet)
    if run.findings:
        err_color = output.use_color(color, sys.stderr)
        text = _render(run, "text", color=err_color, quiet=quiet, frames=False)
        output.err(text, nl=False)
    raise _exit(run)


@app.command("rules")
def rules(
    markdown: Annotated[
        bool, typer.Option("--markdown", help="Print a Markdown table (as in the README).")
    ] = False,
) -> None:
    """List every rule: code, name, severity, whether `dlink fix` repairs it.

    Example: dlink rules --markdown
    """
    from dlink.rules import ALL_RULES, markdown_table

    if markdown:
        output.out(markdown_table(), nl=False)
        return
    for rule in ALL_RULES:
        info = rule.info
        fixable = "fix" if info.fixable else "-"
        output.out(
            f"{info.code}  {info.name:28} {info.severity.value:8} {fixable:4} {info.summary}"
        )


@app.command("explain")
def explain(
    code: Annotated[
        str,
        typer.Argument(
            help="A rule code, e.g. DLK101; 'files' for file discovery, 'ghcr' for what GHCR needs."
        ),
    ],
) -> None:
    """Print a rule's documentation, with a bad and a good example.

    `dlink explain files` prints which names are Dockerfiles and the default exclude set;
    `dlink explain ghcr` what GitHub's registry needs to link a package to its repository.

    Example: dlink explain DLK103
    """
    from dlink.rules import RULES_BY_CODE

    if code.lower() == "ghcr":  # a topic, not a rule: what GHCR needs (build-push)
        from dlink.publish import GHCR_GUIDE

        output.out(GHCR_GUIDE.rstrip())
        return
    if code.lower() == "files":
        output.out(_files_explained().rstrip())
        return

    rule = RULES_BY_CODE.get(code.upper())
    if rule is None:
        raise fail(DlinkError(f"unknown rule {code!r}", "dlink rules lists them"))
    output.out(rule.info.doc.rstrip())


def _files_explained() -> str:
    from dlink import files

    refused = sorted(
        files.SOURCE_EXTENSIONS
        | files.DATA_EXTENSIONS
        | files.DOC_EXTENSIONS
        | files.MEDIA_EXTENSIONS
        | files.COMPANION_EXTENSIONS
    )
    lines = [
        "Dockerfiles, by name (any letter case): Dockerfile, Containerfile, *.Dockerfile,",
        "*.Containerfile, Dockerfile.*, Containerfile.*, Dockerfile-*, Dockerfile_*,",
        "Containerfile-*, Containerfile_*; never a name whose last extension says it is",
        "something else:",
        "  " + " ".join("." + e for e in refused),
        "or a template:",
        "  " + " ".join("." + e for e in sorted(files.TEMPLATE_EXTENSIONS)),
        "",
        "Excluded by default (`exclude` replaces this set, `extend-exclude` adds to it;",
        "patterns use gitignore syntax, relative to the config file's directory):",
    ]
    width = max(len(d.pattern) for d in files.DEFAULT_EXCLUDE)
    lines += [f"  {d.pattern:<{width}}  {d.why}" for d in files.DEFAULT_EXCLUDE]
    lines += [
        "  paths .gitattributes marks " + " or ".join(files.LINGUIST_ATTRIBUTES),
        "  Dockerfiles a devcontainer.json names (build.dockerfile)",
        "",
        "Files named on the command line are checked whatever their name and the excludes,",
        "unless --force-exclude is given. `dlink check --show-files` lists what is checked",
        "and why each other file is skipped.",
        "",
        "Scope: of the files found, `scope = \"published\"` (the default) checks only the",
        "Dockerfiles and targets the repository's publishing build sites build (workflows,",
        "bake, GoReleaser, scripts), when it has any; a file named on the command line",
        "follows the same scope. `--scope all` checks every file found. `dlink images` lists",
        "each Dockerfile with its build sites and why it is or is not checked.",
    ]
    return "\n".join(lines)
