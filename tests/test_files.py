"""files.py: which files are Dockerfiles, discovery with and without git, reading, atomic writes."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from dlink.errors import DlinkError
from dlink.files import discover, is_dockerfile_name, read_dockerfile, write_atomic

POSIX_ONLY = pytest.mark.skipif(os.name != "posix", reason="needs POSIX modes, owners or rlimits")


def make_tree(root: Path, files: list[str]) -> None:
    for relative in files:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"FROM scratch\n")


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def relative(found: list[Path], root: Path) -> list[str]:
    return [path.relative_to(root).as_posix() for path in found]


def outside_git(tmp_path: Path) -> Path:
    if any((parent / ".git").exists() for parent in (tmp_path, *tmp_path.parents)):
        pytest.skip(f"{tmp_path} is inside a git repository, so the plain walk cannot be tested")
    return tmp_path


def leftovers(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir() if "dlink-tmp" in path.name)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param("Dockerfile", True, id="Dockerfile"),
        pytest.param("dockerfile", True, id="lowercase-dockerfile"),
        pytest.param("Containerfile", True, id="Containerfile"),
        pytest.param("containerfile", True, id="lowercase-containerfile"),
        pytest.param("api.Dockerfile", True, id="star-dot-Dockerfile"),
        pytest.param("api.dockerfile", True, id="star-dot-dockerfile"),
        pytest.param("api.Containerfile", True, id="star-dot-Containerfile"),
        pytest.param("Dockerfile.dev", True, id="Dockerfile-dot-suffix"),
        pytest.param("dockerfile.dev", True, id="lowercase-dockerfile-dot-suffix"),
        pytest.param("Containerfile.prod", True, id="Containerfile-dot-suffix"),
        # Documented choice: any suffix after `Dockerfile.` counts, even one that
        # looks like another file type.
        pytest.param("Dockerfile.md", True, id="Dockerfile-dot-md-any-suffix"),
        pytest.param("Dockerfile.dockerignore", False, id="per-dockerfile-ignore-file"),
        pytest.param("api.Dockerfile.dockerignore", False, id="named-dockerfile-ignore-file"),
        pytest.param("Dockerfile-notes.md", False, id="dash-is-not-a-dot"),
        pytest.param("Dockerfiles", False, id="plural"),
        pytest.param("notDockerfile", False, id="no-dot-before-Dockerfile"),
        pytest.param("DOCKERFILE", False, id="all-caps"),
        pytest.param("DockerFile", False, id="camel-case"),
        pytest.param("docker-compose.yml", False, id="compose"),
        pytest.param(".dockerignore", False, id="dockerignore"),
    ],
)
def test_is_dockerfile_name(name: str, expected: bool) -> None:
    assert is_dockerfile_name(name) is expected


TREE = [
    "Dockerfile",
    "Containerfile",
    "api.Dockerfile",
    "web.dockerfile",
    "Dockerfile.dev",
    "Containerfile.prod",
    "lower/dockerfile",
    "lower/containerfile",
    "app/Dockerfile",
    "app/deep/er/Dockerfile.test",
    "vendor/lib/Dockerfile",
    "Dockerfile-notes.md",
    "Dockerfile.dockerignore",
    "README.md",
    ".git/Dockerfile",
    "app/.git/Dockerfile",
]
ALL_DOCKERFILES = [
    "Containerfile",
    "Containerfile.prod",
    "Dockerfile",
    "Dockerfile.dev",
    "api.Dockerfile",
    "app/Dockerfile",
    "app/deep/er/Dockerfile.test",
    "lower/containerfile",
    "lower/dockerfile",
    "vendor/lib/Dockerfile",
    "web.dockerfile",
]


@pytest.mark.parametrize(
    ("exclude", "expected"),
    [
        pytest.param((), ALL_DOCKERFILES, id="no-exclude"),
        pytest.param(
            ("vendor",),
            [p for p in ALL_DOCKERFILES if not p.startswith("vendor/")],
            id="directory-name",
        ),
        pytest.param(
            ("vendor/*",),
            [p for p in ALL_DOCKERFILES if not p.startswith("vendor/")],
            id="star-crosses-slashes",
        ),
        pytest.param(
            ("*.Dockerfile", "*.dockerfile"),
            [p for p in ALL_DOCKERFILES if p not in {"api.Dockerfile", "web.dockerfile"}],
            id="file-name-glob",
        ),
        pytest.param(
            ("app/deep/er/Dockerfile.test",),
            [p for p in ALL_DOCKERFILES if p != "app/deep/er/Dockerfile.test"],
            id="exact-relative-path",
        ),
        pytest.param(
            ("Dockerfile",),
            [p for p in ALL_DOCKERFILES if not p.endswith("/Dockerfile") and p != "Dockerfile"],
            id="name-at-any-depth",
        ),
        pytest.param(("deep",), [p for p in ALL_DOCKERFILES if "/deep/" not in p], id="middle-dir"),
        pytest.param(("nothing-matches",), ALL_DOCKERFILES, id="unmatched-glob"),
    ],
)
def test_discover_outside_git(
    tmp_path: Path, exclude: tuple[str, ...], expected: list[str]
) -> None:
    root = outside_git(tmp_path)
    make_tree(root, TREE)
    assert relative(discover([root], exclude), root) == expected


def test_discover_keeps_relative_spelling_and_deduplicates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_tree(outside_git(tmp_path), ["Dockerfile", "app/Dockerfile", "app/api.Dockerfile"])
    monkeypatch.chdir(tmp_path)
    found = discover([Path("app"), Path("."), Path("app/Dockerfile"), tmp_path / "app"])
    assert found == [Path("Dockerfile"), Path("app/Dockerfile"), Path("app/api.Dockerfile")]


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("notes.txt", id="any-name"),
        pytest.param("Dockerfile-notes.md", id="non-matching-dockerfile-like-name"),
        pytest.param("ignored/Dockerfile", id="gitignored"),
        pytest.param("vendor/Dockerfile", id="excluded"),
    ],
)
def test_discover_takes_explicit_files_whatever_they_are(tmp_path: Path, name: str) -> None:
    git(tmp_path, "init", "-q")
    (tmp_path / ".gitignore").write_text("ignored/\n")
    make_tree(tmp_path, [name])
    assert discover([tmp_path / name], exclude=["vendor", "*.txt"]) == [tmp_path / name]


def test_discover_missing_path_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "Dockerfile"
    with pytest.raises(DlinkError, match="no such file or directory") as raised:
        discover([tmp_path, missing])
    assert str(missing) in raised.value.message


def make_repository(root: Path) -> None:
    """A repository with tracked, untracked, ignored, deleted and nested-repository files."""
    git(root, "init", "-q")
    (root / ".gitignore").write_text("build/\n*.local.Dockerfile\n")
    (root / "app" / ".gitignore").parent.mkdir()
    (root / "app" / ".gitignore").write_text("generated.Dockerfile\n")
    make_tree(
        root,
        [
            "Dockerfile",
            "gone/Dockerfile",
            "app/Dockerfile",
            "app/deep/Dockerfile.prod",
            "app/generated.Dockerfile",
            "build/Dockerfile",
            "dev.local.Dockerfile",
            "vendor/Dockerfile",
        ],
    )
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "tracked")
    # Tracked but deleted from the work tree: listed by git, absent from disk.
    (root / "gone" / "Dockerfile").unlink()
    # Untracked and not ignored: found.
    make_tree(root, ["new.Dockerfile", "app/untracked/Containerfile"])
    # An ignored file that is also tracked stays tracked, as git sees it.
    make_tree(root, ["build/tracked-anyway/Dockerfile"])
    git(root, "add", "-f", "build/tracked-anyway/Dockerfile")
    # A nested repository, untracked by the outer one: searched on its own terms.
    nested = root / "nested"
    nested.mkdir()
    git(nested, "init", "-q")
    (nested / ".gitignore").write_text("secret/\n")
    make_tree(nested, ["Dockerfile", "secret/Dockerfile"])


REPOSITORY_DOCKERFILES = [
    "Dockerfile",
    "app/Dockerfile",
    "app/deep/Dockerfile.prod",
    "app/untracked/Containerfile",
    "build/tracked-anyway/Dockerfile",
    "nested/Dockerfile",
    "new.Dockerfile",
    "vendor/Dockerfile",
]


@pytest.mark.parametrize(
    ("searched", "exclude", "expected"),
    [
        pytest.param(["."], (), REPOSITORY_DOCKERFILES, id="whole-repository"),
        pytest.param(
            ["app"],
            (),
            ["app/Dockerfile", "app/deep/Dockerfile.prod", "app/untracked/Containerfile"],
            id="subdirectory-with-its-own-gitignore",
        ),
        pytest.param(
            ["app/deep", "nested"],
            (),
            ["app/deep/Dockerfile.prod", "nested/Dockerfile"],
            id="two-directories",
        ),
        pytest.param(
            ["."],
            ("vendor", "app/*"),
            [p for p in REPOSITORY_DOCKERFILES if not p.startswith(("vendor/", "app/"))],
            id="exclude-in-a-repository",
        ),
        pytest.param(["build"], (), ["build/tracked-anyway/Dockerfile"], id="ignored-directory"),
    ],
)
def test_discover_in_git_repository(
    tmp_path: Path, searched: list[str], exclude: tuple[str, ...], expected: list[str]
) -> None:
    make_repository(tmp_path)
    found = discover([tmp_path / name for name in searched], exclude)
    assert relative(found, tmp_path) == expected


def test_discover_searches_submodules(tmp_path: Path) -> None:
    library = tmp_path / "library"
    library.mkdir()
    git(library, "init", "-q")
    make_tree(library, ["Dockerfile", "tools/api.Dockerfile"])
    git(library, "add", "-A")
    git(library, "commit", "-q", "-m", "library")
    outer = tmp_path / "outer"
    outer.mkdir()
    git(outer, "init", "-q")
    make_tree(outer, ["Dockerfile"])
    # Cloning from a local path is refused by default since git 2.38.1.
    git(outer, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(library), "lib")
    git(outer, "commit", "-q", "-m", "outer")
    expected = ["Dockerfile", "lib/Dockerfile", "lib/tools/api.Dockerfile"]
    assert relative(discover([outer]), outer) == expected


@POSIX_ONLY
def test_discover_runs_git_once_per_repository(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A real git behind a logging shim on PATH, so the count is of real processes.
    real_git = subprocess.run(
        ["sh", "-c", "command -v git"], capture_output=True, text=True, check=True
    ).stdout.strip()
    log = tmp_path / "git.log"
    shim = tmp_path / "bin" / "git"
    shim.parent.mkdir()
    shim.write_text(f'#!/bin/sh\necho "$*" >> "{log}"\nexec "{real_git}" "$@"\n')
    shim.chmod(0o755)
    repository = tmp_path / "repository"
    repository.mkdir()
    make_repository(repository)
    monkeypatch.setenv("PATH", f"{shim.parent}{os.pathsep}{os.environ['PATH']}")
    found = discover([repository / "app", repository / "vendor", repository])
    assert relative(found, repository) == REPOSITORY_DOCKERFILES
    calls = log.read_text().splitlines()
    # One for the repository, one for the nested repository inside it.
    assert len(calls) == 2, calls


@POSIX_ONLY
def test_discover_without_git_falls_back_to_walking(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_repository(tmp_path)
    empty = tmp_path / "no-git-here"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    found = relative(discover([tmp_path]), tmp_path)
    # .gitignore is git's to apply: without git, ignored files are found too.
    assert "build/Dockerfile" in found
    assert "nested/secret/Dockerfile" in found
    assert not any(part == ".git" for path in found for part in path.split("/"))


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"FROM scratch\n", id="plain"),
        pytest.param(b"\xef\xbb\xbfFROM scratch\r\nLABEL a=b\r\n", id="bom-and-crlf"),
        pytest.param(b"FROM scratch\nLABEL x=\xff\n", id="not-utf8"),
        pytest.param(b"", id="empty"),
    ],
)
def test_read_dockerfile_returns_raw_bytes(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "Dockerfile"
    path.write_bytes(content)
    assert read_dockerfile(path) == content


def permissions_enforced(tmp_path: Path) -> bool:
    """False for root (or CAP_DAC_OVERRIDE), where chmod stops no one."""
    probe = tmp_path / "probe"
    probe.mkdir()
    probe.chmod(0o555)
    try:
        (probe / "file").write_bytes(b"")
    except PermissionError:
        return True
    finally:
        probe.chmod(0o755)
    return False


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        pytest.param(lambda path: None, "no such file or directory", id="missing"),
        pytest.param(lambda path: path.mkdir(), "is a directory", id="directory"),
    ],
)
def test_read_dockerfile_errors(
    tmp_path: Path, make: Callable[[Path], object], reason: str
) -> None:
    path = tmp_path / "Dockerfile"
    make(path)
    with pytest.raises(DlinkError) as raised:
        read_dockerfile(path)
    assert raised.value.message == f"cannot read {path}: {reason}"


@POSIX_ONLY
def test_read_dockerfile_permission_denied(tmp_path: Path) -> None:
    if not permissions_enforced(tmp_path):
        pytest.skip("running as root: file modes do not stop reads")
    path = tmp_path / "Dockerfile"
    path.write_bytes(b"FROM scratch\n")
    path.chmod(0)
    with pytest.raises(DlinkError) as raised:
        read_dockerfile(path)
    assert raised.value.message == f"cannot read {path}: permission denied"


def test_write_atomic_leaves_equal_file_untouched(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_bytes(b"FROM scratch\n")
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))
    before = path.stat()
    assert write_atomic(path, b"FROM scratch\n") is False
    after = path.stat()
    assert (after.st_ino, after.st_mtime_ns, after.st_size) == (
        before.st_ino,
        before.st_mtime_ns,
        before.st_size,
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Dockerfile"]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        pytest.param(b"FROM scratch\n", b"FROM scratch\nLABEL a=b\n", id="grow"),
        pytest.param(b"FROM scratch\nLABEL a=b\n", b"FROM scratch\n", id="shrink"),
        pytest.param(b"FROM a\r\n", b"FROM b\r\n", id="same-size-crlf"),
        pytest.param(b"FROM a\n", b"", id="to-empty"),
    ],
)
def test_write_atomic_replaces_content(tmp_path: Path, old: bytes, new: bytes) -> None:
    path = tmp_path / "Dockerfile"
    path.write_bytes(old)
    assert write_atomic(path, new) is True
    assert path.read_bytes() == new
    assert write_atomic(path, new) is False
    assert leftovers(tmp_path) == []


@POSIX_ONLY
@pytest.mark.parametrize(
    "mode",
    [
        pytest.param(0o755, id="0755"),
        pytest.param(0o600, id="0600"),
        pytest.param(0o640, id="0640"),
        pytest.param(0o4755, id="setuid-bit"),
    ],
)
def test_write_atomic_keeps_mode(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "Dockerfile"
    path.write_bytes(b"FROM a\n")
    path.chmod(mode)
    assert write_atomic(path, b"FROM b\n") is True
    assert stat.S_IMODE(path.stat().st_mode) == mode
    assert path.read_bytes() == b"FROM b\n"


@POSIX_ONLY
def test_write_atomic_keeps_owner(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("only root can give a file to another owner to start with")
    path = tmp_path / "Dockerfile"
    path.write_bytes(b"FROM a\n")
    # Writable by all, so that a root without CAP_DAC_OVERRIDE may still update it.
    path.chmod(0o666)
    os.chown(path, 12345, 23456)
    assert write_atomic(path, b"FROM b\n") is True
    assert (path.stat().st_uid, path.stat().st_gid) == (12345, 23456)


@POSIX_ONLY
@pytest.mark.parametrize(
    "link_to",
    [
        pytest.param("real/Dockerfile", id="relative"),
        pytest.param("ABSOLUTE", id="absolute"),
        pytest.param("chain", id="link-to-link"),
    ],
)
def test_write_atomic_updates_symlink_target(tmp_path: Path, link_to: str) -> None:
    target = tmp_path / "real" / "Dockerfile"
    target.parent.mkdir()
    target.write_bytes(b"FROM a\n")
    if link_to == "ABSOLUTE":
        link_to = str(target)
    elif link_to == "chain":
        (tmp_path / "chain").symlink_to("real/Dockerfile")
    link = tmp_path / "Dockerfile"
    link.symlink_to(link_to)
    assert write_atomic(link, b"FROM b\n") is True
    assert link.is_symlink() and os.readlink(link) == link_to
    assert target.read_bytes() == b"FROM b\n"
    assert leftovers(tmp_path) == [] and leftovers(target.parent) == []


def test_write_atomic_missing_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    with pytest.raises(DlinkError) as raised:
        write_atomic(path, b"FROM a\n")
    assert raised.value.message == f"cannot write {path}: no such file or directory"
    assert not path.exists()


@POSIX_ONLY
def test_write_atomic_read_only_directory(tmp_path: Path) -> None:
    if not permissions_enforced(tmp_path):
        pytest.skip(
            "running as root: a read-only directory does not stop writes; "
            "test_write_atomic_file_too_large covers the failure path with a real fault"
        )
    directory = tmp_path / "locked"
    directory.mkdir()
    path = directory / "Dockerfile"
    path.write_bytes(b"FROM a\n")
    directory.chmod(0o555)
    try:
        with pytest.raises(DlinkError) as raised:
            write_atomic(path, b"FROM b\n")
    finally:
        directory.chmod(0o755)
    assert raised.value.message == f"cannot write {path}: permission denied"
    assert path.read_bytes() == b"FROM a\n"
    assert leftovers(directory) == []


@POSIX_ONLY
def test_write_atomic_refuses_read_only_file(tmp_path: Path) -> None:
    if not permissions_enforced(tmp_path):
        pytest.skip("running as root: every file is writable")
    path = tmp_path / "Dockerfile"
    path.write_bytes(b"FROM a\n")
    path.chmod(0o444)
    with pytest.raises(DlinkError, match="permission denied"):
        write_atomic(path, b"FROM b\n")
    assert path.read_bytes() == b"FROM a\n"


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_FSIZE behaviour is checked on Linux")
def test_write_atomic_file_too_large(tmp_path: Path) -> None:
    # A real write failure that even root gets: the file-size limit makes write(2) fail
    # with EFBIG part-way through the temporary file. Python ignores SIGXFSZ, so the
    # child sees an OSError instead of dying. A child process keeps the limit away
    # from pytest's own files.
    path = tmp_path / "Dockerfile"
    original = b"FROM a\n"
    path.write_bytes(original)
    script = textwrap.dedent(
        """
        import resource, sys
        from pathlib import Path
        from dlink.errors import DlinkError
        from dlink.files import write_atomic

        hard = resource.getrlimit(resource.RLIMIT_FSIZE)[1]
        resource.setrlimit(resource.RLIMIT_FSIZE, (1024, hard))
        try:
            write_atomic(Path(sys.argv[1]), b"#" * 100_000)
        except DlinkError as error:
            print(error.message)
            sys.exit(3)
        """
    )
    child = subprocess.run(
        [sys.executable, "-c", script, str(path)], capture_output=True, text=True, check=False
    )
    assert child.returncode == 3, child.stderr
    assert child.stdout.strip() == f"cannot write {path}: file too large"
    assert path.read_bytes() == original
    assert leftovers(tmp_path) == []
