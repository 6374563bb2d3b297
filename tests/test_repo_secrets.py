"""Property: a token in a remote URL never reaches stdout, stderr, JSON or an error message."""

from __future__ import annotations

import string
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from dlink.cli import app
from dlink.errors import DlinkError
from dlink.repo import normalise_remote_url, redact_url, url_has_credentials
from gitrepo import make_repo

# What a careless user could paste into a password: URL punctuation included, raw
# '@', '/', '#', ':' and '://' too. Only whitespace is left out: git splits on it.
PASSWORD_CHARACTERS = string.ascii_letters + string.digits + "-._~!$&'()*+,;=%:@/?#[]"


def _distinctive(token: str) -> bool:
    """Cannot match ordinary output by chance: hosts, paths and messages here have no
    upper-case letter next to digits, and eight letters or digits are rare in punctuation."""
    return (
        sum(character.isalnum() for character in token) >= 8
        and any(character.isupper() for character in token)
        and any(character.isdigit() for character in token)
    )


passwords = st.text(PASSWORD_CHARACTERS, min_size=10, max_size=40).filter(_distinctive)
# A token used as the whole user name, as GitHub and GitLab accept it.
user_tokens = st.builds(
    str.__add__,
    st.sampled_from(["ghp_", "github_pat_", "glpat-", "gho_", ""]),
    st.text(string.ascii_letters + string.digits, min_size=20, max_size=40).filter(_distinctive),
)
query_tokens = st.text(
    string.ascii_letters + string.digits + "-._~", min_size=12, max_size=40
).filter(_distinctive)

# {p}: a password, {u}: a token as the user name.
HOSTED_FORMS = [
    "https://x-access-token:{p}@github.com/monalisa/my_repo.git",
    "https://{u}@github.com/monalisa/my_repo",
    "https://{u}:{p}@gitlab.example.com:8443/group/sub/project.git",
    "http://user:{p}@git.example.com/o/r",
    "https://gitlab-ci-token:{p}@gitlab.com/group/project.git",
    "https://org:{p}@dev.azure.com/org/project/_git/repo",
    "ssh://git:{p}@git.example.com:2222/o/r.git",
    "git+ssh://deploy:{p}@[2001:db8::1]/o/r",
    "deploy:{p}@git.example.com:o/r.git",
]
UNSUPPORTED_FORMS = [
    "ftp://user:{p}@git.example.com/o/r",
    "file://user:{p}@localhost/srv/r.git",
    "s3::https://user:{p}@bucket.example/r",
    "https://user:{p}@github.com",
    "https://user:{p}@exa mple.com/o/r",
    "https://user:{p}@git.example.com:99999/o/r",
    "https://user:{p}@git.example.com/o/../r",
    "https://user:{p}@",
    "user:{p}@host-without-path",
    "https://{u}@github.com/owner-only",
]
FORMS = HOSTED_FORMS + UNSUPPORTED_FORMS


def fill(form: str, password: str, user_token: str) -> tuple[str, str]:
    """The URL and the one secret in it."""
    secret = user_token if "{p}" not in form else password
    return form.format(p=password, u=user_token), secret


@settings(max_examples=300)
@given(form=st.sampled_from(FORMS), password=passwords, user_token=user_tokens)
def test_pure_functions_never_return_the_token(form: str, password: str, user_token: str) -> None:
    url, secret = fill(form, password, user_token)
    assert url_has_credentials(url)
    assert secret not in redact_url(url)
    try:
        assert secret not in normalise_remote_url(url)
    except DlinkError as error:
        assert secret not in error.message
        assert secret not in (error.hint or "")


@given(token=query_tokens)
def test_query_tokens_are_redacted(token: str) -> None:
    url = f"https://git.example.com/o/r.git?private_token={token}&ref=main"
    assert token not in redact_url(url)
    assert token not in normalise_remote_url(url)


@given(form=st.sampled_from(HOSTED_FORMS), password=passwords, user_token=user_tokens)
def test_hosted_forms_still_normalise(form: str, password: str, user_token: str) -> None:
    # After "user:", a password starting with ':' or '//' makes git read a remote helper
    # or a scheme: another URL altogether (still never leaked, see above).
    assume(not password.startswith((":", "/")))
    url, _ = fill(form, password, user_token)
    plain, _ = fill(form.replace("{p}", "p").replace("{u}", "u"), "", "")
    assert normalise_remote_url(url) == normalise_remote_url(plain)


@pytest.fixture(scope="module")
def repository(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    repo = make_repo(tmp_path_factory.mktemp("secrets") / "r", remotes={"origin": "x"})
    yield repo


runner = CliRunner()


def dlink_repo(*args: str, env: dict[str, str] | None = None) -> str:
    result = runner.invoke(app, ["repo", *args], env=env)
    # An exception would print a traceback: a bug, and a leak of its local variables.
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.exit_code in (0, 2)
    return result.stdout + result.stderr


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(form=st.sampled_from(FORMS), password=passwords, user_token=user_tokens)
def test_dlink_repo_never_prints_the_token(
    repository: Path, form: str, password: str, user_token: str
) -> None:
    url, secret = fill(form, password, user_token)
    subprocess.run(["git", "config", "remote.origin.url", url], cwd=repository, check=True)
    path = str(repository / "Dockerfile")
    outputs = {
        "plain": dlink_repo(path),
        "json": dlink_repo("--json", path),
        "named remote": dlink_repo("--json", "--remote", "origin", path),
        "flag": dlink_repo("--json", "--repo-url", url, path),
        "gitlab ci": dlink_repo("--json", path, env={"GITLAB_CI": "true", "CI_PROJECT_URL": url}),
    }
    for where, output in outputs.items():
        assert secret not in output, where


def test_unknown_remote_name_lists_names_not_urls(repository: Path) -> None:
    token = "ghp_" + "Z9" * 18
    url = f"https://{token}@github.com/monalisa/my_repo"
    subprocess.run(["git", "config", "remote.origin.url", url], cwd=repository, check=True)
    output = dlink_repo("--remote", "nope", str(repository))
    assert "no remote named 'nope' (remotes: origin)" in output
    assert token not in output
