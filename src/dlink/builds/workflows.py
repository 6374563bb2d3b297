"""GitHub Actions workflows: docker/build-push-action, docker/metadata-action,
docker/bake-action, and build commands in `run:` steps.

`${{ matrix.* }}` and `${{ env.* }}` take the values the workflow writes (each matrix
combination is one build); other expressions stay for the resolver to judge.
"""

from __future__ import annotations

import itertools
import posixpath
import re
from collections.abc import Mapping
from typing import Any

from dlink.builds.commands import read_commands
from dlink.builds.scanner import BakeCall, Scanner
from dlink.builds.site import SOURCE_KEY, BuildLabel, BuildSite, Origin
from dlink.builds.yamlread import line_of, load_mapping

_CONTEXT_EXPRESSION = re.compile(r"\$\{\{\s*(matrix|env)\.([\w.-]+)\s*\}\}")
_STEP_OUTPUT = re.compile(r"\$\{\{\s*steps\.([\w-]+)\.outputs\.([\w-]+)\s*\}\}")
_MAX_COMBINATIONS = 64
# A bake-action `source` naming another repository (`.` and `{{defaultContext}}` are this one).
_REMOTE_SOURCE = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|git@|github\.com/)", re.IGNORECASE)
# What docker/metadata-action's `labels` output says the source is.
METADATA_SOURCE = "${{ github.event.repository.html_url }}"


def read_workflow(relative: str, text: str, scanner: Scanner) -> None:
    document = load_mapping(relative, text, scanner.notice)
    if document is None or not isinstance(document.get("jobs"), dict):
        return
    workflow_env = _env(document.get("env"))
    for job in document["jobs"].values():
        if not isinstance(job, dict):
            continue
        if isinstance(job.get("uses"), str):
            _reusable_workflow(relative, job, workflow_env, scanner)
            continue
        if not isinstance(job.get("steps"), list):
            continue
        job_env = {**workflow_env, **_env(job.get("env"))}
        defaults = job.get("defaults") or document.get("defaults") or {}
        run_directory = _run_directory(defaults)
        strategy: dict[str, Any] = job["strategy"] if isinstance(job.get("strategy"), dict) else {}
        for combination in _combinations(strategy.get("matrix")):
            _read_steps(relative, job["steps"], combination, job_env, run_directory, scanner)


def _env(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {str(k): str(v) for k, v in value.items() if isinstance(v, (str, int, float))}


def _run_directory(defaults: Any) -> str:
    run = defaults.get("run") if isinstance(defaults, dict) else None
    directory = run.get("working-directory") if isinstance(run, dict) else None
    return str(directory) if isinstance(directory, str) else "."


def _combinations(matrix: Any) -> list[dict[str, Any]]:
    """The matrix's combinations (bounded); [{}] for none or an expression."""
    if not isinstance(matrix, dict):
        return [{}]
    axes = {
        k: v for k, v in matrix.items() if k not in ("include", "exclude") and isinstance(v, list)
    }
    combinations: list[dict[str, Any]] = [
        dict(zip(axes, values)) for values in itertools.product(*axes.values())
    ]
    combinations = combinations[:_MAX_COMBINATIONS] if axes else []
    includes = matrix.get("include")
    for entry in includes if isinstance(includes, list) else []:
        if not isinstance(entry, dict):
            continue
        matched = [
            c for c in combinations if all(c.get(k, v) == v for k, v in entry.items() if k in axes)
        ]
        if matched and any(k in axes for k in entry):
            for combination in matched:
                combination.update({k: v for k, v in entry.items() if k not in axes})
        else:
            combinations.append(dict(entry))
    return combinations[:_MAX_COMBINATIONS] or [{}]


def _expand(value: Any, combination: Mapping[str, Any], env: Mapping[str, str]) -> str:
    text = str(value).replace("${{ github.workspace }}", ".")

    def replace(match: re.Match[str]) -> str:
        scope, path = match.group(1), match.group(2).split(".")
        found: Any = combination if scope == "matrix" else env
        for part in path:
            found = found.get(part) if isinstance(found, dict) else None
        return str(found) if isinstance(found, (str, int, float)) else match.group(0)

    return _CONTEXT_EXPRESSION.sub(replace, text)


def _lines(
    value: Any,
    combination: Mapping[str, Any],
    env: Mapping[str, str],
    *,
    ignore_comma: bool = False,
) -> list[tuple[str, int]]:
    """A list input as the docker actions read it (actions-toolkit's getInputList): one item
    a line, each line also split at commas unless `ignore_comma` (labels, `set`, outputs:
    their values hold commas), trimmed, empty ones dropped. Matrix and env values are put in
    first, so a matrix value written as a block scalar is split too. Each item keeps its line."""
    line = line_of(value, 1)
    if isinstance(value, list):
        entries = [(item, line_of(item, line)) for item in value if item is not None]
    elif value is None or isinstance(value, bool):
        return []
    else:
        entries = [(text, line + offset) for offset, text in enumerate(str(value).splitlines())]
    result = []
    for entry, entry_line in entries:
        for text in _expand(entry, combination, env).splitlines():
            if text.strip().startswith("#"):
                continue
            for piece in [text] if ignore_comma else _split_commas(text):
                if piece.strip():
                    result.append((piece.strip(), entry_line))
    return result


def _split_commas(text: str) -> list[str]:
    """Split one line at commas outside double quotes and `${{ }}` (csv-parse, relaxed)."""
    pieces, current, quoted, depth, index = [], "", False, 0, 0
    while index < len(text):
        if text.startswith("${{", index):
            depth, current, index = depth + 1, current + "${{", index + 3
            continue
        if depth and text.startswith("}}", index):
            depth, current, index = depth - 1, current + "}}", index + 2
            continue
        char = text[index]
        if char == '"' and not depth:
            quoted = not quoted
        elif char == "," and not quoted and not depth:
            pieces.append(current)
            current = ""
        else:
            current += char
        index += 1
    return [*pieces, current]


def _truthy(value: Any) -> bool:
    """`push:` and the like: true, or an expression (it pushes on some events)."""
    if isinstance(value, bool):
        return value
    return isinstance(value, str) and ("${{" in value or value.strip().lower() == "true")


def _read_steps(
    relative: str,
    steps: list[Any],
    combination: Mapping[str, Any],
    job_env: Mapping[str, str],
    run_directory: str,
    scanner: Scanner,
) -> None:
    metadata: dict[str, tuple[BuildLabel, ...]] = {}
    images: dict[str, tuple[str, ...]] = {}
    for step in steps:
        if not isinstance(step, dict):
            continue
        env = {**job_env, **_env(step.get("env"))}
        uses = str(step.get("uses") or "")
        inputs: dict[str, Any] = step["with"] if isinstance(step.get("with"), dict) else {}
        line = line_of(step.get("uses"), getattr(step, "line", 1))
        origin = Origin(relative, line)
        action = uses.split("@")[0].lower()
        if action == "docker/metadata-action":
            step_id = str(step.get("id") or "")
            labels = {
                SOURCE_KEY: BuildLabel(
                    SOURCE_KEY, METADATA_SOURCE, origin, "docker/metadata-action"
                )
            }
            for text, label_line in _lines(
                inputs.get("labels"), combination, env, ignore_comma=True
            ):
                key, _, value = text.partition("=")
                label_origin = Origin(relative, label_line)
                labels[key.strip()] = BuildLabel(
                    key.strip(), value, label_origin, "docker/metadata-action labels"
                )
            metadata[step_id] = tuple(labels.values())
            images[step_id] = tuple(
                t for t, _ in _lines(inputs.get("images"), combination, env, ignore_comma=True)
            )
        elif action == "docker/build-push-action":
            _build_push(relative, origin, inputs, combination, env, metadata, images, scanner)
        elif action == "docker/bake-action":
            _bake(relative, origin, inputs, combination, env, metadata, scanner)
        elif _is_image_action(action, inputs):
            _other_action(relative, origin, action, inputs, combination, env, steps, scanner)
        elif isinstance(step.get("run"), str):
            run = step["run"]
            directory = str(step.get("working-directory") or run_directory)
            # Steps run in the checkout, which is the workspace by default.
            variables = {**env, "GITHUB_WORKSPACE": "."}
            text = _expand(run, combination, env).replace("${{ github.workspace }}", ".")
            commands = read_commands(text, variables, first_line=line_of(run, 1))
            scanner.command_sites(
                commands, relative, "github-actions", [posixpath.normpath(directory)]
            )


def _labels_input(
    relative: str,
    value: Any,
    combination: Mapping[str, Any],
    env: Mapping[str, str],
    metadata: Mapping[str, tuple[BuildLabel, ...]],
    via: str,
) -> tuple[BuildLabel, ...]:
    labels: dict[str, BuildLabel] = {}
    for text, line in _lines(value, combination, env, ignore_comma=True):
        output = _STEP_OUTPUT.search(text)
        if (
            output
            and output.group(1) in metadata
            and output.group(2).startswith(("labels", "bake-file"))
        ):
            labels.update({label.key: label for label in metadata[output.group(1)]})
            continue
        key, equals, label_value = text.partition("=")
        if equals:
            labels[key.strip()] = BuildLabel(key.strip(), label_value, Origin(relative, line), via)
    return tuple(labels.values())


def _build_push(
    relative: str,
    origin: Origin,
    inputs: Mapping[str, Any],
    combination: Mapping[str, Any],
    env: Mapping[str, str],
    metadata: Mapping[str, tuple[BuildLabel, ...]],
    images: Mapping[str, tuple[str, ...]],
    scanner: Scanner,
) -> None:
    context = _expand(inputs.get("context") or ".", combination, env)
    if "://" in context:
        return  # a remote context: not this repository's files
    file = inputs.get("file")
    file_text = _expand(file, combination, env) if file else None
    dockerfile, pattern, context_path = scanner.locate(file_text, context, ["."])
    labels = _labels_input(relative, inputs.get("labels"), combination, env, metadata,
                           "labels of docker/build-push-action")  # fmt: skip
    tags: list[str] = []
    for text, _ in _lines(inputs.get("tags"), combination, env):
        output = _STEP_OUTPUT.search(text)
        tags += images.get(output.group(1), ()) if output else [text]
    outputs = " ".join(
        t for t, _ in _lines(inputs.get("outputs"), combination, env, ignore_comma=True)
    )
    publishes = _truthy(inputs.get("push")) or "type=registry" in outputs or "push=true" in outputs
    target = inputs.get("target")
    scanner.add(
        BuildSite(
            "github-actions",
            origin,
            "docker/build-push-action",
            dockerfile,
            pattern,
            context_path,
            (_expand(target, combination, env) if target else None,),
            publishes,
            tuple(tags),
            labels,
        )
    )


def _bake(
    relative: str,
    origin: Origin,
    inputs: Mapping[str, Any],
    combination: Mapping[str, Any],
    env: Mapping[str, str],
    metadata: Mapping[str, tuple[BuildLabel, ...]],
    scanner: Scanner,
) -> None:
    source = _expand(inputs.get("source") or "", combination, env).strip()
    if _REMOTE_SOURCE.match(source):
        return  # bake reads another repository's definition and files: not this one's
    workdir = str(inputs.get("workdir") or ".")
    files: list[str] = []
    overrides: dict[str, dict[str, BuildLabel]] = {}
    for text, _ in _lines(inputs.get("files"), combination, env):
        output = _STEP_OUTPUT.search(text)
        if output and output.group(1) in metadata:
            # metadata-action's bake file defines the `docker-metadata-action` target.
            labels = {label.key: label for label in metadata[output.group(1)]}
            overrides["docker-metadata-action"] = labels
            continue
        files.append(posixpath.normpath(posixpath.join(workdir, text.removeprefix("cwd://"))))
    push = _truthy(inputs.get("push"))
    everywhere: dict[str, BuildLabel] = {}
    for text, line in _lines(inputs.get("set"), combination, env, ignore_comma=True):
        setting, _, value = text.partition("=")
        if setting.endswith((".output", ".push")):
            push |= "registry" in value or value == "true"
        elif ".labels." in setting:
            key = setting.split(".labels.", 1)[1]
            everywhere[key] = BuildLabel(
                key, value, Origin(relative, line), "set of docker/bake-action"
            )
    if everywhere:
        overrides["*"] = everywhere
    targets = [t for t, _ in _lines(inputs.get("targets"), combination, env)] or ["default"]
    scanner.bake_calls.append(
        BakeCall(
            origin, "docker/bake-action", "github-actions", files, workdir, targets, push, overrides
        )
    )


_IMAGE_ACTION_WORDS = ("docker", "container", "image", "buildah", "kaniko", "podman", "oci")
_DOCKERFILE_INPUTS = ("dockerfile", "file", "containerfiles", "dockerfiles")


def _is_image_action(action: str, inputs: Mapping[str, Any]) -> bool:
    """Another project's action that builds an image (it names a Dockerfile input)."""
    name = action.rsplit("/", 1)[-1]
    return any(word in name for word in _IMAGE_ACTION_WORDS) and any(
        key in inputs for key in _DOCKERFILE_INPUTS
    )


def _other_action(
    relative: str,
    origin: Origin,
    action: str,
    inputs: Mapping[str, Any],
    combination: Mapping[str, Any],
    env: Mapping[str, str],
    steps: list[Any],
    scanner: Scanner,
) -> None:
    """Actions such as redhat-actions/buildah-build or publish-docker-action: the Dockerfile
    input and labels; they publish when their name says so, when they take registry
    credentials or push, or when the job pushes with a later step (push-to-registry)."""
    file_value = next((inputs[k] for k in _DOCKERFILE_INPUTS if k in inputs), None)
    files: list[str | None] = [t for t, _ in _lines(file_value, combination, env)] or [None]
    context = _expand(inputs.get("context") or inputs.get("path") or ".", combination, env)
    pushed_later = any(
        isinstance(step, dict) and "push" in str(step.get("uses") or "").split("@")[0].lower()
        for step in steps
    )
    publishes = (
        any(word in action for word in ("publish", "push"))
        or _truthy(inputs.get("push"))
        or "password" in inputs
        or "registry" in inputs
        or pushed_later
    )
    labels = _labels_input(
        relative, inputs.get("labels"), combination, env, {}, f"labels of {action}"
    )
    target = inputs.get("target")
    for file in files:
        dockerfile, pattern, context_path = scanner.locate(file, context, ["."])
        scanner.add(
            BuildSite(
                "github-actions",
                origin,
                action,
                dockerfile,
                pattern,
                context_path,
                (_expand(target, combination, env) if target else None,),
                publishes,
                tuple(t for t, _ in _lines(inputs.get("tags"), combination, env)),
                labels,
            )
        )


# docker/github-builder's reusable workflows: a job-level `uses:` that builds with bake or
# build-push-action inside, from a Git context of the calling repository.
_GITHUB_BUILDER = re.compile(
    r"^docker/github-builder/\.github/workflows/(bake|build)\.ya?ml@", re.IGNORECASE
)


def _reusable_workflow(
    relative: str, job: Mapping[str, Any], workflow_env: Mapping[str, str], scanner: Scanner
) -> None:
    """A job calling docker/github-builder's bake.yml or build.yml. Its inputs: `context`
    (a directory of this repository), `file` / `files`, `target`, `labels` / `set`, and
    `output` (image or local) with `push` (default false): it publishes when the output is
    an image and push is true or an expression. With `set-meta-labels: true` the labels of
    the metadata-action it runs (the source label of the calling repository included) are
    added to the build; bake.yml adds them to the `meta-bake-target` target
    (docker-metadata-action by default), which the built target inherits."""
    found = _GITHUB_BUILDER.match(str(job["uses"]).strip())
    if not found:
        return
    kind = found.group(1).lower()
    inputs: Mapping[str, Any] = job["with"] if isinstance(job.get("with"), dict) else {}
    origin = Origin(relative, line_of(job["uses"], getattr(job, "line", 1)))
    description = f"docker/github-builder {kind}.yml"
    strategy = job.get("strategy")
    matrix = strategy.get("matrix") if isinstance(strategy, dict) else None
    for combination in _combinations(matrix):
        env = dict(workflow_env)
        output = _expand(inputs.get("output") or "", combination, env).strip().lower()
        publishes = output in ("image", "registry") and _truthy(inputs.get("push"))
        meta: dict[str, BuildLabel] = {}
        if _truthy(inputs.get("set-meta-labels")):
            meta[SOURCE_KEY] = BuildLabel(
                SOURCE_KEY, METADATA_SOURCE, origin, f"docker/metadata-action of {description}"
            )
            for text, line in _lines(
                inputs.get("meta-labels"), combination, env, ignore_comma=True
            ):
                key, equals, value = text.partition("=")
                if equals:
                    meta[key.strip()] = BuildLabel(
                        key.strip(), value, Origin(relative, line), f"meta-labels of {description}"
                    )
        context = posixpath.normpath(
            _expand(inputs.get("context") or ".", combination, env).strip() or "."
        )
        if kind == "bake":
            _builder_bake(relative, origin, description, inputs, combination, env, context,
                          publishes, meta, scanner)  # fmt: skip
            continue
        file = inputs.get("file")
        dockerfile, pattern, context_path = scanner.locate(
            _expand(file, combination, env).strip() if file else None,
            context,
            ["."],
            file_from_context=True,
        )
        labels = {
            label.key: label
            for label in _labels_input(
                relative, inputs.get("labels"), combination, env, {}, f"labels of {description}"
            )
        }
        labels.update(meta)  # appended after the `labels` input: the later value wins
        target = inputs.get("target")
        scanner.add(
            BuildSite(
                "github-actions",
                origin,
                description,
                dockerfile,
                pattern,
                context_path,
                (_expand(target, combination, env).strip() if target else None,),
                publishes,
                tuple(t for t, _ in _lines(inputs.get("meta-images"), combination, env)),
                tuple(labels.values()),
            )
        )


def _builder_bake(
    relative: str,
    origin: Origin,
    description: str,
    inputs: Mapping[str, Any],
    combination: Mapping[str, Any],
    env: Mapping[str, str],
    context: str,
    publishes: bool,
    meta: Mapping[str, BuildLabel],
    scanner: Scanner,
) -> None:
    files = [
        posixpath.normpath(posixpath.join(context, text.removeprefix("cwd://")))
        for text, _ in _lines(inputs.get("files"), combination, env)
    ] or [posixpath.normpath(posixpath.join(context, "docker-bake.hcl"))]
    overrides: dict[str, dict[str, BuildLabel]] = {}
    everywhere: dict[str, BuildLabel] = {}
    for text, line in _lines(inputs.get("set"), combination, env, ignore_comma=True):
        setting, _, value = text.partition("=")
        if ".labels." in setting:
            key = setting.split(".labels.", 1)[1]
            everywhere[key] = BuildLabel(
                key, value, Origin(relative, line), f"set of {description}"
            )
    if everywhere:
        overrides["*"] = everywhere
    if meta:
        meta_target = _expand(inputs.get("meta-bake-target") or "", combination, env).strip()
        overrides[meta_target or "docker-metadata-action"] = dict(meta)
    target = _expand(inputs.get("target") or "default", combination, env).strip()
    # For an image output bake.yml clears the targets' tags and names the image meta-images.
    images = tuple(t for t, _ in _lines(inputs.get("meta-images"), combination, env))
    scanner.bake_calls.append(
        BakeCall(
            origin,
            description,
            "github-actions",
            files,
            context,
            [target],
            publishes,
            overrides,
            images,
        )
    )
