"""DLK101 missing-source-label: the image has no org.opencontainers.image.source label.

Registries such as GitHub Container Registry link a package to its repository
through this label. It must be set in the stage that becomes the image (the last
stage, or --target), or in a stage that one is built FROM; a label in a builder
stage that the final stage only copies from does not reach the image. Labels of
external base images are unknown to dlink.

A source label the publishing build sets at build time (docker/metadata-action's
labels, a bake target's `labels`, goreleaser's or a script's `--label`) satisfies
this rule: `dlink images` shows where each image's label comes from.

`dlink fix` adds `LABEL org.opencontainers.image.source="URL"` after the final
stage's last LABEL, or else right after its FROM line, as an instruction of its
own: after a line that ends in the escape character at the end of the file, that
escape is dropped first (BuildKit reads the line the same without it). When the
repository publishes several targets of one Dockerfile, the line goes into the
stage they all build on (their lowest common base), so one line serves them all.

Bad:
    FROM golang:1.23 AS build
    LABEL org.opencontainers.image.source="https://github.com/monalisa/my_repo"
    FROM alpine
    COPY --from=build /app /app

Good:
    FROM golang:1.23 AS build
    FROM alpine
    LABEL org.opencontainers.image.source="https://github.com/monalisa/my_repo"
    COPY --from=build /app /app
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from dlink.findings import Edit, Finding, RuleInfo, Severity
from dlink.model import ModelError, Stage
from dlink.rules.base import SOURCE_KEY, Subject, finding_at, instruction_head, quote_value

RULE = RuleInfo(
    code="DLK101",
    name="missing-source-label",
    severity=Severity.ERROR,
    fixable=True,
    summary="The final image has no org.opencontainers.image.source label.",
    doc=__doc__ or "",
)


def check(subject: Subject) -> list[Finding]:
    if subject.source_setting() is not None or subject.build_source() is not None:
        return []
    model = subject.model
    stage = model.target(subject.context.target)
    lineage = model.lineage(stage)
    root = lineage[0]
    where = f"stage {stage.name!r}" if stage.name else f"the final stage (FROM {stage.base})"
    message = f"the image built from {where} has no {SOURCE_KEY} label"
    if root.base.lower() != "scratch":
        message += f" (labels of the base image {root.base} are unknown to dlink)"
    if subject.context.published_by:
        message += f"; published by {subject.context.published_by} without a build-time label"
    start, end = instruction_head(stage.from_instruction, subject)
    repo_url = subject.context.repo_url
    if repo_url is None:
        # No repository known: nothing to fill the label with, so no fix.
        message += "; with no repository known, fix cannot add it (pass --repo-url)"
        return [finding_at(RULE, subject, start, end, message)]
    return [finding_at(RULE, subject, start, end, message, (_insertion(subject, repo_url),))]


def _insertion(subject: Subject, repo_url: str) -> Edit:
    """One new LABEL line after the stage's last LABEL (else its FROM), as its own instruction.

    An anchor that runs to the end of the file inside an open continuation (a
    trailing escape, perhaps followed by blank or comment lines) would swallow any
    line written after it, so that escape is dropped: BuildKit reads the anchor the
    same without it, and the new line is then an instruction of its own.
    """
    df = subject.dockerfile
    stage = _common_base(subject)
    # Every LABEL of a stage sets a label (an empty one is refused), so the stage's last
    # setting names its last LABEL, without reading every instruction of the stage.
    anchor = stage.labels[-1].instruction if stage.labels else stage.from_instruction
    value = quote_value(repo_url, '"', df.escape)
    line = f"LABEL {SOURCE_KEY}={value}"
    last = df.lines[anchor.end_line - 1]
    newline = "\r\n" if last.endswith("\r\n") else "\n" if last.endswith("\n") else df.newline
    start = anchor.end
    tail = ""
    dangling = _open_continuation(df.lines, anchor.start_line, anchor.end_line, df.escape)
    if dangling is not None:
        line_index, column = dangling
        start = df.line_starts[line_index] + column
        tail = df.text[start + 1 : anchor.end]  # what follows the escape, kept as it was
    if (tail or df.text[anchor.end - 1 : anchor.end]).endswith("\n"):
        return Edit(start, anchor.end, tail + line + newline)
    return Edit(start, anchor.end, tail + newline + line)


def _open_continuation(lines: Sequence[str], first: int, last: int, escape: str) -> tuple[int, int] | None:
    """Where the escape character of an instruction still continuing at the end of the file is:
    (0-based line, column), or None when the instruction ends normally."""
    for index in range(last - 1, first - 2, -1):
        content = lines[index].rstrip("\r\n")
        stripped = content.strip()
        if not stripped or stripped.startswith("#"):
            continue  # blank and comment lines inside a continuation belong to it
        match = re.search(r"(?:\A|[^" + re.escape(escape) + "])(" + re.escape(escape) + r")[ \t]*\Z", content)
        return (index, match.start(1)) if match else None
    return None


def _common_base(subject: Subject) -> Stage:
    """The newest stage that every published target is built on (the target itself when
    it is the only one, or when the targets share no stage)."""
    model = subject.model
    stage = model.target(subject.context.target)
    targets = set(subject.context.published_targets) | {subject.context.target}
    if len(targets) < 2:
        return stage
    try:
        lineages = [model.lineage(model.target(name)) for name in targets]
    except ModelError:
        return stage  # a target the file lacks: the engine reports it when that one is checked
    shared = [s for s in lineages[0] if all(s in lineage for lineage in lineages[1:])]
    return shared[-1] if shared else stage
