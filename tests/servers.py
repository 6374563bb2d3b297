"""Real servers for the registry and build tests, as pytest fixtures.

- `registry`: the CNCF distribution registry (`docker-registry serve`) on 127.0.0.1
  with htpasswd (basic) auth and filesystem storage in a tmp dir.
- `token_registry`: the same registry with `auth: token` (the bearer flow of ghcr.io
  and Docker Hub), its token service a tiny http.server in this process that signs
  RS256 JWTs with a throw-away key (openssl), which the registry checks against the
  self-signed certificate given as its rootcertbundle.
- `dockerd`: a private Docker daemon (own data root, exec root, socket and pid file,
  no iptables, no bridge) used through DOCKER_HOST; `docker_env` gives each test a
  fresh DOCKER_CONFIG so nothing touches ~/.docker.

All listen on loopback only, on free ports, and are stopped by the PID we started.
Session-scoped (each starts in well under a second; no reason to start one per test):
conftest.py loads this module as a plugin (`pytest_plugins = ["servers"]`) rather than importing
the fixtures by name, which would make one "session" fixture per importing module.
A missing binary skips the test with the reason, except under CI (conftest.UNDER_CI),
where these tests are mandatory and fail instead.

Also here: helpers that push a hand-made image over the raw distribution API and read
one back with a plain urllib request, independently of dlink's own client.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import tarfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import NoReturn

import pytest

from conftest import UNDER_CI

USER = "dlink-user"
PASSWORD = "s3cret-Pa55word-never-shown"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
# Loopback requests must never go through a proxy from the environment.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def need(*binaries: str) -> dict[str, str]:
    """Paths of `binaries`; skip (or fail under CI) when one is missing."""
    found: dict[str, str] = {}
    for binary in binaries:
        path = shutil.which(binary) or shutil.which(binary, path="/usr/sbin:/sbin")
        if path is None:
            unavailable(f"{binary} is not installed (.ci/install-servers installs it)")
        else:
            found[binary] = path
    return found


def unavailable(reason: str) -> NoReturn:
    """Skip the test, or fail it under CI, where the servers are mandatory."""
    if UNDER_CI:
        pytest.fail(f"required under CI: {reason}")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def stop(process: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    """SIGTERM the process we started (by its PID), then SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    os.kill(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=timeout)


def _log_tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _wait_http(
    url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 15.0
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{_log_tail(log)}")
        try:
            with _OPENER.open(url, timeout=1):
                return
        except urllib.error.HTTPError as answer:
            answer.close()
            return  # 401 from /v2/ is an answer: the server is up
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"server did not answer {url} within {timeout}s:\n{_log_tail(log)}")


# -- the distribution registry -------------------------------------------------------------


@dataclass
class Registry:
    host: str  # 127.0.0.1:PORT
    username: str
    password: str
    root: Path
    process: subprocess.Popen[bytes]
    started_in: float  # seconds until it answered

    def url(self, path: str) -> str:
        return f"http://{self.host}{path}"


def _start_registry(root: Path, auth: Mapping[str, object], name: str) -> Registry:
    """Start `docker-registry serve` on a free loopback port; retry if the port was taken."""
    binaries = need("docker-registry")
    root.mkdir(parents=True, exist_ok=True)
    problem = ""
    for attempt in range(3):
        port = free_port()
        config = {
            "version": 0.1,
            "log": {"level": "warn", "accesslog": {"disabled": True}},
            "storage": {
                "filesystem": {"rootdirectory": str(root / "data")},
                "delete": {"enabled": True},
            },
            "http": {"addr": f"127.0.0.1:{port}", "secret": f"dlink-test-{name}"},
            "auth": dict(auth),
        }
        # JSON is YAML: no YAML writer needed.
        config_path = root / "config.yml"
        config_path.write_text(json.dumps(config, indent=2))
        log = root / f"registry-{attempt}.log"
        started = time.monotonic()
        with log.open("wb") as log_file:
            process = subprocess.Popen(
                [binaries["docker-registry"], "serve", str(config_path)],
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                cwd=root,
                start_new_session=True,
            )
        try:
            _wait_http(f"http://127.0.0.1:{port}/v2/", process, log)
        except RuntimeError as error:
            stop(process)
            problem = str(error)
            if "address already in use" in problem:
                continue  # another process took the port between probe and bind
            break
        return Registry(
            host=f"127.0.0.1:{port}",
            username=USER,
            password=PASSWORD,
            root=root,
            process=process,
            started_in=time.monotonic() - started,
        )
    unavailable(f"docker-registry did not start: {problem}")


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """A registry with htpasswd auth: USER / PASSWORD."""
    binaries = need("htpasswd")
    root = tmp_path_factory.mktemp("registry")
    htpasswd = subprocess.run(
        [binaries["htpasswd"], "-Bbn", USER, PASSWORD], capture_output=True, check=True
    ).stdout
    (root / "htpasswd").write_bytes(htpasswd)
    server = _start_registry(
        root, {"htpasswd": {"realm": "dlink-test", "path": str(root / "htpasswd")}}, "basic"
    )
    try:
        yield server
    finally:
        stop(server.process)


# -- the token service and the registry that trusts it -------------------------------------


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass
class TokenIssuer:
    """Signs JWTs the registry accepts: RS256 with a self-signed cert in the x5c header."""

    key: Path
    cert: Path
    issuer: str = "dlink-test-issuer"
    service: str = "dlink-test-registry"
    _x5c: str = ""

    def __post_init__(self) -> None:
        der = subprocess.run(
            ["openssl", "x509", "-in", str(self.cert), "-outform", "DER"],
            capture_output=True,
            check=True,
        ).stdout
        self._x5c = base64.b64encode(der).decode("ascii")

    def mint(self, subject: str, access: list[dict[str, object]]) -> str:
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": [self._x5c]}
        claims = {
            "iss": self.issuer,
            "sub": subject,
            "aud": self.service,
            "exp": now + 600,
            "nbf": now - 30,
            "iat": now,
            "jti": hashlib.sha256(os.urandom(16)).hexdigest()[:16],
            "access": access,
        }
        signing_input = (
            f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        )
        signature = subprocess.run(
            ["openssl", "dgst", "-sha256", "-sign", str(self.key)],
            input=signing_input.encode(),
            capture_output=True,
            check=True,
        ).stdout
        return f"{signing_input}.{_b64url(signature)}"


@dataclass
class TokenService:
    """What the token endpoint knows: who may log in, what anyone may pull, what it was asked."""

    issuer: TokenIssuer
    username: str
    password: str
    public: set[str] = field(default_factory=set)  # repositories anyone may pull
    requests: list[dict[str, object]] = field(default_factory=list)


@dataclass
class TokenRegistry:
    registry: Registry
    service: TokenService
    realm: str

    @property
    def host(self) -> str:
        return self.registry.host

    def push_token(self, repository: str) -> str:
        access: list[dict[str, object]] = [
            {"type": "repository", "name": repository, "actions": ["pull", "push"]}
        ]
        return self.service.issuer.mint(self.service.username, access)


def _scope_access(
    scopes: list[str], allowed: Mapping[str, set[str]] | None
) -> list[dict[str, object]]:
    """The access list granted for requested scopes `repository:NAME:ACTIONS`."""
    granted: list[dict[str, object]] = []
    for scope in scopes:
        kind, _, rest = scope.partition(":")
        name, _, actions = rest.rpartition(":")
        if kind != "repository" or not name:
            continue
        wanted = [action for action in actions.split(",") if action]
        if allowed is None:  # authenticated: everything asked for
            permitted = wanted
        else:
            permitted = [action for action in wanted if action in allowed.get(name, set())]
        granted.append({"type": "repository", "name": name, "actions": permitted})
    return granted


def _token_handler(service: TokenService) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
            authorization = self.headers.get("Authorization", "")
            record: dict[str, object] = {"query": query, "basic": False, "granted": True}
            service.requests.append(record)
            user = None
            if authorization.startswith("Basic "):
                record["basic"] = True
                pair = base64.b64decode(authorization[6:]).decode(errors="replace")
                name, _, secret = pair.partition(":")
                if (name, secret) != (service.username, service.password):
                    record["granted"] = False
                    self._reply(401, {"errors": [{"code": "UNAUTHORIZED", "message": "no"}]})
                    return
                user = name
            allowed = None if user else {name: {"pull"} for name in service.public}
            access = _scope_access(query.get("scope", []), allowed)
            token = service.issuer.mint(user or "anonymous", access)
            self._reply(200, {"token": token, "access_token": token, "expires_in": 600})

        def _reply(self, status: int, document: object) -> None:
            body = json.dumps(document).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@pytest.fixture(scope="session")
def token_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TokenRegistry]:
    """A registry with `auth: token`, and the token service it trusts (bearer flow).

    Logged-in users get every action they ask for; anonymous users may pull only the
    repositories in `service.public` (like a public package on ghcr.io).
    """
    need("openssl", "docker-registry")
    root = tmp_path_factory.mktemp("token-registry")
    key, cert = root / "key.pem", root / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key)]
        + ["-out", str(cert), "-days", "2", "-subj", "/CN=dlink-test-token-issuer"],
        capture_output=True,
        check=True,
    )
    service = TokenService(
        issuer=TokenIssuer(key=key, cert=cert),
        username=USER,
        password=PASSWORD,
        public={"acme/public"},
    )
    http_server = ThreadingHTTPServer(("127.0.0.1", 0), _token_handler(service))
    threading.Thread(target=http_server.serve_forever, args=(0.05,), daemon=True).start()
    realm = f"http://127.0.0.1:{http_server.server_address[1]}/token"
    auth = {
        "token": {
            "realm": realm,
            "service": service.issuer.service,
            "issuer": service.issuer.issuer,
            "rootcertbundle": str(cert),
        }
    }
    try:
        registry = _start_registry(root, auth, "token")
        try:
            yield TokenRegistry(registry=registry, service=service, realm=realm)
        finally:
            stop(registry.process)
    finally:
        http_server.shutdown()
        http_server.server_close()


# -- the Docker daemon ---------------------------------------------------------------------


@dataclass
class Dockerd:
    host: str  # unix:///.../docker.sock
    root: Path
    storage_driver: str
    process: subprocess.Popen[bytes]
    started_in: float


def _ping(socket_path: Path) -> bool:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.settimeout(2)
            client.connect(str(socket_path))
            client.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            return b"OK" in client.recv(4096)
    except OSError:
        return False


def _unmount(path: Path) -> None:
    """dockerd bind-mounts its data root onto itself; one that died early leaves it there."""
    # os.path.ismount cannot see a bind mount within one filesystem: read mountinfo.
    try:
        mounted = f" {path} " in Path("/proc/self/mountinfo").read_text()
    except OSError:
        mounted = True  # cannot tell: umount of a non-mount only fails, harmlessly
    if mounted:
        subprocess.run(["umount", "--lazy", str(path)], capture_output=True, check=False)


def _start_dockerd(root: Path, driver: str) -> Dockerd | str:
    binaries = need("dockerd")
    socket_path = root / "docker.sock"
    data_root = root / f"data-{driver}"
    log = root / f"dockerd-{driver}.log"
    argv = [
        binaries["dockerd"],
        "--iptables=false",
        "--ip6tables=false",
        "--bridge=none",
        f"--storage-driver={driver}",
        # Own containerd namespaces, should it ever share a system containerd.
        "--containerd-namespace=dlink-test",
        "--containerd-plugins-namespace=dlink-test-plugins",
        "--data-root",
        str(data_root),
        "--exec-root",
        str(root / "exec"),
        "--pidfile",
        str(root / "docker.pid"),
        "-H",
        f"unix://{socket_path}",
    ]
    started = time.monotonic()
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            _unmount(data_root)
            return f"dockerd ({driver}) exited with {process.returncode}:\n{_log_tail(log)}"
        if _ping(socket_path):
            return Dockerd(
                host=f"unix://{socket_path}",
                root=root,
                storage_driver=driver,
                process=process,
                started_in=time.monotonic() - started,
            )
        time.sleep(0.02)
    stop(process)
    _unmount(data_root)
    return f"dockerd ({driver}) did not answer within 60s:\n{_log_tail(log)}"


@pytest.fixture(scope="session")
def dockerd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dockerd]:
    """A private dockerd (overlay2, else vfs) that trusts 127.0.0.0/8 registries over http."""
    need("dockerd", "docker")
    if os.geteuid() != 0:
        unavailable("dockerd needs root")
    # A short path: the daemon's unix sockets must fit in 108 bytes.
    root = tmp_path_factory.mktemp("dockerd")
    outcome = _start_dockerd(root, "overlay2")
    if isinstance(outcome, str):  # e.g. /tmp itself on overlayfs, inside a container
        outcome = _start_dockerd(root, "vfs")
    if isinstance(outcome, str):
        unavailable(f"cannot start dockerd: {outcome}")
    assert isinstance(outcome, Dockerd)
    try:
        yield outcome
    finally:
        stop(outcome.process)
        data_root = root / f"data-{outcome.storage_driver}"
        _unmount(data_root)
        shutil.rmtree(data_root, ignore_errors=True)


@pytest.fixture
def docker_env(dockerd: Dockerd, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """DOCKER_HOST for the private daemon and a fresh, empty DOCKER_CONFIG for this test."""
    config = tmp_path / "docker-config"
    config.mkdir()
    monkeypatch.setenv("DOCKER_HOST", dockerd.host)
    monkeypatch.setenv("DOCKER_CONFIG", str(config))
    monkeypatch.delenv("DOCKER_CONTEXT", raising=False)
    monkeypatch.delenv("DOCKER_BUILDKIT", raising=False)
    return {"DOCKER_HOST": dockerd.host, "DOCKER_CONFIG": str(config)}


def docker_login(registry: Registry, env: Mapping[str, str]) -> None:
    """Log the private daemon's client in to `registry`, as a user would beforehand."""
    subprocess.run(
        ["docker", "login", registry.host, "--username", registry.username, "--password-stdin"],
        input=(registry.password + "\n").encode(),
        env={**os.environ, **env},
        capture_output=True,
        check=True,
    )


# -- raw distribution API: push a hand-made image, read a config back ----------------------


def _basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode("ascii")


def _send(
    method: str, url: str, body: bytes, headers: Mapping[str, str]
) -> tuple[int, Mapping[str, str]]:
    request = urllib.request.Request(url, data=body, method=method, headers=dict(headers))
    with _OPENER.open(request, timeout=30) as reply:
        return reply.status, dict(reply.headers)


def _put_blob(base: str, repository: str, blob: bytes, authorization: str) -> str:
    digest = "sha256:" + hashlib.sha256(blob).hexdigest()
    _, headers = _send(
        "POST", f"{base}/v2/{repository}/blobs/uploads/", b"", {"Authorization": authorization}
    )
    location = urllib.parse.urljoin(base, headers["Location"])
    separator = "&" if "?" in location else "?"
    _send(
        "PUT",
        f"{location}{separator}digest={digest}",
        blob,
        {"Authorization": authorization, "Content-Type": "application/octet-stream"},
    )
    return digest


def _layer() -> bytes:
    payload = b"hello from dlink\n"
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo("hello.txt")
        info.size = len(payload)
        info.mtime = 0
        archive.addfile(info, io.BytesIO(payload))
    return gzip.compress(buffer.getvalue(), mtime=0)


def push_image(
    registry: Registry,
    repository: str,
    tag: str,
    labels: Mapping[str, str] | None,
    *,
    platforms: tuple[str, ...] = (),
    authorization: str | None = None,
    attestation: bool = False,
    platform_labels: Mapping[str, Mapping[str, str]] | None = None,
    index_annotations: Mapping[str, str] | None = None,
) -> str:
    """Push a FROM-scratch-like image (one small layer) with `labels`; return its digest.

    With `platforms`, push one manifest per platform (labels mention the platform in
    `test.platform`, and `platform_labels` override per platform) under an OCI index;
    `attestation` adds a BuildKit-style
    attestation entry (unknown/unknown), which readers must skip.
    """
    base = registry.url("")
    authorization = authorization or _basic(registry.username, registry.password)
    layer = _layer()
    layer_digest = _put_blob(base, repository, layer, authorization)

    def manifest_for(
        platform: str | None, image_labels: Mapping[str, str] | None
    ) -> tuple[bytes, str]:
        os_name, arch = (platform or "linux/amd64").split("/")[:2]
        config: dict[str, object] = {
            "architecture": arch,
            "os": os_name,
            "config": {"Labels": dict(image_labels)} if image_labels is not None else {},
            "rootfs": {
                "type": "layers",
                "diff_ids": ["sha256:" + hashlib.sha256(gzip.decompress(layer)).hexdigest()],
            },
        }
        config_bytes = json.dumps(config).encode()
        config_digest = _put_blob(base, repository, config_bytes, authorization)
        manifest = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": len(config_bytes)},
            "layers": [{"mediaType": OCI_LAYER, "digest": layer_digest, "size": len(layer)}],
        }
        body = json.dumps(manifest).encode()
        return body, "sha256:" + hashlib.sha256(body).hexdigest()

    def put_manifest(reference: str, body: bytes, media_type: str) -> None:
        _send(
            "PUT",
            f"{base}/v2/{repository}/manifests/{reference}",
            body,
            {"Authorization": authorization, "Content-Type": media_type},
        )

    if not platforms:
        body, digest = manifest_for(None, labels)
        put_manifest(tag, body, OCI_MANIFEST)
        return digest
    entries = []
    for platform in platforms:
        image_labels = None if labels is None else {**labels, "test.platform": platform}
        if platform_labels and platform in platform_labels:
            image_labels = {**(image_labels or {}), **platform_labels[platform]}
        body, digest = manifest_for(platform, image_labels)
        put_manifest(digest, body, OCI_MANIFEST)
        os_name, arch = platform.split("/")[:2]
        entries.append(
            {
                "mediaType": OCI_MANIFEST,
                "digest": digest,
                "size": len(body),
                "platform": {"os": os_name, "architecture": arch},
            }
        )
    if attestation:
        body, digest = manifest_for("unknown/unknown", {})
        put_manifest(digest, body, OCI_MANIFEST)
        entries.append(
            {
                "mediaType": OCI_MANIFEST,
                "digest": digest,
                "size": len(body),
                "platform": {"os": "unknown", "architecture": "unknown"},
                "annotations": {
                    "vnd.docker.reference.type": "attestation-manifest",
                    "vnd.docker.reference.digest": entries[0]["digest"],
                },
            }
        )
    index_document: dict[str, object] = {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": entries,
    }
    if index_annotations is not None:
        index_document["annotations"] = dict(index_annotations)
    index = json.dumps(index_document).encode()
    put_manifest(tag, index, OCI_INDEX)
    return "sha256:" + hashlib.sha256(index).hexdigest()


def raw_labels(registry: Registry, repository: str, tag: str) -> dict[str, str]:
    """The labels of a single-platform image read with plain urllib and basic auth.

    Independent of dlink's client on purpose: no challenge handling, no index
    handling, just the two GETs of the distribution API.
    """
    authorization = _basic(registry.username, registry.password)
    accept = f"application/vnd.docker.distribution.manifest.v2+json, {OCI_MANIFEST}"
    request = urllib.request.Request(
        registry.url(f"/v2/{repository}/manifests/{tag}"),
        headers={"Authorization": authorization, "Accept": accept},
    )
    with _OPENER.open(request, timeout=30) as reply:
        manifest = json.load(reply)
    request = urllib.request.Request(
        registry.url(f"/v2/{repository}/blobs/{manifest['config']['digest']}"),
        headers={"Authorization": authorization},
    )
    with _OPENER.open(request, timeout=30) as reply:
        config = json.load(reply)
    return dict(config.get("config", {}).get("Labels") or {})


# -- podman and buildah: daemonless engines in private storage ----------------------------


@pytest.fixture
def containers_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Private storage for podman and buildah (vfs: works as root inside a container,
    where overlay on overlay does not), chroot isolation for RUN steps, and an empty
    REGISTRY_AUTH_FILE location. Builds FROM scratch need no emulation for any
    platform: nothing runs. Skips (fails under CI) when either engine is missing."""
    need("buildah", "podman")
    storage = tmp_path / "containers-storage.conf"
    storage.write_text(
        f'[storage]\ndriver = "vfs"\nrunroot = "{tmp_path}/run"\ngraphroot = "{tmp_path}/graph"\n'
    )
    env = {
        "CONTAINERS_STORAGE_CONF": str(storage),
        "BUILDAH_ISOLATION": "chroot",
        "REGISTRY_AUTH_FILE": str(tmp_path / "containers-auth.json"),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env
