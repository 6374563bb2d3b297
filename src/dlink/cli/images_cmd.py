"""`dlink images`: every Dockerfile, who builds and publishes it, where its source label
comes from, and what `dlink check` says about it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from dlink.cli import output
from dlink.cli.app import app, fail
from dlink.errors import DlinkError, ExitCode
from dlink.lint import FileOutcome, LintOptions, LintRun, display_path, run_lint


@app.command("images")
def images(
    path: Annotated[
        Path | None,
        typer.Argument(
            help="Repository or directory to describe (default: the current one).",
            show_default=False,
        ),
    ] = None,
    output_format: Annotated[str, typer.Option("--format", help="text or json.")] = "text",
    repo_url: Annotated[
        str | None, typer.Option("--repo-url", help="The repository URL to expect (skips git).")
    ] = None,
    scope: Annotated[
        str | None, typer.Option("--scope", help="published or all (as for dlink check).")
    ] = None,
) -> None:
    """List the Dockerfiles, where they are built and published, their targets, where their
    source label comes from, and the verdict; a file dlink does not check says why.

    Example: dlink images --format json
    """
    from dlink.builds.plan import SCOPES

    try:
        if output_format not in ("text", "json"):
            raise DlinkError(f"--format {output_format!r} is not one of text, json")
        if scope is not None and scope not in SCOPES:
            raise DlinkError(f"--scope {scope!r} is not one of {', '.join(SCOPES)}")
        options = LintOptions([path or Path(".")], repo_url=repo_url, scope=scope)
        run = run_lint(options, fixing=False)
    except DlinkError as error:
        raise fail(error) from None
    entries = [_entry(outcome) for outcome in run.outcomes]
    entries += [_skipped(plan) for plan in run.skipped]
    entries.sort(key=lambda e: str(e["path"]))
    if output_format == "json":
        document = {"dockerfiles": entries, "notices": run.notices}
        output.out(json.dumps(document, indent=2))
    else:
        _print_text(entries, run)
    # A listing: a file that cannot be read is its verdict, not a failure of the command.
    raise typer.Exit(ExitCode.OK)


def _site(site: Any, root: Path | None) -> dict[str, Any]:
    where = display_path(root / site.origin.path) if root else site.origin.path
    return {
        "file": where,
        "line": site.origin.line,
        "kind": site.kind,
        "description": site.description,
        "publishes": site.publishes,
        "targets": [t for t in site.targets if t is not None],
        "tags": list(site.tags),
    }


def _label_sources(outcome: FileOutcome) -> list[dict[str, Any]]:
    """Where each checked target's source label comes from: the build, the Dockerfile, nowhere."""
    from dlink.builds.site import SOURCE_KEY
    from dlink.model import ModelError, build
    from dlink.syntax import ParseError, parse

    plan = outcome.plan
    if plan is None:
        return []
    try:
        model = build(parse(plan.path.read_bytes()))
    except (OSError, ParseError, ModelError):
        model = None
    sources = []
    for check in plan.checks():
        built = [label for label in check.labels if label.key == SOURCE_KEY]
        entry: dict[str, Any] = {"target": check.target}
        if built:
            label = built[-1]
            where = display_path(plan.root / label.origin.path) if plan.root else label.origin.path
            entry.update({"from": "build", "via": label.via, "where": f"{where}:{label.origin.line}",
                          "value": label.raw})  # fmt: skip
        else:
            setting = None
            if model is not None:
                try:
                    settings = [s for s in model.image_labels(check.target) if s.key == SOURCE_KEY]
                    setting = settings[-1] if settings else None
                except ModelError:
                    setting = None
            if setting is not None:
                line = setting.instruction.start_line
                entry.update({"from": "dockerfile", "via": "LABEL", "where": f"{outcome.shown}:{line}",
                              "value": setting.token.value.text})  # fmt: skip
            else:
                entry.update({"from": None, "via": None, "where": None, "value": None})
        sources.append(entry)
    return sources


def _entry(outcome: FileOutcome) -> dict[str, Any]:
    plan = outcome.plan
    findings = [
        {
            "path": f.path,
            "line": f.line,
            "code": f.code,
            "severity": f.severity.value,
            "message": f.message,
        }
        for f in outcome.findings
    ]
    if outcome.error is not None:
        verdict = f"error: {outcome.error.message}"
    elif findings:
        codes = ", ".join(dict.fromkeys(str(f["code"]) for f in findings))
        verdict = f"{len(findings)} finding{'s' * (len(findings) != 1)} ({codes})"
    else:
        verdict = "ok"
    return {
        "path": outcome.shown,
        "checked": True,
        "reason": plan.reason if plan else "",
        "targets": list(plan.targets) if plan else [None],
        "sites": [_site(s, plan.root) for s in plan.sites] if plan else [],
        "source_labels": _label_sources(outcome),
        "findings": findings,
        "verdict": verdict,
    }


def _skipped(plan: Any) -> dict[str, Any]:
    return {
        "path": display_path(plan.path),
        "checked": False,
        "reason": plan.reason,
        "targets": [],
        "sites": [_site(s, plan.root) for s in plan.sites],
        "source_labels": [],
        "findings": [],
        "verdict": "not checked",
    }


_OTHERS_SHOWN = 4


def _print_text(entries: list[dict[str, Any]], run: LintRun) -> None:
    for entry in entries:
        output.out(entry["path"])
        publishing = [site for site in entry["sites"] if site["publishes"]]
        others = [site for site in entry["sites"] if not site["publishes"]]
        # Every publishing site; a few of the others (--format json lists them all).
        for site in publishing + others[: max(0, _OTHERS_SHOWN - len(publishing))]:
            action = "published by" if site["publishes"] else "built by"
            tags = f" as {', '.join(site['tags'][:3])}" if site["tags"] else ""
            output.out(f"  {action} {site['file']}:{site['line']} ({site['description']}){tags}")
        hidden = len(entry["sites"]) - max(_OTHERS_SHOWN, len(publishing))
        if hidden > 0:
            output.out(
                f"  built by {hidden} more site{'s' * (hidden != 1)} (--format json lists them)"
            )
        if not entry["sites"]:
            output.out("  built by no build site dlink recognises")
        if entry["checked"]:
            names = ", ".join(t or "last stage" for t in entry["targets"])
            output.out(f"  targets: {names}")
            for source in entry["source_labels"]:
                stage = f" [{source['target']}]" if source["target"] else ""
                if source["from"] is None:
                    output.out(f"  source label{stage}: none")
                else:
                    output.out(f"  source label{stage}: {source['via']} at {source['where']}")
            output.out(f"  verdict: {entry['verdict']}")
        else:
            output.out(f"  verdict: not checked ({entry['reason']})")
    for notice in run.notices:
        output.err(f"notice: {notice}")
