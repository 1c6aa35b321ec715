"""An async OCI registry client: one pooled httpx client per run, many registries.

Each registry is pinged once (``GET /v2/``), which picks the scheme (HTTPS, then plain
HTTP for loopback) and learns the auth challenge before the concurrent requests go out,
so a check costs one manifest request per reference plus one token per
(registry, repository). Requests carry the logical registry name only in our own
bookkeeping; the transport goes to the configured endpoint.

Time (T = ``--timeout``, C = ``--concurrency``): every registry is pinged concurrently, a
loopback name's HTTPS and plain-HTTP pings are raced, and timeouts are never retried, so a
registry that hangs costs one T for all its candidates. Requests beyond C wait their turn:
N requests that each hang cost ceil(N / C) x T. A server that trickles bytes is cut at
``CEILING_FACTOR`` x T per request; a retry waits at most min(T, ``RETRY_AFTER_CAP``).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
import ssl
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from inspector import __version__
from inspector.reference import Reference
from inspector.registry.auth import (
    SCOPE_EXTENSION,
    AuthError,
    RealmUnreachableError,
    RegistryAuth,
    repository_scope,
)
from inspector.registry.credentials import Credential, CredentialError, Keychain
from inspector.registry.defaults import DEFAULT_CONCURRENCY, DEFAULT_TIMEOUT
from inspector.registry.hosts import RegistryHosts, canonical, is_loopback_host
from inspector.registry.model import Platform, Probe, Status
from inspector.registry.transport import (
    Origin,
    OriginPools,
    TLSConfigError,
    TLSSettings,
    origin_of,
    tls_context,
)
from inspector.sources.model import ConfigError

if TYPE_CHECKING:
    from tenacity import AsyncRetrying, RetryCallState
    from tenacity.wait import wait_base

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
RETRY_AFTER_CAP = 10.0  # seconds: honour Retry-After, but never longer than this or --timeout
BACKOFF_INITIAL = 0.2
BACKOFF_MAX = 2.0
# A dropped connection (a reset, a keep-alive connection the server closed) is worth one
# more try; a refused connection, a TLS failure or a timeout is not: retrying those would
# only multiply the time a dead registry costs.
RETRY_ERRORS = (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError)
IDEMPOTENT = frozenset({"GET", "HEAD"})
MAX_REDIRECTS = 5
# httpx bounds each phase (connect, each read, each write) by --timeout; this bounds one
# whole request, token fetch and redirects included, so a server that trickles a byte
# at a time cannot hold a run forever.
CEILING_FACTOR = 3
_SHA256 = re.compile(r"sha256:[0-9a-f]{64}")


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
        timeout: float = DEFAULT_TIMEOUT,
        concurrency: int = DEFAULT_CONCURRENCY,
        transport: httpx.AsyncBaseTransport | None = None,
        http2: bool = True,
    ) -> None:
        self.hosts = hosts
        self.keychain = keychain or Keychain({})
        self.stats = RequestStats()
        self.timeout = timeout
        self._ceiling = timeout * CEILING_FACTOR
        self._semaphore = asyncio.Semaphore(concurrency)
        self._registries: dict[str, asyncio.Task[_Registry]] = {}
        self._plain_http_origins = self._http_endpoint_origins()
        for name, host in hosts.hosts.items():
            if host.insecure:
                log.warning("TLS verification is OFF for %s (insecure = true)", name)
        # Requests in flight are bounded by the semaphore; the transport sizes its pools.
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout),
            follow_redirects=True,
            max_redirects=MAX_REDIRECTS,
            # Only codings the transport decodes with a bound (no br/zstd even if installed).
            headers={"User-Agent": f"inspector/{__version__}", "Accept-Encoding": "gzip, deflate"},
            transport=transport or self._transport(http2),
            event_hooks={"request": [self._refuse_plain_http], "response": [self._log_response]},
        )

    async def __aenter__(self) -> RegistryClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        for task in self._registries.values():
            task.cancel()
        await self._http.aclose()

    def _transport(self, http2: bool) -> httpx.AsyncBaseTransport:
        """Small pools per origin; a registry with a ca-file or TLS turned off gets its own TLS
        context on each of its base URLs."""
        special: dict[Origin, ssl.SSLContext | bool] = {}
        for name, host in self.hosts.hosts.items():
            if not (host.ca_file or host.insecure):
                continue
            try:
                context = tls_context(TLSSettings(host.ca_file, host.insecure))
            except TLSConfigError:
                raise ConfigError(
                    f"registry config: ca-file {host.ca_file!r} for {name}: "
                    "not a readable PEM certificate file"
                ) from None
            for base in self.hosts.base_urls(name):
                special[origin_of(httpx.URL(base))] = context
        return OriginPools(special, http2=http2)

    def _http_endpoint_origins(self) -> frozenset[tuple[str, int | None]]:
        origins = set()
        for host in self.hosts.hosts.values():
            if host.endpoint and host.endpoint.startswith("http://"):
                url = httpx.URL(host.endpoint)
                origins.add((url.host, url.port or 80))
        return frozenset(origins)

    async def _refuse_plain_http(self, request: httpx.Request) -> None:
        """Plain HTTP only to loopback or an ``http://`` endpoint the user configured, so
        a redirect (or a token realm) cannot downgrade a request to another host."""
        url = request.url
        if url.scheme != "http" or is_loopback_host(url.host):
            return
        if (url.host, url.port or 80) not in self._plain_http_origins:
            raise RegistryError(
                Status.ERROR,
                f"refused plain-HTTP request to {url.host} (only http:// endpoints and "
                "loopback may use plain HTTP)",
            )

    async def _log_response(self, response: httpx.Response) -> None:
        if not log.isEnabledFor(logging.INFO):
            return  # the usual case: don't build the line for every response
        # Method, host and path only: headers carry tokens, and neither the query (a token
        # request's) nor user information is worth the risk.
        request = response.request
        url = request.url
        log.info(
            "%s %s://%s%s -> %d",
            request.method,
            url.scheme,
            url.netloc.decode("ascii", "replace"),
            url.path,
            response.status_code,
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
        """``GET /v2/`` on every base URL at once, taken in order of preference (HTTPS
        first): a port that swallows the TLS handshake then costs one --timeout, not one
        per URL, where docker would try them one after another. The credential is looked
        up meanwhile: a credential helper (gcloud, ecr-login) can take longer than a ping."""
        bases = self.hosts.base_urls(registry)
        credential = asyncio.ensure_future(self._credential(registry))
        attempts = [asyncio.ensure_future(self._ping_one(base)) for base in bases]
        failures: list[str] = []
        try:
            for base, attempt in zip(bases, attempts, strict=True):
                try:
                    response = await attempt
                except RegistryError as error:
                    failures.append(f"{base}: {error.detail}")
                    continue
                secret = await credential
                if secret is not None:
                    self._warn_other_host(registry, base)
                auth = RegistryAuth(self._http, httpx.URL(base), secret)
                auth.learn(response)
                return _Registry(base, auth)
        finally:
            for task in (*attempts, credential):
                task.cancel()
            await asyncio.gather(*attempts, credential, return_exceptions=True)
        raise RegistryError(Status.UNREACHABLE, "; ".join(failures))

    def _warn_other_host(self, registry: str, base: str) -> None:
        """Once per registry (this runs once per registry): credentials stored for
        ``registry`` are about to go to an endpoint override on another host, which a
        registry config from elsewhere could have set."""
        endpoint = self.hosts.config(registry).endpoint
        if not endpoint:
            return
        host = httpx.URL(base).host
        named = httpx.URL(f"https://{registry}").host
        if canonical(named) != canonical(host):  # Docker Hub's aliases are one host
            log.warning(
                "credentials for %s go to endpoint %s, another host (set by --endpoint "
                "or the registry config)",
                registry,
                host,
            )

    async def _ping_one(self, base: str) -> httpx.Response:
        try:
            request = self._http.build_request("GET", f"{base}/v2/")
        except (httpx.InvalidURL, UnicodeError) as error:
            # Valid registry names for pack (Go's net/url: "host:", "::1", "a]b") that
            # are no URL httpx can request: that candidate's error, not a crash.
            raise RegistryError(Status.ERROR, f"cannot make a URL of it: {error}") from None
        response = await self._send(request, "ping", stream=True)
        await response.aclose()  # only the status and challenge matter: never read a body
        return response

    async def _credential(self, registry: str) -> Credential | None:
        # A credential helper is a subprocess: off the event loop, so a slow one cannot
        # stall the other registries, and bounded by --timeout.
        try:
            return await asyncio.to_thread(self.keychain.lookup, registry, timeout=self.timeout)
        except CredentialError as error:
            raise RegistryError(Status.ERROR, str(error)) from None

    # -- requests ---------------------------------------------------------------------

    async def _send(
        self,
        request: httpx.Request,
        kind: str,
        auth: httpx.Auth | None = None,
        *,
        stream: bool = False,
    ) -> httpx.Response:
        """Send, mapping network and auth failures to :class:`RegistryError`. GET and HEAD
        are retried a bounded number of times on 429, 502-504 and dropped connections,
        waiting ``Retry-After`` (capped) or an exponential backoff with jitter."""
        try:
            if request.method not in IDEMPOTENT:
                return await self._send_once(request, kind, auth, stream=stream)
            # The first attempt goes out directly: almost every answer needs no retry, so
            # tenacity is imported and its retrier built only once one does.
            first: httpx.Response | BaseException
            try:
                first = await self._send_once(request, kind, auth, stream=stream)
            except RETRY_ERRORS as error:
                first = error
            else:
                if first.status_code not in RETRY_STATUSES:
                    return first

            pending: httpx.Response | BaseException | None = first

            async def attempt() -> httpx.Response:
                # tenacity's attempt 1 is the one already made: hand back its outcome, so
                # attempt numbers, waits and the stop condition are as if it made it.
                nonlocal pending
                outcome, pending = pending, None
                if outcome is None:
                    return await self._send_once(request, kind, auth, stream=stream)
                if isinstance(outcome, BaseException):
                    raise outcome
                return outcome

            response: httpx.Response = await _retrying(self.timeout)(attempt)
            return response
        except RegistryError:
            raise
        except AuthError as error:
            status = Status.UNREACHABLE if isinstance(error, RealmUnreachableError) else None
            raise RegistryError(status or Status.UNAUTHORIZED, str(error), error.status) from None
        except TimeoutError:
            raise RegistryError(
                Status.UNREACHABLE, f"timed out: no complete answer in {self._ceiling:g} s"
            ) from None
        except httpx.TimeoutException as error:
            raise RegistryError(Status.UNREACHABLE, f"timed out ({type(error).__name__})") from None
        except httpx.TooManyRedirects:
            raise RegistryError(Status.ERROR, f"more than {MAX_REDIRECTS} redirects") from None
        except httpx.ConnectError as error:
            raise RegistryError(Status.UNREACHABLE, _connect_detail(error)) from None
        except httpx.TransportError as error:
            raise RegistryError(Status.UNREACHABLE, _transport_detail(error)) from None
        except httpx.RequestError as error:  # e.g. a body that fails to decompress
            raise RegistryError(Status.ERROR, _transport_detail(error)) from None
        except (httpx.InvalidURL, UnicodeError):
            # A URL the registry named (a redirect's Location) that does not parse; idna's
            # errors are UnicodeErrors, which httpx lets through.
            raise RegistryError(Status.ERROR, "the registry redirected to an invalid URL") from None

    async def _send_once(
        self, request: httpx.Request, kind: str, auth: httpx.Auth | None, *, stream: bool
    ) -> httpx.Response:
        self.stats.count(kind)
        # No ceiling for an upload: a large layer may rightly take longer than that.
        ceiling = None if _has_body(request) else self._ceiling
        async with self._semaphore, asyncio.timeout(ceiling):
            response = await self._http.send(
                request,
                auth=auth or httpx.USE_CLIENT_DEFAULT,
                stream=stream,
                # Redirects only for reads: a replayed upload is not ours to risk.
                follow_redirects=request.method in IDEMPOTENT,
            )
            if stream and response.status_code in RETRY_STATUSES:
                await response.aclose()  # frees the connection before a retry, unread
            return response

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
        repository: str | None = None,
        mount_from: str | None = None,
    ) -> httpx.Response:
        """Any registry API request (``path`` starts with ``/v2/``), authenticated for
        ``repository`` (pull for GET/HEAD, pull+push otherwise; plus pull on
        ``mount_from`` for a cross-repository mount); an upload's ``Location`` can be
        passed as ``path`` and ``params`` are added to its query.

        Credentials only go to their own origin: a ``path`` that is a URL on another origin
        than the registry's (an upload ``Location`` naming a storage host) is sent without
        any ``Authorization``, as containerd does; a redirect to another origin loses it
        too (httpx drops it).
        Raises :class:`RegistryError` for network and auth failures; HTTP errors are
        left to the caller."""
        state = await self._registry(registry)
        base = httpx.URL(state.base)
        try:
            url = base.join(path)
        except (httpx.InvalidURL, UnicodeError):
            raise RegistryError(Status.ERROR, "the registry named an invalid URL") from None
        if params:
            # Merged, not replaced: an upload Location keeps its session state
            # (distribution's ``_state=…``) in its own query.
            url = url.copy_merge_params(params)
        extensions = {}
        if repository is not None:
            # The scope travels as data with the request, never parsed back out of the URL.
            extensions[SCOPE_EXTENSION] = repository_scope(repository, method, mount_from)
        request = self._http.build_request(
            method, url, headers=headers, content=content, extensions=extensions
        )
        auth: httpx.Auth | None = state.auth
        if _origin_key(url) != _origin_key(base):
            auth = None
            request.headers.pop("Authorization", None)
        return await self._send(request, kind, auth, stream=stream)

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
            repository=ref.repository,
        )

    async def get_manifest(self, ref: Reference, identifier: str | None = None) -> Manifest:
        """GET a manifest, capped at 4 MiB, and check its digest against what was asked
        and against ``Docker-Content-Digest``."""
        response = await self.manifest_request(ref, "GET", identifier=identifier)
        try:
            _raise_for_status(response)
            async with asyncio.timeout(self._ceiling):
                body = await read_capped(response, MAX_MANIFEST_BYTES)
        except TimeoutError:
            raise RegistryError(
                Status.UNREACHABLE, f"timed out: manifest body not complete in {self._ceiling:g} s"
            ) from None
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
        media_type = _media_type(response, _parse_json(body))
        return Manifest(digest, media_type, body)

    async def probe(self, ref: Reference) -> Probe:
        """Exists? Which digest? HEAD first (free on Docker Hub's pull limit); GET only
        when the registry gives no usable digest header or refuses HEAD."""
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


def _origin_key(url: httpx.URL) -> tuple[str, str, int | None]:
    """Scheme, host and port with the scheme's default port spelled out."""
    return url.scheme, url.host, url.port or {"http": 80, "https": 443}.get(url.scheme)


def _valid_digest(digest: str | None) -> bool:
    return digest is not None and _SHA256.fullmatch(digest) is not None


def _has_body(request: httpx.Request) -> bool:
    length = request.headers.get("content-length", "0")
    return "transfer-encoding" in request.headers or not length.isdigit() or int(length) > 0


def _retrying(timeout: float) -> AsyncRetrying:
    """GET and HEAD: a bounded number of attempts on 429, 502-504 and dropped connections."""
    from tenacity import (
        AsyncRetrying,
        retry_if_exception_type,
        retry_if_result,
        stop_after_attempt,
        wait_exponential,
        wait_random,
    )

    return AsyncRetrying(
        stop=stop_after_attempt(RETRY_ATTEMPTS),
        retry=(
            retry_if_result(lambda r: r.status_code in RETRY_STATUSES)
            | retry_if_exception_type(RETRY_ERRORS)
        ),
        wait=_wait_retry_after(
            min(RETRY_AFTER_CAP, timeout),
            # Exponential backoff plus jitter (written as a sum: tenacity 8 and 9
            # disagree on wait_exponential_jitter's parameters).
            wait_exponential(multiplier=BACKOFF_INITIAL, max=BACKOFF_MAX)
            + wait_random(0, BACKOFF_INITIAL),
        ),
        # After the last attempt, hand back the last response (it becomes a status) or
        # raise the last error.
        retry_error_callback=_last_outcome,
    )


def _last_outcome(state: RetryCallState) -> httpx.Response:
    assert state.outcome is not None
    response: httpx.Response = state.outcome.result()  # raises the last error, if any
    return response


def _wait_retry_after(cap: float, backoff: wait_base) -> Callable[[RetryCallState], float]:
    """Wait what the registry's ``Retry-After`` asks (at most ``cap``), else ``backoff``."""

    def wait(state: RetryCallState) -> float:
        outcome = state.outcome
        if outcome is not None and not outcome.failed:
            retry_after = _retry_after(outcome.result())
            if retry_after is not None:
                return min(retry_after, cap)
        return float(backoff(state))

    return wait


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None  # an HTTP-date: fall back to our own backoff
    return max(0.0, seconds) if seconds == seconds else None  # NaN is no number of seconds


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


async def read_capped(response: httpx.Response, limit: int, what: str = "manifest") -> bytes:
    """Read a streamed body of at most ``limit`` bytes; a short, undecodable or too long
    body, or a timeout, is a :class:`RegistryError` naming ``what``."""
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise RegistryError(Status.ERROR, f"{what} larger than {limit} bytes", 200)
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > limit:
                raise RegistryError(Status.ERROR, f"{what} larger than {limit} bytes", 200)
            chunks.append(chunk)
    except httpx.TimeoutException as error:
        raise RegistryError(Status.UNREACHABLE, f"timed out ({type(error).__name__})") from None
    except (httpx.TransportError, httpx.DecodingError) as error:
        raise RegistryError(
            Status.ERROR, f"truncated {what} body ({type(error).__name__})", 200
        ) from None
    body = b"".join(chunks)
    if declared and declared.isdigit() and int(declared) != len(body):
        raise RegistryError(Status.ERROR, f"truncated {what} body", 200)
    return body


def _parse_json(body: bytes) -> Any:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        raise RegistryError(Status.ERROR, "manifest is not valid JSON", 200) from None
    if not isinstance(document, dict):
        raise RegistryError(Status.ERROR, "manifest is not a JSON object", 200)
    return document


def _media_type(response: httpx.Response, document: dict[str, Any]) -> str:
    header: str = response.headers.get("content-type", "").split(";")[0].strip()
    if header and header != "application/json":
        return header
    if isinstance(document.get("mediaType"), str):
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
    causes = " ".join(str(cause) for cause in _causes(error)).lower()
    if any(isinstance(cause, ConnectionRefusedError) for cause in _causes(error)):
        return "connection refused"
    if "certificate" in causes or "ssl" in causes or "tls" in causes:
        return f"TLS error: {text}"
    if any(marker in causes for marker in _DNS_FAILURE_MARKERS):
        return f"DNS lookup failed: {text}"
    if "refused" in causes:
        return "connection refused"
    return text


def _causes(error: BaseException) -> list[BaseException]:
    """The error and what caused it (httpx wraps anyio's "All connection attempts
    failed", which wraps the OSError that says why)."""
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in chain and len(chain) < 10:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def _transport_detail(error: httpx.RequestError) -> str:
    if isinstance(error, httpx.LocalProtocolError):
        # h11/h2 quote the offending header, which may be a credential: never repeat it.
        return "invalid request header (LocalProtocolError)"
    causes = _causes(error)
    if any(isinstance(c, ConnectionResetError) for c in causes) or "reset" in str(error).lower():
        return "connection reset"
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
