"""The pure half of dlink.repo: URL normalising, redaction, comparison, remote choice."""

from __future__ import annotations

import pytest

from dlink.errors import DlinkError
from dlink.repo import (
    ConfigEntry,
    NoRepository,
    apply_instead_of,
    choose_remote,
    ci_repository_url,
    differs_by_owner_or_name,
    gh_default_remote,
    normalise_remote_url,
    parse_config_listing,
    redact_url,
    remote_urls,
    same_repository,
    url_has_credentials,
    url_rewrites,
)

GH = "https://github.com/monalisa/my_repo"

NORMALISED = [
    # GitHub, every transport
    pytest.param("https://github.com/monalisa/my_repo", GH, id="https-plain"),
    pytest.param("https://github.com/monalisa/my_repo.git", GH, id="https-dot-git"),
    pytest.param("https://github.com/monalisa/my_repo/", GH, id="https-trailing-slash"),
    pytest.param("https://github.com/monalisa/my_repo.git/", GH, id="https-dot-git-slash"),
    pytest.param("https://github.com/monalisa/my_repo//", GH, id="https-double-trailing-slash"),
    pytest.param("https://github.com//monalisa//my_repo", GH, id="https-double-slashes"),
    pytest.param("http://github.com/monalisa/my_repo", GH, id="http-becomes-https"),
    pytest.param("HTTPS://GitHub.COM/monalisa/my_repo", GH, id="scheme-and-host-case"),
    pytest.param("  https://github.com/monalisa/my_repo\n", GH, id="surrounding-whitespace"),
    pytest.param("https://github.com/MonaLisa/My_Repo", "https://github.com/MonaLisa/My_Repo", id="path-case-kept"),
    pytest.param("git@github.com:monalisa/my_repo.git", GH, id="scp"),
    pytest.param("git@github.com:monalisa/my_repo", GH, id="scp-no-suffix"),
    pytest.param("git@github.com:/monalisa/my_repo.git", GH, id="scp-absolute-path"),
    pytest.param("github.com:monalisa/my_repo.git", GH, id="scp-no-user"),
    pytest.param("org-123@github.com:monalisa/my_repo.git", GH, id="scp-enterprise-user"),
    pytest.param("ssh://git@github.com/monalisa/my_repo.git", GH, id="ssh"),
    pytest.param("ssh://git@github.com:22/monalisa/my_repo.git", GH, id="ssh-port-dropped"),
    pytest.param("git+ssh://git@github.com/monalisa/my_repo.git", GH, id="git+ssh"),
    pytest.param("ssh+git://git@github.com/monalisa/my_repo.git", GH, id="ssh+git"),
    pytest.param("ssh://github.com/monalisa/my_repo", GH, id="ssh-no-user"),
    pytest.param("git://github.com/monalisa/my_repo.git", GH, id="git-daemon"),
    pytest.param("git://github.com:9418/monalisa/my_repo.git", GH, id="git-daemon-port"),
    pytest.param("ssh://git@ssh.github.com:443/monalisa/my_repo.git", GH, id="ssh-over-443"),
    pytest.param("git@ssh.github.com:monalisa/my_repo.git", GH, id="scp-ssh-github-com"),
    pytest.param("https://www.github.com/monalisa/my_repo", GH, id="www-github"),
    # credentials are always dropped
    pytest.param("https://x-access-token:ghs_abc123@github.com/monalisa/my_repo.git", GH, id="https-token-password"),
    pytest.param("https://ghp_0123456789abcdefghij0123456789abcdef@github.com/monalisa/my_repo", GH, id="https-token-user"),
    pytest.param("https://monalisa@github.com/monalisa/my_repo", GH, id="https-user"),
    pytest.param("https://user:p%40ss@github.com/monalisa/my_repo", GH, id="https-encoded-password"),
    pytest.param("https://user:p@ss/w#rd@github.com/monalisa/my_repo", GH, id="https-raw-password-specials"),
    pytest.param("ssh://git:secret@github.com:2222/monalisa/my_repo", GH, id="ssh-password"),
    pytest.param("https://github.com/monalisa/my_repo.git?ref=main#readme", GH, id="https-query-fragment"),
    # GitHub Enterprise and other hosts
    pytest.param("git@ghe.example.com:team/service.git", "https://ghe.example.com/team/service", id="ghe-scp"),
    pytest.param("https://GHE.Example.com/team/service", "https://ghe.example.com/team/service", id="ghe-host-case"),
    pytest.param("ssh://git@ghe.example.com:7999/team/service.git", "https://ghe.example.com/team/service", id="ghe-ssh-port"),
    pytest.param("https://git.example.com:8443/team/service.git", "https://git.example.com:8443/team/service", id="https-port-kept"),
    pytest.param("http://git.example.com:8080/team/service", "https://git.example.com:8080/team/service", id="http-port-kept"),
    pytest.param("https://git.example.com:443/team/service", "https://git.example.com/team/service", id="https-default-port"),
    pytest.param("http://git.example.com:80/team/service", "https://git.example.com/team/service", id="http-default-port"),
    pytest.param("https://git.internal_net.example/team/service", "https://git.internal_net.example/team/service", id="underscore-host"),
    pytest.param("git@git.sr.ht:~sircmpwn/scdoc", "https://git.sr.ht/~sircmpwn/scdoc", id="sourcehut-tilde"),
    # GitLab nested groups
    pytest.param("git@gitlab.com:group/sub/project.git", "https://gitlab.com/group/sub/project", id="gitlab-nested-scp"),
    pytest.param("https://gitlab.com/group/sub/deeper/project.git", "https://gitlab.com/group/sub/deeper/project", id="gitlab-nested-https"),
    pytest.param("https://gitlab-ci-token:glcbt-64_abc@gitlab.example.com/group/sub/project.git", "https://gitlab.example.com/group/sub/project", id="gitlab-ci-token"),
    pytest.param("ssh://git@altssh.gitlab.com:443/group/project.git", "https://gitlab.com/group/project", id="gitlab-altssh"),
    # Bitbucket
    pytest.param("git@bitbucket.org:team/repo.git", "https://bitbucket.org/team/repo", id="bitbucket-scp"),
    pytest.param("https://monalisa@bitbucket.org/team/repo.git", "https://bitbucket.org/team/repo", id="bitbucket-https-user"),
    pytest.param("ssh://git@altssh.bitbucket.org:443/team/repo.git", "https://bitbucket.org/team/repo", id="bitbucket-altssh"),
    # Azure DevOps
    pytest.param("https://dev.azure.com/org/project/_git/repo", "https://dev.azure.com/org/project/_git/repo", id="azure-https"),
    pytest.param("https://org@dev.azure.com/org/project/_git/repo", "https://dev.azure.com/org/project/_git/repo", id="azure-https-user"),
    pytest.param("git@ssh.dev.azure.com:v3/org/project/repo", "https://dev.azure.com/org/project/_git/repo", id="azure-scp"),
    pytest.param("ssh://git@ssh.dev.azure.com:22/v3/org/project/repo", "https://dev.azure.com/org/project/_git/repo", id="azure-ssh"),
    pytest.param("org@vs-ssh.visualstudio.com:v3/org/project/repo", "https://dev.azure.com/org/project/_git/repo", id="azure-vs-ssh"),
    pytest.param("https://org.visualstudio.com/project/_git/repo", "https://dev.azure.com/org/project/_git/repo", id="azure-visualstudio"),
    pytest.param("https://org.visualstudio.com/DefaultCollection/project/_git/repo", "https://dev.azure.com/org/project/_git/repo", id="azure-defaultcollection"),
    pytest.param("https://dev.azure.com/org/My Project/_git/repo", "https://dev.azure.com/org/My%20Project/_git/repo", id="azure-space-encoded"),
    # IPv6 hosts
    pytest.param("ssh://git@[::1]:2222/o/r.git", "https://[::1]/o/r", id="ipv6-ssh"),
    pytest.param("https://[2001:db8::1]/o/r", "https://[2001:db8::1]/o/r", id="ipv6-https"),
    pytest.param("https://[2001:DB8::1]:8443/o/r", "https://[2001:db8::1]:8443/o/r", id="ipv6-https-port"),
    pytest.param("git@[2001:db8::1]:o/r.git", "https://[2001:db8::1]/o/r", id="ipv6-scp"),
    # IP and single-label hosts
    pytest.param("git@192.0.2.10:o/r.git", "https://192.0.2.10/o/r", id="ipv4-scp"),
    pytest.param("http://localhost:3000/o/r.git", "https://localhost:3000/o/r", id="localhost-gitea"),
    # one repository, however its web page or path is spelled (labels and remotes alike)
    pytest.param("https://github.com/monalisa/my_repo.git.git", GH, id="dot-git-twice"),
    pytest.param("git@github.com:monalisa/my_repo.git.git", GH, id="scp-dot-git-twice"),
    pytest.param("https://github.com/monalisa/my_rep%6f", GH, id="percent-unreserved-decoded"),
    pytest.param("https://github.com/mona%6Cisa/my_repo%2Egit", GH, id="percent-dot-git"),
    pytest.param("https://git.example.com/o/a%2fb", "https://git.example.com/o/a%2Fb", id="percent-reserved-kept-upper"),
    pytest.param("https://github.com/monalisa/my_repo/tree/main", GH, id="github-tree"),
    pytest.param("https://github.com/monalisa/my_repo/blob/main/Dockerfile", GH, id="github-blob"),
    pytest.param("https://github.com/monalisa/my_repo/pkgs/container/my_repo", GH, id="github-any-page"),
    pytest.param("https://ghe.example.com/team/svc/tree/release/1.0", "https://ghe.example.com/team/svc", id="ghe-tree"),
    pytest.param("https://gitlab.com/group/sub/project/-/tree/main", "https://gitlab.com/group/sub/project", id="gitlab-dash-tree"),
    pytest.param("https://gitlab.com/group/tree/project", "https://gitlab.com/group/tree/project", id="gitlab-subgroup-named-tree"),
    pytest.param("https://bitbucket.org/team/repo/src/main/", "https://bitbucket.org/team/repo", id="bitbucket-src"),
    pytest.param("git@git.example.com:/srv/git/r.git", "https://git.example.com/srv/git/r", id="scp-absolute-path-other-host"),
    pytest.param("ssh://git@git.example.com/srv/git/r.git", "https://git.example.com/srv/git/r", id="ssh-absolute-path-same"),
]  # fmt: skip


@pytest.mark.parametrize(("url", "expected"), NORMALISED)
def test_normalise_remote_url(url: str, expected: str) -> None:
    assert normalise_remote_url(url) == expected


@pytest.mark.parametrize(("url", "expected"), NORMALISED)
def test_normalise_is_idempotent(url: str, expected: str) -> None:
    assert normalise_remote_url(normalise_remote_url(url)) == expected


NOT_HOSTED = [
    pytest.param("", "empty", id="empty"),
    pytest.param("   ", "empty", id="blank"),
    pytest.param("/srv/git/repo.git", "local path", id="absolute-path"),
    pytest.param("../sibling/repo", "local path", id="relative-path"),
    pytest.param("repo.git", "local path", id="bare-name"),
    pytest.param("~/repos/r.git", "local path", id="home-path"),
    pytest.param("dir/with:colon", "local path", id="slash-before-colon"),
    pytest.param("C:\\repos\\r.git", "local path", id="windows-path"),
    pytest.param("C:/repos/r.git", "local path", id="windows-forward-slashes"),
    pytest.param("file:///srv/git/repo.git", "local path", id="file-url"),
    pytest.param("FILE://localhost/srv/git/repo.git", "local path", id="file-url-host"),
    pytest.param("ftp://example.com/o/r.git", "scheme", id="ftp"),
    pytest.param("rsync://example.com/o/r.git", "scheme", id="rsync"),
    pytest.param("s3::https://bucket.example.com/o/r", "remote helper", id="remote-helper"),
    pytest.param("https://", "no host", id="scheme-only"),
    pytest.param("https:///o/r", "no host", id="no-host"),
    pytest.param("https://github.com", "no repository", id="host-only"),
    pytest.param("https://github.com/", "no repository", id="host-slash"),
    pytest.param("https://github.com/monalisa", "OWNER/REPO", id="github-owner-only"),
    pytest.param("git@gitlab.com:group.git", "OWNER/REPO", id="gitlab-one-segment"),
    pytest.param("https://git.example.com:99999/o/r", "port", id="port-out-of-range"),
    pytest.param("https://git.example.com:abc/o/r", "port", id="port-not-a-number"),
    pytest.param("https://exa mple.com/o/r", "host name", id="space-in-host"),
    pytest.param("https://-bad-.example/o/r", "host name", id="host-dashes"),
    pytest.param("https://[::1/o/r", "IPv6", id="ipv6-unclosed"),
    pytest.param("https://[::1]x/o/r", "after the host", id="ipv6-trailing"),
    pytest.param("https://host.example/o/../r", "'..'", id="dot-dot"),
    pytest.param("https://host.example/o/%2e%2e/r", "'..'", id="dot-dot-escaped"),
    pytest.param("https://github.com/monalisa/.git", "OWNER/REPO", id="only-dot-git"),
    pytest.param("https://host.example/o/r\x00", "characters", id="nul"),
    pytest.param("https://host.example/o\\r", "characters", id="backslash"),
    pytest.param("git@host.example", "local path", id="no-colon-is-a-path-to-git"),
    pytest.param("user:pw@host.example", "understands", id="scp-without-path"),
    pytest.param("git@[::1]o/r", "understands", id="scp-ipv6-no-colon"),
    pytest.param("git@ssh.dev.azure.com:org/project/repo", "v3/", id="azure-ssh-no-v3"),
    pytest.param("not a url at all", "local path", id="prose"),
]


@pytest.mark.parametrize(("url", "reason"), NOT_HOSTED)
def test_normalise_rejects(url: str, reason: str) -> None:
    with pytest.raises(DlinkError) as raised:
        normalise_remote_url(url)
    assert reason in raised.value.message
    assert "\n" not in raised.value.message
    assert raised.value.hint is not None and "--repo-url" in raised.value.hint


@pytest.mark.parametrize(
    ("url", "redacted"),
    [
        pytest.param("https://x-access-token:ghs_S3cr3t@github.com/o/r", "https://x-access-token:***@github.com/o/r", id="password"),
        pytest.param("https://ghp_0123456789abcdefghijABCDEFGHIJ012345@github.com/o/r", "https://***@github.com/o/r", id="token-user"),
        pytest.param("https://glpat-abc@gitlab.com/g/p", "https://***@gitlab.com/g/p", id="gitlab-token-user"),
        pytest.param("https://ghp_token:x-oauth-basic@github.com/o/r", "https://***:***@github.com/o/r", id="token-user-and-password"),
        pytest.param("https://monalisa@github.com/o/r", "https://monalisa@github.com/o/r", id="plain-user-kept"),
        pytest.param("https://user:@github.com/o/r", "https://user:@github.com/o/r", id="empty-password"),
        pytest.param("https://user:p@ss/w#rd@github.com/o/r", "https://user:***@github.com/o/r", id="raw-specials"),
        pytest.param("https://user%3Atoken@github.com/o/r", "https://***@github.com/o/r", id="encoded-colon"),
        pytest.param("ssh://git@github.com/o/r", "ssh://git@github.com/o/r", id="ssh-user-kept"),
        pytest.param("ssh://deploy:hunter2@host.example:2222/o/r", "ssh://deploy:***@host.example:2222/o/r", id="ssh-password"),
        pytest.param("git@github.com:o/r.git", "git@github.com:o/r.git", id="scp-kept"),
        pytest.param("deploy:hunter2@host.example:o/r", "deploy:***@host.example:o/r", id="scp-password"),
        pytest.param("https://host.example/o/r?private_token=abc&ref=main", "https://host.example/o/r?private_token=***&ref=main", id="query-token"),
        pytest.param("fatal: could not read from 'https://u:hunter2@host.example/o/r': 403", "fatal: could not read from 'https://u:***@host.example/o/r': 403", id="inside-prose"),
        pytest.param("https://u:hunter2@", "https://u:***@", id="unparseable"),
        pytest.param("https://github.com/o/r", "https://github.com/o/r", id="nothing-to-redact"),
        pytest.param("https://x:***@github.com/o/r", "https://x:***@github.com/o/r", id="already-redacted"),
        pytest.param("/srv/git/repo.git", "/srv/git/repo.git", id="local-path"),
    ],
)  # fmt: skip
def test_redact_url(url: str, redacted: str) -> None:
    assert redact_url(url) == redacted
    assert redact_url(redacted) == redacted


@pytest.mark.parametrize(
    ("url", "has_credentials"),
    [
        pytest.param("https://x-access-token:tok@github.com/o/r", True, id="https-password"),
        pytest.param(
            "https://ghp_0123456789abcdefghij@github.com/o/r", True, id="https-token-user"
        ),
        pytest.param("http://user:pw@git.example.com/o/r", True, id="http-password"),
        pytest.param("ssh://git:pw@github.com/o/r", True, id="ssh-password"),
        pytest.param("deploy:pw@host.example:o/r", True, id="scp-password"),
        pytest.param("https://monalisa@github.com/o/r", False, id="https-plain-user"),
        pytest.param("git@github.com:o/r", False, id="scp-git-user"),
        pytest.param("ssh://git@github.com/o/r", False, id="ssh-git-user"),
        pytest.param("org@vs-ssh.visualstudio.com:v3/org/p/r", False, id="azure-org-user"),
        pytest.param("https://github.com/o/r", False, id="none"),
        pytest.param("", False, id="empty"),
    ],
)
def test_url_has_credentials(url: str, has_credentials: bool) -> None:
    assert url_has_credentials(url) is has_credentials


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        pytest.param(GH, "git@github.com:monalisa/my_repo.git", True, id="forms"),
        pytest.param(GH, "https://GITHUB.com/MonaLisa/My_Repo", True, id="github-case-insensitive"),
        pytest.param(GH, "https://x:tok@github.com/monalisa/my_repo.git/", True, id="credentials-and-suffix"),
        pytest.param(GH, "https://github.com/monalisa/other", False, id="other-repo"),
        pytest.param(GH, "https://ghe.example.com/monalisa/my_repo", False, id="other-host"),
        pytest.param("https://gitlab.com/Group/Project", "https://gitlab.com/group/project", False, id="gitlab-case-sensitive"),
        pytest.param("https://GitLab.com/group/project", "git@gitlab.com:group/project.git", True, id="gitlab-host-case"),
        pytest.param("https://ghe.example.com/Team/Svc", "git@ghe.example.com:team/svc.git", True, id="ghe-case-insensitive"),
        pytest.param("https://github.example.com/Team/Svc", "https://github.example.com/team/svc", True, id="ghe-server-github-name"),
        pytest.param("https://acme.ghe.com/Team/Svc", "https://acme.ghe.com/team/svc/tree/main", True, id="ghe-cloud"),
        pytest.param("https://git.example.com/Team/Svc", "https://git.example.com/team/svc", False, id="other-host-case-sensitive"),
        pytest.param(GH, "https://github.com/monalisa/my_repo.git.git", True, id="dot-git-twice"),
        pytest.param(GH, "https://github.com/monalisa/my%5Frepo/tree/main", True, id="escaped-and-tree"),
        pytest.param("https://git.example.com:8443/o/r", "https://git.example.com/o/r", False, id="port-differs"),
        pytest.param(GH, "not a url", False, id="garbage"),
        pytest.param("", "", False, id="both-empty"),
    ],
)  # fmt: skip
def test_same_repository(a: str, b: str, same: bool) -> None:
    assert same_repository(a, b) is same
    assert same_repository(b, a) is same


@pytest.mark.parametrize(
    ("url", "rewrites", "expected"),
    [
        pytest.param("gh:o/r", [("gh:", "git@github.com:")], "git@github.com:o/r", id="simple"),
        pytest.param("https://x/o/r", [("gh:", "git@github.com:")], "https://x/o/r", id="no-match"),
        pytest.param(
            "https://example.com/team/r",
            [("https://example.com/", "A/"), ("https://example.com/team/", "B/")],
            "B/r",
            id="longest-wins",
        ),
        pytest.param(
            "https://example.com/team/r",
            [("https://example.com/team/", "B/"), ("https://example.com/", "A/")],
            "B/r",
            id="longest-wins-any-order",
        ),
        pytest.param("x:r", [("x:", "first/"), ("x:", "second/")], "first/r", id="tie-first-wins"),
        pytest.param("https://h/r", [("", "all/")], "all/https://h/r", id="empty-prefix"),
    ],
)
def test_apply_instead_of(url: str, rewrites: list[tuple[str, str]], expected: str) -> None:
    assert apply_instead_of(url, rewrites) == expected


def test_parse_config_listing_and_views() -> None:
    listing = (
        b"global\0url.git@github.com:.insteadof\ngh:\0"
        b"local\0core.bare\nfalse\0"
        b"local\0remote.origin.url\nhttps://a/o/r\0"
        b"local\0remote.origin.url\nhttps://b/o/r\0"
        b"local\0remote.my.dotted.url\nhttps://c/o/r\0"
        b"local\0branch.feature/x.remote\nmy.dotted\0"
        b"local\0some.flag\0"
    )
    entries = parse_config_listing(listing)
    assert entries[0] == ConfigEntry("url", "git@github.com:", "insteadof", "gh:")
    assert entries[-1] == ConfigEntry("some", None, "flag", None)
    assert remote_urls(entries) == {
        "origin": ["https://a/o/r", "https://b/o/r"],
        "my.dotted": ["https://c/o/r"],
    }
    assert url_rewrites(entries) == [("gh:", "git@github.com:")]
    assert gh_default_remote(entries) is None
    chosen = parse_config_listing(b"local\0remote.origin.gh-resolved\nbase\0")
    assert gh_default_remote(chosen) == "origin"


@pytest.mark.parametrize(
    ("names", "requested", "gh_default", "expected", "reason"),
    [
        pytest.param(["origin", "fork"], "fork", None, "fork", "--remote", id="flag"),
        pytest.param(["origin", "upstream"], None, "origin", "origin", "gh repo set-default", id="gh-set-default"),
        pytest.param(["origin", "upstream"], None, "gone", "upstream", "named 'upstream'", id="gh-default-not-a-remote"),
        pytest.param(["fork", "origin", "upstream"], None, None, "upstream", "named 'upstream'", id="fork-clone-upstream-wins"),
        pytest.param(["github", "origin"], None, None, "github", "named 'github'", id="github-before-origin"),
        pytest.param(["contributor", "origin"], None, None, "origin", "named 'origin'", id="pr-checkout-origin"),
        pytest.param(["only"], None, None, "only", "the only remote", id="only-remote"),
    ],
)  # fmt: skip
def test_choose_remote(
    names: list[str], requested: str | None, gh_default: str | None, expected: str, reason: str
) -> None:
    name, why = choose_remote(names, requested=requested, gh_default=gh_default, where="r")
    assert name == expected
    assert reason in why


@pytest.mark.parametrize(
    ("names", "requested", "message", "hint", "no_repository"),
    [
        pytest.param(["a", "b"], None, "cannot tell which remote of r names the repository: a, b", "--remote", False, id="ambiguous"),
        pytest.param([], None, "r has no git remote", "git remote add", True, id="none"),
        pytest.param(["a", "b"], "c", "r has no remote named 'c' (remotes: a, b)", "--remote", False, id="unknown-flag"),
    ],
)  # fmt: skip
def test_choose_remote_errors(
    names: list[str], requested: str | None, message: str, hint: str, no_repository: bool
) -> None:
    with pytest.raises(DlinkError) as raised:
        choose_remote(names, requested=requested, where="r")
    assert message in raised.value.message
    assert raised.value.hint is not None and hint in raised.value.hint
    assert isinstance(raised.value, NoRepository) is no_repository


@pytest.mark.parametrize(
    ("a", "b", "differs"),
    [
        pytest.param("https://github.com/old-owner/widget", "https://github.com/acme/widget", True, id="transferred"),
        pytest.param("https://github.com/acme/gadget", "git@github.com:acme/widget.git", True, id="renamed"),
        pytest.param("https://github.com/acme/widget", "https://github.com/ACME/Widget", False, id="same-repository"),
        pytest.param("https://github.com/old/gadget", "https://github.com/acme/widget", False, id="both-differ"),
        pytest.param("https://gitlab.com/acme/widget", "https://github.com/acme/widget", False, id="other-host"),
        pytest.param("https://gitlab.com/g/old/p", "https://gitlab.com/g/new/p", True, id="gitlab-moved-group"),
        pytest.param("not a url", GH, False, id="garbage"),
    ],
)  # fmt: skip
def test_differs_by_owner_or_name(a: str, b: str, differs: bool) -> None:
    assert differs_by_owner_or_name(a, b) is differs
    assert differs_by_owner_or_name(b, a) is differs


def test_ssh_alias_resolved_through_the_callback() -> None:
    aliases = {"github-work": "github.com", "gh-alt": "ssh.github.com"}.get

    def resolve(host: str) -> str:
        return aliases(host) or host

    assert (
        normalise_remote_url("git@github-work:acme/widget.git", ssh_hostname=resolve)
        == "https://github.com/acme/widget"
    )
    assert (
        normalise_remote_url("ssh://git@gh-alt:443/acme/widget", ssh_hostname=resolve)
        == "https://github.com/acme/widget"
    )
    # Only SSH hosts are aliases: an https URL's host is taken as written.
    assert (
        normalise_remote_url("https://github-work/acme/widget", ssh_hostname=resolve)
        == "https://github-work/acme/widget"
    )


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        pytest.param(
            {"GITHUB_ACTIONS": "true", "GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "o/r"},
            ("ci:github", "https://github.com/o/r"),
            id="github",
        ),
        pytest.param(
            {"GITHUB_ACTIONS": "true", "GITHUB_SERVER_URL": "https://ghe.example.com/", "GITHUB_REPOSITORY": "o/r"},
            ("ci:github", "https://ghe.example.com/o/r"),
            id="github-enterprise",
        ),
        pytest.param({"GITHUB_ACTIONS": "false", "GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "o/r"}, None, id="github-not-true"),
        pytest.param({"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "o/r"}, None, id="github-unset"),
        pytest.param({"GITHUB_ACTIONS": "true", "GITHUB_SERVER_URL": "https://github.com"}, None, id="github-incomplete"),
        pytest.param({"GITLAB_CI": "true", "CI_PROJECT_URL": "https://gitlab.com/g/s/p"}, ("ci:gitlab", "https://gitlab.com/g/s/p"), id="gitlab"),
        pytest.param({"GITLAB_CI": "1", "CI_PROJECT_URL": "https://gitlab.com/g/p"}, None, id="gitlab-not-true"),
        pytest.param({"CI": "true"}, None, id="other-ci"),
        pytest.param({}, None, id="no-ci"),
    ],
)  # fmt: skip
def test_ci_repository_url(env: dict[str, str], expected: tuple[str, str] | None) -> None:
    assert ci_repository_url(env) == expected
