"""dlink.registry: reference parsing, challenges, and reading real registries (basic and bearer)."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import servers
from dlink import registry as registry_module
from dlink.registry import (
    Credentials,
    ImageRef,
    RegistryClient,
    RegistryError,
    config_labels,
    is_attestation,
    is_loopback,
    parse_challenge,
    parse_image_ref,
    split_host_port,
)
from servers import (
    PASSWORD,
    USER,
    Registry,
    TokenRegistry,
    free_port,
    push_image,
    raw_labels,
)

# The server fixtures, registered once so session scope means one server per run.

SOURCE = "org.opencontainers.image.source"
WIDGET = "https://github.com/acme/widget"
DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        pytest.param(
            "alpine", ImageRef("docker.io", "library/alpine", "latest"), id="hub-official"
        ),
        pytest.param("acme/widget:1.2", ImageRef("docker.io", "acme/widget", "1.2"), id="hub-user"),
        pytest.param(
            "ghcr.io/acme/widget", ImageRef("ghcr.io", "acme/widget", "latest"), id="ghcr-no-tag"
        ),
        pytest.param(
            "127.0.0.1:5000/a/b/c:v1", ImageRef("127.0.0.1:5000", "a/b/c", "v1"), id="port-nested"
        ),
        pytest.param("localhost/widget", ImageRef("localhost", "widget", "latest"), id="localhost"),
        pytest.param(
            f"ghcr.io/acme/widget@{DIGEST}", ImageRef("ghcr.io", "acme/widget", DIGEST), id="digest"
        ),
        pytest.param(
            f"ghcr.io/acme/widget:v1@{DIGEST}",
            ImageRef("ghcr.io", "acme/widget", DIGEST),
            id="tag-and-digest",
        ),
        pytest.param("[::1]:5000/w:t", ImageRef("[::1]:5000", "w", "t"), id="ipv6"),
    ],
)
def test_parse_image_ref(image: str, expected: ImageRef) -> None:
    assert parse_image_ref(image) == expected


@pytest.mark.parametrize(
    "image",
    [
        pytest.param("", id="empty"),
        pytest.param("ghcr.io/Acme/Widget", id="upper-case"),
        pytest.param("ghcr.io/acme/widget:", id="empty-tag"),
        pytest.param("ghcr.io/acme/widget@sha256:zz", id="bad-digest"),
        pytest.param("acme widget", id="space"),
        pytest.param("ghcr.io/acme//widget", id="empty-component"),
    ],
)
def test_parse_image_ref_rejects(image: str) -> None:
    with pytest.raises(RegistryError) as caught:
        parse_image_ref(image)
    assert caught.value.reason == "invalid-reference"


def test_image_ref_round_trip() -> None:
    assert str(parse_image_ref("ghcr.io/acme/widget")) == "ghcr.io/acme/widget:latest"
    assert parse_image_ref("alpine").api_host == "registry-1.docker.io"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        pytest.param(
            'Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:a/b:pull"',
            (
                "bearer",
                {
                    "realm": "https://ghcr.io/token",
                    "service": "ghcr.io",
                    "scope": "repository:a/b:pull",
                },
            ),
            id="ghcr",
        ),
        pytest.param(
            'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
            'scope="repository:library/alpine:pull,push"',
            (
                "bearer",
                {
                    "realm": "https://auth.docker.io/token",
                    "service": "registry.docker.io",
                    "scope": "repository:library/alpine:pull,push",
                },
            ),
            id="comma-inside-quotes",
        ),
        pytest.param('Basic realm="dlink-test"', ("basic", {"realm": "dlink-test"}), id="basic"),
        pytest.param(
            'bearer realm=https://x/t, service = "s\\"q"',
            ("bearer", {"realm": "https://x/t", "service": 's"q'}),
            id="bare-value-and-escape",
        ),
    ],
)
def test_parse_challenge(header: str, expected: tuple[str, dict[str, str]]) -> None:
    assert parse_challenge(header) == expected


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        pytest.param("127.0.0.1:5000", True, id="v4-port"),
        pytest.param("127.1.2.3", True, id="v4-range"),
        pytest.param("localhost:5000", True, id="localhost"),
        pytest.param("[::1]:5000", True, id="v6"),
        pytest.param("ghcr.io", False, id="ghcr"),
        pytest.param("10.0.0.1:5000", False, id="private-not-loopback"),
    ],
)
def test_is_loopback(host: str, expected: bool) -> None:
    assert is_loopback(host) is expected


def test_split_host_port() -> None:
    assert split_host_port("[::1]:5000") == ("::1", 5000)
    assert split_host_port("ghcr.io") == ("ghcr.io", None)


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        pytest.param({"config": {"Labels": {SOURCE: WIDGET}}}, {SOURCE: WIDGET}, id="labels"),
        pytest.param({"config": {"Labels": None}}, {}, id="null-labels"),
        pytest.param({"config": {}}, {}, id="no-labels"),
        pytest.param({}, {}, id="no-config"),
        pytest.param([], {}, id="not-object"),
    ],
)
def test_config_labels(config: object, expected: dict[str, str]) -> None:
    assert config_labels(config) == expected


@pytest.mark.parametrize(
    ("descriptor", "expected"),
    [
        pytest.param({"platform": {"os": "linux", "architecture": "amd64"}}, False, id="image"),
        pytest.param(
            {"platform": {"os": "unknown", "architecture": "unknown"}}, True, id="unknown"
        ),
        pytest.param(
            {"annotations": {"vnd.docker.reference.type": "attestation-manifest"}},
            True,
            id="annotated",
        ),
    ],
)
def test_is_attestation(descriptor: dict[str, object], expected: bool) -> None:
    assert is_attestation(descriptor) is expected


# -- a real registry with htpasswd (basic) auth --------------------------------------------


def _client(server: Registry | None = None, password: str = PASSWORD) -> RegistryClient:
    return RegistryClient(Credentials(USER, password) if server is not None else None, timeout=10)


def test_reads_labels_of_single_manifest(registry: Registry) -> None:
    digest = push_image(registry, "acme/single", "v1", {SOURCE: WIDGET, "other": "x"})
    image = _client(registry).read_image(parse_image_ref(f"{registry.host}/acme/single:v1"))
    assert not image.is_index
    assert image.digest == digest
    assert [dict(platform.labels) for platform in image.images] == [{SOURCE: WIDGET, "other": "x"}]
    # The same answer through a plain urllib request, without dlink's client.
    assert raw_labels(registry, "acme/single", "v1") == {SOURCE: WIDGET, "other": "x"}


def test_reads_every_platform_of_an_index_and_skips_attestations(registry: Registry) -> None:
    push_image(
        registry,
        "acme/multi",
        "v1",
        {SOURCE: WIDGET},
        platforms=("linux/amd64", "linux/arm64"),
        attestation=True,
    )
    image = _client(registry).read_image(parse_image_ref(f"{registry.host}/acme/multi:v1"))
    assert image.is_index
    assert [platform.platform for platform in image.images] == ["linux/amd64", "linux/arm64"]
    assert [platform.labels["test.platform"] for platform in image.images] == [
        "linux/amd64",
        "linux/arm64",
    ]
    assert all(platform.labels[SOURCE] == WIDGET for platform in image.images)


def test_reads_by_digest(registry: Registry) -> None:
    digest = push_image(registry, "acme/bydigest", "v1", {SOURCE: WIDGET})
    image = _client(registry).read_image(parse_image_ref(f"{registry.host}/acme/bydigest@{digest}"))
    assert image.digest == digest


@pytest.mark.parametrize(
    ("reference", "with_credentials", "password", "reason"),
    [
        pytest.param("acme/missing:v1", True, PASSWORD, "not-found", id="not-found"),
        pytest.param("acme/single:nope", True, PASSWORD, "not-found", id="tag-not-found"),
        pytest.param("acme/single:v1", False, PASSWORD, "unauthorized", id="anonymous"),
        pytest.param("acme/single:v1", True, "wrong-password", "unauthorized", id="wrong-password"),
    ],
)
def test_read_errors(
    registry: Registry, reference: str, with_credentials: bool, password: str, reason: str
) -> None:
    push_image(registry, "acme/single", "v1", {SOURCE: WIDGET})
    client = _client(registry if with_credentials else None, password)
    with pytest.raises(RegistryError) as caught:
        client.read_image(parse_image_ref(f"{registry.host}/{reference}"))
    assert caught.value.reason == reason
    assert "\n" not in caught.value.message
    assert PASSWORD not in caught.value.message and "wrong-password" not in caught.value.message


def test_unreachable_registry() -> None:
    port = free_port()  # nothing listens there
    with pytest.raises(RegistryError) as caught:
        RegistryClient().read_image(parse_image_ref(f"127.0.0.1:{port}/acme/widget:v1"))
    assert caught.value.reason == "unreachable"
    assert "connection refused" in caught.value.message


# -- a real registry with token auth: the bearer flow --------------------------------------


def test_bearer_flow_with_credentials(token_registry: TokenRegistry) -> None:
    push_image(
        token_registry.registry,
        "acme/widget",
        "v1",
        {SOURCE: WIDGET},
        authorization="Bearer " + token_registry.push_token("acme/widget"),
    )
    before = len(token_registry.service.requests)
    client = RegistryClient(Credentials(USER, PASSWORD))
    image = client.read_image(parse_image_ref(f"{token_registry.host}/acme/widget:v1"))
    assert image.images[0].labels[SOURCE] == WIDGET
    asked = token_registry.service.requests[before:]
    # One token for the repository, reused for the config blob.
    assert len(asked) == 1
    assert asked[0]["basic"] is True and asked[0]["granted"] is True
    query = asked[0]["query"]
    assert isinstance(query, dict)
    assert query["scope"] == ["repository:acme/widget:pull"]
    assert query["service"] == ["dlink-test-registry"]
    assert PASSWORD not in json.dumps(query)


def test_bearer_flow_anonymous_public(token_registry: TokenRegistry) -> None:
    push_image(
        token_registry.registry,
        "acme/public",
        "v1",
        {SOURCE: WIDGET},
        authorization="Bearer " + token_registry.push_token("acme/public"),
    )
    image = RegistryClient().read_image(parse_image_ref(f"{token_registry.host}/acme/public:v1"))
    assert image.images[0].labels[SOURCE] == WIDGET


@pytest.mark.parametrize(
    ("credentials", "fragment"),
    [
        pytest.param(None, "anonymously", id="anonymous-private"),
        pytest.param(Credentials(USER, "wrong-password"), "refused the credentials", id="wrong"),
    ],
)
def test_bearer_flow_refused(
    token_registry: TokenRegistry, credentials: Credentials | None, fragment: str
) -> None:
    push_image(
        token_registry.registry,
        "acme/private",
        "v1",
        {SOURCE: WIDGET},
        authorization="Bearer " + token_registry.push_token("acme/private"),
    )
    with pytest.raises(RegistryError) as caught:
        RegistryClient(credentials).read_image(
            parse_image_ref(f"{token_registry.host}/acme/private:v1")
        )
    assert caught.value.reason == "unauthorized"
    assert fragment in caught.value.message
    assert "wrong-password" not in caught.value.message


# -- redirects: Authorization must not follow a blob to another host -----------------------


class _Recorder:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str | None]] = []


@pytest.fixture
def redirecting_registry() -> Iterator[tuple[str, _Recorder]]:
    """A fake registry (http.server) whose config blob redirects to another host:port.

    Real registries do this with object storage or a CDN; the distribution registry
    can only do it with a cloud storage driver, so this tiny fake stands in.
    """
    recorder = _Recorder()
    config = json.dumps({"config": {"Labels": {SOURCE: WIDGET}}}).encode()
    config_digest = "sha256:" + hashlib.sha256(config).hexdigest()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"digest": config_digest, "size": len(config)},
            "layers": [],
        }
    ).encode()
    cdn_port = free_port()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            recorder.seen.append((self.path, self.headers.get("Authorization")))
            if self.headers.get("Authorization") is None and self.path.startswith("/v2/"):
                self._send(401, b"{}", {"WWW-Authenticate": 'Basic realm="fake"'})
            elif "/manifests/" in self.path:
                media = {"Content-Type": "application/vnd.oci.image.manifest.v1+json"}
                self._send(200, manifest, media)
            elif "/blobs/" in self.path:
                self._send(307, b"", {"Location": f"http://localhost:{cdn_port}/cdn/config"})
            elif self.path == "/cdn/config":
                self._send(200, config, {"Content-Type": "application/octet-stream"})
            else:
                self._send(404, b"{}", {})

        def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    registry_server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    cdn_server = ThreadingHTTPServer(("127.0.0.1", cdn_port), Handler)
    for server in (registry_server, cdn_server):
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield f"127.0.0.1:{registry_server.server_address[1]}", recorder
    finally:
        for server in (registry_server, cdn_server):
            server.shutdown()
            server.server_close()


def test_authorization_not_forwarded_to_another_host(
    redirecting_registry: tuple[str, _Recorder],
) -> None:
    host, recorder = redirecting_registry
    client = RegistryClient(Credentials(USER, PASSWORD))
    image = client.read_image(parse_image_ref(f"{host}/acme/widget:v1"))
    assert image.images[0].labels[SOURCE] == WIDGET
    cdn = [authorization for path, authorization in recorder.seen if path == "/cdn/config"]
    assert cdn == [None]
    blob = [auth for path, auth in recorder.seen if "/blobs/" in path and auth is not None]
    assert blob and blob[0].startswith("Basic ")


@pytest.fixture
def plain_http_realm() -> Iterator[tuple[str, _Recorder]]:
    """A fake registry whose bearer realm is plain http on a host that is not loopback.

    The realm's host is 0.0.0.0, which is not a loopback address by name but which
    Linux connects to locally, so even a client that ignored the rule would send
    nothing off this machine.
    """
    recorder = _Recorder()
    token_port = free_port()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            recorder.seen.append((self.path, self.headers.get("Authorization")))
            challenge = f'Bearer realm="http://0.0.0.0:{token_port}/token",service="fake"'
            body = b"{}"
            self.send_response(401)
            self.send_header("WWW-Authenticate", challenge)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    servers_ = [
        ThreadingHTTPServer(("127.0.0.1", 0), Handler),
        ThreadingHTTPServer(("127.0.0.1", token_port), Handler),
    ]
    for server in servers_:
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield f"127.0.0.1:{servers_[0].server_address[1]}", recorder
    finally:
        for server in servers_:
            server.shutdown()
            server.server_close()


def test_credentials_never_go_to_a_plain_http_realm(
    plain_http_realm: tuple[str, _Recorder],
) -> None:
    host, recorder = plain_http_realm
    with pytest.raises(RegistryError) as caught:
        RegistryClient(Credentials(USER, PASSWORD)).read_image(parse_image_ref(f"{host}/a/b:v1"))
    assert "refusing to send credentials to 0.0.0.0:" in caught.value.message
    assert [path for path, _ in recorder.seen] == ["/v2/a/b/manifests/v1"]  # no token request


@pytest.mark.parametrize(
    ("under_ci", "outcome"),
    [
        pytest.param(False, pytest.skip.Exception, id="skip-locally"),
        pytest.param(True, pytest.fail.Exception, id="fail-under-ci"),
    ],
)
def test_missing_server_binary(
    under_ci: bool, outcome: type[BaseException], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(servers, "UNDER_CI", under_ci)
    with pytest.raises(outcome, match="dlink-no-such-server is not installed"):
        servers.need("dlink-no-such-server")


@pytest.mark.parametrize(
    ("insecure", "host", "scheme"),
    [
        pytest.param(False, "ghcr.io", "https", id="tls-by-default"),
        pytest.param(False, "127.0.0.1:5000", "http", id="loopback-plain"),
        pytest.param(False, "localhost:5000", "http", id="localhost-plain"),
        pytest.param(True, "registry.lan:5000", "http", id="insecure-flag"),
    ],
)
def test_scheme(insecure: bool, host: str, scheme: str) -> None:
    assert RegistryClient(insecure=insecure).scheme_for(host) == scheme


# -- hostile documents and references --------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(b'{"a": [1, {"b": "]]]]"}]}', {"a": [1, {"b": "]]]]"}]}, id="plain"),
        pytest.param(b'{"s": "' + b"[" * 1000 + b'"}', {"s": "[" * 1000}, id="brackets-in-a-string"),
        pytest.param(b'{"s": "\\"' + b"{" * 1000 + b'"}', {"s": '"' + "{" * 1000}, id="escaped-quote"),
        pytest.param(b"[" * 64 + b"]" * 64, json.loads(b"[" * 64 + b"]" * 64), id="at-the-limit"),
    ],
)  # fmt: skip
def test_loads_document(body: bytes, expected: object) -> None:
    assert registry_module.loads_document(body) == expected


@pytest.mark.parametrize("depth", [65, 10_000, 1_000_000])
def test_loads_document_refuses_deep_nesting(depth: int) -> None:
    with pytest.raises(ValueError, match="nested deeper than 64"):
        registry_module.loads_document(b'{"a":' * depth + b"1" + b"}" * depth)


@pytest.mark.parametrize(
    ("image", "shown"),
    [
        pytest.param("u:hunter2@ghcr.io/o/r:1", "***@ghcr.io/o/r:1", id="userinfo"),
        pytest.param("ghp_abcdefghijklmnop@ghcr.io/o/r", "***@ghcr.io/o/r", id="token-user"),
        pytest.param("https://u:hunter2@ghcr.io/o/r", "***@ghcr.io/o/r", id="url"),
        pytest.param("a:b@c@ghcr.io/o/r@sha256:" + "a" * 64, "***@ghcr.io/o/r@sha256:" + "a" * 64, id="userinfo-and-digest"),
        pytest.param("ghcr.io/o/r@sha256:" + "a" * 64, "ghcr.io/o/r@sha256:" + "a" * 64, id="digest-kept"),
        pytest.param("ghcr.io/o/r:1", "ghcr.io/o/r:1", id="plain"),
    ],
)  # fmt: skip
def test_shown_reference(image: str, shown: str) -> None:
    assert registry_module.shown_reference(image) == shown


@pytest.mark.parametrize(
    "image", ["u:hunter2@ghcr.io/o/r:1", "https://u:hunter2@ghcr.io/o/r", "ho st/hunter2@x"]
)
def test_parse_image_ref_never_echoes_credentials(image: str) -> None:
    with pytest.raises(RegistryError) as caught:
        parse_image_ref(image)
    assert "hunter2" not in caught.value.message
