"""DLK101 missing-source-label: the image has no org.opencontainers.image.source label.

Registries such as GitHub Container Registry link a package to its repository
through this label. It must be set in the stage that becomes the image (the last
stage, or --target), or in a stage that one is built FROM; a label in a builder
stage that the final stage only copies from does not reach the image. Labels of
external base images are unknown to dlink.

`dlink fix` adds `LABEL org.opencontainers.image.source="URL"` after the final
stage's last LABEL, or else right after its FROM line.

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
    df = subject.dockerfile
    stage = subject.model.target(subject.context.target)
    labels = [i for i in stage.instructions if i.name == "label"]
    anchor = labels[-1] if labels else stage.from_instruction
    value = quote_value(repo_url, '"', df.escape)
    line = f"LABEL {SOURCE_KEY}={value}"
    last = df.lines[anchor.end_line - 1]
    if last.endswith("\n"):
        return Edit(anchor.end, anchor.end, line + df.newline)
    # The file ends on the anchor's line. If that line ends in a continuation,
    # BuildKit would join our new line onto it, so drop the dangling escape.
    content_end = anchor.end
    dangling = re.search(re.escape(df.escape) + r"[ \t]*\Z", last)
    if dangling is not None:
        content_end = anchor.end - (len(last) - dangling.start())
    return Edit(content_end, anchor.end, df.newline + line)
