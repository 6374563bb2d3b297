"""How the repository builds and publishes images: one reader per kind of build definition
(GitHub workflows, bake files, goreleaser, compose, command lines in scripts), each giving
build sites: the Dockerfile and context, targets, whether it publishes, build-time labels,
and the file and line it came from.

Nothing here is imported by a plain `dlink check` in a directory without a repository;
YAML and HCL parsers load only when such a file exists.
"""

from __future__ import annotations

from pathlib import Path

from dlink.builds.site import (
    SOURCE_KEY,
    BuildLabel,
    BuildScan,
    BuildSite,
    Notice,
    Origin,
    ResolvedLabel,
)
from dlink.builds.values import glob_match


def scan(root: Path, files: list[str] | None = None) -> BuildScan:
    """Every build site below `root` (a repository's top directory), in file order."""
    from dlink.builds.scanner import scan as scan_files

    result = scan_files(root, files)
    result.sites = list(dict.fromkeys(result.sites))  # a matrix repeats identical builds
    return result


def sites_for(scan_result: BuildScan, relative: str) -> list[BuildSite]:
    """The build sites that build the Dockerfile at `relative` (repository-relative, POSIX)."""
    return [
        site
        for site in scan_result.sites
        if site.dockerfile == relative
        or (
            site.dockerfile is None
            and site.pattern is not None
            and glob_match(relative, site.pattern)
        )
    ]


__all__ = [
    "SOURCE_KEY",
    "BuildLabel",
    "BuildScan",
    "BuildSite",
    "Notice",
    "Origin",
    "ResolvedLabel",
    "scan",
    "sites_for",
]
