"""The HTTP transport under the registry client: small connection pools per origin, TLS
settings per registry, and nothing built before a request needs it.

Why not one ``httpx.AsyncHTTPTransport`` for everything: httpcore 1.0's pool rescans
every connection it holds for every request it assigns and every response it closes
(encode/httpcore#1035), so one pool for a whole run costs CPU that grows with the square
of the requests in flight. Pools of a few connections each, per origin, keep every scan
short. And loading the trust store costs ~20-30 ms where ``SSL_CERT_FILE`` names a
bundle, which a run that only speaks plain HTTP to loopback (every test, the demo, the
benchmark) should not pay: TLS contexts are built at the first HTTPS connection.

Bodies are bounded here, below every reader: a ``Content-Encoding`` (gzip/deflate, stacked
or not) is decoded by :class:`_Decoded` in pieces of at most ``DECODE_CHUNK`` bytes, so a
reader that stops at its cap never holds more than that beyond it (httpx's own decoders
inflate a whole network chunk at once: a 13 KB stacked gzip bomb becomes gigabytes in one
call). The body of any answer that is not a 2xx (an error, a 401, a redirect — httpx reads
a redirect's body itself) is cut at ``MAX_NON_SUCCESS_BODY`` bytes.
"""

from __future__ import annotations

import os
import ssl
import urllib.request
import zlib
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass

import httpx

Origin = tuple[str, str, int | None]  # scheme, host, port (None: the scheme's default)

DECODE_CHUNK = 64 * 1024  # most bytes one decoding step may produce
MAX_ENCODINGS = 4  # stacked Content-Encodings beyond this are refused
MAX_NON_SUCCESS_BODY = 64 * 1024  # an error, 401 or redirect body: only ever a message
# A request extension: the most bytes of a 2xx body its reader wants (a token answer);
# more is cut off, so the reader sees a body one byte over its own limit.
BODY_LIMIT = "inspector.body_limit"
_CODINGS = frozenset({"gzip", "x-gzip", "deflate"})


@dataclass(frozen=True, slots=True)
class TLSSettings:
    """What one origin needs beyond the default trust store."""

    ca_file: str | None = None
    insecure: bool = False


class TLSConfigError(ValueError):
    """A ca-file that is not a readable PEM certificate file."""


def default_tls_context() -> ssl.SSLContext:
    """The system's trust store, as docker, skopeo and crane use: read from OpenSSL's hashed
    directory on demand, which costs ~0.1 ms where loading a bundle file costs ~20 ms. Where
    the system has no such directory (or ``SSL_CERT_FILE`` names a bundle), httpx's default
    (``SSL_CERT_FILE``, else certifi)."""
    capath = os.environ.get("SSL_CERT_DIR") or ssl.get_default_verify_paths().capath
    if "SSL_CERT_FILE" not in os.environ and capath and os.path.isdir(capath):
        return ssl.create_default_context(capath=capath)
    return httpx.create_ssl_context()


def tls_context(settings: TLSSettings) -> ssl.SSLContext | bool:
    if settings.insecure:
        return False
    context = default_tls_context()
    if settings.ca_file:
        # Like docker's certs.d: the registry's CA in addition to the usual roots.
        try:
            context.load_verify_locations(cafile=settings.ca_file)
        except (OSError, ssl.SSLError):
            raise TLSConfigError(settings.ca_file) from None
    return context


def origin_of(url: httpx.URL) -> Origin:
    return (url.scheme, url.host, url.port)


def environment_proxy(origin: Origin) -> str | None:
    """The proxy the environment names for ``origin`` (``HTTPS_PROXY``, ``HTTP_PROXY``,
    ``ALL_PROXY``, minus ``NO_PROXY``), as httpx would choose it for its own transport.
    The standard library's reading of those variables; httpx reads them the same way."""
    scheme, host, port = origin
    proxies = urllib.request.getproxies()
    proxy = proxies.get(scheme) or proxies.get("all")
    if not proxy:
        return None
    hostport = host if port is None else f"{host}:{port}"
    if urllib.request.proxy_bypass(hostport):
        return None
    return proxy if "://" in proxy else f"http://{proxy}"


class _Shard:
    """One small httpx pool and the requests it is serving now."""

    __slots__ = ("in_flight", "transport")

    def __init__(self, transport: httpx.AsyncHTTPTransport) -> None:
        self.transport = transport
        self.in_flight = 0


class _Released(httpx.AsyncByteStream):
    """A response body that gives its shard's slot back once, when it is closed."""

    def __init__(self, stream: httpx.AsyncByteStream, shard: _Shard) -> None:
        self._stream = stream
        self._shard: _Shard | None = shard

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._stream:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
        finally:
            if self._shard is not None:
                self._shard.in_flight -= 1
                self._shard = None


class _Decoded(httpx.AsyncByteStream):
    """A ``Content-Encoding``d body, decoded step by step: every layer inflates at most
    ``DECODE_CHUNK`` bytes per call, and ``limit`` (if any) cuts the decoded body short."""

    def __init__(
        self, stream: httpx.AsyncByteStream, codings: list[str], limit: int | None
    ) -> None:
        self._stream = stream
        self._codings = codings
        self._limit = limit

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if len(self._codings) > MAX_ENCODINGS or not set(self._codings) <= _CODINGS:
            raise httpx.DecodingError(
                f"unsupported Content-Encoding ({len(self._codings)} coding(s))"
            )
        # MAX_WBITS | 32 reads a zlib or a gzip header; the last coding applied comes off first.
        layers = [zlib.decompressobj(zlib.MAX_WBITS | 32) for _ in self._codings]
        left = self._limit

        async def raw_then_end() -> AsyncIterator[tuple[bytes, bool]]:
            async for raw in self._stream:
                yield raw, False
            yield b"", True

        try:
            async for raw, final in raw_then_end():
                for piece in _inflate(layers, 0, raw, final=final):
                    if left is not None:
                        piece = piece[:left]
                        left -= len(piece)
                    if piece:
                        yield piece
                    if left == 0:
                        return
        except zlib.error:
            raise httpx.DecodingError("body does not decompress") from None

    async def aclose(self) -> None:
        await self._stream.aclose()


def _inflate(
    layers: list[zlib._Decompress], index: int, data: bytes, *, final: bool = False
) -> Iterator[bytes]:
    """Decode ``data`` through ``layers[index:]`` (outermost coding first), yielding at
    most ``DECODE_CHUNK`` bytes at a time."""
    if index == len(layers):
        if data:
            yield data
        return
    layer = layers[index]
    while True:
        out = layer.decompress(data, DECODE_CHUNK)
        data = layer.unconsumed_tail
        if out:
            yield from _inflate(layers, index + 1, out)
        if not data and len(out) < DECODE_CHUNK:
            break
    if final:
        yield from _inflate(layers, index + 1, b"", final=True)


class _Capped(httpx.AsyncByteStream):
    """At most ``limit`` bytes of a body; the rest is never read."""

    def __init__(self, stream: httpx.AsyncByteStream, limit: int) -> None:
        self._stream = stream
        self._limit = limit

    async def __aiter__(self) -> AsyncIterator[bytes]:
        left = self._limit
        async for chunk in self._stream:
            chunk = chunk[:left]
            left -= len(chunk)
            if chunk:
                yield chunk
            if left == 0:
                return

    async def aclose(self) -> None:
        await self._stream.aclose()


def bounded(response: httpx.Response, success_limit: int | None = None) -> None:
    """Put the body of ``response`` (just off the wire) behind our decoder and caps."""
    assert isinstance(response.stream, httpx.AsyncByteStream)
    limit = success_limit if 200 <= response.status_code < 300 else MAX_NON_SUCCESS_BODY
    encoding = response.headers.get("content-encoding", "")
    codings = [c.strip().lower() for c in encoding.split(",") if c.strip()]
    codings = [c for c in codings if c != "identity"]
    if codings:
        # Decoded here, so httpx must not decode again, and the length is the wire's.
        del response.headers["content-encoding"]
        response.headers.pop("content-length", None)
        response.stream = _Decoded(response.stream, codings[::-1], limit)
    elif limit is not None:
        response.stream = _Capped(response.stream, limit)


class OriginPools(httpx.AsyncBaseTransport):
    """Routes each request to a small ``httpx.AsyncHTTPTransport`` for its origin (through
    the environment's proxy for that origin, if any), made on first use.

    An origin gets as many pools of ``SHARD_SIZE`` connections as it has requests in
    flight, and each request goes to the least busy one: httpcore's per-request scans
    then cover a few connections, not every connection of the run.

    With ``http2`` (the default), HTTPS origins are offered HTTP/2, as Go's registry
    clients (docker, skopeo, crane) do. An origin that answers over HTTP/2 keeps its
    first pool for every later request: they share the connection its first request
    (the ping) opened, instead of one TCP and TLS handshake each, and after the ping
    every request of a wave is one round trip.

    ``special`` gives origins a TLS context of their own (from :func:`tls_context`, built
    by the caller so that a bad ca-file is reported before any request). Every other
    HTTPS origin shares one default context, built once, at its first use.
    """

    SHARD_SIZE = 8

    def __init__(
        self,
        special: Mapping[Origin, ssl.SSLContext | bool] | None = None,
        *,
        http2: bool = True,
    ) -> None:
        self._special = dict(special or {})
        self._http2 = http2
        self._default_context: ssl.SSLContext | None = None
        self._shards: dict[Origin, list[_Shard]] = {}
        self._multiplexed: set[Origin] = set()  # origins that answered over HTTP/2
        self._limits = httpx.Limits(
            max_connections=self.SHARD_SIZE, max_keepalive_connections=self.SHARD_SIZE
        )

    def _context_for(self, origin: Origin) -> ssl.SSLContext | bool:
        if origin in self._special:
            return self._special[origin]
        if origin[0] != "https":
            return False  # never used for plain HTTP; False builds no trust store
        if self._default_context is None:
            self._default_context = default_tls_context()
        return self._default_context

    def _shard(self, origin: Origin) -> _Shard:
        shards = self._shards.setdefault(origin, [])
        if origin in self._multiplexed:
            return shards[0]
        free = [shard for shard in shards if shard.in_flight < self.SHARD_SIZE]
        if free:
            return min(free, key=lambda shard: shard.in_flight)
        transport = httpx.AsyncHTTPTransport(
            verify=self._context_for(origin),
            limits=self._limits,
            proxy=environment_proxy(origin),
            # Offered over TLS only (ALPN): h2 is imported only where it can be used.
            http2=self._http2 and origin[0] == "https",
        )
        shards.append(_Shard(transport))
        return shards[-1]

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        origin = origin_of(request.url)
        shard = self._shard(origin)
        shard.in_flight += 1
        try:
            response = await shard.transport.handle_async_request(request)
        except BaseException as error:
            shard.in_flight -= 1
            from inspector.registry import fdlimit

            if fdlimit.is_exhausted(error):  # a local limit, not the registry's failure
                raise fdlimit.exhausted_error() from None
            raise
        if response.http_version == "HTTP/2" and shard is self._shards.get(origin, [None])[0]:
            self._multiplexed.add(origin)
        assert isinstance(response.stream, httpx.AsyncByteStream)
        response.stream = _Released(response.stream, shard)
        limit = request.extensions.get(BODY_LIMIT)
        bounded(response, limit if isinstance(limit, int) else None)
        return response

    async def aclose(self) -> None:
        shards, self._shards = list(self._shards.values()), {}
        self._multiplexed.clear()
        for origin_shards in shards:
            for shard in origin_shards:
                await shard.transport.aclose()
