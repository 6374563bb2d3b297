"""What a build site is: one place in the repository that builds an image from a Dockerfile.

Plain values, shared by the readers (which make them), the check/fix workflow (which
resolves their labels against the repository) and the rules (which see resolved labels).
"""

from __future__ import annotations

from dataclasses import dataclass, field

SOURCE_KEY = "org.opencontainers.image.source"


@dataclass(frozen=True)
class Origin:
    """A place in a build definition: repository-relative POSIX path and 1-based line."""

    path: str
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(frozen=True)
class BuildLabel:
    """A label a build site sets at build time, as written there (`raw`)."""

    key: str
    raw: str
    origin: Origin
    via: str  # how it is set: "docker/metadata-action", "--label", "bake target 'app'", ...


@dataclass(frozen=True)
class BuildSite:
    """One build of one Dockerfile.

    `dockerfile` is repository-relative (POSIX); when the path has parts that cannot be
    known (a variable), `dockerfile` is None and `pattern` is a glob with `*` in their
    place. `targets` holds None for "the last stage".
    """

    kind: str  # github-actions, bake, goreleaser, compose, gitlab-ci, jenkins, make, script, npm
    origin: Origin
    description: (
        str  # e.g. "docker/build-push-action", "docker buildx build", "compose service 'db'"
    )
    dockerfile: str | None
    pattern: str | None = None
    context: str = "."
    targets: tuple[str | None, ...] = (None,)
    publishes: bool = False
    tags: tuple[str, ...] = ()
    labels: tuple[BuildLabel, ...] = ()

    def source_labels(self) -> tuple[BuildLabel, ...]:
        return tuple(label for label in self.labels if label.key == SOURCE_KEY)


@dataclass(frozen=True)
class Notice:
    """A build definition dlink could not read (or read only in part): never fatal."""

    origin: Origin
    message: str

    def __str__(self) -> str:
        return f"{self.origin}: {self.message}"


@dataclass
class BuildScan:
    """Every build site found below one repository root, and what could not be read."""

    sites: list[BuildSite] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    read: list[str] = field(default_factory=list)  # build definitions read (relative paths)

    @property
    def publishes(self) -> bool:
        return any(site.publishes for site in self.sites)


@dataclass(frozen=True)
class ResolvedLabel:
    """A build-time label with its value as the image gets it, for the rules.

    `unresolved` names what cannot be known at lint time (the value is then partial);
    `where` is the place as shown to the user; `note` explains a value that depends on
    something outside the file (goreleaser's {{ .GitURL }} is the raw remote URL).
    """

    key: str
    value: str
    unresolved: frozenset[str]
    where: str  # "path:line" as the user reads it
    path: str
    line: int
    via: str
    note: str | None = None
