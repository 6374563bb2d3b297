"""Finding Dockerfiles, reading them as bytes, and the one place dlink writes a file.

Nothing here prints; every failure a user can cause is a DlinkError.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Sequence
from fnmatch import fnmatchcase
from pathlib import Path, PurePosixPath

from dlink.errors import DlinkError

# Globs over a file name. `Dockerfile.*` takes any suffix (`Dockerfile.dev`,
# `Dockerfile.md` alike): a suffix says which variant, not what kind of file.
_DOCKERFILE_GLOBS = (
    "Dockerfile",
    "dockerfile",
    "Containerfile",
    "containerfile",
    "Dockerfile.*",
    "dockerfile.*",
    "Containerfile.*",
    "containerfile.*",
    "*.Dockerfile",
    "*.dockerfile",
    "*.Containerfile",
    "*.containerfile",
)
# BuildKit reads `<dockerfile>.dockerignore` beside a Dockerfile; it matches
# `Dockerfile.*` but is an ignore list, not a Dockerfile.
_COMPANION_SUFFIXES = (".dockerignore",)


def is_dockerfile_name(name: str) -> bool:
    """True when a file called `name` is a Dockerfile by name (case-sensitive, like BuildKit)."""
    if name.endswith(_COMPANION_SUFFIXES):
        return False
    return any(fnmatchcase(name, glob) for glob in _DOCKERFILE_GLOBS)


def discover(paths: Sequence[Path], exclude: Sequence[str] = ()) -> list[Path]:
    """The Dockerfiles to check: explicit files as given, directories searched recursively.

    A file named explicitly is always taken, whatever its name and whatever `exclude` says:
    naming it is the strongest statement of intent (pre-commit passes files this way).
    In a directory, files are kept when `is_dockerfile_name` says so and `.git` is never
    entered. Inside a git work tree the files git ignores are skipped (tracked and
    untracked-but-not-ignored files are found), and submodules and nested repositories
    are searched as repositories of their own. `exclude` globs are matched, with
    `fnmatchcase`, against the path relative to the searched directory (forward slashes)
    and against the name of the file and of each directory on the way to it; `*` also
    crosses `/`, so `vendor/*` excludes everything below `vendor`.

    Paths keep the caller's spelling (relative stays relative); a file reached twice,
    e.g. through `.` and `./sub`, is listed once.
    """
    found: dict[str, Path] = {}
    dirs: list[Path] = []
    for path in paths:
        if path.is_dir():
            dirs.append(path)
        elif path.exists():
            found.setdefault(os.path.abspath(path), path)
        else:
            raise DlinkError(f"{path}: no such file or directory")
    for directory, absolute_files in _files_below(dirs):
        base = os.path.abspath(directory)
        for absolute in absolute_files:
            relative = PurePosixPath(Path(os.path.relpath(absolute, base)).as_posix())
            if is_dockerfile_name(relative.name) and not is_excluded(relative, exclude):
                found.setdefault(absolute, directory / relative)
    return sorted(set(found.values()))


def is_excluded(relative: PurePosixPath, exclude: Sequence[str]) -> bool:
    """Whether an `exclude` glob matches the path or the name of it or of a directory above it."""
    if not exclude:
        return False
    # The file itself and every directory leading to it, each as a path and as a name.
    names = [str(relative)] + [str(parent) for parent in relative.parents if str(parent) != "."]
    names += list(relative.parts)
    return any(fnmatchcase(name, pattern) for pattern in exclude for name in names)


def _files_below(dirs: Sequence[Path]) -> Iterator[tuple[Path, list[str]]]:
    """For each searched directory, the absolute paths of the candidate files below it."""
    by_repository: dict[str, list[str]] = {}
    for directory in dirs:
        root = _repository_root(os.path.abspath(directory))
        if root is None:
            yield directory, list(_walk(os.path.abspath(directory)))
        else:
            by_repository.setdefault(root, []).append(os.path.abspath(directory))
    listed: dict[str, list[str] | None] = {
        root: _git_files(root, bases) for root, bases in by_repository.items()
    }
    for directory in dirs:
        base = os.path.abspath(directory)
        root = _repository_root(base)
        if root is None:
            continue
        files = listed[root]
        if files is None:
            # git is missing or refused the repository (e.g. `safe.directory` when the
            # checkout belongs to another user): finding too many files beats failing.
            yield directory, list(_walk(base))
        else:
            yield directory, [path for path in files if _is_below(path, base)]


def _repository_root(absolute: str) -> str | None:
    """The nearest directory at or above `absolute` holding `.git` (a worktree has a file)."""
    candidate = absolute
    while True:
        if os.path.lexists(os.path.join(candidate, ".git")):
            return candidate
        parent = os.path.dirname(candidate)
        if parent == candidate:
            return None
        candidate = parent


# `git ls-files -s` prefixes tracked entries with "MODE OBJECT STAGE<TAB>"; untracked
# ones come bare. Mode 160000 is a gitlink: a submodule whose files git does not list.
_STAGED_ENTRY = re.compile(rb"([0-7]{6}) [0-9a-f]{40,64} [0-3]\t(.*)", re.DOTALL)
_GITLINK_MODE = b"160000"


def _git_files(root: str, bases: Sequence[str]) -> list[str] | None:
    """Candidate files below `bases` that git does not ignore, from one `git ls-files`."""
    # Pathspecs are made relative to the root and taken literally so that a directory
    # called `[abc]` or `*` means itself.
    pathspecs = [os.path.relpath(base, root) for base in bases]
    command = [
        "git",
        "--literal-pathspecs",
        "ls-files",
        "--cached",
        "--others",
        "--exclude-standard",
        "--stage",
        "-z",
        "--",
        *pathspecs,
    ]
    try:
        completed = subprocess.run(command, cwd=root, capture_output=True, check=False)
    except OSError:
        return None
    if completed.returncode != 0:
        return None
    files: set[str] = set()
    repositories: set[str] = set()
    for entry in completed.stdout.split(b"\0"):
        if not entry:
            continue
        staged = _STAGED_ENTRY.fullmatch(entry)
        mode, raw_path = (staged.group(1), staged.group(2)) if staged else (None, entry)
        path = os.path.join(root, os.fsdecode(raw_path))
        if mode == _GITLINK_MODE or raw_path.endswith(b"/"):
            # A submodule, or an untracked nested repository (listed as `dir/`): its
            # files are another repository's business, so ask that repository.
            repositories.add(path.rstrip("/"))
        elif is_dockerfile_name(os.path.basename(path)) and os.path.isfile(path):
            # Only names that can matter are stat'ed: a monorepo lists a lot of files.
            # A tracked file deleted from the work tree is still listed; isfile drops it.
            files.add(path)
    for nested in sorted(repositories):
        # An uninitialised submodule is an empty directory without `.git`; asking git
        # about it would only list the gitlink again.
        if os.path.lexists(os.path.join(nested, ".git")) and not os.path.islink(nested):
            files.update(path for _, found in _files_below([Path(nested)]) for path in found)
    return sorted(files)


def _is_below(path: str, base: str) -> bool:
    return path.startswith(base.rstrip(os.sep) + os.sep)


def _walk(base: str) -> Iterator[str]:
    for dirpath, dirnames, filenames in os.walk(base):
        # Pruning in place stops os.walk from descending into `.git`.
        dirnames[:] = [name for name in dirnames if name != ".git"]
        for name in filenames:
            path = os.path.join(dirpath, name)
            if is_dockerfile_name(name) and os.path.isfile(path):
                yield path


def read_dockerfile(path: Path) -> bytes:
    """The file's raw bytes; decoding (BOM, UTF-8) is the parser's business."""
    try:
        return path.read_bytes()
    except OSError as error:
        raise DlinkError(f"cannot read {path}: {_reason(error)}") from None


def write_atomic(path: Path, data: bytes) -> bool:
    """Replace the contents of the existing file `path` with `data`; False when already equal.

    Equal bytes mean no write at all: mtime, inode and directory stay as they were.
    Otherwise a temporary file in the target's directory is written, synced, given the
    original's mode (and owner, where permitted) and renamed over the target, so a reader
    sees either the old or the new file, never half of one. A symlink is followed: its
    target changes, the link stays. Hard links to the file are not kept (the path gets a
    new inode), and a file that is not writable by us is refused even though its
    directory would allow the rename, because a read-only file is the user saying "no".
    On failure the original is untouched, no temporary file is left, and DlinkError says
    `cannot write PATH: reason`.
    """
    target = Path(os.path.realpath(path))
    try:
        original = target.stat()
        if target.read_bytes() == data:
            return False
    except OSError as error:
        raise DlinkError(f"cannot write {path}: {_reason(error)}") from None
    if not os.access(target, os.W_OK):
        raise DlinkError(f"cannot write {path}: permission denied")

    temporary: str | None = None
    try:
        descriptor, temporary = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=".dlink-tmp", dir=target.parent
        )
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        mode = stat.S_IMODE(original.st_mode)
        os.chmod(temporary, mode)
        if _try_chown(temporary, original) and mode & (stat.S_ISUID | stat.S_ISGID):
            # chown clears setuid/setgid; putting them back needs to own the file or
            # CAP_FOWNER, so it is best effort like the chown itself.
            _try(os.chmod, temporary, mode)
        os.replace(temporary, target)
        temporary = None
    except OSError as error:
        raise DlinkError(f"cannot write {path}: {_reason(error)}") from None
    finally:
        if temporary is not None:
            _remove_quietly(temporary)
    _fsync_directory(target.parent)
    return True


def _try_chown(temporary: str, original: os.stat_result) -> bool:
    # Only root (or the owner giving the file to a group of theirs) may chown; for
    # everyone else the new file keeps our ownership, which is the usual outcome anyway.
    if not hasattr(os, "chown"):
        return False
    return _try(os.chown, temporary, original.st_uid, original.st_gid)


def _try(operation: Callable[..., None], *args: object) -> bool:
    try:
        operation(*args)
    except OSError:
        return False
    return True


def _remove_quietly(temporary: str) -> None:
    try:
        os.unlink(temporary)
    except OSError:
        pass


def _fsync_directory(directory: Path) -> None:
    # Makes the rename itself durable. Best effort: Windows cannot open a directory, and
    # some filesystems refuse fsync on one; the data is already safe either way.
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def _reason(error: OSError) -> str:
    """An OSError as a short lower-case phrase, without the path it usually repeats."""
    reason = error.strerror or str(error)
    return reason[:1].lower() + reason[1:]
