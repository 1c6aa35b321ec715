"""An async OCI registry client: one pooled httpx client per run, many registries.

``RegistryClient`` is the facade over the layers, each its own module:
``transport`` (pools, TLS, body caps), ``policy`` (plain HTTP, where credentials go, the
token realm), ``retry`` (what is retried, Retry-After), ``auth`` (the challenge/token flow),
``ping`` (one ``GET /v2/`` per registry: scheme and challenge), ``errors`` (one mapping of
answers and failures to a status) and ``manifests`` (the manifest API, digests checked).
Requests carry the logical registry name only in our own bookkeeping; the transport goes
to the configured endpoint. A check costs one manifest request per reference plus one
token per (registry, repository).

Time (T = ``--timeout``, C = ``--concurrency``): every registry is pinged concurrently, a
loopback name's HTTPS and plain-HTTP pings are raced, and timeouts are never retried, so a
registry that hangs costs one T for all its candidates. Requests beyond C wait their turn:
N requests that each hang cost ceil(N / C) x T. A server that trickles bytes is cut at
``CEILING_FACTOR`` x T per request; a retry waits at most min(T, ``RETRY_AFTER_CAP``).
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field

import httpx

from inspector import __version__
from inspector.errors import ConfigError
from inspector.reference import Reference
from inspector.registry import manifests
from inspector.registry.auth import SCOPE_EXTENSION, repository_scope
from inspector.registry.credentials import Keychain
from inspector.registry.defaults import CEILING_FACTOR, DEFAULT_CONCURRENCY, DEFAULT_TIMEOUT
from inspector.registry.errors import MAX_REDIRECTS, RegistryError
from inspector.registry.hosts import RegistryHosts, canonical
from inspector.registry.manifests import (
    DOCKER_LIST,
    DOCKER_MANIFEST,
    DOCKER_SCHEMA1,
    DOCKER_SCHEMA1_SIGNED,
    INDEX_TYPES,
    MANIFEST_ACCEPT,
    MAX_MANIFEST_BYTES,
    OCI_INDEX,
    OCI_MANIFEST,
    Manifest,
    read_capped,
)
from inspector.registry.model import Probe, Status
from inspector.registry.ping import Registries
from inspector.registry.policy import PlainHttpPolicy, check_token_request, same_origin
from inspector.registry.retry import (
    IDEMPOTENT,
    RETRY_ATTEMPTS,
    RETRY_STATUSES,
    send_with_retries,
)
from inspector.registry.transport import (
    Origin,
    OriginPools,
    TLSConfigError,
    TLSSettings,
    origin_of,
    tls_context,
)

__all__ = [  # what other modules import from here; each lives in its layer
    "CEILING_FACTOR",
    "DOCKER_LIST",
    "DOCKER_MANIFEST",
    "DOCKER_SCHEMA1",
    "DOCKER_SCHEMA1_SIGNED",
    "INDEX_TYPES",
    "MANIFEST_ACCEPT",
    "MAX_MANIFEST_BYTES",
    "OCI_INDEX",
    "OCI_MANIFEST",
    "RETRY_ATTEMPTS",
    "Manifest",
    "RegistryClient",
    "RegistryError",
    "RequestStats",
    "read_capped",
]

log = logging.getLogger("inspector.registry")
# Only codings the transport decodes with a bound (no br/zstd even if installed).
DEFAULT_HEADERS = {"User-Agent": f"inspector/{__version__}", "Accept-Encoding": "gzip, deflate"}


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
        for name, host in hosts.hosts.items():
            if host.insecure:
                log.warning("TLS verification is OFF for %s (insecure = true)", name)
        # Requests in flight are bounded by the semaphore; the transport sizes its pools.
        # The hooks see every request httpx sends: redirects and token requests too.
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout),
            follow_redirects=True,
            max_redirects=MAX_REDIRECTS,
            headers=DEFAULT_HEADERS,
            transport=transport or self._transport(http2),
            event_hooks={
                # The realm checks first: their refusal names the token server.
                "request": [_default_headers, check_token_request, PlainHttpPolicy(hosts)],
                "response": [_log_response],
            },
        )
        self._registries = Registries(
            hosts,
            self.keychain,
            timeout=timeout,
            ping=self._ping,
            on_token_request=lambda: self.stats.count("token"),
        )
        self._by_digest = manifests.ByDigest()

    async def __aenter__(self) -> RegistryClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        self._registries.cancel()
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

    async def _ping(self, url: str) -> httpx.Response:
        try:
            request = self._http.build_request("GET", url)  # the client's timeouts, headers
        except (httpx.InvalidURL, UnicodeError) as error:
            # Valid registry names for pack (Go's net/url: "host:", "::1", "a]b") that
            # are no URL httpx can request: that candidate's error, not a crash.
            raise RegistryError(Status.ERROR, f"cannot make a URL of it: {error}") from None
        return await self._send(request, "ping", stream=True)

    async def _send(
        self,
        request: httpx.Request,
        kind: str,
        auth: httpx.Auth | None = None,
        *,
        stream: bool = False,
    ) -> httpx.Response:
        """Send under the retry policy; every failure without an answer becomes a
        :class:`RegistryError` (``errors.RegistryError.from_exception``)."""
        try:
            return await send_with_retries(
                lambda: self._send_once(request, kind, auth, stream=stream),
                request.method,
                self.timeout,
            )
        except Exception as error:
            raise RegistryError.from_exception(error, self._ceiling) from None

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
        left to the caller (``RegistryError.from_response``)."""
        state = await self._registries.get(registry)
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
        if not same_origin(url, base):
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
        and against ``Docker-Content-Digest``. By digest, once per run (see ``ByDigest``)."""
        wanted = identifier or ref.identifier
        if not wanted.startswith("sha256:"):  # a tag may move: always asked
            return await manifests.get_manifest(self, ref, identifier)
        key = (canonical(ref.registry), ref.repository, wanted)
        return await self._by_digest.get(key, lambda: manifests.get_manifest(self, ref, wanted))

    async def probe(self, ref: Reference) -> Probe:
        """Exists? Which digest? For a missing one: repository, tag or digest missing?"""
        return await manifests.probe(self, ref)

    def token_requests(self) -> int:
        return sum(registry.auth.token_requests for registry in self._registries.known())


def _has_body(request: httpx.Request) -> bool:
    length = request.headers.get("content-length", "0")
    return "transfer-encoding" in request.headers or not length.isdigit() or int(length) > 0


async def _default_headers(request: httpx.Request) -> None:
    """Requests built outside the client (the auth flow's token requests) get its headers."""
    for name, value in DEFAULT_HEADERS.items():
        request.headers.setdefault(name, value)


async def _log_response(response: httpx.Response) -> None:
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
