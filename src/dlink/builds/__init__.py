"""How the repository builds and publishes images: one reader per kind of build definition
(GitHub workflows, bake files, goreleaser, compose, command lines in scripts), each giving
build sites: the Dockerfile and context, targets, whether it publishes, build-time labels,
and the file and line it came from.

A plain `dlink check` imports only the plain values (`site`), the planner (`plan`) and
the file-name filter (`names`); the readers, the value resolver and the YAML and HCL
parsers load only when the repository has a file that could define a build.
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


def scan(
    root: Path,
    files: list[str] | None = None,
    *,
    definitions: list[tuple[str, str]] | None = None,
) -> BuildScan:
    """Every build site below `root` (a repository's top directory), in file order.

    `files` is the repository's file list and `definitions` the build definitions among
    them (`names.build_definitions`), when the caller has them already.
    """
    from dlink.builds.scanner import scan as scan_files

    result = scan_files(root, files, definitions)
    result.sites = list(dict.fromkeys(result.sites))  # a matrix repeats identical builds
    return result


def sites_for(scan_result: BuildScan, relative: str) -> list[BuildSite]:
    """The build sites that build the Dockerfile at `relative` (repository-relative, POSIX)."""
    if not scan_result.sites:
        return []
    from dlink.builds.values import glob_match

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
