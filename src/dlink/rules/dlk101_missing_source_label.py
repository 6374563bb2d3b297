"""DLK101 missing-source-label: the image has no org.opencontainers.image.source label.

Registries such as GitHub Container Registry link a package to its repository
through this label. It must be set in the stage that becomes the image (the last
stage, or --target), or in a stage that one is built FROM; a label in a builder
stage that the final stage only copies from does not reach the image. Labels of
external base images are unknown to dlink.

`dlink fix` adds `LABEL org.opencontainers.image.source="URL"` after the final
stage's last LABEL, or else right after its FROM line, as an instruction of its
own: after a line that ends in the escape character at the end of the file, that
escape is dropped first (BuildKit reads the line the same without it).

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

from dlink.findings import Edit, Finding, RuleInfo, Severity
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
    if subject.source_setting() is not None:
        return []
    model = subject.model
    stage = model.target(subject.context.target)
    lineage = model.lineage(stage)
    root = lineage[0]
    where = f"stage {stage.name!r}" if stage.name else f"the final stage (FROM {stage.base})"
    message = f"the image built from {where} has no {SOURCE_KEY} label"
    if root.base.lower() != "scratch":
        message += f" (labels of the base image {root.base} are unknown to dlink)"
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
    stage = subject.model.target(subject.context.target)
    labels = [i for i in stage.instructions if i.name == "label"]
    anchor = labels[-1] if labels else stage.from_instruction
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


def _open_continuation(lines: list[str], first: int, last: int, escape: str) -> tuple[int, int] | None:
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
