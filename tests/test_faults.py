"""Faults and concurrency, produced for real: a full disk, a file-size limit, directories
that refuse new files, a file edited while dlink fixes it, `dlink fix` killed mid-run,
two `dlink fix` runs on one tree, and files or directories dlink may not read.

The promise under test: every file ends either as it was or correctly fixed, never
truncated; no temporary file is left behind (a later run removes those of a killed
one); and whatever could not be done is an error with exit 2, never silence.

Cases that need privileges (mounting a tmpfs, `chattr`, dropping to another user) run
when the suite runs as root, as it does on the team's machine, and skip with the reason
otherwise.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from clirun import run_cli
from dlink.engine import fix
from dlink.errors import DlinkError
from dlink.files import remove_leftovers, write_atomic
from dlink.rules import Context

URL = "https://github.com/acme/widget"
LINUX = pytest.mark.skipif(sys.platform != "linux", reason="the faults are made with Linux tools")
ROOT_ONLY = pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0,
    reason="needs root to make the fault (mount, chattr or switching users)",
)


def dockerfile(index: int) -> bytes:
    return b"FROM alpine\nRUN echo %d\n" % index


def fixed(data: bytes) -> bytes:
    result = fix(data, Context("Dockerfile", URL, None, {}))
    assert result.changed
    return result.data


def leftovers(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*") if p.name.endswith(".dlink-tmp"))


def dlink(*args: str, user: str | None = None, **kwargs: object) -> list[str]:
    """The command line of a dlink process (optionally as another user and group 65534)."""
    command = [sys.executable, "-m", "dlink", *args]
    if user is not None:
        command = ["setpriv", f"--reuid={user}", "--regid=65534", "--clear-groups", *command]
    return command


def make_tree(root: Path, count: int) -> dict[Path, bytes]:
    files = {}
    for index in range(count):
        path = root / f"d{index:04d}" / "Dockerfile"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(dockerfile(index))
        files[path] = dockerfile(index)
    return files


@pytest.fixture
def small_tmpfs() -> Iterator[Path]:
    """A 64 KiB tmpfs: a real 'no space left on device'."""
    if shutil.which("mount") is None:
        pytest.skip("no mount command")
    mountpoint = Path(tempfile.mkdtemp(prefix="dlink-tmpfs-"))
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mountpoint)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        mountpoint.rmdir()
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", str(mountpoint)], check=False)
        mountpoint.rmdir()


@LINUX
@ROOT_ONLY
def test_fix_on_a_full_disk_leaves_the_file_and_no_temporary(
    small_tmpfs: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # 40 KB of comments fit once in 64 KiB but not twice: the temporary copy fails.
    original = b"FROM alpine\n" + b"# padding padding padding padding\n" * 1200
    path = small_tmpfs / "Dockerfile"
    path.write_bytes(original)
    code, _out, err = run_cli(["fix", "--repo-url", URL, str(path)], capsys, monkeypatch)
    assert code == 2
    assert err.strip() == f"dlink: error: cannot write {path}: no space left on device"
    assert path.read_bytes() == original
    assert leftovers(small_tmpfs) == []


@LINUX
def test_fix_under_a_file_size_limit_exits_2(tmp_path: Path) -> None:
    # RLIMIT_FSIZE makes write(2) fail with EFBIG part-way (Python ignores SIGXFSZ).
    path = tmp_path / "Dockerfile"
    original = b"FROM alpine\n" + b"# padding\n" * 500
    path.write_bytes(original)
    limit = len(original) + 16

    def limit_size() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    child = subprocess.run(
        dlink("fix", "--repo-url", URL, str(path)),
        capture_output=True,
        text=True,
        preexec_fn=limit_size,
        check=False,
    )
    assert child.returncode == 2, child.stderr
    assert child.stderr.strip() == f"dlink: error: cannot write {path}: file too large"
    assert path.read_bytes() == original
    assert leftovers(tmp_path) == []


def _chattr(flag: str, path: Path) -> None:
    if shutil.which("chattr") is None:
        pytest.skip("no chattr command")
    done = subprocess.run(["chattr", flag, str(path)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"this filesystem keeps no file attributes: {done.stderr.strip()}")


@LINUX
@ROOT_ONLY
@pytest.mark.parametrize(
    ("flag", "message"),
    [
        # Immutable: no new file at all, even for root.
        pytest.param("+i", "append-only or immutable", id="immutable-directory"),
        # Append-only: the temporary file could be made but neither renamed nor removed.
        pytest.param("+a", "append-only or immutable", id="append-only-directory"),
    ],
)
def test_fix_in_a_directory_that_refuses_new_files(
    tmp_path: Path,
    flag: str,
    message: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    directory = tmp_path / "locked"
    directory.mkdir()
    path = directory / "Dockerfile"
    path.write_bytes(dockerfile(1))
    _chattr(flag, directory)
    try:
        code, _, err = run_cli(["fix", "--repo-url", URL, str(path)], capsys, monkeypatch)
        names = sorted(os.listdir(directory))
    finally:
        subprocess.run(["chattr", flag.replace("+", "-"), str(directory)], check=True)
    assert code == 2
    assert message in err and err.count("\n") == 1, err
    assert path.read_bytes() == dockerfile(1)
    assert names == ["Dockerfile"]


@LINUX
@ROOT_ONLY
def test_fix_as_a_user_who_may_not_create_files_there(tmp_path: Path) -> None:
    # The ordinary case, as a non-root user: the file is theirs, the directory is not.
    base = Path(tempfile.mkdtemp(prefix="dlink-perm-"))
    try:
        base.chmod(0o755)
        path = base / "Dockerfile"
        path.write_bytes(dockerfile(1))
        shutil.chown(path, "nobody")
        child = subprocess.run(
            dlink("fix", "--repo-url", URL, str(path), user="nobody"),
            capture_output=True,
            text=True,
            cwd="/",
            check=False,
        )
        assert child.returncode == 2, child.stderr
        assert child.stderr.strip() == f"dlink: error: cannot write {path}: permission denied"
        assert path.read_bytes() == dockerfile(1)
        assert sorted(os.listdir(base)) == ["Dockerfile"]
    finally:
        shutil.rmtree(base)


def test_a_file_edited_between_read_and_write_is_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_bytes(dockerfile(1))
    read = path.read_bytes()
    proposal = fixed(read)
    # The user saves their own change while dlink is computing its fix.
    users_edit = b"FROM alpine:3.20\nRUN echo mine\n"
    path.write_bytes(users_edit)
    with pytest.raises(DlinkError) as raised:
        write_atomic(path, proposal, expected=read)
    assert "changed on disk while dlink was fixing it" in raised.value.message
    assert path.read_bytes() == users_edit
    assert leftovers(tmp_path) == []


def test_a_file_another_run_already_fixed_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_bytes(dockerfile(1))
    read = path.read_bytes()
    proposal = fixed(read)
    assert write_atomic(path, proposal, expected=read) is True
    inode = path.stat().st_ino
    # A second run that read the original before the first wrote: nothing to do.
    assert write_atomic(path, proposal, expected=read) is False
    assert path.stat().st_ino == inode
    assert path.read_bytes() == proposal


def test_edits_made_during_a_real_fix_run_survive(tmp_path: Path) -> None:
    # A user's editor saving files while `dlink fix` runs over the tree: each file must
    # end as the user saved it or as dlink fixed the original, never dlink's fix of the
    # original written over the user's save.
    files = make_tree(tmp_path, 300)
    users = {path: b"FROM alpine:3.20\nRUN echo user %d\n" % i for i, path in enumerate(files)}
    process = subprocess.Popen(
        dlink("fix", "--repo-url", URL, str(tmp_path)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    for path in list(files)[::-1]:  # from the far end of the tree, towards dlink
        path.write_bytes(users[path])
    _, err = process.communicate(timeout=120)
    assert process.returncode in (0, 2), err
    for path, original in files.items():
        content = path.read_bytes()
        # An edit that landed before dlink read the file gets fixed in turn.
        assert content in (users[path], fixed(original), fixed(users[path])), path
    assert leftovers(tmp_path) == []


@LINUX
def test_fix_killed_mid_run_never_truncates_and_the_next_run_cleans_up(tmp_path: Path) -> None:
    files = make_tree(tmp_path, 600)
    expected = {path: fixed(data) for path, data in files.items()}
    randomness = random.Random(16)
    states: set[str] = set()
    for _ in range(8):
        for path, data in files.items():
            path.write_bytes(data)
        process = subprocess.Popen(
            dlink("fix", "--repo-url", URL, str(tmp_path)),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(randomness.uniform(0.2, 1.2))
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        done = 0
        for path, data in files.items():
            content = path.read_bytes()
            assert content in (data, expected[path]), f"{path}: {content!r}"
            done += content == expected[path]
        states.add("none" if done == 0 else "all" if done == len(files) else "some")
    # At least one kill must have landed mid-run, or this test proved nothing.
    assert "some" in states, states

    # A leftover of a process that is gone, named as dlink names its temporaries.
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    first = next(iter(files))
    stale = first.parent / f".Dockerfile.{dead.pid}.x1y2z3.dlink-tmp"
    stale.write_bytes(b"FROM half")
    # One of a run still alive (this test process) stays: it may be being written.
    alive = first.parent / f".Dockerfile.{os.getpid()}.a1b2c3.dlink-tmp"
    alive.write_bytes(b"FROM half")
    for path, data in files.items():
        path.write_bytes(data)
    finished = subprocess.run(
        dlink("fix", "--repo-url", URL, str(tmp_path)), capture_output=True, text=True, check=False
    )
    assert finished.returncode == 0, finished.stderr
    assert all(path.read_bytes() == expected[path] for path in files)
    assert leftovers(tmp_path) == [alive]


def test_remove_leftovers_only_takes_dead_processes(tmp_path: Path) -> None:
    target = tmp_path / "Dockerfile"
    target.write_bytes(b"FROM a\n")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    gone = tmp_path / f".Dockerfile.{dead.pid}.abc.dlink-tmp"
    other_file = tmp_path / f".app.Containerfile.{dead.pid}.abc.dlink-tmp"
    not_ours = tmp_path / f".Dockerfile.{dead.pid}.abc.tmp"
    running = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        busy = tmp_path / f".Dockerfile.{running.pid}.abc.dlink-tmp"
        for path in (gone, other_file, busy, not_ours):
            path.write_bytes(b"")
        assert remove_leftovers(tmp_path) == 2
        assert [p.name for p in leftovers(tmp_path)] == [busy.name]
        assert not_ours.exists()
    finally:
        running.kill()
        running.wait()


def test_two_fix_runs_at_once(tmp_path: Path) -> None:
    files = make_tree(tmp_path, 400)
    for _ in range(3):
        for path, data in files.items():
            path.write_bytes(data)
        runs = [
            subprocess.Popen(
                dlink("fix", "--repo-url", URL, str(tmp_path)),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        results = [run.communicate(timeout=120) for run in runs]
        for run, (_, err) in zip(runs, results):
            assert run.returncode == 0, err
        for path, data in files.items():
            assert path.read_bytes() == fixed(data), path
        assert leftovers(tmp_path) == []
        # Between them, every file was written once and reported once.
        reported = sum(err.count("fixed ") for _, err in results)
        assert len(files) <= reported <= 2 * len(files)


@pytest.fixture
def shared_directory() -> Iterator[Path]:
    """A directory another user can reach (pytest's tmp_path is private to root)."""
    base = Path(tempfile.mkdtemp(prefix="dlink-shared-"))
    base.chmod(0o755)
    try:
        yield base
    finally:
        for directory, _, _ in os.walk(base):
            os.chmod(directory, 0o755)
        shutil.rmtree(base)


@LINUX
@ROOT_ONLY
@pytest.mark.parametrize("in_git", [False, True], ids=["plain-tree", "git-tree"])
def test_unreadable_directory_is_an_error_not_a_skip(shared_directory: Path, in_git: bool) -> None:
    tree = shared_directory / "tree"
    (tree / "hidden").mkdir(parents=True)
    (tree / "Dockerfile").write_bytes(dockerfile(1))
    (tree / "hidden" / "Dockerfile").write_bytes(dockerfile(2))
    if in_git:
        subprocess.run(["git", "init", "-q", str(tree)], check=True)
    for path in [tree, *tree.rglob("*")]:
        os.chown(path, 65534, 65534)  # nobody: the repository is theirs, so git trusts it
    (tree / "hidden").chmod(0)
    child = subprocess.run(
        dlink("check", "--repo-url", URL, str(tree), user="nobody"),
        capture_output=True,
        text=True,
        cwd="/",
        env={**os.environ, "HOME": str(shared_directory)},
        check=False,
    )
    assert child.returncode == 2, child.stderr
    assert f"cannot read directory {tree / 'hidden'}: permission denied" in child.stderr


@LINUX
@ROOT_ONLY
def test_unreadable_file_is_an_error(shared_directory: Path) -> None:
    path = shared_directory / "Dockerfile"
    path.write_bytes(dockerfile(1))
    path.chmod(0)
    for command in ("check", "fix"):
        child = subprocess.run(
            dlink(command, "--repo-url", URL, str(shared_directory), user="nobody"),
            capture_output=True,
            text=True,
            cwd="/",
            check=False,
        )
        assert child.returncode == 2, child.stderr
        assert child.stderr.strip().endswith("permission denied"), child.stderr
        assert child.stderr.count("\n") == 1
    assert path.read_bytes() == dockerfile(1)
