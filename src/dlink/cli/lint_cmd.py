"""`dlink check`, `dlink fix`, `dlink rules`, `dlink explain`."""

from __future__ import annotations

import difflib
import os
import re
import sys
from pathlib import Path
from typing import Annotated

import typer

from dlink.cli.app import app, fail, parse_build_args
from dlink.errors import DlinkError, ExitCode
from dlink.lint import LintOptions, LintRun, display_path, run_lint

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

_CREDENTIALS = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://)[^/@\s\"'`]+@")


def redact(text: str) -> str:
    """Hide user:password@ in any URL of a text we print (diffs show the old line)."""
    return _CREDENTIALS.sub(r"\1***@", text)


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
) -> LintOptions:
    args = parse_build_args(build_arg or [], os.environ)
    from dlink.config import FAIL_ON_CHOICES
    from dlink.model import parse_platforms

    try:
        platforms = parse_platforms(platform or [])
    except ValueError as error:
        raise DlinkError(str(error)) from None

    if fail_on is not None and fail_on not in FAIL_ON_CHOICES:
        raise DlinkError(f"--fail-on {fail_on!r} is not one of {', '.join(FAIL_ON_CHOICES)}")
    codes = tuple(c.upper() for c in (select or []))
    ignored = tuple(c.upper() for c in (ignore or []))
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
    )


def _show_files(options: LintOptions) -> None:
    """`--show-files`: one line per file met, `check PATH` or `skip PATH: reason`, then the
    config patterns that matched none of them."""
    from dlink.lint import find_files

    discovery = find_files(options, unused_patterns=True)
    for path in discovery.files:
        typer.echo(f"check {display_path(path)}")
    for skipped in discovery.skipped:
        typer.echo(f"skip  {display_path(skipped.path)}: {skipped.reason}")
    for pattern in discovery.unused_patterns:
        typer.echo(f"unused pattern {pattern}: matches no Dockerfile here")


def _print_outcomes(run: LintRun, diff: bool, *, fixing: bool = False) -> None:
    """Per-file errors, diffs and "fixed" lines, in the order the files were checked, then
    the unsafe fixes left unapplied and the run's notices."""
    for outcome in run.outcomes:
        if outcome.before is not None and outcome.after is not None:
            if diff:
                _print_diff(outcome.shown, outcome.before, outcome.after)
            elif outcome.written:
                count = outcome.edits
                typer.echo(f"fixed {outcome.shown} ({count} edit{'s' * (count != 1)})", err=True)
        if outcome.error is not None:
            fail(outcome.error)
    if fixing:
        for finding in run.findings:
            if finding.edits and not finding.fix_safe:
                would = finding.fix_title or "apply an unsafe fix"
                typer.echo(
                    redact(
                        f"{finding.path}:{finding.line}:{finding.column}: {finding.code} not fixed: "
                        f"would {would}; pass --unsafe-fixes or set repo-url"
                    ),
                    err=True,
                )
    for notice in run.notices:
        typer.echo(redact(f"dlink: note: {notice}"), err=True)


def _print_diff(shown: str, before: bytes, after: bytes) -> None:
    # Shown, not written: bytes that are not UTF-8 (kept in comments) print as U+FFFD.
    old = before.decode("utf-8-sig", "replace").splitlines(keepends=True)
    new = after.decode("utf-8-sig", "replace").splitlines(keepends=True)
    for line in difflib.unified_diff(old, new, f"a/{shown}", f"b/{shown}"):
        sys.stdout.write(
            redact(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
        )


def _format(requested: str | None) -> str:
    from dlink.report import FORMATS

    if requested is None:
        return "github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text"
    if requested not in FORMATS:
        raise DlinkError(f"--format {requested!r} is not one of {', '.join(FORMATS)}")
    return requested


def _report(run: LintRun, fmt: str) -> None:
    from dlink.report import render
    from dlink.rules import ALL_RULES

    if fmt == "text" and run.errors and not run.findings:
        return  # "no findings" would hide that some files were not checked at all
    color = fmt == "text" and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    out = render(fmt, run.findings, [r.info for r in ALL_RULES], color=color)
    if out:
        sys.stdout.write(redact(out if out.endswith("\n") else out + "\n"))


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
) -> None:
    """Report missing or wrong source labels; exit 1 when findings remain.

    Example: dlink check --format sarif > dlink.sarif
    """
    try:
        fmt = _format(output_format)
        options = _options(
            paths, repo_url, remote, target, build_arg, select, ignore, config, fail_on,
            force_exclude, platform=platform,
        )
        if show_files:
            _show_files(options)
            raise typer.Exit(ExitCode.OK)
        run = run_lint(options, fixing=False)
    except DlinkError as error:
        raise fail(error) from None
    _print_outcomes(run, diff=False)
    _report(run, fmt)
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
) -> None:
    """Rewrite Dockerfiles in place so the source label is right, changing nothing else.

    Only safe fixes apply unless --unsafe-fixes is given: repointing a label at another
    repository is unsafe when that repository is a git remote's guess rather than
    --repo-url, repo-url or the CI's.

    Example: dlink fix Dockerfile   (or: dlink fix --diff . to preview)
    """
    try:
        options = _options(
            paths, repo_url, remote, target, build_arg, select, ignore, config, fail_on,
            force_exclude, unsafe_fixes, platform,
        )
        if show_files:
            _show_files(options)
            raise typer.Exit(ExitCode.OK)
        run = run_lint(options, fixing=True, diff=diff)
    except DlinkError as error:
        raise fail(error) from None
    _print_outcomes(run, diff=diff, fixing=True)
    if run.findings:
        from dlink.report import render
        from dlink.rules import ALL_RULES

        out = render("text", run.findings, [r.info for r in ALL_RULES])
        sys.stderr.write(redact(out if out.endswith("\n") else out + "\n"))
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
        typer.echo(markdown_table(), nl=False)
        return
    for rule in ALL_RULES:
        info = rule.info
        fixable = "fix" if info.fixable else "-"
        typer.echo(
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

        typer.echo(GHCR_GUIDE.rstrip())
        return
    if code.lower() == "files":
        typer.echo(_files_explained().rstrip())
        return

    rule = RULES_BY_CODE.get(code.upper())
    if rule is None:
        raise fail(DlinkError(f"unknown rule {code!r}", "dlink rules lists them"))
    typer.echo(rule.info.doc.rstrip())


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
    ]
    return "\n".join(lines)
