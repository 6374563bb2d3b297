"""Finding Dockerfiles, reading them as bytes, and the one place dlink writes a file.

Nothing here prints; every failure a user can cause is a DlinkError.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
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
            raise DlinkError(f"{path}: {_missing(path)}")
    for directory, absolute_files in _files_below(dirs):
        base = os.path.abspath(directory)
        for absolute in absolute_files:
            relative = PurePosixPath(Path(os.path.relpath(absolute, base)).as_posix())
            if is_dockerfile_name(relative.name) and not is_excluded(relative, exclude):
                found.setdefault(absolute, directory / relative)
    return sorted(set(found.values()))


def _missing(path: Path) -> str:
    """Why an existing-looking path is not there: missing, a dangling link or a link loop."""
    try:
        os.stat(path)
    except OSError as error:
        return _reason(error)
    return "no such file or directory"


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
# Compiled on first use (by re's cache), like _SIZE: most runs never need them.
_GIT_UNREADABLE = rb"could not open directory '(.*?)/?': Permission denied"


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
    unreadable = re.search(_GIT_UNREADABLE, completed.stderr) if completed.stderr else None
    if unreadable:
        # git warns and goes on; a Dockerfile in there would go unchecked unseen.
        directory = os.path.join(root, os.fsdecode(unreadable.group(1)))
        raise DlinkError(f"cannot read directory {directory}: permission denied")
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


def _unreadable_directory(error: OSError) -> None:
    # os.walk skips a directory it cannot list unless told: a Dockerfile in there
    # would go unchecked without anyone knowing.
    raise DlinkError(f"cannot read directory {error.filename}: {_reason(error)}")


def _walk(base: str) -> Iterator[str]:
    for dirpath, dirnames, filenames in os.walk(base, onerror=_unreadable_directory):
        # Pruning in place stops os.walk from descending into `.git`.
        dirnames[:] = [name for name in dirnames if name != ".git"]
        for name in filenames:
            path = os.path.join(dirpath, name)
            if is_dockerfile_name(name) and os.path.isfile(path):
                yield path


# Generated Dockerfiles are big but never this big; a file above the limit is refused
# (DLK000) instead of being processed slowly. Override with DLINK_MAX_FILE_SIZE (bytes,
# or with a K/M/G suffix, powers of 1024).
DEFAULT_MAX_FILE_SIZE = 10 * 1024 * 1024
MAX_FILE_SIZE_VARIABLE = "DLINK_MAX_FILE_SIZE"
_SIZE = r"(?i)\s*([0-9]{1,15})\s*([KMG]i?B?|B)?\s*"
_READ_CHUNK = 1024 * 1024
# Our temporary files: `.NAME.PID.RANDOM.dlink-tmp`, so a later run can tell a leftover
# of a process that died (kill -9, power loss) from one another run is writing now.
_TEMPORARY_SUFFIX = ".dlink-tmp"


class FileTooLarge(DlinkError):
    """The file is larger than the size limit; reported as DLK000, not as a failed run."""


def max_file_size(environ: Mapping[str, str] | None = None) -> int:
    """The size limit in bytes: DLINK_MAX_FILE_SIZE when set, else 10 MiB."""
    raw = (os.environ if environ is None else environ).get(MAX_FILE_SIZE_VARIABLE)
    if raw is None or not raw.strip():
        return DEFAULT_MAX_FILE_SIZE
    match = re.fullmatch(_SIZE, raw)
    if match is None:
        raise DlinkError(
            f"{MAX_FILE_SIZE_VARIABLE}={raw[:40]!r} is not a size",
            hint="write a number of bytes, optionally with K, M or G (e.g. 20M)",
        )
    unit = (match.group(2) or "B")[:1].upper()
    return int(match.group(1)) * {"B": 1, "K": 1024, "M": 1024**2, "G": 1024**3}[unit]


def read_dockerfile(path: Path, limit: int | None = None) -> bytes:
    """The file's raw bytes; decoding (BOM, UTF-8) is the parser's business.

    Only regular files are read: a FIFO would block forever and a device such as
    /dev/zero never ends, so anything else (followed through symlinks) is refused.
    The size limit (`max_file_size()` unless given) is enforced while reading, not only
    from the size `stat` reports, so a file that grows while it is read cannot exhaust
    memory. FileTooLarge is raised above it; every other failure is a DlinkError.
    """
    limit = max_file_size() if limit is None else limit
    try:
        # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
        # It changes nothing for a regular file, the only kind read past fstat.
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
        descriptor = os.open(path, flags | getattr(os, "O_BINARY", 0))
    except OSError as error:
        raise DlinkError(f"cannot read {path}: {_reason(error)}") from None
    try:
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):
            raise DlinkError(f"cannot read {path}: {_not_regular(mode)}")
        chunks: list[bytes] = []
        size = 0
        while True:
            chunk = os.read(descriptor, min(_READ_CHUNK, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                raise FileTooLarge(
                    f"file larger than {_size(limit)}, not read",
                    hint=f"set {MAX_FILE_SIZE_VARIABLE}=50M (or another size) to check larger files",
                )
        return b"".join(chunks)
    except OSError as error:
        raise DlinkError(f"cannot read {path}: {_reason(error)}") from None
    finally:
        os.close(descriptor)


def _not_regular(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "is a directory"  # as the operating system words it
    if stat.S_ISFIFO(mode):
        kind = "a FIFO (named pipe)"
    elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        kind = "a device"
    elif stat.S_ISSOCK(mode):
        kind = "a socket"
    else:
        kind = "a special file"
    return f"is {kind}, not a regular file"


def _size(count: int) -> str:
    for unit, factor in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if count >= factor and count % factor == 0:
            return f"{count // factor} {unit}"
    return f"{count} bytes"


def write_atomic(path: Path, data: bytes, expected: bytes | None = None) -> bool:
    """Replace the contents of the existing file `path` with `data`; False when already equal.

    Equal bytes mean no write at all: mtime, inode and directory stay as they were.
    Otherwise a temporary file in the target's directory is written, synced, given the
    original's mode (and owner, where permitted) and renamed over the target, so a reader
    sees either the old or the new file, never half of one. A symlink is followed: its
    target changes, the link stays; but a link inside a git repository that leads out of
    it is refused (a fix of this repository must not rewrite another one's file unseen).
    Hard links to the file are not kept (the path gets a new inode), and a file that is
    not writable by us is refused even though its directory would allow the rename,
    because a read-only file is the user saying "no".

    `expected` is the content the new data was computed from. When the file no longer
    holds it (someone saved it while dlink was working) the write is refused rather than
    overwrite their change; when it already holds `data` (another dlink run was faster)
    nothing is written and the result is False. The check is repeated just before the
    rename, under an advisory lock that concurrent dlink runs respect.

    On failure the original is untouched, no temporary file is left, and DlinkError says
    `cannot write PATH: reason`. Leftovers of dlink runs that died mid-write beside the
    target are removed on the way.
    """
    target = Path(os.path.realpath(path))
    _refuse_link_out_of_repository(path, target)
    try:
        original = target.stat()
        current = target.read_bytes()
    except OSError as error:
        raise DlinkError(f"cannot write {path}: {_reason(error)}") from None
    if current == data:
        return False
    if expected is not None and current != expected:
        raise _changed(path)
    if not os.access(target, os.W_OK):
        raise DlinkError(f"cannot write {path}: permission denied")
    if _append_only(target.parent):
        # Creating the temporary file would work, but neither the rename nor removing
        # it would: refuse before leaving anything behind.
        raise DlinkError(f"cannot write {path}: its directory is append-only or immutable")
    remove_leftovers(target)

    import tempfile  # only writes need it (and its import pulls in random and hashlib)

    temporary: str | None = None
    try:
        descriptor, temporary = tempfile.mkstemp(
            prefix=f".{target.name}.{os.getpid()}.", suffix=_TEMPORARY_SUFFIX, dir=target.parent
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
        with _locked(target):
            now = target.read_bytes()
            if now == data:
                return False
            if now != (current if expected is None else expected):
                raise _changed(path)
            os.replace(temporary, target)
        temporary = None
    except OSError as error:
        raise DlinkError(f"cannot write {path}: {_reason(error)}") from None
    finally:
        if temporary is not None:
            _remove_quietly(temporary)
    _fsync_directory(target.parent)
    return True


# FS_IOC_GETFLAGS (the generic Linux encoding, x86-64 and arm64) and the attribute bits
# `chattr +a` / `chattr +i` set.
_FS_IOC_GETFLAGS = 0x80086601
_FS_APPEND_OR_IMMUTABLE = 0x20 | 0x10


def _append_only(directory: Path) -> bool:
    """Whether the directory has the append-only or immutable attribute (Linux; else False)."""
    if not sys.platform.startswith("linux"):
        return False
    import fcntl

    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return False
    try:
        flags = bytearray(8)
        fcntl.ioctl(descriptor, _FS_IOC_GETFLAGS, flags)
    except OSError:
        return False  # the filesystem keeps no such attributes
    finally:
        os.close(descriptor)
    return bool(int.from_bytes(flags[:4], sys.byteorder) & _FS_APPEND_OR_IMMUTABLE)


def _changed(path: Path) -> DlinkError:
    return DlinkError(
        f"cannot write {path}: it changed on disk while dlink was fixing it; left as it is",
        hint="run dlink fix again",
    )


def _refuse_link_out_of_repository(path: Path, target: Path) -> None:
    absolute = os.path.abspath(path)
    if str(target) == absolute:
        return
    root = _repository_root(os.path.dirname(absolute))
    if root is None:
        return
    real_root = os.path.realpath(root)
    if not _is_below(str(target), real_root):
        raise DlinkError(
            f"cannot write {path}: it is a symbolic link to {target}, outside the repository "
            f"{root}; not rewritten through the link",
            hint="fix the file it points to in its own repository",
        )


class _locked:
    """An advisory lock on the target while it is compared and replaced (POSIX only).

    Two dlink runs on one tree take turns here; editors do not lock, which is why the
    content is compared again inside. Where locking is unavailable this does nothing.
    """

    def __init__(self, target: Path) -> None:
        self._target = target
        self._descriptor: int | None = None

    def __enter__(self) -> None:
        try:
            import fcntl
        except ImportError:  # Windows
            return
        try:
            self._descriptor = os.open(self._target, os.O_RDONLY)
            fcntl.flock(self._descriptor, fcntl.LOCK_EX)
        except OSError:
            self._close()

    def __exit__(self, *_: object) -> None:
        self._close()

    def _close(self) -> None:
        if self._descriptor is not None:
            os.close(self._descriptor)
            self._descriptor = None


def remove_leftovers(target: Path) -> int:
    """Remove temporary files that dead dlink runs left beside `target`; how many went.

    A leftover names the process that made it; it is removed only when that process no
    longer exists (or is us: a finished write of ours never leaves one), so a concurrent
    run's file being written is never touched. Best effort: failures are ignored.
    """
    prefix = f".{target.name}."
    removed = 0
    try:
        names = os.listdir(target.parent)
    except OSError:
        return 0
    for name in names:
        if not (name.startswith(prefix) and name.endswith(_TEMPORARY_SUFFIX)):
            continue
        pid_text = name[len(prefix) :].split(".", 1)[0]
        if not pid_text.isdigit() or not _process_gone(int(pid_text)):
            continue
        try:
            os.unlink(target.parent / name)
            removed += 1
        except OSError:
            pass
    return removed


def _process_gone(pid: int) -> bool:
    if os.name == "nt":
        return False  # os.kill(pid, 0) would send CTRL_C_EVENT there, not probe
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (OSError, OverflowError):
        return False  # alive but not ours (EPERM), or not a pid we can ask about
    return False


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
