"""GoReleaser: `dockers` (build_flag_templates, image_templates, skip_push) and
`dockers_v2` (images, tags, labels). GoReleaser publishes what it builds on release."""

from __future__ import annotations

from typing import Any

from dlink.builds.commands import read_commands
from dlink.builds.scanner import Scanner
from dlink.builds.site import BuildLabel, BuildSite, Origin
from dlink.builds.yamlread import line_of, load_mapping


def read_goreleaser(relative: str, text: str, scanner: Scanner) -> None:
    if "docker" not in text:
        return
    document = load_mapping(relative, text, scanner.notice)
    if document is None:
        return
    for entry in _entries(document.get("dockers")):
        _docker(relative, entry, scanner, v2=False)
    for entry in _entries(document.get("dockers_v2")):
        _docker(relative, entry, scanner, v2=True)


def _entries(value: Any) -> list[dict[str, Any]]:
    return [entry for entry in value if isinstance(entry, dict)] if isinstance(value, list) else []


def _docker(relative: str, entry: dict[str, Any], scanner: Scanner, *, v2: bool) -> None:
    origin = Origin(relative, getattr(entry, "line", 1))
    dockerfile_value = entry.get("dockerfile")
    # GoReleaser runs in the directory of its config and copies the Dockerfile from there.
    dockerfile, pattern, _ = scanner.locate(
        str(dockerfile_value) if dockerfile_value else "Dockerfile", ".", ["."]
    )
    labels: list[BuildLabel] = []
    targets: list[str] = []
    flags = entry.get("build_flag_templates")
    for flag in flags if isinstance(flags, list) else []:
        # Each template is one argument; read it as a command line would be.
        words = read_commands(
            "docker build " + str(flag).replace("{{ ", "{{").replace(" }}", "}}") + " ."
        )
        for build in words.builds:
            labels += [
                BuildLabel(
                    k,
                    v,
                    Origin(relative, line_of(flag, origin.line)),
                    "goreleaser build_flag_templates",
                )
                for k, v in build.labels
            ]
            targets += build.targets
    raw_labels = entry.get("labels")
    if isinstance(raw_labels, dict):
        for key, value in raw_labels.items():
            line = line_of(value, origin.line)
            labels.append(
                BuildLabel(str(key), str(value), Origin(relative, line), "goreleaser labels")
            )
    tags = entry.get("images") if v2 else entry.get("image_templates")
    skip = entry.get("skip_push") if not v2 else entry.get("skip")
    publishes = not (skip is True or (isinstance(skip, str) and skip.strip().lower() == "true"))
    scanner.add(
        BuildSite(
            "goreleaser",
            origin,
            "goreleaser dockers_v2" if v2 else "goreleaser dockers",
            dockerfile,
            pattern,
            ".",
            tuple(targets) or (None,),
            publishes,
            tuple(str(t) for t in tags) if isinstance(tags, list) else (),
            tuple(labels),
        )
    )
