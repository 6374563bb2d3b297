"""Which repository, in the workflows contributors really use, end to end through the CLI.

Each repository is made with git itself the way the workflow leaves it: a fork clone
(`gh repo fork --clone`: origin = the fork, upstream = the project), a pull-request
checkout (`gh pr checkout`: a contributor remote that the branch tracks), a clone made
before a transfer, no remote, no git, a submodule, a worktree. The URLs are GitHub's;
nothing is fetched over the network.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import UNDER_CI
from dlink.cli import main
from dlink.repo import RepoResolver
from gitrepo import git, make_repo, set_config

PROJECT = "https://github.com/acme/widget"
FORK = "https://github.com/contributor/widget"
OLD_NAME = "https://github.com/old-owner/widget"
SRC = "org.opencontainers.image.source"
UNLABELLED = "FROM alpine\nRUN true\n"
CLEAN = (0, "No findings.\n", "")  # what `dlink check` says when all is right


def labelled(url: str, extra: str = "") -> str:
    return f'FROM alpine\n{extra}LABEL {SRC}="{url}"\nRUN true\n'


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def project_with_history(tmp_path: Path) -> Path:
    """The project as a bare repository to clone from (it stands for github.com/acme/widget)."""
    source = make_repo(tmp_path / "acme-widget-src", commit=False)
    write(source / "Dockerfile", labelled(PROJECT))
    write(source / "svc" / "api" / "Dockerfile", UNLABELLED)
    git(source, "add", "--all")
    git(source, "commit", "--quiet", "-m", "initial")
    bare = tmp_path / "acme-widget.git"
    git(tmp_path, "clone", "--quiet", "--bare", str(source), str(bare))
    return bare


def clone(bare: Path, where: Path, **remotes: str) -> Path:
    """`git clone` of the project, then its remotes set as the workflow leaves them."""
    git(bare.parent, "clone", "--quiet", str(bare), str(where))
    for name, url in remotes.items():
        if name == "origin":
            git(where, "remote", "set-url", "origin", url + ".git")
        else:
            git(where, "remote", "add", name, url + ".git")
    return where


# -- a fork clone: origin is the contributor's fork, upstream the project -----------------


@pytest.fixture
def fork_clone(tmp_path: Path) -> Path:
    return clone(project_with_history(tmp_path), tmp_path / "widget", origin=FORK, upstream=PROJECT)


def test_fork_clone_keeps_the_projects_label(
    fork_clone: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Before: DLK102 "belongs to https://github.com/contributor/widget", and fix repointed it.
    dockerfile = fork_clone / "Dockerfile"
    before = dockerfile.read_bytes()
    assert run(capsys, "check", str(dockerfile)) == CLEAN
    assert run(capsys, "fix", str(dockerfile))[0] == 0
    assert dockerfile.read_bytes() == before


def test_fork_clone_inserts_the_projects_url(
    fork_clone: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dockerfile = fork_clone / "svc" / "api" / "Dockerfile"
    code, _, err = run(capsys, "fix", str(dockerfile))
    assert code == 0, err
    assert dockerfile.read_text() == f'FROM alpine\nLABEL {SRC}="{PROJECT}"\nRUN true\n'


def test_fork_clone_label_naming_the_fork_is_information(
    fork_clone: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dockerfile = write(fork_clone / "Dockerfile", labelled(FORK))
    code, out, _ = run(capsys, "check", "--format", "json", str(dockerfile))
    assert code == 0  # info is below the default fail-on level
    (finding,) = json.loads(out)["findings"]
    assert (finding["code"], finding["severity"], finding["fix"]) == ("DLK102", "info", None)
    assert "remote 'origin'" in finding["message"] and "remote 'upstream'" in finding["message"]
    assert 'remote = "origin"' in finding["message"]
    assert run(capsys, "fix", str(dockerfile))[0] == 0
    assert dockerfile.read_text() == labelled(FORK)
    # Pinning the fork (a hard fork is its own project) makes it the repository.
    write(fork_clone / ".dlink.toml", 'remote = "origin"\n')
    assert run(capsys, "check", str(dockerfile)) == CLEAN


def test_fork_clone_repo_says_which_remote_and_why(
    fork_clone: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "repo", "--json", str(fork_clone))
    record = json.loads(out)
    assert code == 0
    assert (record["url"], record["remote"]) == (PROJECT, "upstream")
    assert "named 'upstream'" in record["reason"]
    assert record["remotes"] == {"origin": FORK, "upstream": PROJECT}


def test_gh_repo_set_default_is_honoured(
    fork_clone: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    set_config(fork_clone, "remote.origin.gh-resolved", "base")
    record = json.loads(run(capsys, "repo", "--json", str(fork_clone))[1])
    assert (record["url"], record["remote"]) == (FORK, "origin")
    assert "gh repo set-default" in record["reason"]


# -- a pull-request checkout: the branch tracks the contributor's remote ------------------


def test_pull_request_checkout_keeps_the_projects_label(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    checkout = clone(project_with_history(tmp_path), tmp_path / "widget", origin=PROJECT)
    # What `gh pr checkout 42` leaves: a remote named after the contributor, and a local
    # branch whose upstream is that remote's branch.
    git(checkout, "remote", "add", "contributor", FORK + ".git")
    git(checkout, "checkout", "--quiet", "-b", "contributor-patch")
    set_config(checkout, "branch.contributor-patch.remote", "contributor")
    set_config(checkout, "branch.contributor-patch.merge", "refs/heads/patch")
    dockerfile = checkout / "Dockerfile"
    before = dockerfile.read_bytes()
    # Before: the branch's upstream remote decided, and fix repointed the label at the fork.
    assert run(capsys, "check", str(dockerfile)) == CLEAN
    assert run(capsys, "fix", str(dockerfile))[0] == 0
    assert dockerfile.read_bytes() == before
    record = json.loads(run(capsys, "repo", "--json", str(checkout))[1])
    assert record["remote"] == "origin"


# -- a clone made before the repository was transferred -----------------------------------


@pytest.fixture
def stale_clone(tmp_path: Path) -> Path:
    checkout = clone(project_with_history(tmp_path), tmp_path / "widget", origin=OLD_NAME)
    write(
        checkout / "Dockerfile",
        labelled(PROJECT, extra=f'LABEL org.opencontainers.image.url="{PROJECT}"\n'),
    )
    return checkout


def test_transferred_repository_is_reported_not_repointed(
    stale_clone: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dockerfile = stale_clone / "Dockerfile"
    before = dockerfile.read_bytes()
    code, out, _ = run(capsys, "check", "--format", "json", str(dockerfile))
    (finding,) = json.loads(out)["findings"]
    assert code == 1 and finding["code"] == "DLK102"
    assert "the remote may be stale" in finding["message"]
    assert finding["fix"] == {
        "applicability": "unsafe",
        "message": f"repoint the label from {PROJECT} to {OLD_NAME}",
    }
    code, out, _ = run(capsys, "check", str(dockerfile))
    assert out.endswith("1 finding (1 error), 1 more with dlink fix --unsafe-fixes\n")
    # Before: fix reverted the new name to the old one.
    code, _, err = run(capsys, "fix", str(dockerfile))
    assert code == 1
    assert dockerfile.read_bytes() == before
    assert (
        f"DLK102 not fixed: would repoint the label from {PROJECT} to {OLD_NAME}; "
        "pass --unsafe-fixes or set repo-url"
    ) in err


def test_unsafe_fixes_flag_and_setting_repoint(
    stale_clone: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dockerfile = stale_clone / "Dockerfile"
    original = dockerfile.read_text()
    code, _, err = run(capsys, "fix", "--unsafe-fixes", str(dockerfile))
    assert code == 0, err
    assert f'{SRC}="{OLD_NAME}"' in dockerfile.read_text()
    dockerfile.write_text(original)
    write(stale_clone / ".dlink.toml", "unsafe-fixes = true\n")
    assert run(capsys, "fix", "--no-unsafe-fixes", str(dockerfile))[0] == 1  # the flag wins
    assert dockerfile.read_text() == original
    assert run(capsys, "fix", str(dockerfile))[0] == 0
    assert f'{SRC}="{OLD_NAME}"' in dockerfile.read_text()


def test_repo_url_makes_the_repoint_safe(
    stale_clone: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dockerfile = write(stale_clone / "Dockerfile", labelled(OLD_NAME))
    # The user says which repository this is: repointing at it is safe.
    code, _, err = run(capsys, "fix", "--repo-url", PROJECT, str(dockerfile))
    assert code == 0, err
    assert dockerfile.read_text() == labelled(PROJECT)
    assert run(capsys, "check", "--repo-url", PROJECT, str(dockerfile)) == CLEAN


def test_ci_variables_are_authoritative(
    stale_clone: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.com")
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/widget")
    monkeypatch.setenv("GITHUB_WORKSPACE", str(stale_clone))
    dockerfile = write(stale_clone / "Dockerfile", labelled(OLD_NAME))
    code, _, err = run(capsys, "fix", str(dockerfile))
    assert code == 0, err
    assert dockerfile.read_text() == labelled(PROJECT)


# -- no remote, no git -----------------------------------------------------------------------

TOKEN = "ghp_Zx9Secret0123456789abcdefABCDEF0123"


def three_files(root: Path) -> tuple[Path, Path, Path]:
    """A file with credentials in its label, one in the legacy form, one without a label."""
    return (
        write(root / "a" / "Dockerfile", labelled(f"https://bob:{TOKEN}@github.com/acme/widget")),
        write(root / "b" / "Dockerfile", f"FROM alpine\nLABEL {SRC} {PROJECT}\n"),
        write(root / "c" / "Dockerfile", UNLABELLED),
    )


@pytest.mark.parametrize("kind", [pytest.param("no-remote"), pytest.param("no-git")])
def test_no_repository_runs_the_rules_that_need_none(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    root = make_repo(tmp_path / "new", commit=False) if kind == "no-remote" else tmp_path / "new"
    credentials, legacy, unlabelled = three_files(root)
    # Before: three "not inside a git repository" errors, exit 2, no rule ran.
    code, out, err = run(capsys, "check", "--format", "json", str(root))
    assert code == 1
    codes = sorted(finding["code"] for finding in json.loads(out)["findings"])
    assert codes == ["DLK101", "DLK104", "DLK106"]
    assert err.count("dlink: note:") == 1 and "no repository for 3 files" in err
    assert "DLK102 (source-label-mismatch) was not checked" in err
    assert "error" not in err and TOKEN not in out + err

    code, out, err = run(capsys, "fix", str(root))
    assert code == 1  # the missing label remains: nothing to fill it with
    assert credentials.read_text() == labelled(PROJECT)  # the label's own repository
    assert legacy.read_text() == f'FROM alpine\nLABEL {SRC}="{PROJECT}"\n'
    assert unlabelled.read_text() == UNLABELLED
    assert "fix cannot add it (pass --repo-url)" in err
    assert err.count("dlink: note:") == 1 and "no missing label was added" in err
    assert TOKEN not in out + err

    # A clean tree passes: a CI gate on a new project is useful before it has a remote.
    unlabelled.write_text(labelled(PROJECT))
    code, out, err = run(capsys, "check", str(root))
    assert (code, out) == CLEAN[:2]
    assert err.count("dlink: note:") == 1
    # --repo-url checks everything, DLK102 included.
    assert run(capsys, "check", "--repo-url", FORK, str(root))[0] == 1
    # `dlink repo` has nothing to print: that is an error.
    code, out, err = run(capsys, "repo", str(root))
    assert (code, out) == (2, "") and err.startswith("dlink: error:")


def test_several_remotes_without_a_preferred_one_is_still_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_repo(tmp_path / "r", remotes={"alice": FORK, "bob": PROJECT})
    code, _, err = run(capsys, "check", str(root / "Dockerfile"))
    assert code == 2 and "cannot tell which remote" in err and "--remote" in err


# -- a submodule and a worktree ---------------------------------------------------------------


def test_submodule_and_superproject_each_keep_their_repository(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    library = make_repo(tmp_path / "library", commit=False)
    write(library / "Dockerfile", labelled("https://gitlab.com/group/library"))
    git(library, "add", "--all")
    git(library, "commit", "--quiet", "-m", "library")
    app = clone(project_with_history(tmp_path), tmp_path / "widget", origin=PROJECT)
    git(app, "-c", "protocol.file.allow=always", "submodule", "--quiet", "add", str(library), "lib")
    git(app / "lib", "remote", "set-url", "origin", "git@gitlab.com:group/library.git")
    assert run(capsys, "check", str(app / "Dockerfile"), str(app / "lib" / "Dockerfile")) == CLEAN


def test_worktree_of_a_fork_clone(fork_clone: Path, capsys: pytest.CaptureFixture[str]) -> None:
    worktree = fork_clone.parent / "widget-feature"
    git(fork_clone, "worktree", "add", "--quiet", "-b", "feature", str(worktree))
    set_config(fork_clone, "branch.feature.remote", "origin")
    dockerfile = worktree / "svc" / "api" / "Dockerfile"
    assert run(capsys, "fix", str(dockerfile))[0] == 0
    assert dockerfile.read_text() == f'FROM alpine\nLABEL {SRC}="{PROJECT}"\nRUN true\n'
    identity = RepoResolver().resolve(dockerfile, env={})
    assert (identity.root, identity.remote) == (worktree, "upstream")


# -- an SSH host alias (two GitHub accounts) ---------------------------------------------------


def test_ssh_host_alias_is_resolved(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if shutil.which("ssh") is None:
        if UNDER_CI:
            pytest.fail("ssh is required under CI")
        pytest.skip("no ssh client: aliases cannot be resolved here")
    config = write(tmp_path / "ssh_config", "Host github-work\n  HostName github.com\n  User git\n")
    root = make_repo(tmp_path / "r", remotes={"origin": "git@github-work:acme/widget.git"})
    # core.sshCommand is how such a setup often points ssh at its own config; dlink asks
    # that ssh (`ssh -F FILE -G github-work`) for the real host name.
    set_config(root, "core.sshCommand", f"ssh -F {config}")
    dockerfile = write(root / "Dockerfile", labelled(PROJECT))
    # Before: the repository was https://github-work/acme/widget and fix rewrote the label.
    assert run(capsys, "repo", str(root)) == (0, PROJECT + "\n", "")
    assert run(capsys, "check", str(dockerfile)) == CLEAN
    # An alias ssh does not know stays as written.
    set_config(root, "remote.origin.url", "git@github-home:acme/widget.git")
    assert run(capsys, "repo", str(root))[1] == "https://github-home/acme/widget\n"


# -- one repository, asked once ------------------------------------------------------------------


def test_each_repository_is_asked_once_however_many_directories(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_repo(tmp_path / "r", remotes={"origin": PROJECT}, commit=False)
    for index in range(60):
        write(root / f"svc{index}" / "deep" / "Dockerfile", labelled(PROJECT))
    trace = tmp_path / "git-trace"
    # git itself writes one "built-in: git ..." line per command it runs.
    monkeypatch.setenv("GIT_TRACE", str(trace))
    assert run(capsys, "check", str(root)) == CLEAN
    commands = [line for line in trace.read_text().splitlines() if "built-in: git" in line]
    # File discovery may ask git for the ignored files; the repository is asked twice.
    repository_commands = [c for c in commands if "rev-parse" in c or "config" in c]
    assert len(repository_commands) == 2, commands


def test_directory_reached_through_a_symlink_belongs_to_its_checkout(
    fork_clone: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # git finds the repository from the physical directory; so does dlink.
    link = tmp_path / "elsewhere" / "api"
    link.parent.mkdir()
    link.symlink_to(fork_clone / "svc" / "api", target_is_directory=True)
    assert run(capsys, "repo", str(link / "Dockerfile")) == (0, PROJECT + "\n", "")
