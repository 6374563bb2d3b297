"""config.py: parsing [tool.dlink] / .dlink.toml, finding the nearest one upward, rule selection."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dlink.config import (
    DEFAULT,
    Config,
    FileSettings,
    PerFile,
    clear_cache,
    code_selected,
    file_settings,
    find_config,
    load_config,
)
from dlink.errors import DlinkError


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    clear_cache()
    yield
    clear_cache()


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


FULL = """\
repo-url = "https://github.com/acme/app"
remote = "upstream"
select = ["DLK1", "DLK107"]
ignore = ["DLK102"]
exclude = ["vendor/*", "*.tmpl.Dockerfile"]
extend-exclude = ["/build", "!fixtures/keep/"]
fail-on = "warning"

[per-file."services/api/Dockerfile"]
targets = ["api", "worker"]
select = ["DLK1"]
ignore = ["DLK104"]
build-args = { VERSION = "1.2", BASE = "alpine" }
platforms = ["linux/amd64", "linux/arm64"]

[per-file."tools/**"]
ignore = ["DLK"]
"""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("", Config(), id="empty"),
        pytest.param(
            FULL,
            Config(
                repo_url="https://github.com/acme/app",
                remote="upstream",
                select=("DLK1", "DLK107"),
                ignore=("DLK102",),
                exclude=("vendor/*", "*.tmpl.Dockerfile"),
                extend_exclude=("/build", "!fixtures/keep/"),
                per_file=(
                    PerFile(
                        "services/api/Dockerfile",
                        targets=("api", "worker"),
                        select=("DLK1",),
                        ignore=("DLK104",),
                        build_args=(("VERSION", "1.2"), ("BASE", "alpine")),
                        platforms=("linux/amd64", "linux/arm64"),
                    ),
                    PerFile("tools/**", ignore=("DLK",)),
                ),
                fail_on="warning",
            ),
            id="every-key",
        ),
        pytest.param("exclude = []", Config(exclude=()), id="empty-exclude-drops-defaults"),
        pytest.param('remote = "origin"', Config(remote="origin"), id="one-key"),
        pytest.param("select = []", Config(), id="empty-select-means-all"),
        pytest.param('select = ["DLK"]', Config(select=("DLK",)), id="bare-prefix"),
        pytest.param('fail-on = "never"', Config(fail_on="never"), id="fail-on-never"),
        pytest.param('fail-on = "info"', Config(fail_on="info"), id="fail-on-info"),
    ],
)
def test_valid_dlink_toml(tmp_path: Path, text: str, expected: Config) -> None:
    path = write(tmp_path / ".dlink.toml", text)
    assert load_config(path) == expected.replace(path=path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param('colour = "yes"', "unknown key 'colour'", id="unknown-key"),
        pytest.param('repo_url = "x"', "unknown key 'repo_url'", id="snake-case-key"),
        pytest.param("repo-url = 1", "'repo-url' must be a non-empty string, not 1", id="url-int"),
        pytest.param('repo-url = ""', "'repo-url' must be a non-empty string", id="url-empty"),
        pytest.param("remote = []", "'remote' must be a non-empty string", id="remote-list"),
        pytest.param('select = "DLK1"', "'select' must be a list of rule codes", id="select-str"),
        pytest.param('select = ["dlk1"]', "'select' must be a list of rule codes", id="lowercase"),
        pytest.param('ignore = ["DLK-1"]', "'ignore' must be a list of rule codes", id="bad-code"),
        pytest.param("ignore = [101]", "'ignore' must be a list of rule codes", id="int-code"),
        pytest.param('exclude = "vendor"', "'exclude' must be a list of non-empty", id="str"),
        pytest.param('exclude = [""]', "'exclude' must be a list of non-empty", id="empty-glob"),
        pytest.param(
            "extend-exclude = [1]", "'extend-exclude' must be a list of non-empty", id="extend"
        ),
        pytest.param("per-file = 1", "'per-file' must be a table of tables", id="per-file-int"),
        pytest.param(
            "[per-file]\nDockerfile = 1",
            "per-file 'Dockerfile' must be a table, not 1",
            id="per-file-entry-not-table",
        ),
        pytest.param(
            '[per-file.Dockerfile]\ntarget = ["a"]',
            "unknown key 'target' in per-file 'Dockerfile'",
            id="per-file-unknown-key",
        ),
        pytest.param(
            '[per-file.Dockerfile]\ntargets = "a"',
            "'targets' in per-file 'Dockerfile' must be a list of stage names, not 'a'",
            id="per-file-targets-str",
        ),
        pytest.param(
            "[per-file.Dockerfile]\nbuild-args = { V = 1 }",
            "'build-args' in per-file 'Dockerfile' must be a table of strings",
            id="per-file-build-arg-int",
        ),
        pytest.param(
            '[per-file.Dockerfile]\nselect = ["x"]',
            "'select' in per-file 'Dockerfile' must be a list of rule codes",
            id="per-file-bad-code",
        ),
        pytest.param(
            '[per-file.""]\nselect = ["DLK1"]', "an empty pattern matches nothing", id="empty"
        ),
        pytest.param(
            "a = " + "[" * 5000 + "]" * 5000,
            "invalid TOML: nested too deeply",
            id="arrays-nested-5000-deep",
        ),
        pytest.param(
            "a = " + "{b = " * 5000 + "}" * 5000,
            "invalid TOML: nested too deeply",
            id="inline-tables-nested-5000-deep",
        ),
        pytest.param(
            "remote = " + "[" * 100 + "]" * 100,
            "'remote' must be a non-empty string, not [[[[[[[...]]]]]]]",
            id="deep-value-printed-short",
        ),
        pytest.param('fail-on = "fatal"', "'fail-on' must be one of 'error', 'warning'", id="fail"),
        pytest.param("fail-on = true", "'fail-on' must be one of", id="fail-on-bool"),
        pytest.param("[tool.dlink]\nremote = 'x'", "unknown key 'tool'", id="table-in-dlink-toml"),
        pytest.param("remote = ", "invalid TOML: ", id="toml-syntax"),
    ],
)
def test_invalid_dlink_toml(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path / ".dlink.toml", text)
    with pytest.raises(DlinkError) as raised:
        load_config(path)
    assert raised.value.message.startswith(f"{path}: ")
    assert message in raised.value.message


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        pytest.param('repo_url = "x"', "did you mean 'repo-url'?", id="snake-case"),
        pytest.param(
            'failon = "x"', "known keys: exclude, extend-exclude, fail-on, ignore", id="typo"
        ),
        pytest.param("[tool.dlink]", "only a file named pyproject.toml", id="table"),
    ],
)
def test_unknown_key_hints(tmp_path: Path, text: str, hint: str) -> None:
    path = write(tmp_path / "ci.toml", text)
    with pytest.raises(DlinkError) as raised:
        load_config(path)
    assert raised.value.hint is not None and hint in raised.value.hint


@pytest.mark.parametrize(
    ("text", "where"),
    [
        pytest.param('remote = "origin"\n\nselect = [1 2]\n', "(at line 3, column 13)", id="mid"),
        pytest.param('remote = "origin"\n\nselect = [\n', "(at end of document, line 3)", id="end"),
        pytest.param("select = [", "(at end of document, line 1)", id="end-no-newline"),
    ],
)
def test_invalid_toml_names_the_line(tmp_path: Path, text: str, where: str) -> None:
    path = write(tmp_path / ".dlink.toml", text)
    with pytest.raises(DlinkError) as raised:
        load_config(path)
    assert raised.value.message.startswith(f"{path}: invalid TOML: ")
    assert raised.value.message.endswith(where)


def test_not_utf8_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / ".dlink.toml"
    path.write_bytes(b'remote = "\xff"\n')
    with pytest.raises(DlinkError, match="not UTF-8"):
        load_config(path)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param('[tool.dlink]\nremote = "up"\n', Config(remote="up"), id="table"),
        pytest.param(
            '[project]\nname = "x"\n\n[tool.dlink]\nfail-on = "error"\n[tool.ruff]\nline-length = 1\n',
            Config(fail_on="error"),
            id="among-other-tables",
        ),
        pytest.param("[tool.dlink]\n", Config(), id="empty-table"),
        pytest.param('tool.dlink.select = ["DLK1"]\n', Config(select=("DLK1",)), id="dotted-keys"),
    ],
)
def test_valid_pyproject(tmp_path: Path, text: str, expected: Config) -> None:
    path = write(tmp_path / "pyproject.toml", text)
    assert load_config(path) == expected.replace(path=path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param('[project]\nname = "x"\n', "no [tool.dlink] table", id="no-table"),
        pytest.param("[tool]\ndlink = 1\n", "tool.dlink must be a table", id="not-a-table"),
        pytest.param(
            '[tool.dlink]\nselect = "DLK1"\n',
            "'select' in [tool.dlink] must be a list",
            id="bad-value-names-table",
        ),
        pytest.param(
            "[tool.dlink]\nfoo = 1\n", "unknown key 'foo' in [tool.dlink]", id="unknown-key"
        ),
    ],
)
def test_invalid_pyproject(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path / "pyproject.toml", text)
    with pytest.raises(DlinkError) as raised:
        load_config(path)
    assert raised.value.message.startswith(f"{path}: ")
    assert message in raised.value.message


def test_config_that_is_a_directory(tmp_path: Path) -> None:
    (tmp_path / ".dlink.toml").mkdir()
    with pytest.raises(DlinkError) as raised:
        load_config(tmp_path / ".dlink.toml")
    assert raised.value.message == f"{tmp_path / '.dlink.toml'}: is a directory, not a config file"
    # Found on the way up: said as clearly, rather than running with other settings.
    (tmp_path / ".git").mkdir()
    with pytest.raises(DlinkError) as raised:
        find_config(tmp_path / "Dockerfile")
    assert raised.value.message == f"{tmp_path / '.dlink.toml'}: not a regular file"


def test_load_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    with pytest.raises(DlinkError) as raised:
        load_config(path)
    assert raised.value.message == f"cannot read {path}: no such file or directory"


# Layouts for find_config: files to write (path -> text), the path to look from, and the
# config file expected to apply (None: the defaults).
DLINK = 'remote = "dlink-toml"\n'
TOOL = '[tool.dlink]\nremote = "pyproject"\n'
OTHER_TOOL = '[project]\nname = "not-for-dlink"\n'


@pytest.mark.parametrize(
    ("layout", "start", "expected"),
    [
        pytest.param({}, "repo/Dockerfile", None, id="nothing-anywhere"),
        pytest.param({"repo/.dlink.toml": DLINK}, "repo/Dockerfile", "repo/.dlink.toml", id="same"),
        pytest.param(
            {"repo/.dlink.toml": DLINK},
            "repo/a/b/c/Dockerfile",
            "repo/.dlink.toml",
            id="found-upward",
        ),
        pytest.param(
            {"repo/.dlink.toml": DLINK, "repo/a/pyproject.toml": TOOL},
            "repo/a/b/Dockerfile",
            "repo/a/pyproject.toml",
            id="nearest-wins",
        ),
        pytest.param(
            {"repo/.dlink.toml": DLINK, "repo/pyproject.toml": TOOL},
            "repo/Dockerfile",
            "repo/.dlink.toml",
            id="dlink-toml-beats-pyproject-in-one-dir",
        ),
        pytest.param(
            {"repo/pyproject.toml": TOOL, "repo/a/pyproject.toml": OTHER_TOOL},
            "repo/a/Dockerfile",
            "repo/pyproject.toml",
            id="pyproject-without-table-is-passed-over",
        ),
        pytest.param(
            {"repo/pyproject.toml": TOOL, "repo/a/pyproject.toml": "this is [not TOML"},
            "repo/a/Dockerfile",
            "repo/pyproject.toml",
            id="broken-pyproject-of-another-tool-is-passed-over",
        ),
        pytest.param(
            {".dlink.toml": DLINK, "repo/.git/HEAD": ""},
            "repo/a/Dockerfile",
            None,
            id="stops-at-repository-root",
        ),
        pytest.param(
            {".dlink.toml": DLINK, "repo/.git": "gitdir: elsewhere\n"},
            "repo/Dockerfile",
            None,
            id="stops-at-worktree-git-file",
        ),
        pytest.param(
            {"repo/.dlink.toml": DLINK, "repo/.git/HEAD": ""},
            "repo/a/Dockerfile",
            "repo/.dlink.toml",
            id="repository-root-itself-counts",
        ),
        pytest.param(
            {"repo/.dlink.toml": DLINK, "repo/sub/.git/HEAD": ""},
            "repo/sub/Dockerfile",
            None,
            id="nested-repository-is-its-own-root",
        ),
        pytest.param(
            {"repo/a/.dlink.toml": DLINK},
            "repo/a",
            "repo/a/.dlink.toml",
            id="start-at-a-directory",
        ),
    ],
)
def test_find_config(
    tmp_path: Path, layout: dict[str, str], start: str, expected: str | None
) -> None:
    # The search must stop at tmp_path's own repository root (a .git there) so that
    # no config file above the test's directory can leak in.
    (tmp_path / ".git").mkdir()
    for name, text in layout.items():
        write(tmp_path / name, text)
    (tmp_path / "repo").mkdir(exist_ok=True)
    config = find_config(tmp_path / start)
    if expected is None:
        assert config == DEFAULT
    else:
        assert config.path == tmp_path / expected
        assert config == load_config(tmp_path / expected)


def test_find_config_errors_name_the_file(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    bad = write(tmp_path / "pyproject.toml", "[tool.dlink]\nselect = 1\n")
    with pytest.raises(DlinkError) as raised:
        find_config(tmp_path / "a" / "Dockerfile")
    assert raised.value.message.startswith(f"{bad}: 'select' in [tool.dlink]")


def test_find_config_accepts_relative_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".git").mkdir()
    config_path = write(tmp_path / ".dlink.toml", DLINK)
    (tmp_path / "a").mkdir()
    monkeypatch.chdir(tmp_path / "a")
    assert find_config(Path("Dockerfile")).path == config_path


def test_find_config_is_cached_per_directory(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    config_path = write(tmp_path / ".dlink.toml", DLINK)
    first = find_config(tmp_path / "a" / "b" / "Dockerfile")
    # Changed on disk after the first lookup: the answer for these directories stays,
    # for the directory asked about and for the ones passed on the way up.
    write(config_path, 'remote = "changed"\n')
    assert find_config(tmp_path / "a" / "b" / "api.Dockerfile") is first
    assert find_config(tmp_path / "a" / "Dockerfile") is first
    clear_cache()
    assert find_config(tmp_path / "a" / "b" / "Dockerfile").remote == "changed"


@pytest.mark.parametrize(
    ("code", "select", "ignore", "expected"),
    [
        pytest.param("DLK101", [], [], True, id="defaults-select-all"),
        pytest.param("DLK101", ["DLK1"], [], True, id="select-prefix"),
        pytest.param("DLK201", ["DLK1"], [], False, id="not-selected"),
        pytest.param("DLK101", ["DLK101"], [], True, id="select-exact"),
        pytest.param("DLK101", [], ["DLK101"], False, id="ignore-exact"),
        pytest.param("DLK102", [], ["DLK1"], False, id="ignore-prefix"),
        pytest.param("DLK201", [], ["DLK1"], True, id="ignore-other-prefix"),
        pytest.param("DLK101", ["DLK101"], ["DLK1"], True, id="select-more-specific"),
        pytest.param("DLK102", ["DLK101"], ["DLK1"], False, id="sibling-not-selected"),
        pytest.param("DLK101", ["DLK1"], ["DLK101"], False, id="ignore-more-specific"),
        pytest.param("DLK101", ["DLK1"], ["DLK1"], False, id="tie-ignore-wins"),
        pytest.param("DLK101", ["DLK", "DLK10"], ["DLK1"], True, id="longest-select-counts"),
        pytest.param("DLK101", ["DLK1"], ["DLK", "DLK10"], False, id="longest-ignore-counts"),
        pytest.param("DLK101", ["DLK2", "DLK101"], [], True, id="any-select-entry"),
        pytest.param("DLK1", ["DLK101"], [], False, id="code-shorter-than-prefix"),
    ],
)
def test_code_selected(code: str, select: list[str], ignore: list[str], expected: bool) -> None:
    assert code_selected(code, select, ignore) is expected


PER_FILE = """\
[per-file."services/*/Dockerfile"]
targets = ["app"]
select = ["DLK1"]
build-args = { BASE = "alpine", VERSION = "1" }

[per-file."services/api/Dockerfile"]
targets = ["api", "worker"]
ignore = ["DLK104"]
build-args = { VERSION = "2" }
platforms = ["linux/arm64"]

[per-file."/Dockerfile"]
ignore = ["DLK106"]
"""


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        pytest.param(
            "services/api/Dockerfile",
            FileSettings(
                targets=("api", "worker"),
                select=("DLK1",),
                ignore=("DLK104",),
                build_args={"BASE": "alpine", "VERSION": "2"},
                platforms=("linux/arm64",),
            ),
            id="later-entry-wins-per-key",
        ),
        pytest.param(
            "services/web/Dockerfile",
            FileSettings(
                targets=("app",), select=("DLK1",), build_args={"BASE": "alpine", "VERSION": "1"}
            ),
            id="one-entry",
        ),
        pytest.param("Dockerfile", FileSettings(ignore=("DLK106",)), id="anchored-at-config-dir"),
        pytest.param("deep/Dockerfile", FileSettings(), id="anchored-misses-deeper"),
    ],
)
def test_file_settings(tmp_path: Path, path: str, expected: FileSettings) -> None:
    config = load_config(write(tmp_path / ".dlink.toml", PER_FILE))
    assert file_settings(config, tmp_path / path) == expected


def test_file_settings_outside_the_config_directory(tmp_path: Path) -> None:
    config = load_config(write(tmp_path / "conf" / "dlink.toml", PER_FILE))
    assert file_settings(config, tmp_path / "Dockerfile") == FileSettings()
