"""Read what a registry holds: an image's manifests and config labels, over the OCI distribution API.

Only the standard library (urllib) is used, so reading a registry adds no dependency.
The client speaks the read side of the distribution API:

    GET /v2/<name>/manifests/<reference>   (Accept: OCI + Docker manifests and indexes)
    GET /v2/<name>/blobs/<config digest>   (the image config, whose `config.Labels` we want)

and the two ways registries ask for credentials: `Basic` (a plain registry with
htpasswd) and `Bearer` (ghcr.io, Docker Hub, any registry with a token service: the
401 names a realm, we ask that realm for a token, with basic credentials when we have
them, then retry with the token).

Secrets never leave this module except in an Authorization header sent to the
registry or its token realm: they are not in URLs, messages or reprs, and an
Authorization header is not forwarded when a redirect leads to another host (blob
downloads are often redirected to a CDN).

Nothing here prints. Failures are RegistryError (a DlinkError): one line, and a
`reason` the caller (and the tests) can tell apart.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import ipaddress
import json
import re
import socket
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import Message
from http.client import HTTPMessage
from typing import IO, Literal

from dlink.errors import DlinkError

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
INDEX_MEDIA_TYPES = frozenset({OCI_INDEX, DOCKER_LIST})
MANIFEST_MEDIA_TYPES = frozenset({OCI_MANIFEST, DOCKER_MANIFEST})
ACCEPT_MANIFESTS = f"{OCI_INDEX}, {DOCKER_LIST}, {OCI_MANIFEST}, {DOCKER_MANIFEST}"

DOCKER_HUB = "docker.io"
DOCKER_HUB_API = "registry-1.docker.io"
# The most we read of a manifest, an index or a config: real ones are a few KiB.
MAX_DOCUMENT_BYTES = 4 * 1024 * 1024

Reason = Literal["invalid-reference", "not-found", "unauthorized", "unreachable", "invalid"]

_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_DIGEST = re.compile(r"[a-z0-9]+(?:[+._-][a-z0-9]+)*:[A-Fa-f0-9]{32,}")
_PATH_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_HOST = re.compile(r"(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]+)?")


class RegistryError(DlinkError):
    """An image that cannot be read: bad reference, not found, not authorised, unreachable."""

    def __init__(self, message: str, reason: Reason, hint: str | None = None) -> None:
        super().__init__(message, hint)
        self.reason: Reason = reason


@dataclass(frozen=True)
class ImageRef:
    """An image reference split the way registries see it.

    `registry` is as written (`docker.io` for Docker Hub images named without one),
    `repository` the path inside it (`library/` added for official Docker Hub images),
    `reference` a tag or a digest.
    """

    registry: str
    repository: str
    reference: str

    @property
    def api_host(self) -> str:
        """The host[:port] that serves the distribution API."""
        return DOCKER_HUB_API if self.registry == DOCKER_HUB else self.registry

    @property
    def is_digest(self) -> bool:
        return ":" in self.reference

    def __str__(self) -> str:
        separator = "@" if self.is_digest else ":"
        return f"{self.registry}/{self.repository}{separator}{self.reference}"


@dataclass(frozen=True)
class Credentials:
    """Basic credentials for a registry; the password never shows in a repr."""

    username: str
    password: str = field(repr=False)


@dataclass(frozen=True)
class PlatformImage:
    """One image manifest and what its config says."""

    platform: str | None  # "linux/amd64" inside an index; None for a single manifest
    manifest_digest: str
    config_digest: str
    labels: Mapping[str, str]
    annotations: Mapping[str, str]


@dataclass(frozen=True)
class RemoteImage:
    """What a registry holds under one reference: an index of platforms, or one manifest."""

    ref: ImageRef
    digest: str  # of the top-level manifest or index
    media_type: str
    annotations: Mapping[str, str]  # the top-level document's own (index annotations)
    images: tuple[PlatformImage, ...]

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEX_MEDIA_TYPES


def split_host_port(registry: str) -> tuple[str, int | None]:
    """`host[:port]` -> (host, port); `[::1]:5000` -> ("::1", 5000)."""
    if registry.startswith("["):
        host, _, rest = registry[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") and rest[1:].isdigit() else None
    host, sep, port = registry.rpartition(":")
    if sep and port.isdigit() and host:
        return host, int(port)
    return registry, None


def is_loopback(host: str) -> bool:
    """True for localhost, 127.0.0.0/8 and ::1 (a host with or without port)."""
    name = split_host_port(host)[0].lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def shown_reference(image: str) -> str:
    """An image reference as it may appear in a message: whatever precedes an `@` that
    is not a digest (`user:token@registry/...`, a URL with userinfo) becomes `***`."""
    text = image[:300]
    name, at, rest = text.rpartition("@")
    if at and not _DIGEST.fullmatch(rest):
        return f"***@{rest}"
    if at and "@" in name:
        return f"***@{name.rpartition('@')[2]}@{rest}"
    if "://" in text:
        from dlink.repo import redact_url

        return redact_url(text)
    return text


def parse_image_ref(image: str) -> ImageRef:
    """Split an image reference as docker does: `[registry/]path[:tag][@digest]`.

    The first component is a registry when it has a dot or a port, or is `localhost`;
    otherwise the image is on Docker Hub. No tag and no digest means `latest`.
    """
    text = image.strip()
    image = shown_reference(image)  # every message below shows it redacted
    if not text or any(character.isspace() for character in text):
        raise RegistryError(f"invalid image reference {image!r}", "invalid-reference")
    name, at, digest = text.partition("@")
    if at and not _DIGEST.fullmatch(digest):
        raise RegistryError(
            f"invalid image reference {image!r}: what follows '@' must be a digest",
            "invalid-reference",
            "credentials never belong in an image reference: log in instead",
        )
    first, slash, rest = name.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost" or first.startswith("[")):
        registry, path = first, rest
        if not _HOST.fullmatch(registry):
            raise RegistryError(
                f"invalid registry in image reference {image!r}", "invalid-reference"
            )
    else:
        registry, path = DOCKER_HUB, name
    tag = ""
    last_slash = path.rfind("/")
    colon = path.rfind(":")
    if colon > last_slash:
        path, tag = path[:colon], path[colon + 1 :]
        if not _TAG.fullmatch(tag):
            raise RegistryError(f"invalid tag in image reference {image!r}", "invalid-reference")
    if registry == DOCKER_HUB and "/" not in path:
        path = f"library/{path}"
    components = path.split("/")
    if not all(_PATH_COMPONENT.fullmatch(component) for component in components):
        hint = "image names are lower-case" if path != path.lower() else None
        raise RegistryError(
            f"invalid repository name in image reference {image!r}", "invalid-reference", hint
        )
    reference = digest if at else (tag or "latest")
    return ImageRef(registry=registry, repository=path, reference=reference)


def parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    """`Bearer realm="https://x/token",service="x",scope="a,b"` -> ("bearer", {...}).

    Parameter values may be quoted (with backslash escapes) or bare tokens.
    """
    scheme, _, rest = header.strip().partition(" ")
    params: dict[str, str] = {}
    position = 0
    pattern = re.compile(r'\s*([A-Za-z0-9_.-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?')
    while position < len(rest):
        match = pattern.match(rest, position)
        if not match or match.end() == position:
            break
        quoted, bare = match.group(2), match.group(3)
        value = re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else bare
        params[match.group(1).lower()] = value
        position = match.end()
    return scheme.lower(), params


def basic_authorization(credentials: Credentials) -> str:
    pair = f"{credentials.username}:{credentials.password}".encode()
    return "Basic " + base64.b64encode(pair).decode("ascii")


def platform_name(descriptor: Mapping[str, object]) -> str | None:
    """`os/architecture[/variant]` of an index entry, or None when it has no platform."""
    platform = descriptor.get("platform")
    if not isinstance(platform, Mapping):
        return None
    parts = [str(platform.get("os", "")), str(platform.get("architecture", ""))]
    if platform.get("variant"):
        parts.append(str(platform["variant"]))
    return "/".join(parts)


def is_attestation(descriptor: Mapping[str, object]) -> bool:
    """Index entries that are not images: BuildKit's provenance/SBOM attestations."""
    annotations = descriptor.get("annotations")
    if isinstance(annotations, Mapping) and "vnd.docker.reference.type" in annotations:
        return True
    return platform_name(descriptor) == "unknown/unknown"


def config_labels(config: object) -> dict[str, str]:
    """The labels of an image config document (Docker and OCI both keep them at config.Labels)."""
    if not isinstance(config, Mapping):
        return {}
    inner = config.get("config")
    if not isinstance(inner, Mapping):
        return {}
    labels = inner.get("Labels")
    if not isinstance(labels, Mapping):
        return {}
    return {str(key): str(value) for key, value in labels.items()}


def _string_map(value: object) -> dict[str, str]:
    if not isinstance(value, Mapping):
        return {}
    return {str(key): str(item) for key, item in value.items()}


class _SameHostRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects, but send Authorization only to the host it was meant for."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: HTTPMessage,
        newurl: str,
    ) -> urllib.request.Request | None:
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None:
            old_host = urllib.parse.urlsplit(req.full_url).netloc
            if urllib.parse.urlsplit(new.full_url).netloc != old_host:
                for name in list(new.headers):
                    if name.lower() == "authorization":
                        del new.headers[name]
        return new


@dataclass
class _Response:
    status: int
    headers: Message
    body: bytes


class RegistryClient:
    """A read-only client for one or more registries, holding tokens it was given."""

    def __init__(
        self,
        credentials: Credentials | None = None,
        *,
        insecure: bool = False,
        timeout: float = 30.0,
    ) -> None:
        self._credentials = credentials
        self._insecure = insecure
        self._timeout = timeout
        # (api host, repository) -> the Authorization header that worked last.
        self._authorization: dict[tuple[str, str], str] = {}

    # -- public ------------------------------------------------------------------------

    def scheme_for(self, registry: str) -> str:
        """Plain http for loopback registries and with --insecure; https everywhere else."""
        return "http" if self._insecure or is_loopback(registry) else "https"

    def read_image(self, ref: ImageRef) -> RemoteImage:
        """The manifest (or index and each platform's manifest) and config labels of `ref`."""
        top = self._get_manifest(ref, ref.reference)
        document, media_type = top.body_json, top.media_type
        annotations = _string_map(document.get("annotations"))
        if media_type in INDEX_MEDIA_TYPES:
            images: list[PlatformImage] = []
            entries = document.get("manifests")
            if not isinstance(entries, list):
                raise self._invalid(ref, "its index has no list of manifests")
            for entry in entries:
                if not isinstance(entry, Mapping) or is_attestation(entry):
                    continue
                digest = entry.get("digest")
                entry_type = entry.get("mediaType")
                if not isinstance(digest, str) or (
                    isinstance(entry_type, str) and entry_type not in MANIFEST_MEDIA_TYPES
                ):
                    continue
                child = self._get_manifest(ref, digest)
                if child.media_type not in MANIFEST_MEDIA_TYPES:
                    continue  # nested indexes are not images we can label-check
                images.append(self._platform_image(ref, child, platform_name(entry)))
            if not images:
                raise self._invalid(ref, "its index lists no image manifests")
        else:
            images = [self._platform_image(ref, top, None)]
        return RemoteImage(
            ref=ref,
            digest=top.digest,
            media_type=media_type,
            annotations=annotations,
            images=tuple(images),
        )

    # -- documents -----------------------------------------------------------------------

    def _get_manifest(self, ref: ImageRef, reference: str) -> _Manifest:
        path = f"/v2/{ref.repository}/manifests/{reference}"
        response = self._get(ref, path, accept=ACCEPT_MANIFESTS, what="manifest")
        document = self._json(ref, response.body, "manifest")
        digest = response.headers.get("Docker-Content-Digest") or _sha256(response.body)
        if ":" in reference:
            _check_digest(ref, reference, response.body)
            digest = reference
        content_type = (response.headers.get("Content-Type") or "").split(";")[0].strip()
        media_type = (
            content_type if content_type in INDEX_MEDIA_TYPES | MANIFEST_MEDIA_TYPES else ""
        )
        if not media_type:
            declared = document.get("mediaType")
            if isinstance(declared, str) and declared in INDEX_MEDIA_TYPES | MANIFEST_MEDIA_TYPES:
                media_type = declared
            elif "manifests" in document:
                media_type = OCI_INDEX
            elif "config" in document:
                media_type = OCI_MANIFEST
            elif document.get("schemaVersion") == 1:
                raise self._invalid(ref, "it is a schema 1 manifest, which dlink does not read")
            else:
                raise self._invalid(
                    ref, f"its manifest has an unknown type ({content_type or 'none'})"
                )
        return _Manifest(digest=digest, media_type=media_type, body_json=document)

    def _platform_image(
        self, ref: ImageRef, manifest: _Manifest, platform: str | None
    ) -> PlatformImage:
        config = manifest.body_json.get("config")
        if not isinstance(config, Mapping) or not isinstance(config.get("digest"), str):
            raise self._invalid(ref, "its manifest has no config descriptor")
        config_digest = str(config["digest"])
        response = self._get(
            ref, f"/v2/{ref.repository}/blobs/{config_digest}", accept="*/*", what="config"
        )
        _check_digest(ref, config_digest, response.body)
        return PlatformImage(
            platform=platform,
            manifest_digest=manifest.digest,
            config_digest=config_digest,
            labels=config_labels(self._json(ref, response.body, "config")),
            annotations=_string_map(manifest.body_json.get("annotations")),
        )

    def _json(self, ref: ImageRef, body: bytes, what: str) -> dict[str, object]:
        try:
            document = loads_document(body)
        except ValueError as error:
            raise self._invalid(ref, f"its {what} is not JSON ({error})") from None
        if not isinstance(document, dict):
            raise self._invalid(ref, f"its {what} is not a JSON object")
        return document

    @staticmethod
    def _invalid(ref: ImageRef, why: str) -> RegistryError:
        return RegistryError(f"cannot read {ref}: {why}", "invalid")

    # -- HTTP and authentication ------------------------------------------------------

    def _get(self, ref: ImageRef, path: str, *, accept: str, what: str) -> _Response:
        url = f"{self.scheme_for(ref.registry)}://{ref.api_host}{path}"
        key = (ref.api_host, ref.repository)
        response = self._request(url, accept=accept, authorization=self._authorization.get(key))
        if response.status == 401:
            authorization = self._answer_challenge(ref, response)
            if authorization is not None:
                response = self._request(url, accept=accept, authorization=authorization)
                if response.status < 400:
                    self._authorization[key] = authorization
        if response.status < 400:
            return response
        raise self._http_error(ref, response, what)

    def _answer_challenge(self, ref: ImageRef, response: _Response) -> str | None:
        """The Authorization header to retry with, or None when there is nothing to try."""
        challenges = response.headers.get_all("WWW-Authenticate") or []
        parsed = [parse_challenge(challenge) for challenge in challenges]
        for scheme, params in parsed:
            if scheme == "bearer" and params.get("realm"):
                return "Bearer " + self._token(ref, params)
        for scheme, _params in parsed:
            if scheme == "basic" and self._credentials is not None:
                return basic_authorization(self._credentials)
        return None

    def _token(self, ref: ImageRef, params: Mapping[str, str]) -> str:
        realm = params["realm"]
        parts = urllib.parse.urlsplit(realm)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise RegistryError(
                f"cannot read {ref}: the registry's token realm is not an http(s) URL", "invalid"
            )
        query: list[tuple[str, str]] = []
        if params.get("service"):
            query.append(("service", params["service"]))
        query.append(("scope", params.get("scope") or f"repository:{ref.repository}:pull"))
        authorization = None
        if self._credentials is not None:
            query.append(("account", self._credentials.username))
            authorization = basic_authorization(self._credentials)
        separator = "&" if parts.query else "?"
        url = realm + separator + urllib.parse.urlencode(query)
        response = self._request(url, accept="application/json", authorization=authorization)
        if response.status in {401, 403}:
            raise RegistryError(
                f"not authorised to read {ref}: the registry's token service refused "
                + ("the credentials" if self._credentials else "anonymous access")
                + f" (HTTP {response.status})",
                "unauthorized",
                _CREDENTIALS_HINT,
            )
        if response.status >= 400:
            raise RegistryError(
                f"cannot read {ref}: the registry's token service answered HTTP {response.status}",
                "unreachable",
            )
        try:
            answer = loads_document(response.body)
        except ValueError:
            answer = None
        token = None
        if isinstance(answer, Mapping):
            token = answer.get("token") or answer.get("access_token")
        if not isinstance(token, str) or not token:
            raise RegistryError(f"cannot read {ref}: the token service gave no token", "invalid")
        return token

    def _request(self, url: str, *, accept: str, authorization: str | None) -> _Response:
        request = urllib.request.Request(url, method="GET")
        request.add_header("Accept", accept)
        request.add_header("User-Agent", "dlink")
        if authorization is not None:
            request.add_header("Authorization", authorization)
        host = urllib.parse.urlsplit(url).netloc
        insecure_ok = self._insecure or is_loopback(host)
        if authorization is not None and url.startswith("http://") and not insecure_ok:
            # A token realm on plain http that the user did not vouch for.
            raise RegistryError(
                f"refusing to send credentials to {host} over plain http "
                "(use --insecure if you trust the network)",
                "unauthorized",
            )
        handlers: list[urllib.request.BaseHandler] = [_SameHostRedirects()]
        if is_loopback(host):
            handlers.append(urllib.request.ProxyHandler({}))
        opener = urllib.request.build_opener(*handlers)
        try:
            with opener.open(request, timeout=self._timeout) as reply:
                body = _read_limited(reply)
                return _Response(status=reply.status, headers=reply.headers, body=body)
        except urllib.error.HTTPError as error:
            with error:
                try:
                    body = error.read(64 * 1024)
                except OSError:
                    body = b""
            return _Response(status=error.code, headers=error.headers, body=body)
        except urllib.error.URLError as error:
            raise RegistryError(
                f"cannot reach registry {host}: {_url_reason(error.reason)}", "unreachable"
            ) from None
        except TimeoutError:
            raise RegistryError(f"cannot reach registry {host}: timed out", "unreachable") from None
        except http.client.HTTPException as error:
            # LineTooLong (a header over 64 KiB), too many headers, a broken status line.
            detail = str(error).splitlines()[0][:120] if str(error) else type(error).__name__
            raise RegistryError(
                f"registry {host} sent an invalid HTTP answer: {detail}", "invalid"
            ) from None
        except (OSError, ValueError) as error:
            raise RegistryError(
                f"cannot reach registry {host}: {_url_reason(error)}", "unreachable"
            ) from None

    def _http_error(self, ref: ImageRef, response: _Response, what: str) -> RegistryError:
        detail = _registry_error_message(response.body)
        suffix = f" (HTTP {response.status}{': ' + detail if detail else ''})"
        if response.status in {401, 403}:
            who = "with the given credentials" if self._credentials else "anonymously"
            return RegistryError(
                f"not authorised to read {ref} {who}{suffix}", "unauthorized", _CREDENTIALS_HINT
            )
        if response.status == 404:
            thing = "image" if what == "manifest" else what
            return RegistryError(f"{thing} not found: {ref}{suffix}", "not-found")
        return RegistryError(f"cannot read {ref}{suffix}", "unreachable")


_CREDENTIALS_HINT = (
    "give --username and a token (--password-stdin, or DLINK_REGISTRY_PASSWORD / CR_PAT / "
    "GITHUB_TOKEN); a private or missing image also answers 'unauthorised'"
)


@dataclass(frozen=True)
class _Manifest:
    digest: str
    media_type: str
    body_json: dict[str, object]


# Real manifests nest four levels deep; far below Python's recursion limit.
MAX_JSON_DEPTH = 64


def loads_document(body: bytes) -> object:
    """JSON from a registry; ValueError for anything nested deeper than MAX_JSON_DEPTH.

    The depth is measured before parsing (json.loads recurses, and a document of
    100,000 '[' would end in RecursionError, or worse in a C stack overflow).
    """
    if body.count(b"[") + body.count(b"{") <= MAX_JSON_DEPTH:
        return json.loads(body)  # cannot be nested deeper than that
    depth = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            if depth > MAX_JSON_DEPTH:
                raise ValueError(f"nested deeper than {MAX_JSON_DEPTH} levels")
        elif byte in (0x5D, 0x7D):
            depth -= 1
    try:
        return json.loads(body)
    except RecursionError:  # pragma: no cover - the scan above bounds the depth
        raise ValueError("nested too deeply") from None


def _read_limited(reply: IO[bytes]) -> bytes:
    body = reply.read(MAX_DOCUMENT_BYTES + 1)
    if len(body) > MAX_DOCUMENT_BYTES:
        raise RegistryError(
            f"the registry sent more than {MAX_DOCUMENT_BYTES} bytes for one document", "invalid"
        )
    return body


def _sha256(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()


def _check_digest(ref: ImageRef, digest: str, body: bytes) -> None:
    algorithm, _, expected = digest.partition(":")
    if algorithm != "sha256":
        return  # sha512 and friends: trust the registry rather than refuse
    if hashlib.sha256(body).hexdigest() != expected.lower():
        raise RegistryError(f"cannot read {ref}: content does not match digest {digest}", "invalid")


def _registry_error_message(body: bytes) -> str:
    """The first `message` of a distribution error body, cut short; '' when there is none."""
    try:
        document = loads_document(body)
    except ValueError:
        return ""
    errors = document.get("errors") if isinstance(document, dict) else None
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        message = str(errors[0].get("message") or errors[0].get("code") or "")
        return message.splitlines()[0][:200] if message else ""
    return ""


def _url_reason(reason: object) -> str:
    if isinstance(reason, ssl.SSLError):
        return f"TLS error ({reason.reason or reason})"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, socket.gaierror):
        return "unknown host"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror
    text = str(reason).splitlines()[0] if str(reason) else type(reason).__name__
    return text[:200]
