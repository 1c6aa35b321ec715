"""The transport under the registry client: TLS contexts built only when an HTTPS origin
needs one, per-registry TLS settings, and the environment's proxies still honoured."""

from __future__ import annotations

import asyncio
import functools
import socket
import ssl
import zlib
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from inspector.registry import transport
from inspector.registry.transport import OriginPools, TLSConfigError, TLSSettings


def in_event_loop(test: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> None:
        asyncio.run(test(*args, **kwargs))

    return run


def closed_port() -> int:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        return int(listener.getsockname()[1])


@asynccontextmanager
async def http_server(
    answer: bytes = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
) -> AsyncIterator[tuple[str, list[bytes]]]:
    """A one-line HTTP server on loopback; yields its address and the request lines seen."""
    seen: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        seen.append(head.split(b"\r\n", 1)[0])
        writer.write(answer)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    async with server:
        yield f"127.0.0.1:{server.sockets[0].getsockname()[1]}", seen


@pytest.fixture
def tls_builds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts trust-store loads (``default_tls_context`` calls) made by the transport."""
    built: list[int] = []
    real = transport.default_tls_context

    def counting() -> ssl.SSLContext:
        built.append(1)
        return real()

    monkeypatch.setattr(transport, "default_tls_context", counting)
    return built


@pytest.fixture(autouse=True)
def no_environment_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@in_event_loop
async def test_plain_http_builds_no_trust_store(tls_builds: list[int]) -> None:
    async with (
        http_server() as (address, seen),
        httpx.AsyncClient(transport=OriginPools()) as client,
    ):
        response = await client.get(f"http://{address}/v2/")
    assert response.status_code == 200
    assert seen == [b"GET /v2/ HTTP/1.1"]
    assert tls_builds == []


@in_event_loop
async def test_https_origins_share_one_trust_store_built_at_first_use(
    tls_builds: list[int],
) -> None:
    pool = OriginPools()
    assert tls_builds == []  # not at construction
    async with httpx.AsyncClient(transport=pool) as client:
        for port in (closed_port(), closed_port()):
            with pytest.raises(httpx.ConnectError):
                await client.get(f"https://127.0.0.1:{port}/v2/")
    assert tls_builds == [1]


@in_event_loop
async def test_insecure_origin_gets_its_own_context_and_no_trust_store(
    tls_builds: list[int],
) -> None:
    origin = ("https", "127.0.0.1", 5443)
    context = transport.tls_context(TLSSettings(insecure=True))
    assert context is False
    assert tls_builds == []
    pool = OriginPools({origin: context})
    async with httpx.AsyncClient(transport=pool) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(f"https://127.0.0.1:{closed_port()}/v2/")  # another port
    assert tls_builds == [1]  # only the other origin needed the default trust store


def test_unreadable_ca_file_is_a_config_error(tmp_path: pytest.TempPathFactory) -> None:
    bad = tmp_path / "ca.pem"  # type: ignore[operator]
    bad.write_text("not a certificate")
    with pytest.raises(TLSConfigError):
        transport.tls_context(TLSSettings(ca_file=str(bad)))


@in_event_loop
async def test_environment_proxy_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    async with http_server() as (proxy, seen):
        monkeypatch.setenv("HTTP_PROXY", f"http://{proxy}")
        async with httpx.AsyncClient(transport=OriginPools()) as client:
            response = await client.get("http://registry.invalid/v2/")
    assert response.status_code == 200
    assert seen == [b"GET http://registry.invalid/v2/ HTTP/1.1"]  # absolute form: a proxy


@in_event_loop
async def test_no_proxy_bypasses_the_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    async with http_server() as (proxy, seen), http_server() as (registry, direct):
        monkeypatch.setenv("HTTP_PROXY", f"http://{proxy}")
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        async with httpx.AsyncClient(transport=OriginPools()) as client:
            response = await client.get(f"http://{registry}/v2/")
    assert response.status_code == 200
    assert seen == []
    assert direct == [b"GET /v2/ HTTP/1.1"]


def in_flight(pool: OriginPools) -> list[list[int]]:
    return [[shard.in_flight for shard in shards] for shards in pool._shards.values()]


@in_event_loop
async def test_requests_spread_over_small_pools_and_give_their_slots_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(OriginPools, "SHARD_SIZE", 2)
    release = asyncio.Event()
    arrived = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal arrived
        while True:  # keep-alive: answer every request on this connection
            try:
                await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError:
                break
            arrived += 1
            await release.wait()
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/v2/"
    pool = OriginPools()
    async with server, httpx.AsyncClient(transport=pool) as client:
        requests = [asyncio.ensure_future(client.get(url)) for _ in range(5)]
        while arrived < 5:
            await asyncio.sleep(0.01)
        assert in_flight(pool) == [[2, 2, 1]]  # three pools of at most two, none queued
        release.set()
        responses = await asyncio.gather(*requests)
        assert [r.status_code for r in responses] == [200] * 5
        assert in_flight(pool) == [[0, 0, 0]]
        await client.get(url)  # an idle connection is reused: no fourth pool
        assert in_flight(pool) == [[0, 0, 0]]


@in_event_loop
async def test_a_failed_request_gives_its_slot_back() -> None:
    pool = OriginPools()
    async with httpx.AsyncClient(transport=pool) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(f"http://127.0.0.1:{closed_port()}/v2/")
        assert in_flight(pool) == [[0]]


# --- bounded bodies ------------------------------------------------------------------------------


def _response(status: int, body: bytes, encoding: str | None) -> httpx.Response:
    headers = {"Content-Encoding": encoding} if encoding else {}
    response = httpx.Response(status, headers=headers, stream=httpx.ByteStream(body))
    transport.bounded(response)
    return response


async def _chunks(response: httpx.Response) -> list[bytes]:
    return [chunk async for chunk in response.aiter_bytes()]


def _pack(data: bytes, wbits: int) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, wbits)
    return packer.compress(data) + packer.flush()


@pytest.mark.parametrize(
    ("encoding", "wbits"), [("gzip", 31), ("deflate", 15), ("x-gzip", 31), ("gzip, gzip", 31)]
)
@in_event_loop
async def test_encoded_bodies_decode_in_small_steps(encoding: str, wbits: int) -> None:
    data = bytes(1_000_000) + b"end"
    body = _pack(data, wbits)
    if encoding == "gzip, gzip":
        body = _pack(body, wbits)
    chunks = await _chunks(_response(200, body, encoding))
    assert b"".join(chunks) == data
    assert max(len(c) for c in chunks) <= transport.DECODE_CHUNK


@in_event_loop
async def test_non_success_bodies_are_cut_encoded_or_not() -> None:
    plain = await _chunks(_response(401, bytes(10_000_000), None))
    packed = await _chunks(_response(307, _pack(bytes(10_000_000), 31), "gzip"))
    assert len(b"".join(plain)) == transport.MAX_NON_SUCCESS_BODY
    assert len(b"".join(packed)) == transport.MAX_NON_SUCCESS_BODY


@pytest.mark.parametrize(
    ("encoding", "body"),
    [("br", b"\x00"), ("gzip", b"not gzip at all"), ("gzip, " * 5 + "gzip", b"x")],
)
@in_event_loop
async def test_unsupported_or_corrupt_encodings_are_decoding_errors(
    encoding: str, body: bytes
) -> None:
    with pytest.raises(httpx.DecodingError):
        await _chunks(_response(200, body, encoding))
