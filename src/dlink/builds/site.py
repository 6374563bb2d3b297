"""What a build site is: one place in the repository that builds an image from a Dockerfile.

Plain values, shared by the readers (which make them), the check/fix workflow (which
resolves their labels against the repository) and the rules (which see resolved labels).
Every check imports this module, so its classes are `Record`s, not dataclasses (whose
generated methods are compiled at import).
"""

from __future__ import annotations

from dlink.record import Record

SOURCE_KEY = "org.opencontainers.image.source"


class Origin(Record):
    """A place in a build definition: repository-relative POSIX path and 1-based line."""

    __slots__ = ("path", "line")

    def __init__(self, path: str, line: int) -> None:
        self.path = path
        self.line = line

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


class BuildLabel(Record):
    """A label a build site sets at build time, as written there (`raw`)."""

    __slots__ = ("key", "raw", "origin", "via")

    def __init__(self, key: str, raw: str, origin: Origin, via: str) -> None:
        self.key = key
        self.raw = raw
        self.origin = origin
        # How it is set: "docker/metadata-action", "--label", "bake target 'app'", ...
        self.via = via


class BuildSite(Record):
    """One build of one Dockerfile.

    `dockerfile` is repository-relative (POSIX); when the path has parts that cannot be
    known (a variable), `dockerfile` is None and `pattern` is a glob with `*` in their
    place. `targets` holds None for "the last stage".
    """

    __slots__ = (
        "kind", "origin", "description", "dockerfile", "pattern", "context", "targets",
        "publishes", "tags", "labels",
    )  # fmt: skip

    def __init__(
        self,
        kind: str,
        origin: Origin,
        description: str,
        dockerfile: str | None,
        pattern: str | None = None,
        context: str = ".",
        targets: tuple[str | None, ...] = (None,),
        publishes: bool = False,
        tags: tuple[str, ...] = (),
        labels: tuple[BuildLabel, ...] = (),
    ) -> None:
        # github-actions, bake, goreleaser, compose, gitlab-ci, jenkins, make, script, npm
        self.kind = kind
        self.origin = origin
        # e.g. "docker/build-push-action", "docker buildx build", "compose service 'db'"
        self.description = description
        self.dockerfile = dockerfile
        self.pattern = pattern
        self.context = context
        self.targets = targets
        self.publishes = publishes
        self.tags = tags
        self.labels = labels

    def source_labels(self) -> tuple[BuildLabel, ...]:
        return tuple(label for label in self.labels if label.key == SOURCE_KEY)


class Notice(Record):
    """A build definition dlink could not read (or read only in part): never fatal."""

    __slots__ = ("origin", "message")

    def __init__(self, origin: Origin, message: str) -> None:
        self.origin = origin
        self.message = message

    def __str__(self) -> str:
        return f"{self.origin}: {self.message}"


class BuildScan:
    """Every build site found below one repository root, and what could not be read.

    Filled in while the scan runs (not a Record: it changes after construction).
    """

    __slots__ = ("sites", "notices", "read")

    def __init__(
        self,
        sites: list[BuildSite] | None = None,
        notices: list[Notice] | None = None,
        read: list[str] | None = None,
    ) -> None:
        self.sites: list[BuildSite] = [] if sites is None else sites
        self.notices: list[Notice] = [] if notices is None else notices
        # build definitions read (relative paths)
        self.read: list[str] = [] if read is None else read

    def __repr__(self) -> str:
        return f"BuildScan(sites={self.sites!r}, notices={self.notices!r}, read={self.read!r})"

    @property
    def publishes(self) -> bool:
        return any(site.publishes for site in self.sites)


class ResolvedLabel(Record):
    """A build-time label with its value as the image gets it, for the rules.

    `unresolved` names what cannot be known at lint time (the value is then partial);
    `where` is the place as shown to the user; `note` explains a value that depends on
    something outside the file (goreleaser's {{ .GitURL }} is the raw remote URL).
    """

    __slots__ = ("key", "value", "unresolved", "where", "path", "line", "via", "note")

    def __init__(
        self,
        key: str,
        value: str,
        unresolved: frozenset[str],
        where: str,
        path: str,
        line: int,
        via: str,
        note: str | None = None,
    ) -> None:
        self.key = key
        self.value = value
        self.unresolved = unresolved
        self.where = where  # "path:line" as the user reads it
        self.path = path
        self.line = line
        self.via = via
        self.note = note


class RepoFacts(Record):
    """What the repository tells about itself: its canonical URL and raw git remote URL.

    Made for every checked file (the resolver in `values` needs it only for build-time
    labels), so it lives here, with the other plain values.
    """

    __slots__ = ("url", "git_url")

    def __init__(self, url: str, git_url: str | None = None) -> None:
        self.url = url  # canonical https URL of the repository
        self.git_url = git_url  # the remote URL as git has it (goreleaser's GitURL)
