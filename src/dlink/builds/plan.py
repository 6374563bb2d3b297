"""Which Dockerfiles are images to label, which targets, and with which build-time labels.

`scope = "published"` (the default): when the repository has a publishing build
site, exactly the Dockerfiles those sites build are checked, each published target
with the labels its build sets; when it has none, every Dockerfile is checked as
before. `scope = "all"`: every Dockerfile, with what the publishing sites say where
they say something.

Every check plans every file, so this module stays light: the readers and the value
resolver load only when the repository has a file that could define a build
(`dlink.builds.names`), or a label to resolve.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from dlink.builds.site import BuildLabel, BuildScan, BuildSite, ResolvedLabel
from dlink.record import Record

if TYPE_CHECKING:
    from dlink.builds.values import RepoFacts

SCOPES = ("published", "all")


class Check(Record):
    """One way the file is published: a target and the labels its build sets."""

    __slots__ = ("target", "labels", "site")

    def __init__(
        self, target: str | None, labels: tuple[BuildLabel, ...], site: BuildSite | None
    ) -> None:
        self.target = target
        self.labels = labels
        self.site = site


class ImagePlan:
    """What dlink makes of one Dockerfile: who builds it, whether it is checked, and how.

    Settled while planning (not a Record: `in_scope`, `reason` and `explicit` are set
    after construction).
    """

    __slots__ = ("path", "relative", "root", "sites", "in_scope", "reason", "explicit")

    def __init__(
        self,
        path: Path,
        relative: str | None,
        root: Path | None,
        sites: list[BuildSite] | None = None,
        in_scope: bool = True,
        reason: str = "",
        explicit: bool = False,
    ) -> None:
        self.path = path
        self.relative = relative  # to the repository root
        self.root = root
        self.sites: list[BuildSite] = [] if sites is None else sites
        self.in_scope = in_scope
        self.reason = reason
        self.explicit = explicit  # named on the command line

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"ImagePlan({fields})"

    @property
    def publishing(self) -> list[BuildSite]:
        return [site for site in self.sites if site.publishes]

    @property
    def targets(self) -> tuple[str | None, ...]:
        found = [t for site in self.publishing for t in site.targets]
        return tuple(dict.fromkeys(found)) or (None,)

    def checks(self, targets: tuple[str, ...] = ()) -> list[Check]:
        """The analyses to run: one per published target and build-time label set.

        `targets` (from the command line or config) replace the build sites' targets;
        each is checked with the labels of the sites that publish it, if any.
        """
        if targets:
            found: list[Check] = []
            for name in targets:
                sites = [
                    site
                    for site in self.publishing
                    if name.lower() in [(t or "").lower() for t in site.targets]
                ]
                found += [Check(name, site.labels, site) for site in sites] or [
                    Check(name, (), None)
                ]
            return list(dict.fromkeys(found))
        checks = [
            Check(stage, site.labels, site) for site in self.publishing for stage in site.targets
        ]
        unique: dict[tuple[str | None, tuple[BuildLabel, ...]], Check] = {}
        for check in checks:
            unique.setdefault((check.target, _source_labels(check.labels)), check)
        return list(unique.values()) or [Check(None, (), None)]


def _source_labels(labels: tuple[BuildLabel, ...]) -> tuple[BuildLabel, ...]:
    from dlink.builds.site import SOURCE_KEY

    return tuple(label for label in labels if label.key == SOURCE_KEY)


def _real(path: Path) -> Path:
    return Path(os.path.realpath(path))


class Planner:
    """Scans each repository's build definitions once per run."""

    def __init__(self, searched: list[Path]) -> None:
        self._searched = [p.resolve() for p in searched if p.is_dir()]
        # realpath, not resolve(): a symlink loop named on the command line must reach
        # read_dockerfile's one-line error, not raise RuntimeError here (Python < 3.13).
        self._named = {_real(p) for p in searched if not p.is_dir()}
        self._scans: dict[Path, BuildScan] = {}
        self.seconds = 0.0  # time spent reading build definitions

    def root_of(self, path: Path) -> Path:
        """The repository's top directory; without git, the searched directory holding it."""
        absolute = _real(path)
        for candidate in [absolute.parent, *absolute.parent.parents]:
            if (candidate / ".git").exists():
                return candidate
        holding = [d for d in self._searched if absolute.is_relative_to(d)]
        if holding:
            return min(holding, key=lambda d: len(d.parts))
        cwd = Path.cwd().resolve()
        return cwd if absolute.is_relative_to(cwd) else absolute.parent

    def scan(self, root: Path) -> BuildScan:
        if root not in self._scans:
            from dlink.builds.names import build_definitions, repository_files

            started = time.perf_counter()
            listed = repository_files(root)
            definitions = build_definitions(listed)
            if definitions:
                from dlink.builds import scan

                self._scans[root] = scan(root, listed, definitions=definitions)
            else:
                # No file could define a build: the scan would read nothing and find
                # nothing, so its readers are not even imported.
                self._scans[root] = BuildScan()
            self.seconds += time.perf_counter() - started
        return self._scans[root]

    @property
    def scans(self) -> dict[Path, BuildScan]:
        return self._scans

    def plan(self, path: Path, scope: str) -> ImagePlan:
        from dlink.builds import sites_for

        root = self.root_of(path)
        relative = Path(os.path.relpath(_real(path), root)).as_posix()
        result = self.scan(root)
        plan = ImagePlan(path, relative, root, sites_for(result, relative))
        plan.explicit = _real(path) in self._named
        if plan.publishing:
            plan.reason = "published"
        elif scope == "all":
            plan.reason = "checked because scope is 'all'"
        elif not result.publishes:
            plan.reason = "checked: the repository has no publishing build site dlink recognises"
        else:
            plan.in_scope = False
            if plan.sites:
                places = ", ".join(dict.fromkeys(str(s.origin) for s in plan.sites))
                plan.reason = f"not published: built only by {places}"
            else:
                plan.reason = "not published: no build site builds it"
        return plan


def resolve_labels(
    labels: tuple[BuildLabel, ...],
    facts: RepoFacts | None,
    root: Path | None,
    shown: Callable[[Path], str],
) -> tuple[ResolvedLabel, ...]:
    """Build-time labels with their values as the image gets them."""
    if not labels:
        return ()
    from dlink.builds.values import resolve

    resolved = []
    for label in labels:
        value = resolve(label.raw, facts)
        where_path = shown(root / label.origin.path) if root else label.origin.path
        resolved.append(
            ResolvedLabel(
                label.key,
                value.value,
                value.unresolved,
                f"{where_path}:{label.origin.line}",
                where_path,
                label.origin.line,
                label.via,
                value.note,
            )
        )
    return tuple(resolved)
