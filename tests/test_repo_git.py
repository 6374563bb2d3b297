"""RepoResolver and head_facts against real git repositories made in temporary directories."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from dlink.errors import DlinkError
from dlink.repo import HeadFacts, NoRepository, RepoIdentity, RepoResolver, head_facts, redact_url
from gitrepo import add_file, commit_file, git, make_repo, remote_get_url, set_config

GH = "https://github.com/monalisa/my_repo"


def resolve(path: Path, **options: str) -> RepoIdentity:
    return RepoResolver().resolve(path, env={}, **options)


def resolve_error(path: Path, **options: str) -> DlinkError:
    with pytest.raises(DlinkError) as raised:
        resolve(path, **options)
    assert "\n" not in raised.value.message
    assert raised.value.hint
    return raised.value


def test_file_at_the_root(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", remotes={"origin": "git@github.com:monalisa/my_repo.git"})
    assert resolve(repo / "Dockerfile") == RepoIdentity(
        url=GH,
        source="remote:origin",
        remote_url="git@github.com:monalisa/my_repo.git",
        root=repo,
        reason="named 'origin' (dlink prefers upstream, github, origin)",
        remotes=(("origin", GH),),
    )


@pytest.mark.parametrize(
    "relative",
    [
        pytest.param("svc/api/Dockerfile", id="file-in-subdirectory"),
        pytest.param("svc/api", id="subdirectory"),
        pytest.param(".", id="root-directory"),
    ],
)
def test_path_inside_the_repository(tmp_path: Path, relative: str) -> None:
    repo = make_repo(tmp_path / "r", remotes={"origin": GH})
    commit_file(repo, "svc/api/Dockerfile")
    assert resolve(repo / relative).url == GH


def test_checked_from_another_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_repo(tmp_path / "a", remotes={"origin": "https://github.com/o/a"})
    commit_file(tmp_path / "a", "svc/api/Dockerfile")
    elsewhere = make_repo(tmp_path / "b", remotes={"origin": "https://github.com/o/b"})
    monkeypatch.chdir(elsewhere)
    identity = resolve(Path("../a/svc/api/Dockerfile"))
    assert identity.url == "https://github.com/o/a"
    assert identity.root == tmp_path / "a"
    assert resolve(Path("Dockerfile")).url == "https://github.com/o/b"


def test_file_not_yet_committed(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", remotes={"origin": GH}, commit=False)
    (repo / "Dockerfile").write_text("FROM scratch\n")
    assert resolve(repo / "Dockerfile").url == GH


# Each case: the remote's url values, extra repository config, the expected web URL.
# `git remote get-url` is the oracle for which URL git would fetch from.
URL_CASES = [
    pytest.param(["gh:monalisa/my_repo"], [("url.git@github.com:.insteadOf", "gh:")], GH, id="insteadof"),
    pytest.param(
        ["https://example.com/team/svc"],
        [
            ("url.https://short.example/.insteadOf", "https://example.com/"),
            ("url.https://long.example/.insteadOf", "https://example.com/team/"),
        ],
        "https://long.example/svc",
        id="insteadof-longest-match",
    ),
    pytest.param(
        ["https://example.com/team/svc"],
        [
            ("url.https://long.example/.insteadOf", "https://example.com/team/"),
            ("url.https://short.example/.insteadOf", "https://example.com/"),
        ],
        "https://long.example/svc",
        id="insteadof-longest-match-declared-first",
    ),
    pytest.param(
        ["x:o/r"],
        [("url.https://first.example/.insteadOf", "x:"), ("url.https://second.example/.insteadOf", "x:")],
        "https://first.example/o/r",
        id="insteadof-tie",
    ),
    pytest.param(
        [GH],
        [("url.git@evil.example:.pushInsteadOf", "https://github.com/")],
        GH,
        id="pushinsteadof-not-for-fetch",
    ),
    pytest.param(
        [GH, "https://mirror.example/monalisa/my_repo"],
        [],
        GH,
        id="several-urls-first-wins",
    ),
    pytest.param(
        ["gh:a/first", "gh:b/second"],
        [("url.https://github.com/.insteadOf", "gh:")],
        "https://github.com/a/first",
        id="several-urls-with-insteadof",
    ),
    pytest.param(
        ["https://x-access-token:ghs_secret@github.com/monalisa/my_repo.git"],
        [],
        GH,
        id="token-in-remote",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("urls", "config", "expected"), URL_CASES)
def test_remote_url_as_git_uses_it(
    tmp_path: Path, urls: list[str], config: list[tuple[str, str]], expected: str
) -> None:
    repo = make_repo(tmp_path / "r")
    git(repo, "remote", "add", "origin", urls[0])
    set_config(repo, "remote.origin.url", *urls)
    for key, value in config:
        git(repo, "config", "--local", "--add", key, value)
    identity = resolve(repo / "Dockerfile")
    assert identity.url == expected
    assert identity.remote_url == redact_url(remote_get_url(repo, "origin"))
    assert identity.remote_url is not None and "ghs_secret" not in identity.remote_url


def test_insteadof_from_global_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    global_config = tmp_path / "gitconfig"
    global_config.write_text('[url "https://github.com/"]\n\tinsteadOf = corp:\n')
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(global_config))
    repo = make_repo(tmp_path / "r", remotes={"origin": "corp:monalisa/my_repo"})
    assert remote_get_url(repo, "origin") == GH
    assert resolve(repo / "Dockerfile").url == GH


def test_insteadof_from_command_line_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What `git -c url.X.insteadOf=Y` hands to a program git runs (an alias, a hook).
    monkeypatch.setenv("GIT_CONFIG_COUNT", "1")
    monkeypatch.setenv("GIT_CONFIG_KEY_0", "url.https://github.com/.insteadOf")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", "corp:")
    repo = make_repo(tmp_path / "r", remotes={"origin": "corp:monalisa/my_repo"})
    assert resolve(repo / "Dockerfile").url == GH


def test_git_dir_of_a_hook_does_not_redirect(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = make_repo(tmp_path / "other", remotes={"origin": "https://github.com/o/other"})
    repo = make_repo(tmp_path / "r", remotes={"origin": GH})
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))
    assert resolve(repo / "Dockerfile").url == GH


REMOTES = {
    "origin": "https://github.com/o/origin",
    "upstream": "https://github.com/o/upstream",
    "fork": "https://github.com/o/fork",
    "mirror": "https://github.com/o/mirror",
}


@pytest.mark.parametrize(
    ("names", "branch_remote", "flag", "expected"),
    [
        pytest.param(["origin", "fork"], None, "fork", "fork", id="flag"),
        # The branch's upstream remote is where a pull request came from, not the project.
        pytest.param(["origin", "fork"], "fork", None, "origin", id="branch-upstream-ignored"),
        pytest.param(["origin", "fork"], "fork", "fork", "fork", id="flag-over-origin"),
        pytest.param(["origin", "fork"], ".", None, "origin", id="upstream-is-local"),
        pytest.param(["fork", "origin", "upstream"], None, None, "upstream", id="upstream-first"),
        pytest.param(["fork", "upstream"], None, None, "upstream", id="upstream-named"),
        pytest.param(["fork"], None, None, "fork", id="only-remote"),
    ],
)
def test_remote_choice(
    tmp_path: Path, names: list[str], branch_remote: str | None, flag: str | None, expected: str
) -> None:
    repo = make_repo(tmp_path / "r", remotes={name: REMOTES[name] for name in names})
    if branch_remote is not None:
        set_config(repo, "branch.main.remote", branch_remote)
    options = {"remote": flag} if flag else {}
    identity = resolve(repo / "Dockerfile", **options)
    assert (identity.source, identity.url) == (f"remote:{expected}", REMOTES[expected])


def test_detached_head_falls_back_to_origin(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", remotes={"origin": REMOTES["origin"], "fork": REMOTES["fork"]})
    set_config(repo, "branch.main.remote", "fork")
    git(repo, "checkout", "--quiet", "--detach")
    assert resolve(repo / "Dockerfile").source == "remote:origin"


def test_ambiguous_remotes_are_listed(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", remotes={"fork": REMOTES["fork"], "mirror": REMOTES["mirror"]})
    error = resolve_error(repo / "Dockerfile")
    assert "fork, mirror" in error.message
    assert error.hint is not None and "--remote" in error.hint


def test_unknown_remote_flag(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", remotes={"origin": GH})
    error = resolve_error(repo / "Dockerfile", remote="nope")
    assert "no remote named 'nope' (remotes: origin)" in error.message


def test_worktree_is_its_own_checkout(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", remotes={"origin": REMOTES["origin"], "fork": REMOTES["fork"]})
    git(repo, "worktree", "add", "--quiet", "-b", "feature", str(tmp_path / "wt"))
    set_config(repo, "branch.feature.remote", "fork")
    commit_file(tmp_path / "wt", "svc/Dockerfile")
    resolver = RepoResolver()
    in_worktree = resolver.resolve(tmp_path / "wt" / "svc" / "Dockerfile", env={})
    # Its own root; the branch tracking `fork` does not change the project's repository.
    assert (in_worktree.url, in_worktree.root) == (REMOTES["origin"], tmp_path / "wt")
    in_main = resolver.resolve(repo / "Dockerfile", env={})
    assert (in_main.url, in_main.root) == (REMOTES["origin"], repo)


def test_submodule_belongs_to_its_own_remote(tmp_path: Path) -> None:
    library = make_repo(tmp_path / "library")
    commit_file(library, "images/base/Dockerfile")
    app = make_repo(tmp_path / "app", remotes={"origin": "https://github.com/o/app"})
    git(app, "-c", "protocol.file.allow=always", "submodule", "--quiet", "add", str(library), "lib")
    git(app / "lib", "remote", "set-url", "origin", "git@gitlab.com:group/library.git")
    resolver = RepoResolver()
    in_submodule = resolver.resolve(app / "lib" / "images" / "base" / "Dockerfile", env={})
    assert in_submodule.url == "https://gitlab.com/group/library"
    assert in_submodule.root == app / "lib"
    assert resolver.resolve(app / "Dockerfile", env={}).url == "https://github.com/o/app"


def test_ci_variables_describe_only_their_own_checkout(tmp_path: Path) -> None:
    library = make_repo(tmp_path / "library")
    app = make_repo(tmp_path / "app", remotes={"origin": "https://github.com/o/app"})
    git(app, "-c", "protocol.file.allow=always", "submodule", "--quiet", "add", str(library), "lib")
    git(app / "lib", "remote", "set-url", "origin", "git@gitlab.com:group/library.git")
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": "o/app",
        "GITHUB_WORKSPACE": str(app),
    }
    resolver = RepoResolver()
    top = resolver.resolve(app / "Dockerfile", env=env)
    assert (top.source, top.url) == ("ci:github", "https://github.com/o/app")
    inner = resolver.resolve(app / "lib" / "Dockerfile", env=env)
    assert (inner.source, inner.url) == ("remote:origin", "https://gitlab.com/group/library")


def test_explicit_remote_beats_ci_variables(tmp_path: Path) -> None:
    repo = make_repo(
        tmp_path / "r", remotes={"origin": GH, "fork": "https://github.com/me/my_repo"}
    )
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": "ci/x",
    }
    chosen = RepoResolver().resolve(repo / "Dockerfile", remote="fork", env=env)
    assert (chosen.source, chosen.url) == ("remote:fork", "https://github.com/me/my_repo")
    assert RepoResolver().resolve(repo / "Dockerfile", env=env).source == "ci:github"


def test_no_remote(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r")
    error = resolve_error(repo / "Dockerfile")
    assert "has no git remote" in error.message
    assert error.hint is not None and "git remote add" in error.hint and "--repo-url" in error.hint


def test_not_a_repository(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    error = resolve_error(tmp_path / "Dockerfile")
    assert error.message == f"{tmp_path} is not inside a git repository"
    assert error.hint is not None and "--repo-url" in error.hint


def test_missing_path(tmp_path: Path) -> None:
    error = resolve_error(tmp_path / "nope" / "Dockerfile")
    assert error.message == f"{tmp_path / 'nope' / 'Dockerfile'}: no such file or directory"


def test_missing_path_is_an_error_even_with_a_url(tmp_path: Path) -> None:
    resolve_error(tmp_path / "nope", repo_url=GH)


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("../library.git", id="relative"),
        pytest.param("/srv/git/library.git", id="absolute"),
        pytest.param("file:///srv/git/library.git", id="file-url"),
    ],
)
def test_local_path_remote(tmp_path: Path, url: str) -> None:
    repo = make_repo(tmp_path / "r", remotes={"origin": url})
    error = resolve_error(repo / "Dockerfile")
    assert error.message.startswith("remote 'origin': ")
    assert "local path" in error.message
    assert error.hint is not None and "--repo-url" in error.hint


GITHUB_ENV = {
    "GITHUB_ACTIONS": "true",
    "GITHUB_SERVER_URL": "https://github.com",
    "GITHUB_REPOSITORY": "ci/from-actions",
}
GITLAB_ENV = {"GITLAB_CI": "true", "CI_PROJECT_URL": "https://gitlab.example.com/ci/from-gitlab"}


@pytest.mark.parametrize(
    ("options", "env", "source", "url"),
    [
        pytest.param({"repo_url": "git@github.com:flag/repo.git", "config_repo_url": "https://github.com/config/repo"}, GITHUB_ENV, "flag", "https://github.com/flag/repo", id="flag-beats-all"),
        pytest.param({"config_repo_url": "https://github.com/config/repo/"}, GITHUB_ENV, "config", "https://github.com/config/repo", id="config-beats-ci"),
        pytest.param({}, GITHUB_ENV, "ci:github", "https://github.com/ci/from-actions", id="github-actions"),
        pytest.param({}, GITLAB_ENV, "ci:gitlab", "https://gitlab.example.com/ci/from-gitlab", id="gitlab-ci"),
        pytest.param({}, {**GITHUB_ENV, "GITHUB_ACTIONS": "false"}, "remote:origin", GH, id="github-vars-without-actions"),
        pytest.param({}, {**GITLAB_ENV, "GITLAB_CI": ""}, "remote:origin", GH, id="gitlab-vars-without-ci"),
        pytest.param({"remote": "origin"}, {}, "remote:origin", GH, id="remote-last"),
    ],
)  # fmt: skip
def test_precedence(
    tmp_path: Path, options: dict[str, str], env: dict[str, str], source: str, url: str
) -> None:
    repo = make_repo(tmp_path / "r", remotes={"origin": GH})
    identity = RepoResolver().resolve(repo / "Dockerfile", env=env, **options)
    assert (identity.source, identity.url) == (source, url)
    if not source.startswith("remote:"):
        assert (identity.remote_url, identity.root) == (None, None)


def test_ci_variables_from_the_process_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in GITHUB_ENV.items():
        monkeypatch.setenv(name, value)
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    # No git repository at all: CI knows the repository.
    identity = RepoResolver().resolve(tmp_path / "Dockerfile")
    assert (identity.source, identity.url) == ("ci:github", "https://github.com/ci/from-actions")


def test_bad_ci_value_names_its_source(tmp_path: Path) -> None:
    env = {"GITLAB_CI": "true", "CI_PROJECT_URL": "/builds/local"}
    with pytest.raises(DlinkError) as raised:
        RepoResolver().resolve(tmp_path, env=env)
    assert raised.value.message.startswith("the gitlab CI variables: ")


def test_answers_are_cached_per_repository(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", remotes={"origin": GH})
    commit_file(repo, "svc/Dockerfile")
    resolver = RepoResolver()
    first = resolver.resolve(repo / "Dockerfile", env={})
    git(repo, "remote", "set-url", "origin", "https://github.com/o/renamed")
    # One run, one answer per repository: the second file does not ask git again,
    # and the repository's config is read once whichever remote is asked for.
    assert resolver.resolve(repo / "svc" / "Dockerfile", env={}) is first
    assert resolver.resolve(repo / "svc", env={}, remote="origin").url == GH
    assert RepoResolver().resolve(repo / "Dockerfile", env={}).url == "https://github.com/o/renamed"


def test_errors_are_cached_and_raised_again(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r")
    resolver = RepoResolver()
    for _ in range(2):
        with pytest.raises(DlinkError, match="has no git remote"):
            resolver.resolve(repo / "Dockerfile", env={})


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0,
    reason="needs root to hand a repository to another user",
)
def test_repository_git_refuses_to_trust(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", remotes={"origin": GH})
    os.chown(repo, 65534, 65534)  # nobody: git's safe.directory check now refuses it
    error = resolve_error(repo / "Dockerfile")
    assert error.message.startswith(f"git refuses to read {repo}: ")
    assert "dubious ownership" in error.message
    assert error.hint is not None and "safe.directory" in error.hint


def test_gitpython_is_not_needed(tmp_path: Path) -> None:
    # GitPython may be installed in the test environment; with its import made to fail,
    # dlink must still find the repository (it is not a dependency).
    repo = make_repo(tmp_path / "r", remotes={"origin": GH})
    code = (
        "import sys; sys.modules['git'] = None\n"
        "from dlink.cli import main\n"
        f"code = main(['repo', {str(repo / 'Dockerfile')!r}])\n"
        "print('git' in sys.modules and sys.modules['git'] is not None)\n"
        "sys.exit(code)"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert (completed.returncode, completed.stdout) == (0, f"{GH}\nFalse\n"), completed.stderr


# ---------------------------------------------------------------------- head_facts


def test_head_facts_before_the_first_commit(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", commit=False)
    assert head_facts(repo) == HeadFacts(commit=None, dirty=False, tag=None)
    add_file(repo, "Dockerfile")
    assert head_facts(repo) == HeadFacts(commit=None, dirty=True, tag=None)


def test_head_facts_clean_commit(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r")
    commit_file(repo, "svc/Dockerfile")
    facts = head_facts(repo / "svc" / "Dockerfile")
    assert facts == HeadFacts(commit=git(repo, "rev-parse", "HEAD"), dirty=False, tag=None)


@pytest.mark.parametrize(
    ("change", "dirty"),
    [
        pytest.param(lambda repo: (repo / "Dockerfile").write_text("FROM busybox\n"), True, id="modified"),
        pytest.param(lambda repo: git(repo, "rm", "--quiet", "--cached", "Dockerfile"), True, id="staged-removal"),
        pytest.param(lambda repo: (repo / "notes.txt").write_text("x\n"), False, id="untracked-only"),
        pytest.param(lambda repo: os.utime(repo / "Dockerfile", (0, 0)), False, id="touched-same-content"),
    ],
)  # fmt: skip
def test_head_facts_dirty(tmp_path: Path, change: Callable[[Path], object], dirty: bool) -> None:
    repo = make_repo(tmp_path / "r")
    change(repo)
    assert head_facts(repo).dirty is dirty


def test_head_facts_nearest_tag(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r")
    git(repo, "tag", "v1.0.0")
    commit_file(repo, "a/Dockerfile")
    git(repo, "tag", "-a", "-m", "release", "v1.1.0")
    commit_file(repo, "b/Dockerfile")
    facts = head_facts(repo / "b" / "Dockerfile")
    assert facts.tag == "v1.1.0" == git(repo, "describe", "--tags", "--abbrev=0")
    assert facts.commit == git(repo, "rev-parse", "HEAD")


def test_head_facts_outside_a_repository(tmp_path: Path) -> None:
    with pytest.raises(DlinkError, match="is not inside a git repository"):
        head_facts(tmp_path)


@pytest.mark.parametrize(
    "where",
    [
        pytest.param("bare.git", id="bare-repository"),
        pytest.param("r/.git/hooks", id="inside-dot-git"),
    ],
)
def test_git_directories_have_no_files_to_check(tmp_path: Path, where: str) -> None:
    make_repo(tmp_path / "r", remotes={"origin": GH})
    git(tmp_path, "clone", "--quiet", "--bare", str(tmp_path / "r"), str(tmp_path / "bare.git"))
    error = resolve_error(tmp_path / where)
    assert "bare git repository" in error.message and not isinstance(error, NoRepository)


def test_no_git_and_no_remote_are_no_repository(tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    assert isinstance(resolve_error(tmp_path / "plain"), NoRepository)
    make_repo(tmp_path / "fresh")
    assert isinstance(resolve_error(tmp_path / "fresh" / "Dockerfile"), NoRepository)
