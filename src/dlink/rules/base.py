"""What every rule shares: the facts it may see, and how it builds findings and edits."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from dlink.findings import Finding
from dlink.model import DEFAULT_PLATFORM
from dlink.record import Record

if TYPE_CHECKING:
    from dlink.builds.site import ResolvedLabel
    from dlink.directives import Directives
    from dlink.findings import Edit, RuleInfo
    from dlink.model import LabelSetting, Model
    from dlink.syntax import Dockerfile, Instruction

SOURCE_KEY = "org.opencontainers.image.source"


class Context(Record):
    """Facts about the file that rules may use; rules never touch git or the disk."""

    __slots__ = (
        "path", "repo_url", "target", "build_args", "repo_authoritative", "repo_source",
        "remotes", "platforms", "build_labels", "published_targets", "published_by",
    )  # fmt: skip
    path: str
    repo_url: str | None  # canonical URL of the repository holding the file; None: unknown
    target: str | None
    build_args: Mapping[str, str]
    # Whether repo_url is the user's or the CI's word (--repo-url, repo-url, CI variables)
    # rather than a remote's guess: only then is repointing a label at it a safe fix.
    repo_authoritative: bool
    repo_source: str | None  # where repo_url came from, for messages ("remote 'origin'")
    remotes: Mapping[str, str]  # the checkout's remotes: name -> URL
    # The platforms the image is built for (`os/arch[/variant]`); each is checked.
    platforms: tuple[str, ...]
    # Labels the publishing build sets at build time (`--label`, metadata-action, bake),
    # resolved against the repository; they override the Dockerfile's LABELs.
    build_labels: tuple[ResolvedLabel, ...]
    # Every target the repository publishes from this file (None: the last stage).
    published_targets: tuple[str | None, ...]
    published_by: str | None  # "path:line" of the publishing build site

    def __init__(
        self,
        path: str,
        repo_url: str | None,
        target: str | None = None,
        build_args: Mapping[str, str] | None = None,
        repo_authoritative: bool = True,
        repo_source: str | None = None,
        remotes: Mapping[str, str] | None = None,
        platforms: tuple[str, ...] = (DEFAULT_PLATFORM,),
        build_labels: tuple[ResolvedLabel, ...] = (),
        published_targets: tuple[str | None, ...] = (),
        published_by: str | None = None,
    ) -> None:
        self.path = path
        self.repo_url = repo_url
        self.target = target
        self.build_args = {} if build_args is None else build_args
        self.repo_authoritative = repo_authoritative
        self.repo_source = repo_source
        self.remotes = {} if remotes is None else remotes
        self.platforms = platforms
        self.build_labels = build_labels
        self.published_targets = published_targets
        self.published_by = published_by

    def remote_naming(self, url: str) -> str | None:
        """The remote of the checkout, other than the one repo_url came from, naming `url`'s repository."""
        from dlink.repo import same_repository

        if self.repo_url is not None and same_repository(url, self.repo_url):
            return None
        for name, remote_url in self.remotes.items():
            if same_repository(url, remote_url):
                return name
        return None


class Subject(Record):
    """A parsed file with its model, as the rules see it."""

    __slots__ = ("dockerfile", "model", "context", "directives")
    dockerfile: Dockerfile
    model: Model  # for one of context.platforms
    context: Context
    directives: Directives

    def __init__(
        self, dockerfile: Dockerfile, model: Model, context: Context, directives: Directives
    ) -> None:
        self.dockerfile = dockerfile
        self.model = model
        self.context = context
        self.directives = directives

    def image_labels(self) -> list[LabelSetting]:
        return self.model.image_labels(self.context.target)

    def source_setting(self) -> LabelSetting | None:
        """The source label the image ends up with: the last one set."""
        settings = [s for s in self.image_labels() if s.key == SOURCE_KEY]
        return settings[-1] if settings else None

    def build_source(self) -> ResolvedLabel | None:
        """The source label the build sets at build time, which wins over the Dockerfile's."""
        labels = [label for label in self.context.build_labels if label.key == SOURCE_KEY]
        return labels[-1] if labels else None


def finding_elsewhere(rule: RuleInfo, label: ResolvedLabel, message: str) -> Finding:
    """A finding on a build definition's line (a workflow, a bake file), not the Dockerfile."""
    return Finding(
        label.path, label.line, 1, label.line, 1, rule.code, rule.name, rule.severity, message, False
    )


def finding_at(
    rule: RuleInfo,
    subject: Subject,
    start: int,
    end: int,
    message: str,
    edits: tuple[Edit, ...] = (),
) -> Finding:
    """A finding covering text offsets [start, end)."""
    df = subject.dockerfile
    end = max(end, start + 1)
    last = min(end - 1, len(df.text) - 1) if df.text else 0
    return Finding(
        path=subject.context.path,
        line=df.line_of(start),
        column=df.column_of(start),
        end_line=df.line_of(last),
        end_column=df.column_of(last) + 1,
        code=rule.code,
        name=rule.name,
        severity=rule.severity,
        message=message,
        fixable=rule.fixable and bool(edits),
        edits=edits,
    )


def instruction_head(instruction: Instruction, subject: Subject) -> tuple[int, int]:
    """The span of an instruction's first line (without its line ending)."""
    df = subject.dockerfile
    line = df.lines[instruction.start_line - 1].rstrip("\r\n")
    return instruction.content_start, df.line_starts[instruction.start_line - 1] + len(line)


def quote_value(value: str, like: str, escape: str) -> str:
    """Write `value` as a LABEL value token in the style of the token it replaces."""
    plain = not any(ch in value for ch in " \t'\"$" + escape)
    if like.startswith("'") and "'" not in value:
        return f"'{value}'"
    if like[:1] not in ("'", '"') and plain:
        return value
    escaped = "".join(escape + ch if ch in '"$' + escape else ch for ch in value)
    return f'"{escaped}"'


def has_variables(raw: str) -> bool:
    """Whether a raw word refers to a variable (so its value is not written in the file)."""
    return "$" in raw
