"""Compose files: `services.*.build` (context, dockerfile, target, labels). Compose builds
for local use; it publishes nothing by itself."""

from __future__ import annotations

import posixpath

from dlink.builds.scanner import Scanner
from dlink.builds.site import BuildLabel, BuildSite, Origin
from dlink.builds.yamlread import key_line, load_mapping


def read_compose(relative: str, text: str, scanner: Scanner) -> None:
    if "build" not in text:
        return
    document = load_mapping(relative, text, scanner.notice)
    services = document.get("services") if document is not None else None
    if not isinstance(services, dict):
        return
    directory = posixpath.dirname(relative) or "."
    for name, service in services.items():
        build = service.get("build") if isinstance(service, dict) else None
        if build is None:
            continue
        if isinstance(build, str):
            build = {"context": build}
        if not isinstance(build, dict) or "dockerfile_inline" in build:
            continue
        context = str(build.get("context") or ".")
        if "://" in context or context.startswith("git@"):
            continue
        dockerfile_value = build.get("dockerfile")
        dockerfile, pattern, context_path = scanner.locate(
            str(dockerfile_value) if dockerfile_value else None,
            context,
            [directory],
            file_from_context=True,
        )
        origin = Origin(relative, key_line(service, "build", getattr(service, "line", 1)))
        labels: list[BuildLabel] = []
        raw_labels = build.get("labels")
        pairs = (
            [str(item).partition("=")[::2] for item in raw_labels]
            if isinstance(raw_labels, list)
            else list(raw_labels.items())
            if isinstance(raw_labels, dict)
            else []
        )
        for key, value in pairs:
            labels.append(BuildLabel(str(key), str(value), origin, f"compose service {name!r}"))
        target = build.get("target")
        image = service.get("image")
        scanner.add(
            BuildSite(
                "compose",
                origin,
                f"compose service {name!r}",
                dockerfile,
                pattern,
                context_path,
                (str(target) if target else None,),
                False,
                (str(image),) if image else (),
                tuple(labels),
            )
        )
