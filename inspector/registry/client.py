"""An async OCI registry client: one pooled httpx client per run, many registries.

Each registry is pinged once (``GET /v2/``), which picks the scheme (HTTPS, then plain
HTTP for loopback) and learns the auth challenge before the concurrent requests go out,
so a check costs one manifest request per reference plus one token per
(registry, repository). Requests carry the logical registry name only in our own
bookkeeping; the transport goes to the configured endpoint.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import ssl
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_result,
    stop_after_attempt,
    wait_exponential_jitter,
)
from tenacity.wait import wait_base

from inspector import __version__
from inspector.reference import Reference
from inspector.registry.auth import AuthError, RegistryAuth
from inspector.registry.credentials import Keychain
from inspector.registry.hosts import RegistryHosts
from inspector.registry.model import Platform, Probe, Status

log = logging.getLogger("inspector.registry")

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_SCHEMA1_SIGNED = "application/vnd.docker.distribution.manifest.v1+prettyjws"
DOCKER_SCHEMA1 = "application/vnd.docker.distribution.manifest.v1+json"
INDEX_TYPES = frozenset({OCI_INDEX, DOCKER_LIST})
# Index types first: without them a registry may answer with one platform's manifest,
# and without the OCI types distribution answers 404 for an OCI image.
MANIFEST_ACCEPT = ", ".join(
    [OCI_INDEX, OCI_MANIFEST, DOCKER_LIST, DOCKER_MANIFEST, DOCKER_SCHEMA1_SIGNED, DOCKER_SCHEMA1]
)
MAX_MANIFEST_BYTES = 4 * 1024 * 1024  # distribution's own limit
RETRY_STATUSES = frozenset({429, 502, 503, 504})
RETRY_ATTEMPTS = 3
RETRY_AFTER_CAP = 10.0  # seconds: honour Retry-After, but never wait longer than this
BACKOFF_INITIAL = 0.2


class RegistryError(Exception):
    """A request that did not give an answer we can use; becomes a probe status."""

    def __init__(self, status: Status, detail: str, http_status: int | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.http_status = http_status


@dataclass(frozen=True, slots=True)
class Manifest:
    digest: str
    media_type: str
    body: bytes

    def json(self) -> Any:
        import json

        try:
            return json.loads(self.body)
        except ValueError:
            raise RegistryError(Status.ERROR, "manifest is not valid JSON", 200) from None

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEX_TYPES

    def platforms(self) -> dict[str, str]:
        """Platform → child digest, for an index."""
        document = self.json()
        children = document.get("manifests") if isinstance(document, dict) else None
        found: dict[str, str] = {}
        for child in children if isinstance(children, list) else []:
            platform = child.get("platform") if isinstance(child, dict) else None
            digest = child.get("digest") if isinstance(child, dict) else None
            if isinstance(platform, dict) and isinstance(digest, str):
                key = str(
                    Platform(
                        str(platform.get("os", "")),
                        str(platform.get("architecture", "")),
                        str(platform.get("variant", "")),
                    )
                )
                found.setdefault(key, digest)
        return found


@dataclass
class _Registry:
    """What one ping taught us about a registry."""

    base: str
    auth: RegistryAuth


@dataclass
class RequestStats:
    by_kind: dict[str, int] = field(default_factory=dict)

    def count(self, kind: str) -> None:
        self.by_kind[kind] = self.by_kind.get(kind, 0) + 1


class RegistryClient:
    """Use as ``async with RegistryClient(hosts, keychain) as client``."""

    def __init__(
        self,
        hosts: RegistryHosts,
        keychain: Keychain | None = None,
        *,
        timeout: float = 10.0,
        concurrency: int = 32,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.hosts = hosts
        self.keychain = keychain or Keychain({})
        self.stats = RequestStats()
        self._semaphore = asyncio.Semaphore(concurrency)
        self._registries: dict[str, asyncio.Task[_Registry]] = {}
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout),
            limits=limits,
            follow_redirects=True,
            max_redirects=5,
            headers={"User-Agent": f"inspector/{__version__}"},
            transport=transport,
            mounts=None if transport else self._mounts(),
            event_hooks={"response": [self._log_response]},
        )

    async def __aenter__(self) -> RegistryClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        for task in self._registries.values():
            task.cancel()
        await self._http.aclose()

    def _mounts(self) -> Mapping[str, httpx.AsyncBaseTransport]:
        """A transport of its own for each registry with a CA file or TLS turned off."""
        mounts: dict[str, httpx.AsyncBaseTransport] = {}
        for name, host in self.hosts.hosts.items():
            if not (host.ca_file or host.insecure):
                continue
            verify: ssl.SSLContext | bool
            if host.insecure:
                log.warning("TLS verification is OFF for %s (insecure = true)", name)
                verify = False
            else:
                verify = ssl.create_default_context(cafile=host.ca_file)
            for base in self.hosts.base_urls(name):
                url = httpx.URL(base)
                mounts[f"{url.scheme}://{url.netloc.decode()}"] = httpx.AsyncHTTPTransport(
                    verify=verify
                )
        return mounts

    async def _log_response(self, response: httpx.Response) -> None:
        # Method, URL and status only: headers would carry tokens.
        request = response.request
        log.info(
            "%s %s -> %d", request.method, request.url.copy_with(query=None), response.status_code
        )

    # -- registries -------------------------------------------------------------------

    async def _registry(self, registry: str) -> _Registry:
        """Ping once per registry; concurrent callers share the same ping."""
        task = self._registries.get(registry)
        if task is None:
            task = asyncio.ensure_future(self._ping(registry))
            self._registries[registry] = task
        return await asyncio.shield(task)

    async def _ping(self, registry: str) -> _Registry:
        failures: list[str] = []
        for base in self.hosts.base_urls(registry):
            try:
                response = await self._send(self._http.build_request("GET", f"{base}/v2/"), "ping")
            except RegistryError as error:
                failures.append(f"{base}: {error.detail}")
                continue
            credential = self.keychain.lookup(registry)
            auth = RegistryAuth(self._http, httpx.URL(base), credential)
            auth.learn(response)
            return _Registry(base, auth)
        raise RegistryError(Status.UNREACHABLE, "; ".join(failures))

    # -- requests ---------------------------------------------------------------------

    async def _send(
        self,
        request: httpx.Request,
        kind: str,
        auth: httpx.Auth | None = None,
        *,
        stream: bool = False,
    ) -> httpx.Response:
        """Send; retry idempotent requests a bounded number of times on 429 and 502-504,
        waiting ``Retry-After`` (capped) or an exponential backoff with jitter."""
        if request.method not in ("GET", "HEAD"):
            return await self._send_once(request, kind, auth, stream=stream)
        retrying = AsyncRetrying(
            stop=stop_after_attempt(RETRY_ATTEMPTS),
            retry=retry_if_result(lambda r: r.status_code in RETRY_STATUSES),
            wait=_wait_retry_after(wait_exponential_jitter(initial=BACKOFF_INITIAL, max=2.0)),
            # After the last attempt, hand back the last response: it becomes a status.
            retry_error_callback=lambda state: state.outcome.result() if state.outcome else None,
        )
        response: httpx.Response = await retrying(
            self._send_once, request, kind, auth, stream=stream
        )
        return response

    async def _send_once(
        self, request: httpx.Request, kind: str, auth: httpx.Auth | None, *, stream: bool
    ) -> httpx.Response:
        self.stats.count(kind)
        try:
            async with self._semaphore:
                response = await self._http.send(
                    request, auth=auth or httpx.USE_CLIENT_DEFAULT, stream=stream
                )
                if stream and response.status_code in RETRY_STATUSES:
                    await response.aread()  # frees the connection before a retry
                return response
        except AuthError as error:
            raise RegistryError(Status.UNAUTHORIZED, str(error), error.status) from None
        except httpx.TimeoutException as error:
            raise RegistryError(Status.UNREACHABLE, f"timed out ({type(error).__name__})") from None
        except httpx.TooManyRedirects:
            raise RegistryError(Status.ERROR, "too many redirects") from None
        except httpx.ConnectError as error:
            raise RegistryError(Status.UNREACHABLE, _connect_detail(error)) from None
        except httpx.TransportError as error:
            raise RegistryError(Status.UNREACHABLE, f"{type(error).__name__}: {error}") from None

    async def request(
        self,
        registry: str,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        content: bytes | AsyncIterator[bytes] | None = None,
        stream: bool = False,
        kind: str = "other",
    ) -> httpx.Response:
        """Any registry API request (``path`` starts with ``/v2/``), authenticated for the
        repository in the path; an upload's ``Location`` can be passed as ``path``.
        Raises :class:`RegistryError` for network and auth failures; HTTP errors are
        left to the caller."""
        state = await self._registry(registry)
        url = httpx.URL(state.base).join(path)
        request = self._http.build_request(
            method, url, headers=headers, params=params, content=content
        )
        return await self._send(request, kind, state.auth, stream=stream)

    async def manifest_request(
        self, ref: Reference, method: str, *, identifier: str | None = None
    ) -> httpx.Response:
        path = f"/v2/{ref.repository}/manifests/{identifier or ref.identifier}"
        return await self.request(
            ref.registry,
            method,
            path,
            headers={"Accept": MANIFEST_ACCEPT},
            stream=method == "GET",
            kind=f"manifest {method}",
        )

    async def get_manifest(self, ref: Reference, identifier: str | None = None) -> Manifest:
        """GET a manifest, capped at 4 MiB, and check its digest against what was asked."""
        response = await self.manifest_request(ref, "GET", identifier=identifier)
        try:
            _raise_for_status(response)
            body = await _read_capped(response, MAX_MANIFEST_BYTES)
        finally:
            await response.aclose()
        digest = "sha256:" + hashlib.sha256(body).hexdigest()
        wanted = identifier or ref.identifier
        if wanted.startswith("sha256:") and digest != wanted:
            raise RegistryError(
                Status.ERROR, "digest mismatch: body does not hash to the digest asked for", 200
            )
        header = response.headers.get("docker-content-digest")
        if header and header.startswith("sha256:") and header != digest:
            raise RegistryError(
                Status.ERROR, "digest mismatch: Docker-Content-Digest differs from the body", 200
            )
        media_type = _media_type(response, body)
        return Manifest(digest, media_type, body)

    async def probe(self, ref: Reference) -> Probe:
        """Exists? Which digest? HEAD first (free on Docker Hub's pull limit); GET only
        when the registry gives no digest header or refuses HEAD."""
        try:
            response = await self.manifest_request(ref, "HEAD")
            status = response.status_code
            digest = response.headers.get("docker-content-digest")
            media_type = response.headers.get("content-type", "").split(";")[0].strip() or None
            if status == 200 and not _valid_digest(digest):
                manifest = await self.get_manifest(ref)
                digest, media_type = manifest.digest, manifest.media_type
            elif status == 405:
                manifest = await self.get_manifest(ref)
                digest, media_type, status = manifest.digest, manifest.media_type, 200
            elif status != 200:
                _raise_for_status(response)
            if ref.digest is not None and digest != ref.digest:
                raise RegistryError(
                    Status.ERROR, "digest mismatch: registry served another digest", 200
                )
            return Probe(ref.original, Status.AVAILABLE, digest, media_type, http_status=status)
        except RegistryError as error:
            return Probe(
                ref.original, error.status, detail=error.detail, http_status=error.http_status
            )

    def token_requests(self) -> int:
        return sum(
            task.result().auth.token_requests
            for task in self._registries.values()
            if task.done() and not task.cancelled() and task.exception() is None
        )


def _valid_digest(digest: str | None) -> bool:
    return digest is not None and digest.startswith("sha256:") and len(digest) == 71


def _wait_retry_after(backoff: wait_base) -> Callable[[RetryCallState], float]:
    """Wait what the registry's ``Retry-After`` asks (capped), else ``backoff``."""

    def wait(state: RetryCallState) -> float:
        outcome = state.outcome
        if outcome is not None and not outcome.failed:
            retry_after = _retry_after(outcome.result())
            if retry_after is not None:
                return min(retry_after, RETRY_AFTER_CAP)
        return float(backoff(state))

    return wait


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP-date: fall back to our own backoff


def _raise_for_status(response: httpx.Response) -> None:
    status = response.status_code
    if status == 200:
        return
    if status in (401, 403):
        raise RegistryError(Status.UNAUTHORIZED, f"HTTP {status}", status)
    if status == 404:
        raise RegistryError(Status.MISSING, "HTTP 404", status)
    if status == 429:
        raise RegistryError(Status.ERROR, "HTTP 429: rate limited", status)
    raise RegistryError(Status.ERROR, f"HTTP {status}", status)


async def _read_capped(response: httpx.Response, limit: int) -> bytes:
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise RegistryError(Status.ERROR, f"manifest larger than {limit} bytes", 200)
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > limit:
                raise RegistryError(Status.ERROR, f"manifest larger than {limit} bytes", 200)
            chunks.append(chunk)
    except httpx.TransportError as error:
        raise RegistryError(
            Status.ERROR, f"truncated manifest body ({type(error).__name__})", 200
        ) from None
    body = b"".join(chunks)
    if declared and declared.isdigit() and int(declared) != len(body):
        raise RegistryError(Status.ERROR, "truncated manifest body", 200)
    return body


def _media_type(response: httpx.Response, body: bytes) -> str:
    header: str = response.headers.get("content-type", "").split(";")[0].strip()
    if header and header != "application/json":
        return header
    import json

    try:
        document = json.loads(body)
    except ValueError:
        raise RegistryError(Status.ERROR, "manifest is not valid JSON", 200) from None
    if isinstance(document, dict) and isinstance(document.get("mediaType"), str):
        return str(document["mediaType"])
    return header or "application/json"


_DNS_FAILURE_MARKERS = (
    "name or service not known",
    "nodename nor servname",
    "temporary failure in name resolution",
    "no address associated",
    "getaddrinfo",
)


def _connect_detail(error: httpx.ConnectError) -> str:
    text = str(error) or type(error).__name__
    lowered = text.lower()
    if "certificate" in lowered or "ssl" in lowered or "tls" in lowered:
        return f"TLS error: {text}"
    if any(marker in lowered for marker in _DNS_FAILURE_MARKERS):
        return f"DNS lookup failed: {text}"
    if "refused" in lowered:
        return "connection refused"
    return text
