"""Hostile input as a new user's CI meets it: every shape gets one clear line and a
documented exit code (1 findings, 2 error), never a traceback, never a hang, and a
`fix` that cannot be done safely changes nothing.

Each case runs `dlink check` and `dlink fix` end to end in a child process (a hang
must be killable, and a traceback must show as the child's stderr).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from clirun import run_cli
from gitrepo import make_repo

URL = "https://github.com/acme/widget"
POSIX = pytest.mark.skipif(sys.platform == "win32", reason="FIFOs and devices are POSIX")


def dlink(*args: str, cwd: Path, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    child = subprocess.run(
        [sys.executable, "-m", "dlink", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        timeout=60,  # a hang fails the test instead of the suite
        check=False,
    )
    return child.returncode, child.stdout, child.stderr


def _write(data: bytes) -> Callable[[Path], Path]:
    def make(directory: Path) -> Path:
        path = directory / "Dockerfile"
        path.write_bytes(data)
        return path

    return make


def _fifo(directory: Path) -> Path:
    path = directory / "Dockerfile"
    os.mkfifo(path)
    return path


def _dev_zero(directory: Path) -> Path:
    path = directory / "Dockerfile"
    path.symlink_to("/dev/zero")
    return path


def _link_loop(directory: Path) -> Path:
    (directory / "a.Dockerfile").symlink_to("b.Dockerfile")
    (directory / "b.Dockerfile").symlink_to("a.Dockerfile")
    return directory / "a.Dockerfile"


def _nested_expansion(directory: Path) -> Path:
    depth = 10_000  # 30 KB of ${X:- ... }
    value = "${X:-" * depth + "a" + "}" * depth
    return _write(f"FROM alpine\nARG X={value}\nLABEL a=$X\n".encode())(directory)


LABELLED = b'FROM alpine\nLABEL org.opencontainers.image.source="https://github.com/acme/widget"\n'


@pytest.mark.parametrize(
    ("make", "check_code", "fix_code", "message"),
    [
        # BuildKit builds these, and dlink reads them losslessly: the fix keeps every byte.
        pytest.param(_write(b"FROM alpine\n# caf\xe9\n"), 1, 0, "", id="invalid-utf8-comment"),
        pytest.param(_write(b"FROM alpine\nLABEL a=\0\n"), 1, 0, "", id="nul-in-value"),
        pytest.param(_nested_expansion, 1, 0, "", id="nested-expansion"),
        # Refused: BuildKit refuses them too, or they are not files at all.
        pytest.param(_write(b"FROM alpine\n\xff\xfe\n"), 2, 2, "DLK000", id="invalid-utf8"),
        pytest.param(_write("FROM alpine\n".encode("utf-16")), 2, 2, "UTF-16LE", id="utf16"),
        pytest.param(_write("FROM alpine\n".encode("utf-32")), 2, 2, "UTF-32LE", id="utf32"),
        pytest.param(_write(b"\0" * 4096), 2, 2, "DLK000", id="all-nul"),
        pytest.param(_write(b""), 2, 2, "DLK000", id="empty-file"),
        pytest.param(
            _fifo, 2, 2, "is a FIFO (named pipe), not a regular file", id="fifo", marks=POSIX
        ),
        pytest.param(
            _dev_zero, 2, 2, "is a device, not a regular file", id="dev-zero", marks=POSIX
        ),
        pytest.param(_link_loop, 2, 2, "too many levels of symbolic links", id="symlink-loop"),
    ],
)
@pytest.mark.parametrize("command", ["check", "fix"])
def test_hostile_file_named_on_the_command_line(
    tmp_path: Path,
    make: Callable[[Path], Path],
    check_code: int,
    fix_code: int,
    message: str,
    command: str,
) -> None:
    path = make(tmp_path)
    before = path.read_bytes() if path.is_file() and not path.is_symlink() else None
    exit_code, out, err = dlink(command, "--repo-url", URL, path.name, cwd=tmp_path)
    assert "Traceback" not in out + err
    assert "internal error" not in err
    assert exit_code == (check_code if command == "check" else fix_code), out + err
    assert message in out + err
    if before is not None:
        after = path.read_bytes()
        if exit_code == 2 or command == "check":
            assert after == before
        else:
            # Fixed: one label inserted, every original line kept byte for byte.
            assert b"org.opencontainers.image.source" in after
            kept = after.splitlines(keepends=True)
            assert all(line in kept for line in before.splitlines(keepends=True))
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".dlink-tmp")]


@pytest.mark.parametrize("command", ["check", "fix"])
def test_file_above_the_size_limit_is_dlk000(tmp_path: Path, command: str) -> None:
    path = tmp_path / "Dockerfile"
    data = b"FROM alpine\n" + b"# padding\n" * 200
    path.write_bytes(data)
    limit = {"DLINK_MAX_FILE_SIZE": "1K"}
    code, out, err = dlink(command, "--repo-url", URL, "Dockerfile", cwd=tmp_path, env=limit)
    assert code == 2, out + err
    shown = out if command == "check" else err  # fix reports what remains on stderr
    assert (
        "Dockerfile:1:1: DLK000 [error] file larger than 1 KiB, not read; "
        "set DLINK_MAX_FILE_SIZE=50M (or another size) to check larger files"
    ) in shown
    assert path.read_bytes() == data
    # The same file under the default limit is checked (and fixed) as usual.
    code, out, err = dlink(command, "--repo-url", URL, "Dockerfile", cwd=tmp_path)
    assert code == (1 if command == "check" else 0), out + err


def test_bad_size_limit_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_bytes(LABELLED)
    code, _out, err = dlink(
        "check", "--repo-url", URL, ".", cwd=tmp_path, env={"DLINK_MAX_FILE_SIZE": "lots"}
    )
    assert code == 2
    assert err.splitlines()[0] == "dlink: error: DLINK_MAX_FILE_SIZE='lots' is not a size"


@pytest.mark.parametrize(
    ("setting", "limit"),
    [
        pytest.param("", 10 * 1024 * 1024, id="unset"),
        pytest.param("123", 123, id="bytes"),
        pytest.param("2K", 2048, id="kib"),
        pytest.param("20M", 20 * 1024**2, id="mib"),
        pytest.param("1GiB", 1024**3, id="gib"),
    ],
)
def test_size_limit_setting(setting: str, limit: int) -> None:
    from dlink.files import max_file_size

    assert max_file_size({"DLINK_MAX_FILE_SIZE": setting}) == limit


def test_a_file_growing_past_the_limit_while_read_is_cut_off(tmp_path: Path) -> None:
    # `stat` says small, the reading says otherwise: the limit holds while reading.
    from dlink.files import FileTooLarge, read_dockerfile

    path = tmp_path / "Dockerfile"
    path.write_bytes(b"x" * 5000)
    with pytest.raises(FileTooLarge):
        read_dockerfile(path, limit=4096)
    assert read_dockerfile(path, limit=5000) == b"x" * 5000


def test_directory_named_dockerfile_is_searched_not_read(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").mkdir()
    (tmp_path / "Dockerfile" / "Dockerfile").write_bytes(LABELLED)
    code, out, err = dlink("check", "--repo-url", URL, "Dockerfile", cwd=tmp_path)
    assert (code, out, err) == (0, "No findings.\n", "")


@POSIX
def test_special_files_in_a_tree_are_not_opened(tmp_path: Path) -> None:
    # Found by walking, a FIFO or a dangling link is not a file to check (git does not
    # track a FIFO either); only a name given on the command line must be a file.
    os.mkfifo(tmp_path / "Dockerfile")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "Dockerfile").write_bytes(LABELLED)
    (tmp_path / "loop.Dockerfile").symlink_to("loop.Dockerfile")
    (tmp_path / "up").symlink_to("..")
    code, out, err = dlink("check", "--repo-url", URL, ".", cwd=tmp_path)
    assert (code, out, err) == (0, "No findings.\n", "")


def test_symlink_out_of_the_repository_is_not_rewritten_through(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere" / "Dockerfile"
    outside.parent.mkdir()
    outside.write_bytes(b"FROM alpine\n")
    repo = make_repo(tmp_path / "repo", remotes={"origin": URL + ".git"}, commit=False)
    (repo / "Dockerfile").symlink_to(outside)
    code, out, err = dlink("fix", "Dockerfile", cwd=repo)
    assert code == 2, out + err
    assert err.splitlines() == [
        (
            f"dlink: error: cannot write Dockerfile: it is a symbolic link to {outside}, "
            f"outside the repository {repo}; not rewritten through the link"
        ),
        "hint: fix the file it points to in its own repository",
    ]
    assert outside.read_bytes() == b"FROM alpine\n"
    assert (repo / "Dockerfile").is_symlink()
    # `check` reads through the link and reports, as for any file.
    code, out, err = dlink("check", "Dockerfile", cwd=repo)
    assert code == 1 and "DLK101" in out, out + err


def test_symlink_inside_the_repository_is_fixed(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", remotes={"origin": URL + ".git"}, commit=False)
    (repo / "docker").mkdir()
    (repo / "docker" / "base.Dockerfile").write_bytes(b"FROM alpine\n")
    (repo / "Dockerfile").symlink_to("docker/base.Dockerfile")
    code, out, err = dlink("fix", "Dockerfile", cwd=repo)
    assert code == 0, out + err
    assert (repo / "Dockerfile").is_symlink()
    assert b"org.opencontainers.image.source" in (repo / "docker" / "base.Dockerfile").read_bytes()


def test_unexpected_exception_is_exit_2_with_a_bug_report_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A bug cannot be produced on purpose in correct code, so this one is planted: a
    # rule that raises. The point is the boundary: exit 2 (never 1, which CI reads as
    # findings), one line, no traceback and no exception text (it may quote input).
    import dlink.engine

    class Planted:
        info = dlink.engine.ALL_RULES[0].info

        @staticmethod
        def check(subject: object) -> list[object]:
            raise KeyError("https://user:secret@example.com")

    monkeypatch.setattr(dlink.engine, "ALL_RULES", (Planted,))
    path = tmp_path / "Dockerfile"
    path.write_bytes(b"FROM alpine\n")
    code, out, err = run_cli(["check", "--repo-url", URL, str(path)], capsys, monkeypatch)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("dlink: internal error: KeyError in test_hostile.py:")
    assert "this is a bug in dlink" in err
    assert "secret" not in err
